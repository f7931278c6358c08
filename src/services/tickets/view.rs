//! One ticket with its thread, as its reader may see it: an agent sees every message (internal
//! notes too), the contact only the public ones. Each message says who sent it; mail from
//! anyone but the contact (a colleague copied, someone the thread was forwarded to) is never
//! shown as the contact's.
//!
//! In the Help Center such a participant shows with the display name of its mail, and with its
//! address only when the contact was among that mail's recipients: the contact then saw the
//! address in its own mailbox; otherwise (a forward it never saw) the address is not the
//! contact's to learn.
//!
//! An agent whose profile hides the contact's Email reads no address in the thread: no sender's
//! (a participant may well be another contact), and none of the contact's addresses in the
//! bodies either (quoted headers, signatures). One whose profile hides Mobile reads no
//! WhatsApp sender's number.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, FromQueryResult, JoinType, QueryFilter, QueryOrder, QuerySelect};

use super::Author;
use crate::db::Db;
use crate::domain::hidden::hide_addresses;
use crate::domain::{mail_html, Action, Channel, FieldRules, Module, PersonName};
use crate::entities::{agent, attachment, contact, message, ticket};
use crate::services::contacts::identities;
use crate::services::{Actor, ServiceResult};

/// Who reads a thread: it decides which messages and what of their senders are shown.
#[derive(Clone, Copy, Debug)]
pub enum Reader<'a> {
    /// An agent, with its profile's field rules for contacts.
    Agent(&'a FieldRules),
    /// Contact `id`, in the Help Center: its own tickets only, public messages only.
    Contact(i64),
}

/// Who sent a message, as the reader may see it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sender {
    /// The agent's name, the contact's, or the display name of a participant's mail.
    pub name: Option<String>,
    /// The address the mail came from, when the reader may see it.
    pub address: Option<String>,
}

impl Sender {
    /// "Name <address>", or what there is of it.
    #[must_use]
    pub fn label(&self) -> String {
        match (&self.name, &self.address) {
            (Some(name), Some(address)) => format!("{name} <{address}>"),
            (Some(name), None) => name.clone(),
            (None, Some(address)) => address.clone(),
            (None, None) => "Someone else".to_owned(),
        }
    }
}

/// One message of a thread.
#[derive(Clone, Debug)]
pub struct ThreadMessage {
    pub id: i64,
    /// `contact`, `agent` or `participant` (see `entities::message`).
    pub author_kind: String,
    pub sender: Sender,
    pub body: String,
    /// Sanitised when the mail was stored (see `domain::mail_html`).
    pub body_html: Option<String>,
    pub internal: bool,
    pub created_at: DateTime<Utc>,
}

impl ThreadMessage {
    /// When it was written.
    #[must_use]
    pub fn when(&self) -> String {
        self.created_at.format("%b %-d, %Y %H:%M UTC").to_string()
    }

    /// The text the author wrote, without the quoted history below it.
    #[must_use]
    pub fn written(&self) -> &str {
        mail_html::split_quoted(&self.body).0
    }

    /// The quoted history of a reply by mail, folded away on the page.
    #[must_use]
    pub fn quoted(&self) -> Option<&str> {
        mail_html::split_quoted(&self.body).1
    }
}

/// A message as stored, before the reader's view of its sender.
#[derive(FromQueryResult)]
struct MessageRow {
    id: i64,
    author_kind: String,
    agent_name: Option<String>,
    body: String,
    body_html: Option<String>,
    from_address: Option<String>,
    from_name: Option<String>,
    contact_copied: bool,
    internal: bool,
    created_at: DateTime<Utc>,
}

/// A file of a thread, without its bytes.
#[derive(Clone, Debug, FromQueryResult)]
pub struct FileLink {
    pub id: i64,
    pub message_id: i64,
    pub filename: String,
    pub size_bytes: i64,
}

impl FileLink {
    /// The size for people: "12 KB".
    #[must_use]
    pub fn size(&self) -> String {
        match self.size_bytes {
            n if n < 1024 => format!("{n} bytes"),
            n if n < 1024 * 1024 => format!("{} KB", n / 1024),
            n => format!("{:.1} MB", n as f64 / (1024.0 * 1024.0)),
        }
    }
}

/// A ticket with its thread.
#[derive(Debug)]
pub struct TicketThread {
    pub ticket: ticket::Model,
    pub messages: Vec<ThreadMessage>,
    pub files: Vec<FileLink>,
}

impl TicketThread {
    /// The files that came with message `id`.
    pub fn files_of(&self, id: &i64) -> impl Iterator<Item = &FileLink> {
        let id = *id;
        self.files.iter().filter(move |f| f.message_id == id)
    }
}

/// Ticket `number` with every message, internal notes included, for `actor`, who reads the
/// contact's fields as its profile shows them (four queries, five when the profile hides Email).
///
/// # Errors
/// `Forbidden` without the tickets view permission; `NotFound` for an unknown or deleted ticket.
pub async fn ticket(db: &Db, actor: &Actor, number: i64) -> ServiceResult<TicketThread> {
    actor.may(Module::Tickets, Action::View)?;
    load(db, number, Reader::Agent(&actor.fields(Module::Contacts))).await
}

