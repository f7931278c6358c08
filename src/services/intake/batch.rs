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

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseTransaction, DbBackend, EntityTrait, QueryTrait, Statement, TryIntoModel};

use super::{rows, Arrival, Incoming, Received};
use crate::entities::{contact, message, ticket};
use crate::services::contacts::write::created_from;
use crate::services::contacts::{fragments, search_terms};
use crate::services::events::{self, Actor};
use crate::services::tickets::opening;

/// The writes of a batch, in the order they run.
pub struct Batch {
    backend: DbBackend,
    statements: Vec<Statement>,
    /// Contacts created, whose fragments are indexed once all their rows are in.
    created: Vec<i64>,
}

impl Batch {
    #[must_use]
    pub fn new(backend: DbBackend) -> Self {
        Self { backend, statements: Vec::new(), created: Vec::new() }
    }

    /// Creates the contact of `arrival`'s identity with id `id` (reserved), as the first message
    /// of an identity does.
    ///
    /// # Errors
    /// Never in practice: every column of the row is set.
    pub fn create_contact(
        &mut self,
        arrival: &Arrival<'_>,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<contact::Model, sea_orm::DbErr> {
        let mut row = crate::services::contacts::write::channel_row(&arrival.contact(), None, now);
        row.id = sea_orm::ActiveValue::Set(id);
        let c = row.clone().try_into_model()?;
        self.statements.push(contact::Entity::insert(row).build(self.backend));
        self.statements.push(rows::identities(self.backend, arrival, &c, now));
        self.statements.extend(search_terms::index_statement(self.backend, &c, &[], None));
        let created = created_from(&c, arrival.owner.map(|a| a.name.as_str()));
        self.statements.extend(events::statement(self.backend, &[created]));
        self.created.push(c.id);
        Ok(c)
    }

    /// Opens ticket `id` numbered `number` (both reserved) for contact `c` with the message
    /// `incoming`; `channel_writes` gives the channel's own rows for it (see `super::open`),
    /// which run after the message. New tickets of a batch are never acknowledged.
    ///
    /// # Errors
    /// Those of `channel_writes`.
    #[allow(clippy::too_many_arguments)]
    pub fn open<F>(
        &mut self,
        arrival: &Arrival<'_>,
        c: &contact::Model,
        (id, number): (i64, i64),
        contact_created: bool,
        incoming: &Incoming<'_>,
        channel_writes: F,
        now: DateTime<Utc>,
    ) -> Result<(ticket::Model, Received), sea_orm::DbErr>
    where
        F: FnOnce(super::Opened<'_>) -> Result<Vec<Statement>, sea_orm::DbErr>,
    {
        let mut row = rows::ticket(arrival, c, number, incoming.subject, now);
        row.id = sea_orm::ActiveValue::Set(id);
        let t = row.clone().try_into_model()?;
        self.statements.push(ticket::Entity::insert(row).build(self.backend));
        self.push_message(&t, incoming, crate::services::tickets::Author::Contact, arrival, now);
        self.statements.extend(channel_writes(super::Opened { ticket: &t, contact: c, acknowledge: false })?);
        self.statements.extend(events::statement(self.backend, &[opening::created(Actor::Contact(c.id), &t, now)]));
        Ok((t, Received::Opened { number, contact_created, acknowledged: false }))
    }

    /// Adds `incoming` to the thread of `t`, written by `contact` (the ticket's contact) or, when
    /// none, by a participant; `along` runs after the message (see `super::add_to_thread`). The
    /// ticket as it is after.
    pub fn add(
        &mut self,
        arrival: &Arrival<'_>,
        t: &ticket::Model,
        contact: Option<i64>,
        incoming: &Incoming<'_>,
        along: Vec<Statement>,
        now: DateTime<Utc>,
    ) -> (ticket::Model, Received) {
        let added = rows::added(self.backend, arrival, t, contact, incoming, now);
        self.push_message(t, incoming, added.author, arrival, now);
        self.statements.extend(added.events);
        self.statements.extend(along);
        self.statements.push(rows::saved(self.backend, t.id, added.reopen, now));
        let mut after = t.clone();
        after.updated_at = now;
        if let Some(status) = added.reopen {
            status.key().clone_into(&mut after.status);
        }
        (after, Received::Added { number: t.number })
    }

    /// Rows of the channel's own that name no new row (or name them by their reserved ids).
    pub fn push(&mut self, statements: impl IntoIterator<Item = Statement>) {
        self.statements.extend(statements);
    }

    fn push_message(
        &mut self,
        t: &ticket::Model,
        incoming: &Incoming<'_>,
        author: crate::services::tickets::Author,
        arrival: &Arrival<'_>,
        now: DateTime<Utc>,
    ) {
        let entry = rows::message(t.id, incoming, author, arrival.identity.value(), now);
        self.statements.push(message::Entity::insert(entry).build(self.backend));
    }

    /// Adds a channel's own `statements` (rows it keeps beside the threads), run after the rest.
    pub fn also(&mut self, statements: impl IntoIterator<Item = Statement>) {
        self.statements.extend(statements);
    }

    /// Writes the batch inside `txn`.
    ///
    /// # Errors
    /// Database errors: the caller's transaction is then to be rolled back whole.
    pub async fn write(mut self, txn: &DatabaseTransaction) -> Result<(), sea_orm::DbErr> {
        self.statements.extend(fragments::refresh_statements(self.backend, &self.created));
        crate::db::execute_all(txn, self.statements).await
    }
}
