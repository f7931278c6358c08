//! What a batch's messages find stored, read for all of them at once.

use std::collections::{HashMap, HashSet};

use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect};

use super::super::Who;
use super::Job;
use crate::entities::contact_identity::{self, IdentityKind};
use crate::entities::{contact, ticket, whatsapp_conversation, whatsapp_message};

/// What the batch's messages find stored, read for all of them at once.
pub(super) struct Stored {
    /// The messages stored already.
    pub(super) wamids: HashSet<String>,
    /// Identities with the batch's numbers and user ids: (kind, value) → (identity id, contact).
    pub(super) identities: Vec<(IdentityKind, String, i64, i64)>,
    pub(super) contacts: HashMap<i64, contact::Model>,
    /// Conversations of the batch's customers: (number, customer) → their live tickets' ids.
    pub(super) conversations: HashMap<(i64, String), Vec<i64>>,
    pub(super) tickets: HashMap<i64, ticket::Model>,
}

impl Stored {
    pub(super) async fn read(txn: &DatabaseTransaction, jobs: &[Job]) -> Result<Self, sea_orm::DbErr> {
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
    pub(super) fn whatsapp_contact(&self, who: &Who) -> Option<&contact::Model> {
        self.identities
            .iter()
            .filter(|(kind, value, _, _)| owned_by(who, *kind, value))
            .min_by_key(|i| i.2)
            .and_then(|i| self.contacts.get(&i.3))
    }

    /// The live contact with `who`'s number as Phone or Mobile, the most recently active one,
    /// as `lookup::shared_number` finds it.
    pub(super) fn shared_number(&self, who: &Who) -> Option<&contact::Model> {
        let phone = who.phone.as_ref()?.as_str();
        self.identities
            .iter()
            .filter(|(kind, value, _, _)| matches!(kind, IdentityKind::Phone | IdentityKind::Mobile) && value == phone)
            .filter_map(|i| self.contacts.get(&i.3))
            .filter(|c| !c.trashed)
            .max_by_key(|c| (c.updated_at, c.id))
    }

    /// Whether `who`'s WhatsApp identities are all some contact's.
    pub(super) fn identified(&self, who: &Who) -> bool {
        let has = |kind, value: &str| self.identities.iter().any(|i| i.0 == kind && i.1 == value);
        who.phone.as_ref().is_none_or(|p| has(IdentityKind::WhatsApp, p.as_str()))
            && who.user.as_deref().is_none_or(|u| has(IdentityKind::WhatsAppUser, u))
    }

    /// The latest live ticket of `who`'s conversation on number `number_id`.
    pub(super) fn conversation_ticket(&self, number_id: i64, who: &Who) -> Option<&ticket::Model> {
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
