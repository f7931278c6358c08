//! The intake of many messages in one transaction (group commit), for a channel that takes
//! messages in bursts. The channel looks up, for the whole batch at once, the contacts and the
//! threads its messages belong to, reserves the ids of the contacts and tickets it will create
//! (`crate::db::reserve_ids`, ticket numbers with `reserve_numbers`), and plans each message
//! here: a contact created, a ticket opened, a message added to a thread. Every row is built
//! in memory and the batch is written in one round trip on SQLite, where a statement's round
//! trip to the database's worker thread costs more than the statement.
//!
//! The rows are those of the one-message intake (`super::open`, `super::add_to_thread`): the
//! same contact, identities, search words, fragments, ticket, thread entry and events.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, DatabaseTransaction, DbBackend, EntityTrait, QueryTrait, Statement, TryIntoModel};

use super::{rows, Arrival, Incoming, Received};
use crate::domain::TicketStatus;
use crate::entities::{contact, contact_identity, contact_search_term, message, ticket};
use crate::services::contacts::write::created_from;
use crate::services::contacts::{fragments, search_terms};
use crate::services::events::{self, Actor, Event, Subject};
use crate::services::tickets::{opening, Author};

/// The rows of a batch, a table at a time: a few multi-row statements for the whole batch,
/// whatever its size.
pub struct Batch {
    backend: DbBackend,
    contacts: Vec<contact::ActiveModel>,
    identities: Vec<contact_identity::ActiveModel>,
    terms: Vec<contact_search_term::ActiveModel>,
    tickets: Vec<ticket::ActiveModel>,
    messages: Vec<message::ActiveModel>,
    /// The channel's own rows, which may name the rows above.
    channel: Vec<Statement>,
    events: Vec<Event>,
    /// Tickets a message was added to, and those of them it opened again.
    touched: BTreeSet<i64>,
    reopened: BTreeSet<i64>,
    /// Contacts created, whose fragments are indexed once all their rows are in.
    created: Vec<i64>,
    now: DateTime<Utc>,
}

/// The ids a new ticket takes: its own, its number and its first message's.
#[derive(Clone, Copy, Debug)]
pub struct NewTicket {
    pub id: i64,
    pub number: i64,
    pub message: i64,
}

impl Batch {
    /// A batch whose rows are stored at `now`.
    #[must_use]
    pub fn new(backend: DbBackend, now: DateTime<Utc>) -> Self {
        Self {
            backend,
            contacts: Vec::new(),
            identities: Vec::new(),
            terms: Vec::new(),
            tickets: Vec::new(),
            messages: Vec::new(),
            channel: Vec::new(),
            events: Vec::new(),
            touched: BTreeSet::new(),
            reopened: BTreeSet::new(),
            created: Vec::new(),
            now,
        }
    }

    /// Creates the contact of `arrival`'s identity with id `id` (reserved), as the first message
    /// of an identity does.
    ///
    /// # Errors
    /// Never in practice: every column of the row is set.
    pub fn create_contact(&mut self, arrival: &Arrival<'_>, id: i64) -> Result<contact::Model, sea_orm::DbErr> {
        let mut row = crate::services::contacts::write::channel_row(&arrival.contact(), None, self.now);
        row.id = Set(id);
        let c = row.clone().try_into_model()?;
        self.contacts.push(row);
        self.identities.extend(rows::identity_rows(arrival, &c, self.now));
        self.terms.extend(search_terms::rows(&c, None));
        self.events.push(created_from(&c, arrival.owner.map(|a| a.name.as_str())));
        self.created.push(c.id);
        Ok(c)
    }

