//! Linking a ticket that has no contact to one. Such a ticket comes from a WhatsApp message an
//! agent sent to a number no contact has, with a profile that may not create contacts: it
//! keeps the message and the conversation (so replies go to the number) until an agent with
//! Edit on tickets links it to an existing contact from the ticket's page, or the customer
//! answers and the intake links the contact it found or created.
//!
//! Linking sets the ticket's contact and account (the contact's), the conversation's contact,
//! gives the contact the conversation's WhatsApp number as an identity unless some contact has
//! it, makes the events the ticket had so far the contact's (its History shows its tickets'),
//! and records the change as the ticket's event.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait,
    IntoActiveModel, QueryFilter, QueryTrait,
};

use super::find_live;
use crate::db::{execute_all, Db};
use crate::domain::{Action, Module, PersonName};
use crate::entities::contact_identity::IdentityKind;
use crate::entities::event::{self, SubjectKind};
use crate::entities::{contact, message, ticket, whatsapp_conversation};
use crate::services::contacts::{self, identities, ContactRow};
use crate::services::events::{self, Event, Field};
use crate::services::{Actor, ServiceError, ServiceResult};

/// What the Link to contact page offers.
#[derive(Clone, Debug)]
pub struct LinkChoices {
    pub number: i64,
    pub subject: String,
    /// Whom the conversation writes to, when the profile shows Phone or Mobile.
    pub customer: Option<String>,
    /// Contacts matching the search, as the profile shows them.
    pub matches: Vec<ContactRow>,
}

/// Why a ticket with a contact cannot be linked again.
const LINKED: &str = "This ticket has a contact already.";

/// Whether `actor` may link tickets to contacts: Edit on tickets, and seeing contacts to choose
/// one.
fn may_link(actor: &Actor) -> ServiceResult<()> {
    actor.may(Module::Tickets, Action::Edit)?;
    actor.may(Module::Contacts, Action::View)
}

/// Contactless ticket `number` with the contacts matching `q` (a name, an address or a number,
/// two characters or more), for `actor` to choose from.
///
/// # Errors
/// `Forbidden` without Edit on tickets or View on contacts; `NotFound` for an unknown ticket;
/// `Conflict` when it has a contact.
pub async fn choices(db: &Db, actor: &Actor, number: i64, q: &str, now: DateTime<Utc>) -> ServiceResult<LinkChoices> {
    may_link(actor)?;
    let t = find_live(&db.conn, number, None).await?;
    if t.contact_id.is_some() {
        return Err(ServiceError::Conflict(LINKED.into()));
    }
    let q = q.trim();
    let matches = if q.chars().count() >= 2 {
        let query = contacts::ListQuery { search: q.to_owned(), ..Default::default() };
        let mut found = contacts::list(&db.conn, actor, &query, now).await?.rows;
        found.truncate(20);
        found
    } else {
        Vec::new()
    };
    let customer = customer_for(&db.conn, actor, &t).await?;
    Ok(LinkChoices { number: t.number, subject: t.subject, customer, matches })
}

/// The customer's WhatsApp number of contactless ticket `t`, when `actor`'s profile shows Phone
/// or Mobile: a ticket without a contact has no other name to show.
///
/// # Errors
/// Database errors.
pub async fn customer_for<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    t: &ticket::Model,
) -> Result<Option<String>, sea_orm::DbErr> {
    let rules = actor.fields(Module::Contacts);
    // A WhatsApp number is a Mobile (as the thread and History treat it).
    if t.contact_id.is_some() || !rules.shows("mobile") {
        return Ok(None);
    }
    Ok(whatsapp_conversation::Entity::find_by_id(t.id).one(conn).await?.map(|c| c.customer))
}

/// Links contactless ticket `number` to live contact `contact_id`, as `actor`.
///
/// # Errors
/// `Forbidden` without Edit on tickets or View on contacts; `NotFound` for an unknown ticket or
/// contact; `Conflict` when the ticket has a contact already.
pub async fn link(db: &Db, actor: &Actor, number: i64, contact_id: i64, now: DateTime<Utc>) -> ServiceResult<()> {
    may_link(actor)?;
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let t = find_live(&txn, number, None).await?;
    if t.contact_id.is_some() {
        return Err(ServiceError::Conflict(LINKED.into()));
    }
    let c = contact::Entity::find_by_id(contact_id)
        .filter(contact::Column::Trashed.eq(false))
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    to_contact(&txn, t, &c, events::Actor::Agent(actor.id()), now).await?;
    txn.commit().await?;
    Ok(())
}

/// The ticket's and its messages' events written while it had no contact, made contact
/// `contact_id`'s: its History shows its tickets' events (found by subject, on its index).
fn earlier_events(backend: sea_orm::DbBackend, ticket_id: i64, contact_id: i64) -> sea_orm::Statement {
    let messages = Query::select()
        .column(message::Column::Id)
        .from(message::Entity)
        .and_where(message::Column::TicketId.eq(ticket_id))
        .to_owned();
    let of_ticket = Condition::any()
        .add(
            Condition::all()
                .add(event::Column::SubjectKind.eq(SubjectKind::Ticket))
                .add(event::Column::SubjectId.eq(ticket_id)),
        )
        .add(
            Condition::all()
                .add(event::Column::SubjectKind.eq(SubjectKind::Message))
                .add(event::Column::SubjectId.in_subquery(messages)),
        );
    event::Entity::update_many()
        .col_expr(event::Column::ContactId, Expr::value(contact_id))
        .filter(event::Column::ContactId.is_null())
        .filter(of_ticket)
        .build(backend)
}

/// Links contactless ticket `t` to contact `c`, `by` whom, inside the caller's transaction: the
/// ticket as it is now.
///
/// # Errors
/// Database errors.
pub(crate) async fn to_contact(
    txn: &DatabaseTransaction,
    t: ticket::Model,
    c: &contact::Model,
    by: events::Actor,
    now: DateTime<Utc>,
) -> Result<ticket::Model, sea_orm::DbErr> {
    let mut active = t.into_active_model();
    active.contact_id = Set(Some(c.id));
    active.account_id = Set(c.account_id);
    active.updated_at = Set(now);
    let t = active.update(txn).await?;
    let backend = txn.get_database_backend();
    let conversation = whatsapp_conversation::Entity::find_by_id(t.id).one(txn).await?;
    let mut statements = vec![
        whatsapp_conversation::Entity::update_many()
            .col_expr(whatsapp_conversation::Column::ContactId, Expr::value(c.id))
            .filter(whatsapp_conversation::Column::TicketId.eq(t.id))
            .build(backend),
        earlier_events(backend, t.id, c.id),
    ];
    let name = PersonName { first: c.first_name.as_deref(), last: &c.last_name }.to_string();
    let mut changes =
        vec![Event::ticket(by, &t, events::Action::Updated, now).changed(Field::Contact, None, Some(name))];
    if let Some(customer) = conversation.map(|c| c.customer) {
        // A number (E.164) or, from an answer, a business-scoped user id.
        let kind = if customer.starts_with('+') { IdentityKind::WhatsApp } else { IdentityKind::WhatsAppUser };
        let added = txn.execute(identities::insert_unless_taken(backend, c.id, kind, &customer, now)).await?;
        if added.rows_affected() > 0 {
            changes.push(Event::contact(by, c.id, events::Action::Updated, now).changed(
                Field::WhatsApp,
                None,
                Some(customer),
            ));
        }
    }
    statements.extend(events::statement(backend, &changes));
    execute_all(txn, statements).await?;
    Ok(t)
}
