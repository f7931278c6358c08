//! Inbound messages taken together (group commit). Meta posts one message a request and, when
//! customers are many, many requests at once; taken one transaction each, they wait on each
//! other for SQLite's one writer, and each costs a dozen round trips to its worker thread. The
//! [`Writer`] (one task per instance) takes the messages that wait while a batch is written
//! and writes them as the next batch: the batch's lookups are a handful of queries for all its
//! messages, its rows are built in memory (`services::intake::batch`) and written in one round
//! trip on SQLite.
//!
//! Each message is decided as the one-message path (`super::write`) decides it, in the order
//! they came: a later message of the batch sees the contact and the ticket an earlier one made.
//! When a batch fails as a whole, each of its messages is taken again on its own (`super::store`),
//! so that one bad message costs only itself. A message the one-message path would hold (its
//! sender is in the Recycle Bin) is held in the batch's transaction too (`super::held`).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};

use super::{lookup, Taken, Who};
use crate::channels::whatsapp::numbers::Number;
use crate::channels::whatsapp::webhook::payload::Message;
use crate::db::Db;
use crate::entities::contact;
use crate::services::tickets::opening::reserve_numbers;

mod plan;
mod rows;
mod stored;
#[cfg(test)]
mod tests;

use plan::Plan;
use rows::{build, Reserved};
use stored::Stored;

/// Most messages in one transaction.
const BATCH: usize = 64;

/// One inbound message to store.
pub(crate) struct Job {
    pub number: Number,
    pub who: Who,
    pub message: Message,
    /// The message as Meta sent it, kept if it is held.
    pub raw: serde_json::Value,
    /// The message as the thread shows it.
    pub text: String,
    pub now: DateTime<Utc>,
}

type Reply = oneshot::Sender<Result<Taken, sea_orm::DbErr>>;

/// Writers side by side on PostgreSQL, where a batch spends most of its time waiting for round
/// trips and other transactions can go on meanwhile; SQLite has one writer at a time anyway.
const POSTGRES_LANES: usize = 4;

/// The group committer of inbound WhatsApp messages: [`Writer::store`] waits until its
/// message's batch is committed. Each customer's messages go to one lane (a writer task), so
/// that they are taken in the order they came and lanes never wait on each other's customers.
#[derive(Clone)]
pub struct Writer {
    lanes: Vec<mpsc::Sender<(Job, Reply)>>,
}

impl Writer {
    /// Starts the writer's tasks on the current Tokio runtime; a closed ticket takes a new
    /// message at most `reopen_days` after it was closed.
    #[must_use]
    pub fn start(db: Db, reopen_days: u32) -> Self {
        let lanes = if db.backend() == sea_orm::DbBackend::Postgres { POSTGRES_LANES } else { 1 };
        let lanes = (0..lanes)
            .map(|_| {
                let (jobs, queue) = mpsc::channel::<(Job, Reply)>(1024);
                tokio::spawn(lane(db.clone(), reopen_days, queue));
                jobs
            })
            .collect();
        Self { lanes }
    }

    /// Stores `job`'s message with the others that wait, and waits until it is committed.
    ///
    /// # Errors
    /// Database errors.
    pub(crate) async fn store(&self, job: Job) -> Result<Taken, sea_orm::DbErr> {
        let stopped = || sea_orm::DbErr::Custom("the WhatsApp writer has stopped".into());
        let customer = job.who.customer().unwrap_or_default();
        let lane = usize::try_from(lookup::lock_key(job.number.id, customer).unsigned_abs()).unwrap_or_default();
        let jobs = self.lanes.get(lane % self.lanes.len().max(1)).ok_or_else(stopped)?;
        let (reply, answer) = oneshot::channel();
        jobs.send((job, reply)).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// One writer task: the messages that wait are the next batch.
async fn lane(db: Db, reopen_days: u32, mut queue: mpsc::Receiver<(Job, Reply)>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (jobs, replies): (Vec<Job>, Vec<Reply>) = batch.into_iter().unzip();
        for (reply, taken) in replies.into_iter().zip(write_or_each(&db, reopen_days, &jobs).await) {
            let _ = reply.send(taken);
        }
    }
}

/// The batch written together, or, when that fails, each message on its own.
async fn write_or_each(db: &Db, reopen_days: u32, jobs: &[Job]) -> Vec<Result<Taken, sea_orm::DbErr>> {
    let written = match write_batch(db, reopen_days, jobs).await {
        Ok(written) => written,
        Err(e) => {
            tracing::warn!(error = %e, messages = jobs.len(), "a batch of WhatsApp messages failed; taking them one by one");
            None
        }
    };
    match written {
        Some(taken) => taken.into_iter().map(Ok).collect(),
        None => {
            let mut each = Vec::with_capacity(jobs.len());
            for job in jobs {
                each.push(super::store(db, reopen_days, job).await);
            }
            each
        }
    }
}

/// A contact a message belongs to: one stored, or the `n`th the batch creates.
#[derive(Clone, Debug)]
enum ContactRef {
    Stored(Box<contact::Model>),
    New(usize),
}

/// A ticket a message joins: one stored (by id), or the `n`th the batch opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum TicketRef {
    Stored(i64),
    New(usize),
}

/// What one message of the batch does.
enum Step {
    Done(Taken),
    /// Answers a ticket that has no contact yet: linking it is left to the one-message path.
    Alone,
    Open {
        contact: ContactRef,
        ticket: usize,
    },
    Add {
        ticket: TicketRef,
    },
}

/// The batch written in one transaction; `None` (nothing written) when one of its messages
/// needs the one-message path.
async fn write_batch(db: &Db, reopen_days: u32, jobs: &[Job]) -> Result<Option<Vec<Taken>>, sea_orm::DbErr> {
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let customers: Vec<(i64, &str)> = jobs.iter().filter_map(|j| Some((j.number.id, j.who.customer()?))).collect();
    lookup::serialise_all(&txn, &customers).await?;
    let stored = Stored::read(&txn, jobs).await?;
    let mut plan = Plan::new(&stored);
    let mut new_tickets = 0;
    let mut steps = Vec::with_capacity(jobs.len());
    let mut seen = HashSet::new();
    for job in jobs {
        let step = if !seen.insert(job.message.id.as_str()) || stored.wamids.contains(&job.message.id) {
            Step::Done(Taken::Duplicate)
        } else {
            plan.step(&txn, job, reopen_days, &mut new_tickets).await?
        };
        if matches!(step, Step::Alone) {
            return Ok(None);
        }
        steps.push(step);
    }
    let contact_ids = crate::db::reserve_ids(&txn, "contacts", plan.new_contacts).await?;
    let ticket_ids = crate::db::reserve_ids(&txn, "tickets", new_tickets).await?;
    let numbers = reserve_numbers(&txn, new_tickets).await?;
    let stored_messages = steps.iter().filter(|s| matches!(s, Step::Open { .. } | Step::Add { .. })).count();
    let message_ids = crate::db::reserve_ids(&txn, "messages", stored_messages).await?;
    let reserved = Reserved { contacts: &contact_ids, tickets: &ticket_ids, numbers: &numbers, messages: &message_ids };
    let taken = build(&txn, jobs, steps, &stored, reserved, Utc::now()).await?;
    txn.commit().await?;
    Ok(Some(taken))
}

fn missing(what: &str) -> sea_orm::DbErr {
    sea_orm::DbErr::Custom(format!("a WhatsApp batch lost track of a {what}"))
}
