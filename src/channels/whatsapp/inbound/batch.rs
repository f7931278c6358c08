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

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect,
    QueryTrait,
};
use tokio::sync::{mpsc, oneshot};

use super::{add_identities, held, lookup, message_row, opt_ins, render, Taken, Who};
use crate::channels::whatsapp::numbers::Number;
use crate::channels::whatsapp::webhook::payload::Message;
use crate::db::Db;
use crate::domain::{Channel, FileUpload, TicketStatus};
use crate::entities::contact_identity::{self, IdentityKind};
use crate::entities::{contact, ticket, whatsapp_conversation, whatsapp_message};
use crate::services::contacts::identities;
use crate::services::intake::batch::{Batch, NewTicket};
use crate::services::intake::{Arrival, Incoming};
use crate::services::tickets::opening::reserve_numbers;

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
    let mut plan = Plan { stored: &stored, contacts: HashMap::new(), threads: HashMap::new(), new_contacts: 0 };
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

/// What the batch's messages find stored, read for all of them at once.
struct Stored {
    /// The messages stored already.
    wamids: HashSet<String>,
    /// Identities with the batch's numbers and user ids: (kind, value) → (identity id, contact).
    identities: Vec<(IdentityKind, String, i64, i64)>,
    contacts: HashMap<i64, contact::Model>,
    /// Conversations of the batch's customers: (number, customer) → their live tickets' ids.
    conversations: HashMap<(i64, String), Vec<i64>>,
    tickets: HashMap<i64, ticket::Model>,
}

impl Stored {
    async fn read(txn: &DatabaseTransaction, jobs: &[Job]) -> Result<Self, sea_orm::DbErr> {
        let wamids: Vec<&str> = jobs.iter().map(|j| j.message.id.as_str()).collect();
        let wamids = whatsapp_message::Entity::find()
            .select_only()
            .column(whatsapp_message::Column::Wamid)
            .filter(whatsapp_message::Column::Wamid.is_in(wamids))
            .into_tuple::<Option<String>>()
            .all(txn)
            .await?
            .into_iter()
            .flatten()
            .collect();
        let values: Vec<&str> = jobs
            .iter()
            .flat_map(|j| j.who.phone.as_ref().map(|p| p.as_str()).into_iter().chain(j.who.user.as_deref()))
            .collect();
        let identities: Vec<(IdentityKind, String, i64, i64)> = contact_identity::Entity::find()
            .select_only()
            .columns([
                contact_identity::Column::Kind,
                contact_identity::Column::Value,
                contact_identity::Column::Id,
                contact_identity::Column::ContactId,
            ])
            .filter(contact_identity::Column::Kind.is_in([
                IdentityKind::WhatsApp,
                IdentityKind::WhatsAppUser,
                IdentityKind::Phone,
                IdentityKind::Mobile,
            ]))
            .filter(contact_identity::Column::Value.is_in(values.clone()))
            .into_tuple()
            .all(txn)
            .await?;
        let contact_ids: HashSet<i64> = identities.iter().map(|i| i.3).collect();
        let contacts = contact::Entity::find()
            .filter(contact::Column::Id.is_in(contact_ids))
            .all(txn)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let numbers: HashSet<i64> = jobs.iter().map(|j| j.number.id).collect();
        let rows: Vec<(i64, i64, String)> = whatsapp_conversation::Entity::find()
            .select_only()
            .columns([
                whatsapp_conversation::Column::TicketId,
                whatsapp_conversation::Column::NumberId,
                whatsapp_conversation::Column::Customer,
            ])
            .filter(whatsapp_conversation::Column::NumberId.is_in(numbers))
            .filter(whatsapp_conversation::Column::Customer.is_in(values))
            .into_tuple()
            .all(txn)
            .await?;
        let tickets: HashMap<i64, ticket::Model> = ticket::Entity::find()
            .filter(ticket::Column::Id.is_in(rows.iter().map(|r| r.0)))
            .filter(ticket::Column::Trashed.eq(false))
            .all(txn)
            .await?
            .into_iter()
            .map(|t| (t.id, t))
            .collect();
        let mut conversations: HashMap<(i64, String), Vec<i64>> = HashMap::new();
        for (ticket_id, number_id, customer) in rows.into_iter().filter(|r| tickets.contains_key(&r.0)) {
            conversations.entry((number_id, customer)).or_default().push(ticket_id);
        }
        Ok(Self { wamids, identities, contacts, conversations, tickets })
    }

