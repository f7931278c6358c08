//! The merge page: the contacts side by side, the **Master** choice, per field the values to
//! choose from (a hidden field is not there at all, a read-only one shows the master's value
//! kept), and what moves to the master ("14 tickets, 3 activities, 2 time entries, 4 email
//! addresses, 2 phone numbers, Help Center access"). Three queries whatever the contacts hold:
//! the contacts, their identities, and the counts of their tickets, activities and time
//! entries in one statement.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, Statement};

use super::values::Values;
use super::{choosable, login_from, may_merge, source_of, MergeRequest, FIELDS};
use crate::domain::Module;
use crate::entities::contact;
use crate::entities::contact_identity::{self, IdentityKind};
use crate::services::contacts::{redact, with_row_columns, ContactRow};
use crate::services::{Actor, ServiceError, ServiceResult};

/// Everything the merge page shows.
#[derive(Clone, Debug)]
pub struct MergePage {
    /// The contacts as the agent's profile lets it see them, in the order ticked.
    pub contacts: Vec<ContactRow>,
    pub master: i64,
    pub fields: Vec<FieldChoice>,
    /// Per contact: its tickets, activities and time entries.
    pub counts: Vec<(i64, Counts)>,
    /// What moves to the master, in words.
    pub moves: String,
}

/// One field's values side by side.
#[derive(Clone, Debug)]
pub struct FieldChoice {
    pub key: &'static str,
    pub label: &'static str,
    /// Per contact: its id and the value as shown ("—" for none).
    pub options: Vec<(i64, String)>,
    /// The contact whose value is kept.
    pub chosen: i64,
    /// Whether the agent may choose (a read-only field keeps the master's value).
    pub choosable: bool,
}

/// How many of each a contact has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub tickets: i64,
    pub activities: i64,
    pub time_entries: i64,
}

#[derive(FromQueryResult)]
struct CountRow {
    contact_id: Option<i64>,
    list: i32,
    n: i64,
}

/// The merge page for `request` as `actor` sees it.
///
/// # Errors
/// `Forbidden` without the contacts Edit and Delete permissions; `Invalid` for one or more than
/// three contacts or a master not among them; `NotFound` when one is not a live contact;
/// database errors.
pub async fn page<C: ConnectionTrait>(conn: &C, actor: &Actor, request: &MergeRequest) -> ServiceResult<MergePage> {
    may_merge(actor)?;
    request.check_contacts()?;
    let rules = actor.fields(Module::Contacts);
    let master = request.master_id();
    let rows = with_row_columns(contact::Entity::find())
        .filter(contact::Column::Id.is_in(request.ids.clone()))
        .filter(contact::Column::Trashed.eq(false))
        .into_model::<ContactRow>()
        .all(conn)
        .await?;
    let rows: Vec<ContactRow> = request
        .ids
        .iter()
        .map(|id| rows.iter().find(|r| r.id == *id).cloned().ok_or(ServiceError::NotFound))
        .collect::<ServiceResult<_>>()?;
    let each: Vec<(i64, Values)> = rows.iter().map(|r| (r.id, Values::of_row(r))).collect();
    let counts = counts(conn, &request.ids).await?;
    let identities = contact_identity::Entity::find()
        .filter(contact_identity::Column::ContactId.is_in(request.ids.clone()))
        .all(conn)
        .await?;
    let statuses: Vec<(i64, &str, bool)> = rows
        .iter()
        .filter(|r| r.id != master)
        .map(|r| (r.id, r.help_center_status.as_str(), r.email.is_some()))
        .collect();
    let help_center = login_from(each_status(&rows, master), &statuses).is_some();
    let moves = summary(&counts, &identities, master, help_center);
    let mut contacts = rows;
    for c in &mut contacts {
        redact(&rules, c);
    }
    let fields = FIELDS
        .iter()
        .filter(|(key, _)| rules.shows(key))
        .map(|(key, label)| FieldChoice {
            key,
            label,
            options: contacts.iter().map(|c| (c.id, shown(c, key))).collect(),
            chosen: source_of(key, &rules, request, &each),
            choosable: choosable(&rules, key),
        })
        .collect();
    Ok(MergePage { contacts, master, fields, counts, moves })
}

