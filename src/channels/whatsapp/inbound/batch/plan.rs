//! Deciding what each message of a batch does, in the order they came.

use std::collections::HashMap;

use chrono::Duration;
use sea_orm::DatabaseTransaction;

use super::super::{add_identities, Taken, Who};
use super::stored::Stored;
use super::{ContactRef, Job, Step, TicketRef};
use crate::domain::TicketStatus;
use crate::entities::contact_identity::IdentityKind;

/// The decisions made so far in a batch, which later messages see.
pub(super) struct Plan<'s> {
    stored: &'s Stored,
    /// The contact each WhatsApp identity belongs to, once a message of the batch settled it.
    contacts: HashMap<(IdentityKind, String), ContactRef>,
    /// The ticket a conversation continues in, by (number, each identity of the customer), once
    /// a message of the batch settled it.
    threads: HashMap<(i64, String), (TicketRef, ContactRef)>,
    pub(super) new_contacts: usize,
}

impl<'s> Plan<'s> {
    pub(super) fn new(stored: &'s Stored) -> Self {
        Self { stored, contacts: HashMap::new(), threads: HashMap::new(), new_contacts: 0 }
    }

    pub(super) async fn step(
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

pub(super) fn identity_keys(who: &Who) -> Vec<(IdentityKind, String)> {
    let phone = who.phone.as_ref().map(|p| (IdentityKind::WhatsApp, p.as_str().to_owned()));
    phone.into_iter().chain(who.user.clone().map(|u| (IdentityKind::WhatsAppUser, u))).collect()
}
