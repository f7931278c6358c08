//! Adding to a ticket's thread and changing its properties. Every change is scoped by who
//! makes it: a contact reaches only its own tickets (another's is `NotFound`); an agent reaches
//! any live ticket with the tickets edit permission, which is checked here.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
};

use super::{find_live, thread_ids, Author};
use crate::channels::email::{enqueue, messages, OutgoingMail};
use crate::channels::whatsapp::conversations::{self, Window};
use crate::channels::whatsapp::outgoing::{self as whatsapp, Content, Outgoing};
use crate::db::{execute_all, Db};
use crate::domain::{Action, Channel, Email, Module, PersonName, Priority, TicketStatus};
use crate::entities::{agent, contact, mailbox, message, ticket};
use crate::services::events::{self, Change, Event, Field, Subject};
use crate::services::help_center::MailContext;
use crate::services::{Actor, ServiceError, ServiceResult};

async fn add_message(
    txn: &DatabaseTransaction,
    ticket_id: i64,
    by: Author,
    body: &str,
    internal: bool,
    message_id: Option<String>,
    now: DateTime<Utc>,
) -> Result<i64, sea_orm::DbErr> {
    let saved = message::ActiveModel {
        ticket_id: Set(ticket_id),
        author_kind: Set(by.kind().to_owned()),
        author_agent_id: Set(by.agent_id()),
        body: Set(body.to_owned()),
        internal: Set(internal),
        message_id: Set(message_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(saved.id)
}

/// The change of `t`'s status to `status`, if it is one.
pub(crate) fn status_change(t: &ticket::Model, status: Option<TicketStatus>) -> Option<Change> {
    status
        .filter(|s| s.key() != t.status)
        .map(|s| Change::new(Field::Status, Some(t.status.clone()), Some(s.key().to_owned())))
}

/// Sets the status and touches the ticket; the caller records the change
/// ([`status_change`]) in its event.
pub(crate) async fn save(
    txn: &DatabaseTransaction,
    t: ticket::Model,
    status: Option<TicketStatus>,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    let mut row: ticket::ActiveModel = t.into();
    if let Some(status) = status {
        row.status = Set(status.key().to_owned());
    }
    row.updated_at = Set(now);
    row.update(txn).await?;
    Ok(())
}

/// The event of a message by `author` in `t`'s thread.
fn message_event(
    actor: events::Actor,
    id: i64,
    t: &ticket::Model,
    author: Author,
    action: events::Action,
    now: DateTime<Utc>,
) -> Event {
    Event::message(actor, Subject::Message(id), t, action, now).set(Field::Author, Some(author.kind()))
}

/// The contact replies on its ticket; a closed ticket opens again.
///
/// # Errors
/// `NotFound` when the ticket is not the contact's.
pub async fn contact_reply(db: &Db, contact_id: i64, number: i64, body: &str, now: DateTime<Utc>) -> ServiceResult<()> {
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let t = find_live(&txn, number, Some(contact_id)).await?;
    let id = add_message(&txn, t.id, Author::Contact, body, false, None, now).await?;
    let actor = events::Actor::Contact(contact_id);
    let reopen = (t.status == TicketStatus::Closed.key()).then_some(TicketStatus::Open);
    let reopened = status_change(&t, reopen).map(|c| Event::ticket(actor, &t, events::Action::Updated, now).with([c]));
    let message = message_event(actor, id, &t, Author::Contact, events::Action::Replied, now);
    events::record(&txn, &Vec::from_iter([message].into_iter().chain(reopened))).await?;
    save(&txn, t, reopen, now).await?;
    txn.commit().await?;
    Ok(())
}

/// The contact closes its ticket.
///
/// # Errors
/// `NotFound` when the ticket is not the contact's.
pub async fn contact_close(db: &Db, contact_id: i64, number: i64, now: DateTime<Utc>) -> ServiceResult<()> {
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let t = find_live(&txn, number, Some(contact_id)).await?;
    let closed = status_change(&t, Some(TicketStatus::Closed));
    let event =
        closed.map(|c| Event::ticket(events::Actor::Contact(contact_id), &t, events::Action::Updated, now).with([c]));
    events::record(&txn, &Vec::from_iter(event)).await?;
    save(&txn, t, Some(TicketStatus::Closed), now).await?;
    txn.commit().await?;
    Ok(())
}

/// Why free text cannot go on a WhatsApp ticket whose window has closed.
pub const WINDOW_CLOSED: &str = "The 24-hour window is closed: the customer last wrote more than 24 hours ago, \
     so WhatsApp only takes a template now.";

/// `actor`'s reply to the customer: stored in the thread (shown in the Help Center) and sent
/// back through the channel the ticket came from: by WhatsApp to the contact's WhatsApp number
/// for a ticket that came by WhatsApp, by mail otherwise (with the ticket's token in the subject
/// and threading headers). A WhatsApp ticket whose contact has no WhatsApp number left is
/// answered by mail, when the contact has an address.
///
/// # Errors
/// `Forbidden` without the tickets edit permission; `NotFound` for an unknown or deleted
/// ticket.
pub async fn agent_reply(
    db: &Db,
    mail: MailContext<'_>,
    actor: &Actor,
    number: i64,
    body: &str,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    actor.may(Module::Tickets, Action::Edit)?;
    let agent_id = actor.id();
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let t = find_live(&txn, number, None).await?;
    // A ticket without a contact yet has its WhatsApp conversation to answer on.
    let c = match t.contact_id {
        Some(id) => Some(contact::Entity::find_by_id(id).one(&txn).await?.ok_or(ServiceError::NotFound)?),
        None => None,
    };
    let route = match Channel::from_key(&t.channel) {
        Some(Channel::WhatsApp) => conversations::route(&txn, &t).await?,
        _ => None,
    };
    let author = Author::Agent(agent_id);
    let id = match route {
        Some(route) => {
            if let Window::ClosedSince(_) = route.window(now) {
                return Err(ServiceError::field("reply", WINDOW_CLOSED));
            }
            let delivery = whatsapp::new_id();
            let id = add_message(&txn, t.id, author, body, false, Some(delivery.clone()), now).await?;
            let message = Outgoing {
                number_id: route.number_id,
                to: route.to,
                content: Content::Text(body.to_owned()),
                ticket_id: Some(t.id),
                message_id: Some(id),
            };
            execute_all(&txn, whatsapp::enqueue_statements(txn.get_database_backend(), &delivery, message, now))
                .await?;
            id
        }
        None => {
            let message_id = match &c {
                Some(c) => mail_reply(&txn, mail, agent_id, &t, c, body, now).await?,
                None => None,
            };
            add_message(&txn, t.id, author, body, false, message_id, now).await?
        }
    };
    events::record(
        &txn,
        &[message_event(events::Actor::Agent(agent_id), id, &t, author, events::Action::Replied, now)],
    )
    .await?;
    save(&txn, t, None, now).await?;
    txn.commit().await?;
    Ok(())
}

/// Queues the reply to the contact's primary address, if it has one; its Message-ID.
async fn mail_reply(
    txn: &DatabaseTransaction,
    mail: MailContext<'_>,
    agent_id: i64,
    t: &ticket::Model,
    c: &contact::Model,
    body: &str,
    now: DateTime<Utc>,
) -> ServiceResult<Option<String>> {
    let Some(email) = c.email.as_deref().and_then(|e| Email::parse(e).ok()) else { return Ok(None) };
    let agent_name = agent::Entity::find_by_id(agent_id).one(txn).await?.map(|a| a.name).unwrap_or_default();
    let link = format!("{}/help/tickets/{}", mail.base_url, t.number);
    let text = messages::agent_reply(body, &agent_name, mail.company, t.number, &t.subject, &link)
        .map_err(|e| ServiceError::Other(e.into()))?;
    let ids = thread_ids(txn, t.id).await?;
    let name = PersonName { first: c.first_name.as_deref(), last: &c.last_name }.to_string();
    let mut out = OutgoingMail::new(email, Some(name), text.subject, text.body);
    out.in_reply_to = ids.last().cloned();
    out.references = (!ids.is_empty()).then(|| ids.iter().map(|id| format!("<{id}>")).collect::<Vec<_>>().join(" "));
    out.ticket_id = Some(t.id);
    // From the support address the customer wrote to (while it is still set up), so the reply
    // threads in their client.
    if let Some(address) = &t.support_address {
        let set_up = mailbox::Entity::find().filter(mailbox::Column::Address.eq(address.as_str())).one(txn).await?;
        out.from = set_up.and_then(|m| Email::parse(&m.address).ok());
    }
    Ok(Some(enqueue(txn, out, mail.domain, now).await?))
}

/// `actor`'s internal note: for agents only, never shown in the Help Center nor mailed.
///
/// # Errors
/// `Forbidden` without the tickets edit permission; `NotFound` for an unknown or deleted
/// ticket.
pub async fn add_note(db: &Db, actor: &Actor, number: i64, body: &str, now: DateTime<Utc>) -> ServiceResult<()> {
    actor.may(Module::Tickets, Action::Edit)?;
    let agent_id = actor.id();
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let t = find_live(&txn, number, None).await?;
    let author = Author::Agent(agent_id);
    let id = add_message(&txn, t.id, author, body, true, None, now).await?;
    events::record(&txn, &[message_event(events::Actor::Agent(agent_id), id, &t, author, events::Action::Noted, now)])
        .await?;
    save(&txn, t, None, now).await?;
    txn.commit().await?;
    Ok(())
}

/// New values for a ticket's status, assignee and priority.
#[derive(Clone, Copy, Debug)]
pub struct Properties {
    pub status: TicketStatus,
    pub assignee_id: Option<i64>,
    pub priority: Priority,
}

/// Changes status, assignee and priority on behalf of `actor`: one event with what changed.
///
/// # Errors
/// `Forbidden` without the tickets edit permission; `NotFound` for an unknown ticket;
/// `Invalid` for an assignee who is not an active agent.
pub async fn update_properties(
    db: &Db,
    actor: &Actor,
    number: i64,
    props: Properties,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    actor.may(Module::Tickets, Action::Edit)?;
    let agent_id = actor.id();
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let t = find_live(&txn, number, None).await?;
    let mut changes = Vec::new();
    if props.assignee_id != t.assignee_id {
        let new_name = match props.assignee_id {
            Some(id) => Some(
                agent::Entity::find_by_id(id)
                    .filter(agent::Column::Active.eq(true))
                    .one(&txn)
                    .await?
                    .ok_or_else(|| ServiceError::field("assignee", "Choose an active agent."))?
                    .name,
            ),
            None => None,
        };
        let old_name = match t.assignee_id {
            Some(id) => agent::Entity::find_by_id(id).one(&txn).await?.map(|a| a.name),
            None => None,
        };
        let unassigned = || "Unassigned".to_owned();
        let (old, new) = (old_name.unwrap_or_else(unassigned), new_name.unwrap_or_else(unassigned));
        changes.push(Change::new(Field::Assignee, Some(old), Some(new)));
    }
    if props.priority.key() != t.priority {
        changes.push(Change::new(Field::Priority, Some(t.priority.clone()), Some(props.priority.key().to_owned())));
    }
    changes.extend(status_change(&t, Some(props.status)));
    if !changes.is_empty() {
        events::record(
            &txn,
            &[Event::ticket(events::Actor::Agent(agent_id), &t, events::Action::Updated, now).with(changes)],
        )
        .await?;
    }
    let mut row: ticket::ActiveModel = t.clone().into();
    row.assignee_id = Set(props.assignee_id);
    row.priority = Set(props.priority.key().to_owned());
    let t = row.update(&txn).await?;
    save(&txn, t, Some(props.status), now).await?;
    txn.commit().await?;
    Ok(())
}
