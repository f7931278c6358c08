//! Adding to a ticket's thread and changing its properties. Every change is scoped by who
//! makes it: a contact reaches only its own tickets (another's is `NotFound`); an agent reaches
//! any live ticket with the tickets edit permission, which is checked here.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter};

use super::{find_live, thread_ids, Author};
use crate::channels::email::{enqueue, messages, OutgoingMail};
use crate::db::Db;
use crate::domain::{Action, Email, Module, PersonName, Priority, TicketStatus};
use crate::entities::{agent, contact, mailbox, message, ticket};
use crate::services::contacts::write::record;
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
) -> Result<(), sea_orm::DbErr> {
    message::ActiveModel {
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
    Ok(())
}

fn field(t: &ticket::Model) -> String {
    format!("Ticket #{}", t.number)
}

/// Sets the status (recording it in the contact's history) and touches the ticket.
pub(crate) async fn save(
    txn: &DatabaseTransaction,
    t: ticket::Model,
    status: Option<TicketStatus>,
    by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    let (contact_id, name, old) = (t.contact_id, field(&t), t.status.clone());
    let mut row: ticket::ActiveModel = t.into();
    if let Some(status) = status.filter(|s| s.key() != old) {
        row.status = Set(status.key().to_owned());
        record(txn, contact_id, by, &format!("{name} status"), Some(old), Some(status.label().to_owned())).await?;
    }
    row.updated_at = Set(now);
    row.update(txn).await?;
    Ok(())
}

/// The contact replies on its ticket; a closed ticket opens again.
///
/// # Errors
/// `NotFound` when the ticket is not the contact's.
pub async fn contact_reply(db: &Db, contact_id: i64, number: i64, body: &str, now: DateTime<Utc>) -> ServiceResult<()> {
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let t = find_live(&txn, number, Some(contact_id)).await?;
    add_message(&txn, t.id, Author::Contact, body, false, None, now).await?;
    record(&txn, contact_id, None, &field(&t), None, Some("Customer replied".into())).await?;
    let reopen = (t.status == TicketStatus::Closed.key()).then_some(TicketStatus::Open);
    save(&txn, t, reopen, None, now).await?;
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
    save(&txn, t, Some(TicketStatus::Closed), None, now).await?;
    txn.commit().await?;
    Ok(())
}

/// `actor`'s reply to the customer: stored in the thread (shown in the Help Center) and mailed
/// to the contact with the ticket's token in the subject and threading headers.
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
    let c = contact::Entity::find_by_id(t.contact_id).one(&txn).await?.ok_or(ServiceError::NotFound)?;
    let mut message_id = None;
    if let Some(email) = c.email.as_deref().and_then(|e| Email::parse(e).ok()) {
        let company = mail.company;
        let agent_name = agent::Entity::find_by_id(agent_id).one(&txn).await?.map(|a| a.name).unwrap_or_default();
        let link = format!("{}/help/tickets/{}", mail.base_url, t.number);
        let text = messages::agent_reply(body, &agent_name, company, t.number, &t.subject, &link)
            .map_err(|e| ServiceError::Other(e.into()))?;
        let ids = thread_ids(&txn, t.id).await?;
        let name = PersonName { first: c.first_name.as_deref(), last: &c.last_name }.to_string();
        let mut out = OutgoingMail::new(email, Some(name), text.subject, text.body);
        out.in_reply_to = ids.last().cloned();
        out.references =
            (!ids.is_empty()).then(|| ids.iter().map(|id| format!("<{id}>")).collect::<Vec<_>>().join(" "));
        out.ticket_id = Some(t.id);
        // From the support address the customer wrote to (while it is still set up), so the
        // reply threads in their client.
        if let Some(address) = &t.support_address {
            let set_up =
                mailbox::Entity::find().filter(mailbox::Column::Address.eq(address.as_str())).one(&txn).await?;
            out.from = set_up.and_then(|m| Email::parse(&m.address).ok());
        }
        message_id = Some(enqueue(&txn, out, mail.domain, now).await?);
    }
    add_message(&txn, t.id, Author::Agent(agent_id), body, false, message_id, now).await?;
    record(&txn, t.contact_id, Some(agent_id), &field(&t), None, Some("Agent replied".into())).await?;
    save(&txn, t, None, Some(agent_id), now).await?;
    txn.commit().await?;
    Ok(())
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
    add_message(&txn, t.id, Author::Agent(agent_id), body, true, None, now).await?;
    save(&txn, t, None, Some(agent_id), now).await?;
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

/// Changes status, assignee and priority on behalf of `actor`; each change goes to the
/// contact's history.
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
    let name = field(&t);
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
        record(&txn, t.contact_id, Some(agent_id), &format!("{name} assignee"), Some(old), Some(new)).await?;
    }
    if props.priority.key() != t.priority {
        let old = Some(t.priority.clone());
        record(
            &txn,
            t.contact_id,
            Some(agent_id),
            &format!("{name} priority"),
            old,
            Some(props.priority.label().into()),
        )
        .await?;
    }
    let mut row: ticket::ActiveModel = t.clone().into();
    row.assignee_id = Set(props.assignee_id);
    row.priority = Set(props.priority.key().to_owned());
    let t = row.update(&txn).await?;
    save(&txn, t, Some(props.status), Some(agent_id), now).await?;
    txn.commit().await?;
    Ok(())
}
