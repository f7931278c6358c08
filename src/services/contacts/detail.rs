//! The contact detail page: the contact, its tickets, activities, time entries and history, in
//! a fixed number of queries whatever the contact has. The page lists the newest of each and
//! counts them all: a contact with thousands of tickets shows how many it has, not how many
//! fit on the page.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter, Statement, Value,
};

use super::identities::{secondary, Identity};
use super::{redact, with_row_columns, ContactRow};
use crate::domain::{Action, FieldRules, Module};
use crate::entities::contact;
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
    /// How many there are of each list, which may be more than the page shows.
    pub counts: RelatedCounts,
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

/// One change to the contact, with the agent's name.
#[derive(Debug)]
pub struct HistoryLine {
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub at: DateTime<Utc>,
    pub agent_name: Option<String>,
}

impl HistoryLine {
    #[must_use]
    pub fn when(&self) -> String {
        self.at.format("%b %-d, %Y %H:%M UTC").to_string()
    }
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

/// The detail page's data as `actor`'s profile lets it see it, in four queries: the contact,
/// its addresses, its four related lists at once, and how many there are of each.
///
/// # Errors
/// `Forbidden` without the contacts view permission; `NotFound`; database errors.
pub async fn detail(conn: &DatabaseConnection, actor: &Actor, id: i64) -> ServiceResult<ContactDetail> {
    actor.may(Module::Contacts, Action::View)?;
    let rules = &actor.fields(Module::Contacts);
    let mut contact = find_row(conn, id).await?.ok_or(ServiceError::NotFound)?;
    let has_email = contact.email.is_some();
    redact(rules, &mut contact);
    let statement = Statement::from_sql_and_values(conn.get_database_backend(), RELATED, [Value::from(id)]);
    let rows = RelatedRow::find_by_statement(statement).all(conn).await?;
    let secondary_emails = if rules.shows("email") { secondary(conn, id).await? } else { Vec::new() };
    let mut detail = ContactDetail {
        contact,
        has_email,
        secondary_emails,
        counts: counts(conn, id).await?,
        tickets: vec![],
        activities: vec![],
        time_entries: vec![],
        history: vec![],
    };
    for row in rows {
        let RelatedRow { list, number, text1, text2, text3, text4, done, at } = row;
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
            _ => {
                let field = text1.unwrap_or_default();
                if history_visible(rules, &field) {
                    detail.history.push(HistoryLine {
                        field,
                        old_value: text2,
                        new_value: text3,
                        at,
                        agent_name: text4,
                    });
                }
            }
        }
    }
    Ok(detail)
}

/// A row of [`RELATED`]: the four lists in one shape.
#[derive(FromQueryResult)]
struct RelatedRow {
    /// 0 tickets, 1 activities, 2 time entries, 3 history.
    list: i32,
    /// Ticket number, minutes.
    number: Option<i64>,
    /// Ticket subject, activity subject, time entry note, history field.
    text1: Option<String>,
    /// Ticket status, activity kind, old value.
    text2: Option<String>,
    /// New value.
    text3: Option<String>,
    /// The agent who made the change.
    text4: Option<String>,
    done: Option<bool>,
    at: DateTime<Utc>,
}

/// The newest 50 of each related list of contact `$1`, each read on its own
/// `(contact_id, ...)` index, in one round trip instead of four. The same text runs on SQLite
/// and PostgreSQL (`$1` is a numbered parameter on both); every NULL is cast so that
/// PostgreSQL knows each column's type.
const RELATED: &str = "SELECT * FROM ( \
     SELECT * FROM (SELECT 0 AS list, id, number, subject AS text1, status AS text2, \
       CAST(NULL AS TEXT) AS text3, CAST(NULL AS TEXT) AS text4, CAST(NULL AS BOOLEAN) AS done, created_at AS at \
       FROM tickets WHERE contact_id = $1 AND trashed = false ORDER BY created_at DESC, id DESC LIMIT 50) AS t \
     UNION ALL SELECT * FROM (SELECT 1, id, CAST(NULL AS BIGINT), subject, kind, \
       CAST(NULL AS TEXT), CAST(NULL AS TEXT), done, created_at \
       FROM activities WHERE contact_id = $1 AND trashed = false ORDER BY created_at DESC, id DESC LIMIT 50) AS a \
     UNION ALL SELECT * FROM (SELECT 2, id, CAST(minutes AS BIGINT), note, CAST(NULL AS TEXT), \
       CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS BOOLEAN), created_at \
       FROM time_entries WHERE contact_id = $1 AND trashed = false ORDER BY created_at DESC, id DESC LIMIT 50) AS e \
     UNION ALL SELECT * FROM (SELECT 3, h.id, CAST(NULL AS BIGINT), h.field, h.old_value, \
       h.new_value, g.name, CAST(NULL AS BOOLEAN), h.at \
       FROM contact_history h LEFT JOIN agents g ON g.id = h.agent_id \
       WHERE h.contact_id = $1 ORDER BY h.at DESC, h.id DESC LIMIT 50) AS h \
   ) AS related ORDER BY list, at DESC, id DESC";

/// Counts the live rows of contact `$1` in each related table, each on the same
/// `(contact_id, trashed, ...)` index that [`RELATED`] reads, without touching the rows.
const COUNTS: &str = "SELECT \
     (SELECT COUNT(*) FROM tickets WHERE contact_id = $1 AND trashed = false) AS tickets, \
     (SELECT COUNT(*) FROM activities WHERE contact_id = $1 AND trashed = false) AS activities, \
     (SELECT COUNT(*) FROM time_entries WHERE contact_id = $1 AND trashed = false) AS time_entries";

async fn counts(conn: &DatabaseConnection, id: i64) -> Result<RelatedCounts, sea_orm::DbErr> {
    let statement = Statement::from_sql_and_values(conn.get_database_backend(), COUNTS, [Value::from(id)]);
    Ok(RelatedCounts::find_by_statement(statement).one(conn).await?.unwrap_or_default())
}

/// A history line about a hidden field would reveal its values.
fn history_visible(rules: &FieldRules, field_label: &str) -> bool {
    let key = match field_label {
        "First Name" => "first_name",
        "Email" | super::identities::SECONDARY_EMAIL => "email",
        "Phone" => "phone",
        "Mobile" => "mobile",
        "Account Name" => "account",
        "Contact Owner" => "owner",
        "Title" => "title",
        "Description" => "description",
        _ => return true,
    };
    rules.shows(key)
}