    /// The contact whose WhatsApp identity wrote (the one recorded first), as
    /// `lookup::whatsapp_contact` finds it.
    fn whatsapp_contact(&self, who: &Who) -> Option<&contact::Model> {
        self.identities
            .iter()
            .filter(|(kind, value, _, _)| owned_by(who, *kind, value))
            .min_by_key(|i| i.2)
            .and_then(|i| self.contacts.get(&i.3))
    }

    /// The live contact with `who`'s number as Phone or Mobile, the most recently active one,
    /// as `lookup::shared_number` finds it.
    fn shared_number(&self, who: &Who) -> Option<&contact::Model> {
        let phone = who.phone.as_ref()?.as_str();
        self.identities
            .iter()
            .filter(|(kind, value, _, _)| matches!(kind, IdentityKind::Phone | IdentityKind::Mobile) && value == phone)
            .filter_map(|i| self.contacts.get(&i.3))
            .filter(|c| !c.trashed)
            .max_by_key(|c| (c.updated_at, c.id))
    }

    /// Whether `who`'s WhatsApp identities are all some contact's.
    fn identified(&self, who: &Who) -> bool {
        let has = |kind, value: &str| self.identities.iter().any(|i| i.0 == kind && i.1 == value);
        who.phone.as_ref().is_none_or(|p| has(IdentityKind::WhatsApp, p.as_str()))
            && who.user.as_deref().is_none_or(|u| has(IdentityKind::WhatsAppUser, u))
    }

    /// The latest live ticket of `who`'s conversation on number `number_id`.
    fn conversation_ticket(&self, number_id: i64, who: &Who) -> Option<&ticket::Model> {
        let customers = who.phone.as_ref().map(|p| p.as_str()).into_iter().chain(who.user.as_deref());
        customers
            .filter_map(|c| self.conversations.get(&(number_id, c.to_owned())))
            .flatten()
            .max()
            .and_then(|id| self.tickets.get(id))
    }
}

fn owned_by(who: &Who, kind: IdentityKind, value: &str) -> bool {
    match kind {
        IdentityKind::WhatsApp => who.phone.as_ref().is_some_and(|p| p.as_str() == value),
        IdentityKind::WhatsAppUser => who.user.as_deref() == Some(value),
        _ => false,
    }
}

/// The decisions made so far in a batch, which later messages see.
struct Plan<'s> {
    stored: &'s Stored,
    /// The contact each WhatsApp identity belongs to, once a message of the batch settled it.
    contacts: HashMap<(IdentityKind, String), ContactRef>,
    /// The ticket a conversation continues in, by (number, each identity of the customer), once
    /// a message of the batch settled it.
    threads: HashMap<(i64, String), (TicketRef, ContactRef)>,
    new_contacts: usize,
}

impl Plan<'_> {
    async fn step(
        &mut self,
        txn: &DatabaseTransaction,
        job: &Job,
        reopen_days: u32,
        new_tickets: &mut usize,
    ) -> Result<Step, sea_orm::DbErr> {
        let who = &job.who;
        let Some(customer) = who.customer() else { return Ok(Step::Done(Taken::Skipped("no identity".into()))) };
        let keys = identity_keys(who);
        // A sender the batch knows by one identity and not (or as someone else) by another:
        // the one-message path adds the identity, or picks the contact, as it does alone.
        let settled: Vec<Option<&ContactRef>> = keys.iter().map(|k| self.contacts.get(k)).collect();
        let first = settled.first().copied().flatten();
        if settled.iter().any(|c| c.is_some()) && settled.iter().any(|c| c.is_none() || !same(*c, first)) {
            return Ok(Step::Alone);
        }
        let thread = keys.iter().find_map(|(_, value)| self.threads.get(&(job.number.id, value.clone())));
        if let Some((ticket, _)) = thread {
            return Ok(Step::Add { ticket: *ticket });
        }
        let reopen_until = job.now - Duration::days(i64::from(reopen_days));
        let waiting = self.stored.conversation_ticket(job.number.id, who).is_some_and(|t| {
            t.contact_id.is_none() && (t.status != TicketStatus::Closed.key() || t.updated_at >= reopen_until)
        });
        if waiting {
            return Ok(Step::Alone);
        }
        let settled = keys.iter().find_map(|k| self.contacts.get(k)).cloned();
        let contact = match settled {
            Some(c) => Some(c),
            None => {
                let found = self.stored.whatsapp_contact(who).or_else(|| self.stored.shared_number(who)).cloned();
                if let Some(c) = &found {
                    if !self.stored.identified(who) {
                        add_identities(txn, c.id, who, job.now).await?;
                    }
                }
                found.map(|c| ContactRef::Stored(Box::new(c)))
            }
        };
        if let Some(ContactRef::Stored(c)) = &contact {
            let thread = self
                .stored
                .conversation_ticket(job.number.id, who)
                .filter(|t| t.contact_id == Some(c.id))
                .filter(|t| t.status != TicketStatus::Closed.key() || t.updated_at >= reopen_until);
            if let Some(t) = thread {
                let settled = ContactRef::Stored(c.clone());
                self.remember(&keys, job.number.id, TicketRef::Stored(t.id), settled);
                return Ok(Step::Add { ticket: TicketRef::Stored(t.id) });
            }
            if c.trashed {
                let refusal =
                    format!("The sender {customer} is a contact in the Recycle Bin. Restore the contact, then retry.");
                return Ok(Step::Done(Taken::Held(refusal)));
            }
        }
        let contact = contact.unwrap_or_else(|| {
            self.new_contacts += 1;
            ContactRef::New(self.new_contacts - 1)
        });
        let ticket = *new_tickets;
        *new_tickets += 1;
        self.remember(&keys, job.number.id, TicketRef::New(ticket), contact.clone());
        Ok(Step::Open { contact, ticket })
    }

    /// The contact of identities `keys` and the ticket their conversation on number
    /// `number_id` continues in, for the batch's later messages.
    fn remember(&mut self, keys: &[(IdentityKind, String)], number_id: i64, ticket: TicketRef, contact: ContactRef) {
        for key in keys {
            self.contacts.entry(key.clone()).or_insert_with(|| contact.clone());
            self.threads.insert((number_id, key.1.clone()), (ticket, contact.clone()));
        }
    }
}

