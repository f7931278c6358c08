//! Domain events: every change to a contact, an account, a ticket or a message writes an
//! [`Event`] in the transaction of the change (what happened, to what, by whom, when, and the
//! fields it changed, old and new). A change that fails writes none. Histories
//! ([`history`]) read them, and later webhooks and the API.
//!
//! A write sends its events as one statement ([`statement`], [`record`]) beside its own,
//! whatever their number: an edit of eight fields is one event with eight changes; moving a
//! contact with its 300 tickets to the Recycle Bin is one `INSERT … SELECT`.
//!
//! Values are kept as people read them when the change was made: an owner's or an account's
//! name rather than an id (a later rename does not rewrite what happened), statuses and
//! channels by their stored keys.

pub mod history;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use serde::{Deserialize, Serialize};

pub use crate::entities::event::Action;
use crate::entities::event::{self, ActorKind, SubjectKind};
use crate::entities::{account, ticket};

/// Who made a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    Agent(i64),
    /// A contact, itself: in the Help Center, by mail, on another channel.
    Contact(i64),
    /// Frontdesk itself: a channel creating a contact, housekeeping, someone who is not a
    /// contact writing into a thread.
    System,
}

impl Actor {
    fn kind(self) -> ActorKind {
        match self {
            Self::Agent(_) => ActorKind::Agent,
            Self::Contact(_) => ActorKind::Contact,
            Self::System => ActorKind::System,
        }
    }

    fn id(self) -> Option<i64> {
        match self {
            Self::Agent(id) | Self::Contact(id) => Some(id),
            Self::System => None,
        }
    }
}

/// What was changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    Contact(i64),
    Account(i64),
    Ticket(i64),
    Message(i64),
    /// The message this transaction inserted last, for a write that sends a message and its
    /// event in one round trip, before the message's id is known (see [`statement`]).
    LastMessage,
}

impl Subject {
    fn kind(self) -> SubjectKind {
        match self {
            Self::Contact(_) => SubjectKind::Contact,
            Self::Account(_) => SubjectKind::Account,
            Self::Ticket(_) => SubjectKind::Ticket,
            Self::Message(_) | Self::LastMessage => SubjectKind::Message,
        }
    }

    /// The subject's id as SQL. The last message's is the largest id of `messages` on SQLite,
    /// where the transaction holds the write lock from its start (`Db::begin_write`), so no one
    /// else can have inserted one since; on PostgreSQL it is the value this session last took
    /// from the table's sequence, whatever other sessions do meanwhile.
    fn id_expr(self, backend: DbBackend) -> SimpleExpr {
        match self {
            Self::Contact(id) | Self::Account(id) | Self::Ticket(id) | Self::Message(id) => Expr::val(id).into(),
            Self::LastMessage => match backend {
                DbBackend::Postgres => Expr::cust("currval(pg_get_serial_sequence('messages', 'id'))"),
                _ => Expr::cust("(SELECT MAX(id) FROM messages)"),
            },
        }
    }
}

/// A field an event changed. A contact's and an account's fields have the keys of the field
/// permissions (`FieldRules`), so that a History hides what the reader's profile hides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    FirstName,
    LastName,
    /// The primary address.
    Email,
    /// One secondary address: added (no old value) or removed (no new one).
    SecondaryEmail,
    Phone,
    Mobile,
    /// A contact's account, by name.
    Account,
    /// A contact's or an account's owner, by name.
    Owner,
    Title,
    Description,
    /// A contact's Help Center status (`not_invited`, `invited`, `active`, `deactivated`).
    HelpCenter,
    /// How a contact came to be (`agent`, `email`, `help_center`, ...).
    Source,
    /// An account's name.
    Name,
    Website,
    /// A ticket's subject.
    Subject,
    Status,
    Priority,
    /// A ticket's assignee, by name.
    Assignee,
    /// A ticket's contact, by name: set when a ticket that had none is linked to one.
    Contact,
    /// The channel a ticket or a message came by (`email`, `whatsapp`, ...).
    Channel,
    /// Who wrote a message: `contact`, `agent` or `participant`.
    Author,
    /// One WhatsApp identity of a contact (a number or a business-scoped user id): added (no
    /// old value), as when the customer changed their number.
    #[serde(rename = "whatsapp")]
    WhatsApp,
}