/// Ticket `number` with its thread as `reader` may see it: for a contact only its own ticket
/// and only the public messages, for an agent any ticket and every message.
///
/// # Errors
/// `NotFound` when there is no such ticket or it is not the contact's.
pub(super) async fn load(db: &Db, number: i64, reader: Reader<'_>) -> ServiceResult<TicketThread> {
    let owner = match reader {
        Reader::Agent(_) => None,
        Reader::Contact(id) => Some(id),
    };
    let t = super::find_live(&db.conn, number, owner).await?;
    let mut select = message::Entity::find()
        .select_only()
        .columns([
            message::Column::Id,
            message::Column::AuthorKind,
            message::Column::Body,
            message::Column::BodyHtml,
            message::Column::FromAddress,
            message::Column::FromName,
            message::Column::ContactCopied,
            message::Column::Internal,
            message::Column::CreatedAt,
        ])
        .column_as(agent::Column::Name, "agent_name")
        .join(JoinType::LeftJoin, message_author())
        .filter(message::Column::TicketId.eq(t.id));
    if owner.is_some() {
        select = select.filter(message::Column::Internal.eq(false));
    }
    let rows = select
        .order_by_asc(message::Column::CreatedAt)
        .order_by_asc(message::Column::Id)
        .into_model::<MessageRow>()
        .all(&db.conn)
        .await?;
    let contact_name = match reader {
        Reader::Agent(rules) => match t.contact_id {
            Some(id) => contact::Entity::find_by_id(id).one(&db.conn).await?.map(|c| {
                let first = c.first_name.as_deref().filter(|_| rules.shows("first_name"));
                PersonName { first, last: &c.last_name }.to_string()
            }),
            None => None,
        },
        Reader::Contact(_) => None,
    };
    let hidden_addresses = match (reader, t.contact_id) {
        (Reader::Agent(rules), Some(id)) if !rules.shows("email") => Some(identities::emails_of(&db.conn, id).await?),
        // No contact, no address of its to hide; a sender's address is hidden all the same.
        (Reader::Agent(rules), None) if !rules.shows("email") => Some(Vec::new()),
        _ => None,
    };
    // A WhatsApp sender's address is a number: a profile that hides Mobile reads none.
    let hidden_numbers =
        matches!(reader, Reader::Agent(rules) if !rules.shows("mobile")) && t.channel == Channel::WhatsApp.key();
    let messages: Vec<ThreadMessage> = rows
        .into_iter()
        .map(|row| {
            let mut sender = sender(&row, reader, contact_name.as_deref());
            if hidden_numbers {
                sender.address = None;
            }
            let MessageRow { id, author_kind, mut body, mut body_html, from_address, internal, created_at, .. } = row;
            if let Some(addresses) = &hidden_addresses {
                // A display name may hold an address too ("melissa@example.com via Support").
                let sender_too: Vec<String> = addresses.iter().cloned().chain(from_address).collect();
                sender.address = None;
                sender.name = sender.name.map(|n| hide_addresses(&n, &sender_too).into_owned());
                body = hide_addresses(&body, addresses).into_owned();
                body_html = body_html.map(|h| hide_addresses(&h, addresses).into_owned());
            }
            ThreadMessage { id, author_kind, sender, body, body_html, internal, created_at }
        })
        .collect();
    let files = if messages.is_empty() {
        Vec::new()
    } else {
        attachment::Entity::find()
            .select_only()
            .columns([
                attachment::Column::Id,
                attachment::Column::MessageId,
                attachment::Column::Filename,
                attachment::Column::SizeBytes,
            ])
            .filter(attachment::Column::TicketId.eq(t.id))
            .filter(attachment::Column::MessageId.is_in(messages.iter().map(|m| m.id)))
            .order_by_asc(attachment::Column::Id)
            .into_model::<FileLink>()
            .all(&db.conn)
            .await?
    };
    Ok(TicketThread { ticket: t, messages, files })
}

/// Who sent `row`, as `reader` may see it; `contact_name` is the ticket's contact's name as an
/// agent may read it.
fn sender(row: &MessageRow, reader: Reader<'_>, contact_name: Option<&str>) -> Sender {
    let kind = row.author_kind.as_str();
    if kind == Author::Participant.kind() {
        let address = match reader {
            Reader::Agent(_) => row.from_address.clone(),
            Reader::Contact(_) => row.from_address.clone().filter(|_| row.contact_copied),
        };
        return Sender { name: row.from_name.clone(), address };
    }
    if kind == Author::Contact.kind() {
        return match reader {
            // The contact's own messages read "You" in the Help Center.
            Reader::Contact(_) => Sender::default(),
            Reader::Agent(_) => {
                Sender { name: Some(contact_name.unwrap_or("Customer").to_owned()), address: row.from_address.clone() }
            }
        };
    }
    let fallback = match reader {
        Reader::Agent(_) => "Agent",
        Reader::Contact(_) => "Support",
    };
    Sender { name: Some(row.agent_name.clone().unwrap_or_else(|| fallback.to_owned())), address: None }
}

/// messages → agents (the author), for the author's name.
fn message_author() -> sea_orm::RelationDef {
    message::Entity::belongs_to(agent::Entity).from(message::Column::AuthorAgentId).to(agent::Column::Id).into()
}
