//! Opening tickets, many at once. Tickets submitted at the same moment are written in one
//! transaction (group commit): the [`TicketWriter`] collects the requests that wait while a
//! batch is being written and writes them together with multi-row inserts, so a burst of
//! submissions costs a handful of statements per batch instead of ten per ticket. On SQLite,
//! where one writer at a time is the rule, this is what lets submissions keep up; on
//! PostgreSQL it saves round trips and commits.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement};
use tokio::sync::{mpsc, oneshot};

use super::{files, Author};
use crate::channels::email::{enqueue_many, messages, OutgoingMail};
use crate::db::Db;
use crate::domain::{Action, Channel, Email, FileUpload, Module, PersonName, TicketInput, TicketStatus};
use crate::entities::{attachment, contact, message, ticket};
use crate::services::events::{self, Event, Field};
use crate::services::{Actor, ServiceError, ServiceResult};

/// Most tickets written in one transaction.
const BATCH: usize = 64;

/// One ticket to open, with what its acknowledgement needs.
#[derive(Clone, Debug)]
pub struct Opening {
    pub contact_id: i64,
    pub input: TicketInput,
    pub channel: Channel,
    pub by: Author,
    pub now: DateTime<Utc>,
    /// Where the link in the acknowledgement points, e.g. `https://help.example.com`.
    pub base_url: String,
    /// The domain of our Message-IDs.
    pub domain: String,
    /// The company name the acknowledgement is signed with.
    pub company: String,
    /// Files that come with the first message.
    pub files: Vec<FileUpload>,
}

/// Reserves `count` consecutive ticket numbers (SQLite's counter row) or `count` numbers from
/// the sequence (PostgreSQL).
pub(crate) async fn reserve_numbers<C: ConnectionTrait>(conn: &C, count: usize) -> Result<Vec<i64>, sea_orm::DbErr> {
    let backend = conn.get_database_backend();
    if backend == DbBackend::Postgres {
        let rows = conn
            .query_all(Statement::from_sql_and_values(
                backend,
                "SELECT nextval('ticket_numbers') AS value FROM generate_series(1, $1)",
                [i64::try_from(count).unwrap_or(i64::MAX).into()],
            ))
            .await?;
        return rows.iter().map(|r| r.try_get::<i64>("", "value")).collect();
    }
    let row = conn
        .query_one(Statement::from_sql_and_values(
            backend,
            "UPDATE counters SET value = value + ? WHERE name = 'ticket_number' RETURNING value",
            [i64::try_from(count).unwrap_or(i64::MAX).into()],
        ))
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound("the ticket number counter".into()))?;
    let last: i64 = row.try_get("", "value")?;
    Ok((0..count).map(|i| last - (count - 1 - i) as i64).collect())
}

