//! The contact detail page: the contact, its tickets, activities, time entries and history, in
//! a fixed number of queries whatever the contact has. The page lists the newest of each and
//! counts them all: a contact with thousands of tickets shows how many it has, not how many
//! fit on the page.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter, QuerySelect,
    QueryTrait, Statement, Value,
};

use super::identities::Identity;
use super::{redact, with_row_columns, ContactRow};
use crate::domain::{Action, FieldRules, Module};
use crate::entities::contact;
use crate::entities::contact_identity::IdentityKind;
use crate::services::events::history::{self, EventRow, HistoryLine};
use crate::services::{more_than_listed, Actor, ServiceError, ServiceResult};

/// Everything the detail page shows.
#[derive(Debug)]
pub struct ContactDetail {
    pub contact: ContactRow,
    /// Whether the contact has an email address, even when the profile hides it: it decides
    /// whether the contact can be invited to the Help Center.
    pub has_email: bool,
    /// Its secondary addresses; empty when the profile hides Email.
    pub secondary_emails: Vec<Identity>,
    /// Its WhatsApp accounts (numbers and business-scoped user ids), oldest first; empty when
    /// the profile hides Mobile.
    pub whatsapp_accounts: Vec<String>,
    /// How many there are of each list, which may be more than the page shows.
    pub counts: RelatedCounts,
    /// Whether a merge into this contact is on record and not undone (Undo merge may apply).
    pub live_merge: bool,
    /// Whether the contact gave any WhatsApp opt-in.
    pub whatsapp_opt_ins: bool,
    pub tickets: Vec<TicketLine>,
    pub activities: Vec<ActivityLine>,
    pub time_entries: Vec<TimeLine>,
    pub history: Vec<HistoryLine>,
}

impl ContactDetail {
    /// Whether the contact has more tickets than the page lists.
    #[must_use]
    pub fn more_tickets(&self) -> bool {
        more_than_listed(self.counts.tickets, self.tickets.len())
    }

    /// Whether the contact has more activities than the page lists.
    #[must_use]
    pub fn more_activities(&self) -> bool {
        more_than_listed(self.counts.activities, self.activities.len())
    }

    /// Whether the contact has more time entries than the page lists.
    #[must_use]
    pub fn more_time_entries(&self) -> bool {
        more_than_listed(self.counts.time_entries, self.time_entries.len())
    }
}

/// How many live tickets, activities and time entries a contact has: what the page's headings
/// and the delete confirmation say, whatever the lists show.
#[derive(Clone, Copy, Debug, Default, FromQueryResult)]
pub struct RelatedCounts {
    pub tickets: i64,
    pub activities: i64,
    pub time_entries: i64,
}