/// One changed field: its value before (none for a field set at creation) and after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub field: Field,
    pub old: Option<String>,
    pub new: Option<String>,
}

impl Change {
    #[must_use]
    pub fn new(field: Field, old: Option<String>, new: Option<String>) -> Self {
        Self { field, old, new }
    }
}

/// Something that happened to a contact, an account, a ticket or a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub subject: Subject,
    pub action: Action,
    /// The contact whose History shows it.
    pub contact_id: Option<i64>,
    /// The ticket it concerns: a ticket's own, or a message's ticket.
    pub ticket_id: Option<i64>,
    pub changes: Vec<Change>,
}

impl Event {
    /// Something that happened to contact `id`, shown in its History.
    #[must_use]
    pub fn contact(actor: Actor, id: i64, action: Action, at: DateTime<Utc>) -> Self {
        Self {
            at,
            actor,
            subject: Subject::Contact(id),
            action,
            contact_id: Some(id),
            ticket_id: None,
            changes: vec![],
        }
    }

    /// Something that happened to account `id`.
    #[must_use]
    pub fn account(actor: Actor, id: i64, action: Action, at: DateTime<Utc>) -> Self {
        Self { at, actor, subject: Subject::Account(id), action, contact_id: None, ticket_id: None, changes: vec![] }
    }

    /// Something that happened to ticket `t`, shown in its contact's History.
    #[must_use]
    pub fn ticket(actor: Actor, t: &ticket::Model, action: Action, at: DateTime<Utc>) -> Self {
        Self {
            at,
            actor,
            subject: Subject::Ticket(t.id),
            action,
            contact_id: t.contact_id,
            ticket_id: Some(t.id),
            changes: vec![],
        }
    }

    /// A message of ticket `t`'s thread (`message`: [`Subject::Message`] or
    /// [`Subject::LastMessage`]), shown in the ticket's contact's History.
    #[must_use]
    pub fn message(actor: Actor, message: Subject, t: &ticket::Model, action: Action, at: DateTime<Utc>) -> Self {
        Self { at, actor, subject: message, action, contact_id: t.contact_id, ticket_id: Some(t.id), changes: vec![] }
    }

    /// Subject `subject` (a contact or an account) was purged: nothing of it is left to show
    /// it in, and the event names no one's data.
    #[must_use]
    pub fn purged(actor: Actor, subject: Subject, at: DateTime<Utc>) -> Self {
        Self { at, actor, subject, action: Action::Purged, contact_id: None, ticket_id: None, changes: vec![] }
    }

    /// Adds the change of `field` from `old` to `new`, when they differ.
    #[must_use]
    pub fn changed(mut self, field: Field, old: Option<String>, new: Option<String>) -> Self {
        if old != new {
            self.changes.push(Change::new(field, old, new));
        }
        self
    }

    /// Adds `field`'s first value, when it has one (for something created).
    #[must_use]
    pub fn set(self, field: Field, value: Option<&str>) -> Self {
        self.changed(field, None, value.map(str::to_owned))
    }

    /// Adds `changes`.
    #[must_use]
    pub fn with(mut self, changes: impl IntoIterator<Item = Change>) -> Self {
        self.changes.extend(changes);
        self
    }

    /// The changes as stored.
    fn changes_json(&self) -> String {
        serde_json::to_string(&self.changes).unwrap_or_else(|_| "[]".to_owned())
    }
}

/// The columns of `events` that writes fill, in the order of [`values`].
const COLUMNS: [event::Column; 9] = [
    event::Column::OccurredAt,
    event::Column::ActorKind,
    event::Column::ActorId,
    event::Column::SubjectKind,
    event::Column::SubjectId,
    event::Column::Action,
    event::Column::ContactId,
    event::Column::TicketId,
    event::Column::Changes,
];

/// `e`'s row, as values for [`COLUMNS`].
fn values(backend: DbBackend, e: &Event) -> [SimpleExpr; 9] {
    use sea_orm::ActiveEnum;
    [
        Expr::val(e.at).into(),
        Expr::val(e.actor.kind().to_value()).into(),
        Expr::val(e.actor.id()).into(),
        Expr::val(e.subject.kind().to_value()).into(),
        e.subject.id_expr(backend),
        Expr::val(e.action.to_value()).into(),
        Expr::val(e.contact_id).into(),
        Expr::val(e.ticket_id).into(),
        Expr::val(e.changes_json()).into(),
    ]
}

