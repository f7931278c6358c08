//! Tickets: opening them (`opening`: from the Help Center, or by an agent on a contact's
//! behalf, in batches), adding to their thread (`thread`), the console's list (`list`), one
//! ticket with its thread as its reader may see it (`view`) and the Help Center's view of one
//! contact's tickets (`help_center`); linking a ticket that has no contact yet to one (`link`).
//! Numbers are sequential and human-friendly, handed out by a counter row, and distinct from
//! ids.

pub mod files;
pub mod help_center;
pub mod link;
pub mod list;
pub mod opening;
pub mod thread;
pub mod view;

pub use opening::{open_many, Opening, TicketWriter};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};

use super::{ServiceError, ServiceResult};
use crate::db::Db;
use crate::entities::{contact, message, outbox, ticket};

/// The first ticket number.
pub const FIRST_NUMBER: i64 = 1001;

/// A new ticket's fields, for tests and demo data that make tickets directly.
#[derive(Clone, Debug)]
pub struct NewTicket {
    pub contact_id: i64,
    pub subject: String,
    pub status: &'static str,
    pub channel: &'static str,
    pub priority: &'static str,
}

/// Who wrote a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Author {
    /// The ticket's contact, from the Help Center or by mail from any of its addresses.
    Contact,
    Agent(i64),
    /// Anyone else who wrote into the thread by mail: a colleague the contact copied, someone
    /// the thread was forwarded to. Never shown as the contact.
    Participant,
}

impl Author {
    /// Every kind stored for mail that came in (whose Message-IDs later replies refer to).
    pub(crate) const INBOUND: [&'static str; 2] = ["contact", "participant"];

    /// How it is stored in `messages.author_kind`.
    pub(crate) fn kind(self) -> &'static str {
        match self {
            Self::Contact => "contact",
            Self::Agent(_) => "agent",
            Self::Participant => "participant",
        }
    }

    fn agent_id(self) -> Option<i64> {
        match self {
            Self::Contact | Self::Participant => None,
            Self::Agent(id) => Some(id),
        }
    }

    /// Who made a change by writing this, in a ticket of contact `contact_id`.
    pub(crate) fn actor(self, contact_id: i64) -> crate::services::events::Actor {
        use crate::services::events::Actor;
        match self {
            Self::Contact => Actor::Contact(contact_id),
            Self::Agent(id) => Actor::Agent(id),
            Self::Participant => Actor::System,
        }
    }
}

/// The next ticket number, unique whatever the number of instances: on PostgreSQL from a
/// sequence (no lock held until commit), on SQLite from a counter row (one writer at a time).
///
/// # Errors
/// Database errors.
pub async fn next_number<C: ConnectionTrait>(conn: &C) -> Result<i64, sea_orm::DbErr> {
    let backend = conn.get_database_backend();
    let sql = if backend == sea_orm::DbBackend::Postgres {
        "SELECT nextval('ticket_numbers') AS value"
    } else {
        "UPDATE counters SET value = value + 1 WHERE name = 'ticket_number' RETURNING value"
    };
    let row = conn
        .query_one(Statement::from_string(backend, sql))
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound("the ticket number counter".into()))?;
    row.try_get::<i64>("", "value")
}

/// Makes the counter follow numbers given out without it (bulk demo data).
///
/// # Errors
/// Database errors.
pub async fn sync_counter<C: ConnectionTrait>(conn: &C) -> Result<(), sea_orm::DbErr> {
    let backend = conn.get_database_backend();
    let sql = if backend == sea_orm::DbBackend::Postgres {
        "SELECT setval('ticket_numbers', (SELECT COALESCE(MAX(number), 1000) FROM tickets))"
    } else {
        "UPDATE counters SET value = (SELECT COALESCE(MAX(number), 1000) FROM tickets) WHERE name = 'ticket_number'"
    };
    conn.execute(Statement::from_string(backend, sql)).await?;
    Ok(())
}

/// Inserts a ticket row for `c` with the next number.
async fn insert<C: ConnectionTrait>(
    conn: &C,
    c: &contact::Model,
    subject: &str,
    status: &str,
    channel: &str,
    priority: &str,
    now: DateTime<Utc>,
) -> Result<ticket::Model, sea_orm::DbErr> {
    ticket::ActiveModel {
        number: Set(next_number(conn).await?),
        contact_id: Set(Some(c.id)),
        account_id: Set(c.account_id),
        subject: Set(subject.to_owned()),
        status: Set(status.to_owned()),
        channel: Set(channel.to_owned()),
        priority: Set(priority.to_owned()),
        assignee_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        trashed: Set(c.trashed),
        recycle_entry_id: Set(c.recycle_entry_id),
        ..Default::default()
    }
    .insert(conn)
    .await
}

/// Opens a bare ticket (no thread, no mail) for a contact, linked to the contact's account.
///
/// # Errors
/// `NotFound` for an unknown contact.
pub async fn create(db: &Db, new: NewTicket) -> ServiceResult<ticket::Model> {
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let c = contact::Entity::find_by_id(new.contact_id).one(&txn).await?.ok_or(ServiceError::NotFound)?;
    let now = Utc::now();
    let t = insert(&txn, &c, &new.subject, new.status, new.channel, new.priority, now).await?;
    crate::services::events::record(&txn, &[opening::created(crate::services::events::Actor::System, &t, now)]).await?;
    txn.commit().await?;
    Ok(t)
}

/// A live ticket by number: for a contact (`owner`), only its own; for an agent (`None`), any.
///
/// # Errors
/// `NotFound` when there is no such ticket or it is not the owner's.
pub(crate) async fn find_live<C: ConnectionTrait>(
    conn: &C,
    number: i64,
    owner: Option<i64>,
) -> ServiceResult<ticket::Model> {
    let mut select =
        ticket::Entity::find().filter(ticket::Column::Number.eq(number)).filter(ticket::Column::Trashed.eq(false));
    if let Some(contact_id) = owner {
        select = select.filter(ticket::Column::ContactId.eq(contact_id));
    }
    select.one(conn).await?.ok_or(ServiceError::NotFound)
}

/// The Message-IDs of a ticket's thread, oldest first: mail we sent about it and mail stored
/// in it (the last ten of each). Replies set In-Reply-To to the newest and References to all.
async fn thread_ids<C: ConnectionTrait>(conn: &C, ticket_id: i64) -> Result<Vec<String>, sea_orm::DbErr> {
    let sent: Vec<(DateTime<Utc>, String)> = outbox::Entity::find()
        .select_only()
        .columns([outbox::Column::CreatedAt, outbox::Column::MessageId])
        .filter(outbox::Column::TicketId.eq(ticket_id))
        .filter(outbox::Column::Channel.eq(outbox::DeliveryChannel::Email))
        .order_by_desc(outbox::Column::Id)
        .limit(10)
        .into_tuple()
        .all(conn)
        .await?;
    let received: Vec<(DateTime<Utc>, Option<String>)> = message::Entity::find()
        .select_only()
        .columns([message::Column::CreatedAt, message::Column::MessageId])
        .filter(message::Column::TicketId.eq(ticket_id))
        .filter(message::Column::AuthorKind.is_in(Author::INBOUND))
        .filter(message::Column::MessageId.is_not_null())
        .order_by_desc(message::Column::Id)
        .limit(10)
        .into_tuple()
        .all(conn)
        .await?;
    let mut all: Vec<(DateTime<Utc>, String)> = sent;
    all.extend(received.into_iter().filter_map(|(at, id)| id.map(|id| (at, id))));
    all.sort();
    Ok(all.into_iter().map(|(_, id)| id).collect())
}