/// Whether two settled contacts are one.
fn same(a: Option<&ContactRef>, b: Option<&ContactRef>) -> bool {
    match (a, b) {
        (Some(ContactRef::Stored(a)), Some(ContactRef::Stored(b))) => a.id == b.id,
        (Some(ContactRef::New(a)), Some(ContactRef::New(b))) => a == b,
        _ => false,
    }
}

fn identity_keys(who: &Who) -> Vec<(IdentityKind, String)> {
    let phone = who.phone.as_ref().map(|p| (IdentityKind::WhatsApp, p.as_str().to_owned()));
    phone.into_iter().chain(who.user.clone().map(|u| (IdentityKind::WhatsAppUser, u))).collect()
}

/// The ids and numbers reserved for the batch's new contacts, tickets and messages.
#[derive(Clone, Copy)]
struct Reserved<'a> {
    contacts: &'a [i64],
    tickets: &'a [i64],
    numbers: &'a [i64],
    messages: &'a [i64],
}

/// The channel's rows of a batch, a table at a time.
#[derive(Default)]
struct Rows {
    conversations: Vec<whatsapp_conversation::ActiveModel>,
    messages: Vec<whatsapp_message::ActiveModel>,
    /// The WhatsApp identities of new contacts, each unless some contact has it.
    identities: Vec<contact_identity::ActiveModel>,
    /// The latest message of each conversation that continues: its 24-hour window moves on.
    windows: HashMap<i64, DateTime<Utc>>,
    others: Vec<sea_orm::Statement>,
}

impl Rows {
    fn statements(self, backend: sea_orm::DbBackend) -> Vec<sea_orm::Statement> {
        let mut statements = Vec::new();
        if !self.conversations.is_empty() {
            statements.push(whatsapp_conversation::Entity::insert_many(self.conversations).build(backend));
        }
        if !self.messages.is_empty() {
            statements.push(whatsapp_message::Entity::insert_many(self.messages).build(backend));
        }
        if !self.identities.is_empty() {
            statements.push(identities::insert_all_unless_taken(backend, self.identities));
        }
        statements.extend(windows_statement(backend, &self.windows));
        statements.extend(self.others);
        statements
    }
}

/// The 24-hour windows of conversations `windows` (ticket → latest message) moved on, never
/// back, in one statement.
fn windows_statement(backend: sea_orm::DbBackend, windows: &HashMap<i64, DateTime<Utc>>) -> Option<sea_orm::Statement> {
    use sea_orm::sea_query::{CaseStatement, Expr, SimpleExpr};
    use sea_orm::Condition;
    let mut latest = CaseStatement::new();
    for (ticket_id, at) in windows {
        latest = latest.case(whatsapp_conversation::Column::TicketId.eq(*ticket_id), Expr::value(*at));
    }
    let latest = SimpleExpr::Case(Box::new(latest));
    (!windows.is_empty()).then(|| {
        whatsapp_conversation::Entity::update_many()
            .col_expr(whatsapp_conversation::Column::LastInboundAt, latest.clone())
            .filter(whatsapp_conversation::Column::TicketId.is_in(windows.keys().copied()))
            .filter(
                Condition::any()
                    .add(whatsapp_conversation::Column::LastInboundAt.is_null())
                    .add(Expr::col(whatsapp_conversation::Column::LastInboundAt).lt(latest)),
            )
            .build(backend)
    })
}

