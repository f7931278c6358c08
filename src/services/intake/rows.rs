//! The rows the intake writes, built without touching the database: shared by the intake of
//! one message (`super::open`, `super::add_to_thread`) and of a batch (`super::batch`).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, DbBackend, EntityTrait, QueryFilter, QueryTrait, Statement};

use super::{Arrival, Identity, Incoming};
use crate::domain::{Priority, TicketStatus};
use crate::entities::{contact, contact_identity, message, ticket};
use crate::services::contacts::identities;
use crate::services::events::{self, Action, Actor, Event, Field, Subject};
use crate::services::tickets::thread::status_change;
use crate::services::tickets::Author;

/// A new ticket of contact `c` for a message from `arrival`, numbered `number` (its id unset).
pub(super) fn ticket(
    arrival: &Arrival<'_>,
    c: &contact::Model,
    number: i64,
    subject: &str,
    now: DateTime<Utc>,
) -> ticket::ActiveModel {
    let subject = subject.trim();
    ticket::ActiveModel {
        number: Set(number),
        contact_id: Set(Some(c.id)),
        account_id: Set(c.account_id),
        subject: Set(if subject.is_empty() { "(no subject)".to_owned() } else { subject.to_owned() }),
        status: Set(TicketStatus::Open.key().to_owned()),
        channel: Set(arrival.channel.key().to_owned()),
        priority: Set(Priority::Medium.key().to_owned()),
        assignee_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        trashed: Set(false),
        recycle_entry_id: Set(None),
        support_address: Set(arrival.to.map(str::to_owned)),
        ..Default::default()
    }
}

/// The thread entry of `incoming` in ticket `ticket_id`, by `author` writing from `from`.
pub(super) fn message(
    ticket_id: i64,
    incoming: &Incoming<'_>,
    author: Author,
    from: &str,
    now: DateTime<Utc>,
) -> message::ActiveModel {
    message::ActiveModel {
        ticket_id: Set(ticket_id),
        author_kind: Set(author.kind().to_owned()),
        author_agent_id: Set(None),
        body: Set(incoming.text.to_owned()),
        internal: Set(false),
        message_id: Set(incoming.external_id.map(str::to_owned)),
        created_at: Set(now),
        from_address: Set(Some(from.to_owned())),
        from_name: Set(incoming.from_name.map(str::to_owned)),
        contact_copied: Set(incoming.contact_copied),
        body_html: Set(incoming.html.map(str::to_owned)),
        ..Default::default()
    }
}

/// The identities of contact `c`, just created for `arrival`: its address or number, and the
/// WhatsApp account it wrote from.
pub(super) fn identities(
    backend: DbBackend,
    arrival: &Arrival<'_>,
    c: &contact::Model,
    now: DateTime<Utc>,
) -> Statement {
    contact_identity::Entity::insert_many(identity_rows(arrival, c, now)).build(backend)
}

/// The rows of [`identities`].
pub(super) fn identity_rows(
    arrival: &Arrival<'_>,
    c: &contact::Model,
    now: DateTime<Utc>,
) -> Vec<contact_identity::ActiveModel> {
    let mut rows = identities::rows_of(c, &[], now);
    if matches!(arrival.identity, Identity::WhatsApp(_) | Identity::WhatsAppUser(_)) {
        rows.push(identities::row(c.id, arrival.identity.kind(), arrival.identity.value(), false, now));
    }
    rows
}

/// What a message added to a thread does beside its entry.
pub(super) struct Added {
    /// Who it is by: the contact, or a participant when the identity is not the contact's.
    pub author: Author,
    /// The status the ticket takes (a closed ticket opens again), if it changes.
    pub reopen: Option<TicketStatus>,
    /// Its events, naming the message inserted last ([`Subject::LastMessage`]): to run after it.
    pub events: Option<Statement>,
}

/// A message from `arrival` added to `t`'s thread, `contact` the ticket's contact when the
/// identity is that contact's: never shown as the contact's otherwise. A closed ticket opens again
/// unless the message is automatic (an out-of-office answer must not reopen what an agent
/// closed).
pub(super) fn added(
    backend: DbBackend,
    arrival: &Arrival<'_>,
    t: &ticket::Model,
    contact: Option<i64>,
    incoming: &Incoming<'_>,
    now: DateTime<Utc>,
) -> Added {
    let events = added_events(arrival, t, contact, Subject::LastMessage, incoming, now);
    let author = if contact.is_some() { Author::Contact } else { Author::Participant };
    let reopen = reopens(t, incoming);
    Added { author, reopen, events: events::statement(backend, &events) }
}

/// The status a message makes its ticket take: a closed ticket opens again unless the message
/// is automatic (an out-of-office answer must not reopen what an agent closed).
pub(super) fn reopens(t: &ticket::Model, incoming: &Incoming<'_>) -> Option<TicketStatus> {
    (t.status == TicketStatus::Closed.key() && !incoming.automatic).then_some(TicketStatus::Open)
}

/// The events of message `message` from `arrival` added to `t`'s thread (see [`added`]).
pub(super) fn added_events(
    arrival: &Arrival<'_>,
    t: &ticket::Model,
    contact: Option<i64>,
    message: Subject,
    incoming: &Incoming<'_>,
    now: DateTime<Utc>,
) -> Vec<Event> {
    let (author, actor) = match contact {
        Some(id) => (Author::Contact, Actor::Contact(id)),
        None => (Author::Participant, Actor::System),
    };
    // Without the identity: histories are read by profiles that may not see it (the thread
    // keeps who sent what).
    let entry = Event::message(actor, message, t, Action::Replied, now)
        .set(Field::Author, Some(author.kind()))
        .set(Field::Channel, Some(arrival.channel.key()));
    let reopened =
        status_change(t, reopens(t, incoming)).map(|c| Event::ticket(actor, t, Action::Updated, now).with([c]));
    [entry].into_iter().chain(reopened).collect()
}

/// Tickets `ids` touched, with their new status if any (as `tickets::thread::save`).
pub(super) fn saved(backend: DbBackend, ids: &[i64], status: Option<TicketStatus>, now: DateTime<Utc>) -> Statement {
    let mut update = ticket::Entity::update_many().col_expr(ticket::Column::UpdatedAt, Expr::value(now));
    if let Some(status) = status {
        update = update.col_expr(ticket::Column::Status, Expr::value(status.key()));
    }
    update.filter(ticket::Column::Id.is_in(ids.iter().copied())).build(backend)
}