/// `events` as one statement, for a caller that runs it with its other writes
/// ([`crate::db::execute_all`]); `None` when there are none.
#[must_use]
pub fn statement(backend: DbBackend, events: &[Event]) -> Option<Statement> {
    if events.is_empty() {
        return None;
    }
    let mut insert = Query::insert();
    insert.into_table(event::Entity).columns(COLUMNS);
    for e in events {
        // As many values as columns, always: this cannot panic.
        insert.values_panic(values(backend, e));
    }
    Some(backend.build(&insert))
}

/// Writes `events`, if any, in one statement.
///
/// # Errors
/// Database errors.
pub async fn record<C: ConnectionTrait>(conn: &C, events: &[Event]) -> Result<(), sea_orm::DbErr> {
    if let Some(insert) = statement(conn.get_database_backend(), events) {
        conn.execute(insert).await?;
    }
    Ok(())
}

/// `INSERT INTO events (…)`, then `SELECT`s that fill the columns in this order.
const INSERT_SELECT: &str = "INSERT INTO events (occurred_at, actor_kind, actor_id, subject_kind, subject_id, action, \
     contact_id, ticket_id, changes) ";

/// The values of `e` as the first nine parameters of a hand-written statement.
fn params(e: &Event) -> Vec<Value> {
    use sea_orm::ActiveEnum;
    let subject_id = match e.subject {
        Subject::Contact(id) | Subject::Account(id) | Subject::Ticket(id) | Subject::Message(id) => Some(id),
        Subject::LastMessage => None,
    };
    vec![
        e.at.into(),
        e.actor.kind().to_value().into(),
        e.actor.id().into(),
        e.subject.kind().to_value().into(),
        subject_id.into(),
        e.action.to_value().into(),
        e.contact_id.into(),
        e.ticket_id.into(),
        e.changes_json().into(),
    ]
}

/// A contact moved to or from the Recycle Bin (`action` [`Action::Deleted`] or
/// [`Action::Restored`]) with the tickets of its bin entry `entry_id`: its event and one for
/// each of the tickets, in one statement whatever their number. The tickets' events are not in
/// the contact's History (the contact's own line says it); they are each ticket's.
///
/// Run it while the tickets are in the bin: after they went in, before they come out.
#[must_use]
pub fn contact_binned(
    backend: DbBackend,
    actor: Actor,
    contact_id: i64,
    action: Action,
    entry_id: i64,
    at: DateTime<Utc>,
) -> Statement {
    let e = Event::contact(actor, contact_id, action, at);
    let sql = format!(
        "{INSERT_SELECT}SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 \
         UNION ALL SELECT $1, $2, $3, $10, id, $6, CAST(NULL AS BIGINT), id, '[]' FROM tickets WHERE recycle_entry_id = $11"
    );
    let mut values = params(&e);
    values.push(sea_orm::ActiveEnum::to_value(&SubjectKind::Ticket).into());
    values.push(entry_id.into());
    Statement::from_sql_and_values(backend, sql, values)
}

/// Account `a` moved to or from the Recycle Bin (`action` [`Action::Deleted`] or
/// [`Action::Restored`]) with the contacts linked to it: its event and, for each of them, the
/// change of their Account Name, in one statement whatever their number.
///
/// Run it while the contacts are linked: before they are unlinked, after they are linked again.
#[must_use]
pub fn account_binned(
    backend: DbBackend,
    actor: Actor,
    a: &account::Model,
    action: Action,
    at: DateTime<Utc>,
) -> Statement {
    use sea_orm::ActiveEnum;
    let e = Event::account(actor, a.id, action, at);
    let name = Some(a.name.clone());
    let change = match action {
        Action::Restored => Change::new(Field::Account, None, name),
        _ => Change::new(Field::Account, name, None),
    };
    let sql = format!(
        "{INSERT_SELECT}SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 \
         UNION ALL SELECT $1, $2, $3, $10, id, $11, id, CAST(NULL AS BIGINT), $12 FROM contacts WHERE account_id = $5"
    );
    let mut values = params(&e);
    values.push(SubjectKind::Contact.to_value().into());
    values.push(Action::Updated.to_value().into());
    values.push(serde_json::to_string(&[change]).unwrap_or_else(|_| "[]".to_owned()).into());
    Statement::from_sql_and_values(backend, sql, values)
}

