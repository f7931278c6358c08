//! One intake for every channel. A channel reads what arrived in its own format and finds the
//! thread by its own means (mail headers, a conversation window); the rest is the same for all
//! of them and happens here: "a message arrived from this identity, with this name, on this
//! channel". The intake finds the contact by the identity or creates it (race-safe: fifty first
//! messages at once make one contact), opens a ticket or adds to the thread, and decides on an
//! acknowledgement, which the channel words and sends its own way.
//!
//! Everything is written inside the caller's transaction, which the channel commits.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, QueryTrait, Statement,
    TransactionTrait,
};

pub mod batch;
mod rows;

use crate::db::execute_all;
use crate::domain::phone::Phone;
use crate::domain::{Channel, Email, FileUpload};
use crate::entities::contact_identity::IdentityKind;
use crate::entities::{agent, attachment, contact, message, ticket};
use crate::services::contacts::write::{created_from, insert_from_channel, ChannelContact, NewContactSource};
use crate::services::contacts::{fragments, identities, search_terms};
use crate::services::events::{self, Actor};
use crate::services::is_unique_violation;
use crate::services::tickets::opening::{self, reserve_numbers};
use crate::services::tickets::thread::save;
use crate::services::tickets::{files, Author};

/// The identity a message came from.
#[derive(Clone, Copy, Debug)]
pub enum Identity<'a> {
    Email(&'a Email),
    /// A WhatsApp account: its phone number.
    WhatsApp(&'a Phone),
    /// A WhatsApp account by its business-scoped user id (a user who hides their number behind
    /// a username): stored verbatim, never a phone number.
    WhatsAppUser(&'a str),
}

impl Identity<'_> {
    fn kind(self) -> IdentityKind {
        match self {
            Self::Email(_) => IdentityKind::Email,
            Self::WhatsApp(_) => IdentityKind::WhatsApp,
            Self::WhatsAppUser(_) => IdentityKind::WhatsAppUser,
        }
    }

    /// As stored: a lowercase address, an E.164 number.
    fn value(&self) -> &str {
        match self {
            Self::Email(email) => email.as_str(),
            Self::WhatsApp(number) => number.as_str(),
            Self::WhatsAppUser(id) => id,
        }
    }
}

/// Who wrote, as its channel knows them.
#[derive(Clone, Copy, Debug)]
pub struct Arrival<'a> {
    pub channel: Channel,
    pub identity: Identity<'a>,
    /// Where it was sent: the support address (or number) a reply goes out from.
    pub to: Option<&'a str>,
    /// The name it goes by there, as a new contact's first and last name.
    pub first_name: Option<&'a str>,
    pub last_name: &'a str,
    /// The agent who owns contacts from this channel, if one is configured.
    pub owner: Option<&'a agent::Model>,
}

impl<'a> Arrival<'a> {
    fn source(&self) -> NewContactSource {
        match self.identity {
            Identity::Email(_) => NewContactSource::Email,
            Identity::WhatsApp(_) | Identity::WhatsAppUser(_) => NewContactSource::WhatsApp,
        }
    }

    /// The contact its identity makes, on its first message.
    fn contact(&self) -> ChannelContact<'a> {
        // A WhatsApp account is a mobile number, as Zoho Desk records it; a user id is no number.
        let (email, mobile) = match self.identity {
            Identity::Email(email) => (Some(email), None),
            Identity::WhatsApp(number) => (None, Some(number)),
            Identity::WhatsAppUser(_) => (None, None),
        };
        ChannelContact {
            first_name: self.first_name,
            last_name: self.last_name,
            email,
            mobile,
            source: self.source(),
            help_center_status: "not_invited",
            owner: self.owner,
        }
    }
}

/// What a channel knows of the contact before the intake runs: a channel that reads the
/// contact in its own lookup (the email channel, in one statement with its other checks) says
/// what it found; any other lets the intake look.
#[derive(Clone, Debug)]
pub enum Contact {
    /// Not looked up yet.
    Unknown,
    /// Looked up by the identity: the contact that has it, live or in the Recycle Bin, if any.
    Found(Option<Box<contact::Model>>),
}

/// The message, as its thread stores it.
#[derive(Clone, Debug)]
pub struct Incoming<'a> {
    /// The subject of a new ticket (`(no subject)` when blank); unused in a thread.
    pub subject: &'a str,
    pub text: &'a str,
    /// Sanitised HTML, when the channel has it.
    pub html: Option<&'a str>,
    pub files: &'a [FileUpload],
    /// The channel's own id of the message (a Message-ID), unique among stored messages.
    pub external_id: Option<&'a str>,
    /// How the sender signs on the channel, kept on the message.
    pub from_name: Option<&'a str>,
    /// Whether the ticket's contact was also addressed (copied on a mail).
    pub contact_copied: bool,
    /// Sent by a machine (an auto-reply, bulk mail): never acknowledged, never reopens.
    pub automatic: bool,
}

