//! The rows of a batch's decisions, built a table at a time and written.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryTrait};

use super::super::{held, message_row, opt_ins, render, windows_statement, Taken};
use super::stored::Stored;
use super::{missing, plan::identity_keys, ContactRef, Job, Step, TicketRef};
use crate::domain::{Channel, FileUpload};
use crate::entities::contact_identity;
use crate::entities::{contact, ticket, whatsapp_conversation, whatsapp_message};
use crate::services::contacts::identities;
use crate::services::intake::batch::{Batch, NewTicket};
use crate::services::intake::{Arrival, Incoming};

/// The ids and numbers reserved for the batch's new contacts, tickets and messages.
#[derive(Clone, Copy)]
pub(super) struct Reserved<'a> {
    pub(super) contacts: &'a [i64],
    pub(super) tickets: &'a [i64],
    pub(super) numbers: &'a [i64],
    pub(super) messages: &'a [i64],
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

/// Builds and writes the rows of `steps`; what became of each message.
pub(super) async fn build(
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
        // What writes no thread entry is settled before the entry's parts are built.
        let step = match step {
            Step::Done(t) => {
                if let Taken::Held(reason) = &t {
                    batch.push([held::statement(backend, job, reason)]);
                }
                taken.push(t);
                continue;
            }
            Step::Alone => return Err(missing("message to take alone")),
            step => step,
        };
        let (m, who) = (&job.message, &job.who);
        let (Some(customer), Some(identity)) = (who.customer(), who.identity()) else {
            taken.push(Taken::Skipped("no identity".into()));
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
            Step::Done(_) | Step::Alone => return Err(missing("settled step")),
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