    /// Opens ticket `new` (its ids reserved) for contact `c` with the message `incoming`; the
    /// channel adds its own rows with [`Self::push`]. New tickets of a batch are never
    /// acknowledged.
    ///
    /// # Errors
    /// Never in practice: every column of the row is set.
    pub fn open(
        &mut self,
        arrival: &Arrival<'_>,
        c: &contact::Model,
        new: NewTicket,
        contact_created: bool,
        incoming: &Incoming<'_>,
    ) -> Result<(ticket::Model, Received), sea_orm::DbErr> {
        let mut row = rows::ticket(arrival, c, new.number, incoming.subject, self.now);
        row.id = Set(new.id);
        let t = row.clone().try_into_model()?;
        self.tickets.push(row);
        self.push_message(t.id, new.message, incoming, Author::Contact, arrival);
        self.events.push(opening::created(Actor::Contact(c.id), &t, self.now));
        Ok((t, Received::Opened { number: new.number, contact_created, acknowledged: false }))
    }

    /// Adds `incoming` to the thread of `t` as message `message` (its id reserved), written by
    /// `contact` (the ticket's contact) or, when none, by a participant. The ticket as it is
    /// after.
    pub fn add(
        &mut self,
        arrival: &Arrival<'_>,
        t: &ticket::Model,
        contact: Option<i64>,
        message: i64,
        incoming: &Incoming<'_>,
    ) -> (ticket::Model, Received) {
        let author = if contact.is_some() { Author::Contact } else { Author::Participant };
        self.push_message(t.id, message, incoming, author, arrival);
        self.events.extend(rows::added_events(arrival, t, contact, Subject::Message(message), incoming, self.now));
        let reopen = rows::reopens(t, incoming);
        self.touched.insert(t.id);
        let mut after = t.clone();
        after.updated_at = self.now;
        if let Some(status) = reopen {
            self.reopened.insert(t.id);
            status.key().clone_into(&mut after.status);
        }
        (after, Received::Added { number: t.number })
    }

    /// The channel's own rows, run after the contacts, tickets and messages of the batch.
    pub fn push(&mut self, statements: impl IntoIterator<Item = Statement>) {
        self.channel.extend(statements);
    }

    fn push_message(
        &mut self,
        ticket_id: i64,
        id: i64,
        incoming: &Incoming<'_>,
        author: Author,
        arrival: &Arrival<'_>,
    ) {
        let mut entry = rows::message(ticket_id, incoming, author, arrival.identity.value(), self.now);
        entry.id = Set(id);
        self.messages.push(entry);
    }

    /// Writes the batch inside `txn`.
    ///
    /// # Errors
    /// Database errors: the caller's transaction is then to be rolled back whole.
    pub async fn write(self, txn: &DatabaseTransaction) -> Result<(), sea_orm::DbErr> {
        let b = self.backend;
        let mut statements = Vec::new();
        statements.extend((!self.contacts.is_empty()).then(|| contact::Entity::insert_many(self.contacts).build(b)));
        // A plain insert: an identity another writer took meanwhile fails the batch, which is
        // then taken a message at a time (never a second contact for one identity).
        statements.extend(
            (!self.identities.is_empty()).then(|| contact_identity::Entity::insert_many(self.identities).build(b)),
        );
        statements
            .extend((!self.terms.is_empty()).then(|| contact_search_term::Entity::insert_many(self.terms).build(b)));
        statements.extend((!self.tickets.is_empty()).then(|| ticket::Entity::insert_many(self.tickets).build(b)));
        statements.extend((!self.messages.is_empty()).then(|| message::Entity::insert_many(self.messages).build(b)));
        statements.extend(self.channel);
        statements.extend(events::statement(b, &self.events));
        let (reopened, touched): (Vec<i64>, Vec<i64>) = self.touched.iter().partition(|id| self.reopened.contains(id));
        if !touched.is_empty() {
            statements.push(rows::saved(b, &touched, None, self.now));
        }
        if !reopened.is_empty() {
            statements.push(rows::saved(b, &reopened, Some(TicketStatus::Open), self.now));
        }
        statements.extend(fragments::refresh_statements(b, &self.created));
        crate::db::execute_all(txn, statements).await
    }
}
