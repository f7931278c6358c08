//! WhatsApp messages to send: each becomes a WhatsApp row of the outbox
//! (`services::deliveries`) whose payload is the Cloud API's message object, so that the sender
//! posts it as it is (see `whatsapp-cloud-api.md` in the design notes: a free-text message,
//! allowed inside the 24-hour window, at most 4,096 characters).

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, DbBackend, EntityTrait, QueryTrait, Statement};
use serde_json::json;

use crate::domain::phone::Phone;
use crate::entities::outbox::{self, DeliveryChannel};
use crate::services::deliveries;

/// The longest text the Cloud API takes in one message.
pub const MAX_TEXT: usize = 4096;

/// A text message to send.
#[derive(Clone, Debug)]
pub struct OutgoingText {
    pub to: Phone,
    /// At most [`MAX_TEXT`] characters: longer text is cut there.
    pub text: String,
    /// The ticket it answers.
    pub ticket_id: Option<i64>,
}

/// `message` queued as a statement, for the caller's transaction, with our id of it (the
/// Cloud API gives its own `wamid` when it accepts it).
#[must_use]
pub fn enqueue_statement(backend: DbBackend, message: OutgoingText, now: DateTime<Utc>) -> (Statement, String) {
    let (row, id) = row(message, now);
    (outbox::Entity::insert(row).build(backend), id)
}

fn row(message: OutgoingText, now: DateTime<Utc>) -> (outbox::ActiveModel, String) {
    let id = format!("wa-{}", crate::auth::random_token(24));
    let text: String = message.text.chars().take(MAX_TEXT).collect();
    let payload = json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": message.to.as_str(),
        "type": "text",
        "text": {"preview_url": false, "body": text},
    });
    let mut row = deliveries::row(DeliveryChannel::WhatsApp, id.clone(), message.to.as_str(), text, now);
    row.ticket_id = Set(message.ticket_id);
    row.payload = Set(Some(payload.to_string()));
    (row, id)
}