/// Whether a new ticket is acknowledged: never for automatic messages, and at most
/// `per_hour` to one identity in an hour (an auto-responder at the other end must not start
/// a loop).
#[derive(Clone, Copy, Debug)]
pub struct Brake {
    pub sent_this_hour: u64,
    pub per_hour: u64,
}

/// A new ticket, for the channel's own writes.
#[derive(Debug)]
pub struct Opened<'a> {
    pub ticket: &'a ticket::Model,
    pub contact: &'a contact::Model,
    /// Whether the channel is to acknowledge it: the intake decided so.
    pub acknowledge: bool,
}

/// What the intake did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Received {
    /// A new ticket.
    Opened { number: i64, contact_created: bool, acknowledged: bool },
    /// Added to the thread of an existing ticket.
    Added { number: i64 },
}

impl Received {
    /// The number of the ticket it went to.
    #[must_use]
    pub fn number(&self) -> i64 {
        match self {
            Self::Opened { number, .. } | Self::Added { number } => *number,
        }
    }
}

/// Why a message cannot be taken: kept aside by the channel with this reason.
pub type Refusal = String;

/// Opens a ticket for a message from `arrival`'s identity, creating the contact on its first
/// message. `channel_writes` gives the channel's own writes for the new ticket, run with the
/// message: the acknowledgement, worded and queued its way when the intake says so, and
/// whatever else the channel keeps (who was copied on a mail).
///
/// # Errors
/// Database errors; the `Refusal` when the contact is in the Recycle Bin (nothing written).
pub async fn open<F>(
    txn: &DatabaseTransaction,
    arrival: Arrival<'_>,
    known: Contact,
    incoming: &Incoming<'_>,
    brake: Brake,
    channel_writes: F,
    now: DateTime<Utc>,
) -> Result<Result<Received, Refusal>, sea_orm::DbErr>
where
    F: FnOnce(Opened<'_>) -> Result<Vec<Statement>, sea_orm::DbErr>,
{
    let (c, contact_created) = match find_contact(txn, arrival, known, now).await? {
        Ok(found) => found,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let number = reserve_numbers(txn, 1).await?.pop().unwrap_or_default();
    let t = rows::ticket(&arrival, &c, number, incoming.subject, now).insert(txn).await?;
    let backend = txn.get_database_backend();
    let acknowledged = !incoming.automatic && brake.sent_this_hour < brake.per_hour;
    let mut along = channel_writes(Opened { ticket: &t, contact: &c, acknowledge: acknowledged })?;
    let mut opened = vec![];
    if contact_created {
        along.extend(search_terms::index_statement(backend, &c, None));
        along.extend(fragments::refresh_statements(backend, &[c.id]));
        opened.push(created_from(&c, arrival.owner.map(|a| a.name.as_str())));
    }
    opened.push(opening::created(Actor::Contact(c.id), &t, now));
    along.extend(events::statement(backend, &opened));
    insert_message(txn, t.id, incoming, Author::Contact, arrival.identity.value(), now, along).await?;
    Ok(Ok(Received::Opened { number, contact_created, acknowledged }))
}

/// The contact of `arrival`'s identity, `known` to the channel or looked up, else created with
/// its search index and its event; whether it was created. For a channel that found a ticket
/// waiting for its contact (see `services::tickets::link`).
///
/// # Errors
/// Database errors; the `Refusal` when the contact is in the Recycle Bin (nothing written).
pub async fn contact_for(
    txn: &DatabaseTransaction,
    arrival: Arrival<'_>,
    known: Contact,
    now: DateTime<Utc>,
) -> Result<Result<(contact::Model, bool), Refusal>, sea_orm::DbErr> {
    let (c, created) = match find_contact(txn, arrival, known, now).await? {
        Ok(found) => found,
        Err(refusal) => return Ok(Err(refusal)),
    };
    if created {
        let backend = txn.get_database_backend();
        let mut writes = Vec::from_iter(search_terms::index_statement(backend, &c, None));
        writes.extend(fragments::refresh_statements(backend, &[c.id]));
        let event = created_from(&c, arrival.owner.map(|a| a.name.as_str()));
        writes.extend(events::statement(backend, &[event]));
        execute_all(txn, writes).await?;
    }
    Ok(Ok((c, created)))
}

/// The live contact of `arrival`'s identity (`known`, or looked up), else a new one; whether it
/// is new. The refusal when it is in the Recycle Bin.
async fn find_contact(
    txn: &DatabaseTransaction,
    arrival: Arrival<'_>,
    known: Contact,
    now: DateTime<Utc>,
) -> Result<Result<(contact::Model, bool), Refusal>, sea_orm::DbErr> {
    let known = match known {
        Contact::Found(found) => found.map(|c| *c),
        Contact::Unknown => identities::contact_by(txn, arrival.identity.kind(), arrival.identity.value()).await?,
    };
    Ok(match known {
        Some(c) if c.trashed => Err(format!(
            "The sender {} is a contact in the Recycle Bin. Restore the contact, then retry.",
            arrival.identity.value()
        )),
        Some(c) => Ok((c, false)),
        None => Ok(find_or_create(txn, arrival, now).await?),
    })
}

/// Adds a message from `arrival`'s identity to the thread of `t`, which the channel found. It
/// is the contact's when the identity is one of the contact's, a participant's otherwise (never
/// shown as the contact's); a closed ticket opens again unless the message is automatic (an
/// out-of-office answer must not reopen what an agent closed).
///
/// # Errors
/// Database errors.
pub async fn add_to_thread(
    txn: &DatabaseTransaction,
    arrival: Arrival<'_>,
    t: ticket::Model,
    incoming: &Incoming<'_>,
    mut along: Vec<Statement>,
    now: DateTime<Utc>,
) -> Result<Received, sea_orm::DbErr> {
    let number = t.number;
    let contact = match t.contact_id {
        Some(id) => {
            identities::belongs_to(txn, id, arrival.identity.kind(), arrival.identity.value()).await?.then_some(id)
        }
        None => None,
    };
    let added = rows::added(txn.get_database_backend(), &arrival, &t, contact, incoming, now);
    // Run after the message (see `insert_message`), which the first event names.
    along.extend(added.events);
    insert_message(txn, t.id, incoming, added.author, arrival.identity.value(), now, along).await?;
    save(txn, t, added.reopen, now).await?;
    Ok(Received::Added { number })
}

/// Creates the contact of `arrival`'s identity, with the identity, unless a concurrent first
/// message created it first: then that contact, found again. On PostgreSQL two first messages
/// race for the unique index over identities; the loser's insert fails inside its savepoint and
/// it takes the winner's contact. On SQLite the transaction holds the write lock from its start
/// (see `Db::begin_write`), so no other writer can come between the lookup and the insert.
async fn find_or_create(
    txn: &DatabaseTransaction,
    arrival: Arrival<'_>,
    now: DateTime<Utc>,
) -> Result<(contact::Model, bool), sea_orm::DbErr> {
    if txn.get_database_backend() == DbBackend::Sqlite {
        return Ok((create(txn, arrival, now).await?, true));
    }
    let savepoint = txn.begin().await?;
    match create(&savepoint, arrival, now).await {
        Ok(c) => {
            savepoint.commit().await?;
            Ok((c, true))
        }
        Err(e) if is_unique_violation(&e) => {
            savepoint.rollback().await?;
            let c = identities::contact_by(txn, arrival.identity.kind(), arrival.identity.value()).await?.ok_or_else(
                || sea_orm::DbErr::RecordNotFound(format!("the contact of {}", arrival.identity.value())),
            )?;
            Ok((c, false))
        }
        Err(e) => Err(e),
    }
}

/// The contact row and its identities: the unique index over identities refuses a second
/// contact with the same address or WhatsApp account.
async fn create<C: ConnectionTrait>(
    conn: &C,
    arrival: Arrival<'_>,
    now: DateTime<Utc>,
) -> Result<contact::Model, sea_orm::DbErr> {
    let c = insert_from_channel(conn, arrival.contact(), None).await?;
    conn.execute(rows::identities(conn.get_database_backend(), &arrival, &c, now)).await?;
    Ok(c)
}

/// Inserts the message into ticket `ticket_id`'s thread, then `along` (writes that do not need
/// the message's id, or name it as [`Subject::LastMessage`]), all in one round trip unless
/// there are attachments to insert.
async fn insert_message(
    txn: &DatabaseTransaction,
    ticket_id: i64,
    incoming: &Incoming<'_>,
    author: Author,
    from: &str,
    now: DateTime<Utc>,
    along: Vec<Statement>,
) -> Result<(), sea_orm::DbErr> {
    let entry = rows::message(ticket_id, incoming, author, from, now);
    let backend = txn.get_database_backend();
    if incoming.files.is_empty() {
        let message = message::Entity::insert(entry).build(backend);
        return execute_all(txn, std::iter::once(message).chain(along).collect()).await;
    }
    let message_id = message::Entity::insert(entry).exec(txn).await?.last_insert_id;
    let files = incoming.files.iter().map(|f| files::row(ticket_id, message_id, f, now));
    let files = attachment::Entity::insert_many(files).build(backend);
    execute_all(txn, std::iter::once(files).chain(along).collect()).await
}