/// Opens every ticket of `batch` whose contact is live, each with its first message, its event
/// (which stands for the first message too) and the acknowledgement queued to the contact, all
/// in one transaction.
/// The results come in the order of `batch`: `NotFound` for an unknown or deleted contact.
///
/// # Errors
/// A database error fails the whole batch.
pub async fn open_many(db: &Db, batch: &[Opening]) -> Result<Vec<ServiceResult<ticket::Model>>, sea_orm::DbErr> {
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let ids: Vec<i64> = batch.iter().map(|o| o.contact_id).collect();
    let contacts: HashMap<i64, contact::Model> = contact::Entity::find()
        .filter(contact::Column::Id.is_in(ids))
        .filter(contact::Column::Trashed.eq(false))
        .all(&txn)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let live: Vec<(usize, &Opening, &contact::Model)> =
        batch.iter().enumerate().filter_map(|(i, o)| contacts.get(&o.contact_id).map(|c| (i, o, c))).collect();
    let mut results: Vec<ServiceResult<ticket::Model>> = batch.iter().map(|_| Err(ServiceError::NotFound)).collect();
    if live.is_empty() {
        return Ok(results);
    }
    let numbers = reserve_numbers(&txn, live.len()).await?;
    let rows = live.iter().zip(&numbers).map(|((_, o, c), number)| ticket::ActiveModel {
        number: Set(*number),
        contact_id: Set(Some(c.id)),
        account_id: Set(c.account_id),
        subject: Set(o.input.subject.clone()),
        status: Set(TicketStatus::Open.key().to_owned()),
        channel: Set(o.channel.key().to_owned()),
        priority: Set(o.input.priority.key().to_owned()),
        assignee_id: Set(None),
        created_at: Set(o.now),
        updated_at: Set(o.now),
        trashed: Set(false),
        recycle_entry_id: Set(None),
        ..Default::default()
    });
    ticket::Entity::insert_many(rows).exec(&txn).await?;
    let by_number: HashMap<i64, ticket::Model> = ticket::Entity::find()
        .filter(ticket::Column::Number.is_in(numbers.clone()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|t| (t.number, t))
        .collect();
    let mut messages_rows = Vec::with_capacity(live.len());
    let mut opened = Vec::with_capacity(live.len());
    let mut mails = Vec::with_capacity(live.len());
    for ((i, o, c), number) in live.iter().zip(&numbers) {
        let t = by_number.get(number).ok_or_else(|| sea_orm::DbErr::RecordNotFound(format!("ticket #{number}")))?;
        messages_rows.push(message::ActiveModel {
            ticket_id: Set(t.id),
            author_kind: Set(o.by.kind().to_owned()),
            author_agent_id: Set(o.by.agent_id()),
            body: Set(o.input.description.clone()),
            internal: Set(false),
            message_id: Set(None),
            created_at: Set(o.now),
            ..Default::default()
        });
        opened.push(created(o.by.actor(c.id), t, o.now));
        if let Some(email) = c.email.as_deref().and_then(|e| Email::parse(e).ok()) {
            let name = PersonName { first: c.first_name.as_deref(), last: &c.last_name }.to_string();
            let link = format!("{}/help/tickets/{number}", o.base_url);
            match messages::acknowledgement(&name, &o.company, *number, &t.subject, &link) {
                Ok(text) => {
                    let mut out = OutgoingMail::new(email, Some(name), text.subject, text.body);
                    out.ticket_id = Some(t.id);
                    mails.push(out);
                }
                Err(e) => tracing::error!(error = %e, "rendering an acknowledgement failed"),
            }
        }
        results[*i] = Ok(t.clone());
    }
    message::Entity::insert_many(messages_rows).exec(&txn).await?;
    attach_files(&txn, &live, &by_number, &numbers, live.first().map_or_else(Utc::now, |(_, o, _)| o.now)).await?;
    events::record(&txn, &opened).await?;
    // Message-IDs name our domain; every opening of a batch comes from one instance.
    let domain = live.first().map(|(_, o, _)| o.domain.clone()).unwrap_or_default();
    let now = live.first().map_or_else(Utc::now, |(_, o, _)| o.now);
    enqueue_many(&txn, mails, &domain, now).await?;
    txn.commit().await?;
    Ok(results)
}

/// One new ticket's row for `c` (none: a ticket linked to a contact later), inside the caller's
/// transaction (a channel that writes the rest with it): open, medium priority, unassigned,
/// with a fresh number.
///
/// # Errors
/// Database errors.
pub(crate) async fn insert_one(
    txn: &sea_orm::DatabaseTransaction,
    c: Option<&contact::Model>,
    subject: &str,
    channel: Channel,
    support_address: Option<&str>,
    now: DateTime<Utc>,
) -> Result<ticket::Model, sea_orm::DbErr> {
    use sea_orm::ActiveModelTrait;
    let number = reserve_numbers(txn, 1).await?.pop().unwrap_or_default();
    let subject = subject.trim();
    ticket::ActiveModel {
        number: Set(number),
        contact_id: Set(c.map(|c| c.id)),
        account_id: Set(c.and_then(|c| c.account_id)),
        subject: Set(if subject.is_empty() { "(no subject)".to_owned() } else { subject.to_owned() }),
        status: Set(TicketStatus::Open.key().to_owned()),
        channel: Set(channel.key().to_owned()),
        priority: Set(crate::domain::Priority::Medium.key().to_owned()),
        assignee_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        trashed: Set(false),
        recycle_entry_id: Set(None),
        support_address: Set(support_address.map(str::to_owned)),
        ..Default::default()
    }
    .insert(txn)
    .await
}

/// The event of ticket `t` opened by `actor`: its first subject, status, priority and channel.
pub(crate) fn created(actor: events::Actor, t: &ticket::Model, at: DateTime<Utc>) -> Event {
    Event::ticket(actor, t, events::Action::Created, at)
        .set(Field::Subject, Some(&t.subject))
        .set(Field::Status, Some(&t.status))
        .set(Field::Priority, Some(&t.priority))
        .set(Field::Channel, Some(&t.channel))
}

/// Stores the files of the openings that have some, on their ticket's first message (one
/// query for the messages' ids, one insert; nothing when no opening has files).
async fn attach_files<C: ConnectionTrait>(
    conn: &C,
    live: &[(usize, &Opening, &contact::Model)],
    by_number: &HashMap<i64, ticket::Model>,
    numbers: &[i64],
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    use sea_orm::QuerySelect;
    let with_files: Vec<(i64, &Opening)> = live
        .iter()
        .zip(numbers)
        .filter(|((_, o, _), _)| !o.files.is_empty())
        .filter_map(|((_, o, _), number)| Some((by_number.get(number)?.id, *o)))
        .collect();
    if with_files.is_empty() {
        return Ok(());
    }
    let firsts: HashMap<i64, i64> = message::Entity::find()
        .select_only()
        .columns([message::Column::TicketId, message::Column::Id])
        .filter(message::Column::TicketId.is_in(with_files.iter().map(|(id, _)| *id)))
        .into_tuple::<(i64, i64)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let rows: Vec<attachment::ActiveModel> = with_files
        .iter()
        .filter_map(|(ticket_id, o)| Some((*ticket_id, *firsts.get(ticket_id)?, *o)))
        .flat_map(|(ticket_id, message_id, o)| o.files.iter().map(move |f| files::row(ticket_id, message_id, f, now)))
        .collect();
    // One statement per file: a batch's files together may be large.
    for row in rows {
        attachment::Entity::insert(row).exec(conn).await?;
    }
    Ok(())
}

/// Writes a batch in its own task, so that a panic fails that batch and not the writer. When
/// the batch fails as a whole, each ticket is tried alone, so that one bad ticket (or a passing
/// error) does not fail the others.
async fn write_batch(db: &Db, openings: Vec<Opening>) -> Vec<ServiceResult<ticket::Model>> {
    let count = openings.len();
    match run(db, openings.clone()).await {
        Ok(results) => results,
        Err(e) if count > 1 => {
            tracing::warn!(error = %e, tickets = count, "a batch of tickets failed; writing them one by one");
            let mut results = Vec::with_capacity(count);
            for opening in openings {
                results.push(match run(db, vec![opening]).await {
                    Ok(mut one) => one.pop().unwrap_or(Err(ServiceError::NotFound)),
                    Err(e) => Err(e),
                });
            }
            results
        }
        Err(e) => vec![Err(e)],
    }
}

/// [`open_many`] in a task of its own: a panic comes back as an error.
async fn run(db: &Db, openings: Vec<Opening>) -> ServiceResult<Vec<ServiceResult<ticket::Model>>> {
    let db = db.clone();
    match tokio::spawn(async move { open_many(&db, &openings).await }).await {
        Ok(Ok(results)) => Ok(results),
        Ok(Err(e)) => Err(ServiceError::Db(e)),
        Err(join) => {
            tracing::error!(error = %join, "writing a batch of tickets panicked");
            Err(ServiceError::Other(anyhow::anyhow!("writing the ticket failed")))
        }
    }
}

struct Job {
    opening: Opening,
    reply: oneshot::Sender<ServiceResult<ticket::Model>>,
}

/// The group committer: one task per instance that writes the tickets waiting for it in
/// batches. [`TicketWriter::open`] waits for its ticket's batch to commit.
#[derive(Clone)]
pub struct TicketWriter {
    jobs: mpsc::Sender<Job>,
}

impl TicketWriter {
    /// Starts the writer's task on the current Tokio runtime.
    #[must_use]
    pub fn start(db: Db) -> Self {
        let (jobs, mut queue) = mpsc::channel::<Job>(1024);
        tokio::spawn(async move {
            while let Some(first) = queue.recv().await {
                let mut batch = vec![first];
                while batch.len() < BATCH {
                    match queue.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                let openings: Vec<Opening> = batch.iter().map(|j| j.opening.clone()).collect();
                let results = write_batch(&db, openings).await;
                for (job, result) in batch.into_iter().zip(results) {
                    let _ = job.reply.send(result);
                }
            }
        });
        Self { jobs }
    }

    /// Opens one ticket (see [`open_many`]) and waits until it is committed.
    ///
    /// # Errors
    /// `NotFound` for an unknown or deleted contact; database errors.
    pub async fn open(&self, opening: Opening) -> ServiceResult<ticket::Model> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { opening, reply })
            .await
            .map_err(|_| ServiceError::Other(anyhow::anyhow!("the ticket writer has stopped")))?;
        answer.await.map_err(|_| ServiceError::Other(anyhow::anyhow!("the ticket writer has stopped")))?
    }

    /// Opens a ticket on a contact's behalf by `actor`, who is its author whatever `opening.by`
    /// says: it needs the tickets create permission, and the contacts view one (opening a
    /// ticket for someone means seeing who it is).
    ///
    /// # Errors
    /// `Forbidden` without either permission; as [`Self::open`].
    pub async fn open_as(&self, actor: &Actor, opening: Opening) -> ServiceResult<ticket::Model> {
        actor.may(Module::Tickets, Action::Create)?;
        actor.may(Module::Contacts, Action::View)?;
        self.open(Opening { by: Author::Agent(actor.id()), ..opening }).await
    }
}