/// Builds and writes the rows of `steps`; what became of each message.
async fn build(
    txn: &DatabaseTransaction,
    jobs: &[Job],
    steps: Vec<Step>,
    stored: &Stored,
    reserved: Reserved<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<Taken>, sea_orm::DbErr> {
    let backend = txn.get_database_backend();
    let mut batch = Batch::new(backend, now);
    let mut rows = Rows::default();
    let mut contacts: HashMap<usize, contact::Model> = HashMap::new();
    let mut tickets: HashMap<TicketRef, ticket::Model> = HashMap::new();
    let mut message_ids = reserved.messages.iter().copied();
    let mut taken = Vec::with_capacity(jobs.len());
    for (job, step) in jobs.iter().zip(steps) {
        let (m, who) = (&job.message, &job.who);
        let (Some(customer), Some(identity)) = (who.customer(), who.identity()) else {
            taken.push(match step {
                Step::Done(t) => t,
                _ => Taken::Skipped("no identity".into()),
            });
            continue;
        };
        let (first, last) = who.names();
        let arrival = Arrival {
            channel: Channel::WhatsApp,
            identity,
            to: job.number.display_phone_number.as_deref(),
            first_name: first.as_deref(),
            last_name: &last,
            owner: None,
        };
        let subject = render::subject(m, who.name.as_deref().unwrap_or(customer));
        let incoming = Incoming {
            subject: &subject,
            text: &job.text,
            html: None,
            files: &[] as &[FileUpload],
            external_id: Some(&m.id),
            from_name: who.name.as_deref(),
            contact_copied: false,
            automatic: false,
        };
        let at = m.at().unwrap_or(now);
        let asks = m.kind == "text" && opt_ins::asks_for_messages(&job.text);
        let (t, received) = match step {
            Step::Done(t) => {
                if let Taken::Held(reason) = &t {
                    batch.push([held::statement(backend, job, reason)]);
                }
                taken.push(t);
                continue;
            }
            Step::Alone => return Err(missing("message to take alone")),
            Step::Add { ticket } => {
                let t = match tickets.get(&ticket) {
                    Some(t) => t.clone(),
                    None => match ticket {
                        TicketRef::Stored(id) => stored.tickets.get(&id).cloned().ok_or_else(|| missing("ticket"))?,
                        TicketRef::New(_) => return Err(missing("ticket")),
                    },
                };
                let id = message_ids.next().ok_or_else(|| missing("message id"))?;
                let (after, received) = batch.add(&arrival, &t, t.contact_id, id, &incoming);
                let window = rows.windows.entry(t.id).or_insert(at);
                *window = (*window).max(at);
                rows.messages.push(thread_message(message_row(job.number.id, t.id, m, now), id));
                tickets.insert(ticket, after.clone());
                (after, received)
            }
            Step::Open { contact, ticket } => {
                let (c, created) = match contact {
                    ContactRef::Stored(c) => (*c, false),
                    ContactRef::New(n) => match contacts.get(&n) {
                        Some(c) => (c.clone(), false),
                        None => {
                            let id = *reserved.contacts.get(n).ok_or_else(|| missing("contact id"))?;
                            let c = batch.create_contact(&arrival, id)?;
                            contacts.insert(n, c.clone());
                            (c, true)
                        }
                    },
                };
                let new = NewTicket {
                    id: *reserved.tickets.get(ticket).ok_or_else(|| missing("ticket id"))?,
                    number: *reserved.numbers.get(ticket).ok_or_else(|| missing("ticket number"))?,
                    message: message_ids.next().ok_or_else(|| missing("message id"))?,
                };
                let (t, received) = batch.open(&arrival, &c, new, created, &incoming)?;
                rows.conversations.push(whatsapp_conversation::ActiveModel {
                    ticket_id: Set(t.id),
                    number_id: Set(job.number.id),
                    contact_id: Set(Some(c.id)),
                    customer: Set(customer.to_owned()),
                    last_inbound_at: Set(Some(at)),
                });
                rows.messages.push(thread_message(message_row(job.number.id, t.id, m, now), new.message));
                rows.identities.extend(
                    identity_keys(who).into_iter().map(|(kind, value)| {
                        crate::services::contacts::identities::row(c.id, kind, &value, false, now)
                    }),
                );
                tickets.insert(TicketRef::New(ticket), t.clone());
                (t, received)
            }
        };
        if let (true, Some(contact_id)) = (asks, t.contact_id) {
            rows.others.push(opt_ins::statement(backend, contact_id, customer, opt_ins::ASKED, None, at));
        }
        taken.push(Taken::Stored(received));
    }
    batch.push(rows.statements(backend));
    let stored_now = jobs.iter().zip(&taken).filter(|(_, t)| matches!(t, Taken::Stored(_)));
    let wamids: Vec<&str> = stored_now.map(|(j, _)| j.message.id.as_str()).collect();
    if !wamids.is_empty() {
        // A message held earlier and stored now (retried, or delivered again) is held no more.
        batch.push([held::released(backend, wamids)]);
    }
    batch.write(txn).await?;
    Ok(taken)
}

/// `row` naming its thread message, `message_id`.
fn thread_message(mut row: whatsapp_message::ActiveModel, message_id: i64) -> whatsapp_message::ActiveModel {
    row.message_id = Set(Some(message_id));
    row
}

fn missing(what: &str) -> sea_orm::DbErr {
    sea_orm::DbErr::Custom(format!("a WhatsApp batch lost track of a {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::intake::Received;
    use sea_orm::{ActiveModelTrait, PaginatorTrait};

    fn message(from: &str, wamid: &str) -> (Message, serde_json::Value) {
        let raw = serde_json::json!({"from": from, "id": wamid, "timestamp": "1765000000",
            "type": "text", "text": {"body": "Where is my order?"}});
        (serde_json::from_value(raw.clone()).expect("a message"), raw)
    }

    /// A batch with a message for a number deleted meanwhile fails as a whole (its rows name
    /// the number); taken again one by one, only that message fails.
    #[tokio::test]
    async fn a_batch_that_fails_is_taken_again_a_message_at_a_time() {
        let file = std::env::temp_dir().join(format!("frontdesk-batch-{}.db", uuid::Uuid::new_v4().simple()));
        let db = Db::connect(&format!("sqlite://{}", file.display()), 2).await.expect("a database");
        let sealer = crate::secrets::Sealer::new("a test key of enough length for the sealer");
        let now = Utc::now();
        let number = crate::entities::whatsapp_number::ActiveModel {
            name: Set("Support".into()),
            phone_number_id: Set("1001".into()),
            waba_id: Set("1".into()),
            access_token: Set(sealer.seal("token")),
            app_secret: Set(sealer.seal("secret")),
            graph_version: Set("v23.0".into()),
            webhook_key: Set("key".into()),
            verify_token: Set("verify".into()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&db.conn)
        .await
        .expect("a number");
        let gone = Number { id: number.id + 1, ..number.clone() };
        let job = |number: &Number, from: &str, wamid: &str| {
            let (message, raw) = message(from, wamid);
            let who = Who::of(&message, &[]);
            Job { number: number.clone(), who, message, raw, text: "Where is my order?".into(), now }
        };
        let jobs = [
            job(&number, "14155550100", "wamid.A"),
            job(&gone, "14155550101", "wamid.B"),
            job(&number, "14155550102", "wamid.C"),
        ];
        let taken = write_or_each(&db, 7, &jobs).await;
        assert!(matches!(taken[0], Ok(Taken::Stored(_))), "{:?}", taken[0]);
        assert!(taken[1].is_err(), "{:?}", taken[1]);
        assert!(matches!(taken[2], Ok(Taken::Stored(_))), "{:?}", taken[2]);
        let tickets = ticket::Entity::find().count(&db.conn).await.expect("count");
        let stored = whatsapp_message::Entity::find().count(&db.conn).await.expect("count");
        assert_eq!((tickets, stored), (2, 2));
        // A batch that can be written is written as one: the second message from a new number
        // joins the ticket the first one opened, for the contact it made.
        let jobs = [job(&number, "14155550103", "wamid.D"), job(&number, "14155550103", "wamid.E")];
        let taken = write_batch(&db, 7, &jobs).await.expect("the batch").expect("written together");
        assert!(
            matches!(
                (&taken[0], &taken[1]),
                (Taken::Stored(Received::Opened { contact_created: true, .. }), Taken::Stored(Received::Added { .. }))
            ),
            "{taken:?}"
        );
        let tickets = ticket::Entity::find().count(&db.conn).await.expect("count");
        assert_eq!(tickets, 3);
        drop(db);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
        }
    }
}