fn each_status(rows: &[ContactRow], id: i64) -> &str {
    rows.iter().find(|r| r.id == id).map_or("", |r| r.help_center_status.as_str())
}

/// A field's value as the page shows it.
fn shown(c: &ContactRow, key: &str) -> String {
    let value = match key {
        "first_name" => c.first_name.clone(),
        "last_name" => Some(c.last_name.clone()),
        "email" => c.email.clone(),
        "phone" => c.phone.clone(),
        "mobile" => c.mobile.clone(),
        "account" => c.account_name.clone(),
        "owner" => c.owner_name.clone(),
        "title" => c.title.clone(),
        "description" => c.description.clone(),
        _ => None,
    };
    value.unwrap_or_else(|| "—".to_owned())
}

/// The tickets, activities and time entries of contacts `ids`, each counted on its
/// `(contact_id, …)` index, in one statement.
async fn counts<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> Result<Vec<(i64, Counts)>, sea_orm::DbErr> {
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
    let sql = ["tickets", "activities", "time_entries"]
        .iter()
        .enumerate()
        .map(|(n, table)| {
            format!("SELECT contact_id, {n} AS list, COUNT(*) AS n FROM {table} WHERE contact_id IN ({list}) GROUP BY contact_id")
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let rows = CountRow::find_by_statement(Statement::from_string(conn.get_database_backend(), sql)).all(conn).await?;
    Ok(ids
        .iter()
        .map(|id| {
            let mut c = Counts::default();
            for r in rows.iter().filter(|r| r.contact_id == Some(*id)) {
                match r.list {
                    0 => c.tickets = r.n,
                    1 => c.activities = r.n,
                    _ => c.time_entries = r.n,
                }
            }
            (*id, c)
        })
        .collect())
}

/// "14 tickets, 3 activities, 2 time entries, 4 email addresses, 2 phone numbers, Help Center
/// access": what moves from the others to `master`, or "nothing but the contacts themselves".
fn summary(counts: &[(i64, Counts)], identities: &[contact_identity::Model], master: i64, help_center: bool) -> String {
    let others = || counts.iter().filter(|(id, _)| *id != master).map(|(_, c)| *c);
    let tickets: i64 = others().map(|c| c.tickets).sum();
    let activities: i64 = others().map(|c| c.activities).sum();
    let time_entries: i64 = others().map(|c| c.time_entries).sum();
    let theirs = || identities.iter().filter(|i| i.contact_id != master);
    let emails = theirs().filter(|i| i.kind == IdentityKind::Email).count();
    let number = |k: IdentityKind| matches!(k, IdentityKind::Phone | IdentityKind::Mobile | IdentityKind::WhatsApp);
    let mut numbers: Vec<&str> = theirs()
        .filter(|i| number(i.kind))
        .filter(|i| !identities.iter().any(|m| m.contact_id == master && m.kind == i.kind && m.value == i.value))
        .map(|i| i.value.as_str())
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    let whatsapp_ids = theirs().filter(|i| i.kind == IdentityKind::WhatsAppUser).count();
    let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let as_count = |n: i64| usize::try_from(n).unwrap_or_default();
    let mut parts: Vec<String> = [
        (as_count(tickets), "ticket", "tickets"),
        (as_count(activities), "activity", "activities"),
        (as_count(time_entries), "time entry", "time entries"),
        (emails, "email address", "email addresses"),
        (numbers.len(), "phone number", "phone numbers"),
        (whatsapp_ids, "WhatsApp account", "WhatsApp accounts"),
    ]
    .into_iter()
    .filter(|(n, _, _)| *n > 0)
    .map(|(n, one, many)| plural(n, one, many))
    .collect();
    if help_center {
        parts.push("Help Center access".to_owned());
    }
    if parts.is_empty() {
        "nothing but the contacts themselves".to_owned()
    } else {
        parts.join(", ")
    }
}