/// One of the contact's tickets.
#[derive(Debug)]
pub struct TicketLine {
    pub number: i64,
    pub subject: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

/// One of the contact's activities.
#[derive(Debug)]
pub struct ActivityLine {
    pub kind: String,
    pub subject: String,
    pub done: bool,
}

/// One of the contact's time entries.
#[derive(Debug)]
pub struct TimeLine {
    pub minutes: i64,
    pub note: Option<String>,
}

/// One live contact joined with its account's and owner's names (not redacted).
///
/// # Errors
/// Database errors.
pub async fn find_row(conn: &DatabaseConnection, id: i64) -> Result<Option<ContactRow>, sea_orm::DbErr> {
    with_row_columns(contact::Entity::find_by_id(id))
        .filter(contact::Column::Trashed.eq(false))
        .into_model::<ContactRow>()
        .one(conn)
        .await
}

/// One contact as `actor`'s profile lets it see it (for the edit form, a ticket's contact card).
///
/// # Errors
/// `Forbidden` without the contacts view permission; `NotFound`; database errors.
pub async fn get(conn: &DatabaseConnection, actor: &Actor, id: i64) -> ServiceResult<ContactRow> {
    actor.may(Module::Contacts, Action::View)?;
    redacted(conn, &actor.fields(Module::Contacts), id).await
}

/// One live contact with what `rules` hide cleared, for a use-case that has checked its own
/// permission.
pub(super) async fn redacted(conn: &DatabaseConnection, rules: &FieldRules, id: i64) -> ServiceResult<ContactRow> {
    let mut row = find_row(conn, id).await?.ok_or(ServiceError::NotFound)?;
    redact(rules, &mut row);
    Ok(row)
}

/// One contact as `actor`'s profile lets it see it, and how many tickets, activities and time
/// entries would go to the Recycle Bin with it: the delete confirmation, in two queries.
///
/// # Errors
/// `Forbidden` without the contacts delete permission; `NotFound`; database errors.
pub async fn with_counts(
    conn: &DatabaseConnection,
    actor: &Actor,
    id: i64,
) -> ServiceResult<(ContactRow, RelatedCounts)> {
    actor.may(Module::Contacts, Action::Delete)?;
    let contact = redacted(conn, &actor.fields(Module::Contacts), id).await?;
    Ok((contact, counts(conn, id).await?))
}

/// The detail page's data as `actor`'s profile lets it see it, in two queries: the contact
/// with how many tickets, activities and time entries it has (and whether it has merges or
/// opt-ins to read), then its four related lists and its identities at once (its History from
/// its events). On SQLite each query is a round trip to a connection's thread, most of what a
/// page view costs.
///
/// # Errors
/// `Forbidden` without the contacts view permission; `NotFound`; database errors.
pub async fn detail(conn: &DatabaseConnection, actor: &Actor, id: i64) -> ServiceResult<ContactDetail> {
    actor.may(Module::Contacts, Action::View)?;
    let rules = &actor.fields(Module::Contacts);
    let backend = conn.get_database_backend();
    let mut select = with_row_columns(contact::Entity::find_by_id(id)).filter(contact::Column::Trashed.eq(false));
    for (table, name) in [("tickets", "tickets"), ("activities", "activities"), ("time_entries", "time_entries")] {
        select = select.column_as(Expr::cust(count_of(table)), name);
    }
    // Whether the page needs to read more: most contacts have neither.
    let merged =
        r#"EXISTS (SELECT 1 FROM contact_merges m WHERE m.master_id = "contacts"."id" AND m.undone_at IS NULL)"#;
    let opted = r#"EXISTS (SELECT 1 FROM whatsapp_opt_ins o WHERE o.contact_id = "contacts"."id")"#;
    select = select.column_as(Expr::cust(merged), "live_merge").column_as(Expr::cust(opted), "whatsapp_opt_ins");
    let found = conn.query_one(select.build(backend)).await?.ok_or(ServiceError::NotFound)?;
    let mut contact = ContactRow::from_query_result(&found, "")?;
    let counts = RelatedCounts::from_query_result(&found, "")?;
    let live_merge: bool = found.try_get("", "live_merge")?;
    let whatsapp_opt_ins: bool = found.try_get("", "whatsapp_opt_ins")?;
    let has_email = contact.email.is_some();
    redact(rules, &mut contact);
    let statement = Statement::from_sql_and_values(backend, RELATED, [Value::from(id)]);
    let rows = RelatedRow::find_by_statement(statement).all(conn).await?;
    let mut detail = ContactDetail {
        contact,
        has_email,
        secondary_emails: vec![],
        whatsapp_accounts: vec![],
        counts,
        live_merge,
        whatsapp_opt_ins,
        tickets: vec![],
        activities: vec![],
        time_entries: vec![],
        history: vec![],
    };
    for row in rows {
        let RelatedRow { list, number, text1, text2, text3, text4, text5, done, at } = row;
        match list {
            0 => detail.tickets.push(TicketLine {
                number: number.unwrap_or_default(),
                subject: text1.unwrap_or_default(),
                status: text2.unwrap_or_default(),
                created_at: at,
            }),
            1 => detail.activities.push(ActivityLine {
                subject: text1.unwrap_or_default(),
                kind: text2.unwrap_or_default(),
                done: done.unwrap_or_default(),
            }),
            2 => detail.time_entries.push(TimeLine { minutes: number.unwrap_or_default(), note: text1 }),
            3 => {
                let event = EventRow {
                    occurred_at: at,
                    actor_kind: text5.unwrap_or_default(),
                    agent_name: text4,
                    subject_kind: text1.unwrap_or_default(),
                    action: text2.unwrap_or_default(),
                    ticket_number: number,
                    changes: text3.unwrap_or_default(),
                };
                detail.history.extend(history::lines(&event, rules));
            }
            _ => {
                let (Some(id), Some(value)) = (number, text2) else { continue };
                match text1.as_deref() {
                    Some("email") if rules.shows("email") && done != Some(true) => {
                        detail.secondary_emails.push(Identity {
                            id,
                            kind: IdentityKind::Email,
                            value,
                            is_primary: false,
                        });
                    }
                    Some("whatsapp" | "whatsapp_user") if rules.shows("mobile") => detail.whatsapp_accounts.push(value),
                    _ => {}
                }
            }
        }
    }
    Ok(detail)
}

/// How many live rows of `table` belong to the contact of the enclosing query, on the same
/// `(contact_id, trashed, ...)` index that [`RELATED`] reads, without touching the rows.
fn count_of(table: &str) -> String {
    format!(r#"(SELECT COUNT(*) FROM {table} WHERE {table}.contact_id = "contacts"."id" AND {table}.trashed = false)"#)
}

/// A row of [`RELATED`]: the four lists and the identities in one shape.
#[derive(FromQueryResult)]
struct RelatedRow {
    /// 0 tickets, 1 activities, 2 time entries, 3 events, 4 identities.
    list: i32,
    /// Ticket number (a ticket's, an event's ticket's), minutes, an identity's id.
    number: Option<i64>,
    /// Ticket subject, activity subject, time entry note, event's subject kind, identity kind.
    text1: Option<String>,
    /// Ticket status, activity kind, event's action, identity value.
    text2: Option<String>,
    /// The event's changes.
    text3: Option<String>,
    /// The agent who made the change.
    text4: Option<String>,
    /// The event's actor kind.
    text5: Option<String>,
    /// An activity's done, an identity's primary.
    done: Option<bool>,
    at: DateTime<Utc>,
}

/// The newest 50 of each related list of contact `$1`, each read on its own
/// `(contact_id, ...)` index, and its identities (oldest first), in one round trip instead of
/// five: the History is the newest events of the contact on `idx_events_contact`, with their
/// agents' names and their tickets' numbers. The same text runs on SQLite and PostgreSQL (`$1` is a numbered parameter on
/// both); every NULL is cast so that PostgreSQL knows each column's type.
const RELATED: &str = "SELECT * FROM ( \
     SELECT * FROM (SELECT 0 AS list, id, number, subject AS text1, status AS text2, \
       CAST(NULL AS TEXT) AS text3, CAST(NULL AS TEXT) AS text4, CAST(NULL AS TEXT) AS text5, \
       CAST(NULL AS BOOLEAN) AS done, created_at AS at \
       FROM tickets WHERE contact_id = $1 AND trashed = false ORDER BY created_at DESC, id DESC LIMIT 50) AS t \
     UNION ALL SELECT * FROM (SELECT 1, id, CAST(NULL AS BIGINT), subject, kind, \
       CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS TEXT), done, created_at \
       FROM activities WHERE contact_id = $1 AND trashed = false ORDER BY created_at DESC, id DESC LIMIT 50) AS a \
     UNION ALL SELECT * FROM (SELECT 2, id, CAST(minutes AS BIGINT), note, CAST(NULL AS TEXT), \
       CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS BOOLEAN), created_at \
       FROM time_entries WHERE contact_id = $1 AND trashed = false ORDER BY created_at DESC, id DESC LIMIT 50) AS e \
     UNION ALL SELECT * FROM (SELECT 3, v.id, k.number, v.subject_kind, v.action, v.changes, g.name, v.actor_kind, \
       CAST(NULL AS BOOLEAN), v.occurred_at \
       FROM events v LEFT JOIN agents g ON v.actor_kind = 'agent' AND g.id = v.actor_id \
       LEFT JOIN tickets k ON k.id = v.ticket_id \
       WHERE v.contact_id = $1 ORDER BY v.id DESC LIMIT 50) AS h \
     UNION ALL SELECT 4, id, id, kind, value, CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS TEXT), \
       is_primary, created_at FROM contact_identities WHERE contact_id = $1 \
   ) AS related ORDER BY list, CASE WHEN list = 3 THEN id END DESC, CASE WHEN list = 4 THEN id END, \
     at DESC, id DESC";

async fn counts(conn: &DatabaseConnection, id: i64) -> Result<RelatedCounts, sea_orm::DbErr> {
    let sql = format!(
        r#"SELECT {} AS tickets, {} AS activities, {} AS time_entries FROM contacts WHERE "contacts"."id" = $1"#,
        count_of("tickets"),
        count_of("activities"),
        count_of("time_entries")
    );
    let statement = Statement::from_sql_and_values(conn.get_database_backend(), sql, [Value::from(id)]);
    Ok(RelatedCounts::find_by_statement(statement).one(conn).await?.unwrap_or_default())
}