/// Forgets the events of what Recycle Bin entry `entry_id` holds that are not any contact's
/// (its contacts' go with them, by the foreign key): its tickets' own and its account's. Run
/// it before they are deleted.
#[must_use]
pub fn forget_entry(backend: DbBackend, entry_id: i64) -> Statement {
    use sea_orm::sea_query::{Cond, SelectStatement};
    use sea_orm::ActiveEnum;
    let of_subjects = |kind: SubjectKind, ids: SelectStatement| {
        Cond::all()
            .add(Expr::col(event::Column::SubjectKind).eq(kind.to_value()))
            .add(Expr::col(event::Column::SubjectId).in_subquery(ids))
    };
    let tickets = Query::select()
        .column(ticket::Column::Id)
        .from(ticket::Entity)
        .and_where(Expr::col(ticket::Column::RecycleEntryId).eq(entry_id))
        .to_owned();
    let accounts = Query::select()
        .column(account::Column::Id)
        .from(account::Entity)
        .and_where(Expr::col(account::Column::RecycleEntryId).eq(entry_id))
        .to_owned();
    let delete = Query::delete()
        .from_table(event::Entity)
        .cond_where(
            Cond::any().add(of_subjects(SubjectKind::Ticket, tickets)).add(of_subjects(SubjectKind::Account, accounts)),
        )
        .to_owned();
    backend.build(&delete)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default()
    }

    #[test]
    fn a_change_to_the_same_value_is_no_change() {
        let e = Event::contact(Actor::Agent(1), 7, Action::Updated, at())
            .changed(Field::Title, Some("CTO".into()), Some("CTO".into()))
            .changed(Field::FirstName, None, Some("Ann".into()))
            .set(Field::Phone, None);
        assert_eq!(e.changes, [Change::new(Field::FirstName, None, Some("Ann".into()))]);
    }

    #[test]
    fn changes_are_stored_as_a_list_of_field_old_and_new() {
        let e = Event::contact(Actor::System, 7, Action::Updated, at())
            .changed(Field::SecondaryEmail, Some("a@example.com".into()), None)
            .changed(Field::HelpCenter, Some("invited".into()), Some("active".into()));
        assert_eq!(
            e.changes_json(),
            r#"[{"field":"secondary_email","old":"a@example.com","new":null},{"field":"help_center","old":"invited","new":"active"}]"#
        );
    }

    #[test]
    fn nothing_to_write_is_no_statement() {
        assert!(statement(DbBackend::Sqlite, &[]).is_none());
        let e = Event::account(Actor::Agent(1), 3, Action::Created, at());
        let insert = statement(DbBackend::Sqlite, &[e.clone(), e]).expect("a statement");
        assert!(insert.sql.starts_with("INSERT INTO \"events\""), "{}", insert.sql);
        assert!(!insert.sql.contains('$'), "positional placeholders, for execute_all: {}", insert.sql);
    }

    #[test]
    fn the_last_message_is_found_the_way_each_database_allows() {
        let t = ticket::Model {
            id: 5,
            number: 1001,
            contact_id: Some(7),
            account_id: None,
            subject: "s".into(),
            status: "Open".into(),
            channel: "email".into(),
            priority: "Medium".into(),
            assignee_id: None,
            created_at: at(),
            updated_at: at(),
            trashed: false,
            recycle_entry_id: None,
            support_address: None,
        };
        let e = Event::message(Actor::Contact(7), Subject::LastMessage, &t, Action::Replied, at());
        assert_eq!((e.contact_id, e.ticket_id), (Some(7), Some(5)));
        let sqlite = statement(DbBackend::Sqlite, std::slice::from_ref(&e)).expect("a statement");
        assert!(sqlite.sql.contains("(SELECT MAX(id) FROM messages)"), "{}", sqlite.sql);
        let postgres = statement(DbBackend::Postgres, &[e]).expect("a statement");
        assert!(postgres.sql.contains("currval(pg_get_serial_sequence('messages', 'id'))"), "{}", postgres.sql);
    }
}
