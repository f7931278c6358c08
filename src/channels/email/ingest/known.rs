//! What the database knows of a mail before it is stored, read in one query.
//!
//! It runs under SQLite's write gate, where every statement is a round trip to SQLite's worker
//! thread and the next mail waits for all of them: four lookups in one statement instead of
//! four (benches/README.md, the pipe's figures).

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, QueryResult, Statement};

use super::IngestContext;
use crate::channels::email::read::InboundMail;
use crate::entities::contact;

/// What an acknowledgement is marked with in the outbox, for the hourly brake.
pub(super) const ACKNOWLEDGEMENT: &str = "acknowledgement";

/// Whether the Message-ID `$1` is stored already or is one we sent; both lookups index-backed.
const STORED_OR_SENT: &str = "(EXISTS (SELECT 1 FROM messages WHERE message_id = $1) \
                               OR EXISTS (SELECT 1 FROM outbox WHERE message_id = $1))";

/// Separates the support addresses in the aggregate; no address can hold a line break.
const SEPARATOR: &str = "\n";

/// What is stored already about a mail and its sender.
#[derive(Debug)]
pub(super) struct Known {
    /// Its Message-ID is stored, or is one we sent (our own mail coming back).
    pub duplicate: bool,
    /// Every address that is ours: the mailboxes' and the default From.
    pub support: Vec<String>,
    /// The contact with the sender's address among its addresses, live or in the Recycle Bin.
    pub sender: Option<contact::Model>,
    /// Acknowledgements queued to the sender in the hour before now.
    pub acknowledgements_this_hour: u64,
}

impl Known {
    /// Reads it all in one statement.
    pub(super) async fn read<C: ConnectionTrait>(
        conn: &C,
        ctx: &IngestContext,
        mail: &InboundMail,
        now: DateTime<Utc>,
    ) -> Result<Self, sea_orm::DbErr> {
        let row = conn.query_one(Self::query(conn.get_database_backend(), mail, now)).await?;
        Self::from_row(row, ctx)
    }

    /// The one statement, each part index-backed.
    pub(super) fn query(backend: DbBackend, mail: &InboundMail, now: DateTime<Utc>) -> Statement {
        let aggregate = if backend == DbBackend::Postgres { "string_agg" } else { "group_concat" };
        let sql = format!(
            "SELECT {STORED_OR_SENT} AS known_duplicate, \
                    (SELECT {aggregate}(address, $5) FROM mailboxes) AS known_support, \
                    (SELECT COUNT(*) FROM outbox WHERE to_address = $2 AND kind = $3 AND created_at > $4) \
                      AS known_acknowledgements, \
                    contacts.* \
             FROM (SELECT 1 AS known_one) AS known \
             LEFT JOIN contact_identities AS known_identity \
               ON known_identity.kind = 'email' AND known_identity.value = $2 \
             LEFT JOIN contacts ON contacts.id = known_identity.contact_id"
        );
        let values = [
            mail.message_id.clone().into(),
            mail.from.as_str().into(),
            ACKNOWLEDGEMENT.into(),
            (now - Duration::hours(1)).into(),
            SEPARATOR.into(),
        ];
        Statement::from_sql_and_values(backend, sql, values)
    }

    /// What [`Known::query`] found.
    pub(super) fn from_row(row: Option<QueryResult>, ctx: &IngestContext) -> Result<Self, sea_orm::DbErr> {
        let row = row.ok_or_else(|| sea_orm::DbErr::RecordNotFound("the lookup of an inbound mail".into()))?;
        let support: Option<String> = row.try_get("", "known_support")?;
        let mut support: Vec<String> =
            support.iter().flat_map(|s| s.split(SEPARATOR)).filter(|a| !a.is_empty()).map(str::to_owned).collect();
        support.push(ctx.default_from.to_lowercase());
        let sender = match row.try_get::<Option<i64>>("", "id")? {
            Some(_) => Some(contact::Model::from_query_result(&row, "")?),
            None => None,
        };
        let acknowledgements: i64 = row.try_get("", "known_acknowledgements")?;
        Ok(Self {
            duplicate: row.try_get("", "known_duplicate")?,
            support,
            sender,
            acknowledgements_this_hour: u64::try_from(acknowledgements).unwrap_or_default(),
        })
    }
}

/// Whether a mail with this Message-ID is stored already or is one we sent, alone: for a write
/// that lost a race on the unique index to another delivery of the same mail.
/// Which of `ids` are stored already or are ones we sent, in one index-backed query.
pub(super) async fn stored_among<C: ConnectionTrait>(
    conn: &C,
    ids: &[String],
) -> Result<std::collections::HashSet<String>, sea_orm::DbErr> {
    if ids.is_empty() {
        return Ok(std::collections::HashSet::new());
    }
    let marks = (1..=ids.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT message_id FROM messages WHERE message_id IN ({marks}) \
         UNION SELECT message_id FROM outbox WHERE message_id IN ({marks})"
    );
    let values = ids.iter().map(|id| id.clone().into());
    let rows = conn.query_all(Statement::from_sql_and_values(conn.get_database_backend(), sql, values)).await?;
    rows.iter().map(|row| row.try_get::<String>("", "message_id")).collect()
}

pub(super) async fn already_stored<C: ConnectionTrait>(conn: &C, message_id: &str) -> Result<bool, sea_orm::DbErr> {
    let sql = format!("SELECT {STORED_OR_SENT} AS found");
    let statement = Statement::from_sql_and_values(conn.get_database_backend(), sql, [message_id.into()]);
    let row = conn.query_one(statement).await?;
    row.map_or(Ok(false), |row| row.try_get("", "found"))
}
