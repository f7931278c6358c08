//! WhatsApp messages to send: each becomes a WhatsApp row of the outbox
//! (`services::deliveries`) whose payload is the Cloud API's message object, so that the sender
//! posts it as it is, and a `whatsapp_messages` row (state `queued`) that the sender and the
//! status webhooks move forward. Our id of the message (the outbox row's) goes to Meta as
//! `biz_opaque_callback_data` and comes back on every status.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, DbBackend, EntityTrait, QueryTrait, Statement};
use serde_json::{json, Value};

use crate::domain::phone::Phone;
use crate::entities::outbox::DeliveryChannel;
use crate::entities::whatsapp_message::{self, Direction, State};
use crate::services::deliveries;

/// The longest text the Cloud API takes in one message.
pub const MAX_TEXT: usize = 4096;

/// Whom a message goes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recipient {
    Number(Phone),
    /// A business-scoped user id (a user who hides their number behind a username).
    User(String),
}

impl Recipient {
    /// As the outbox and the conversation keep it.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Number(number) => number.as_str(),
            Self::User(id) => id,
        }
    }

    /// A conversation's customer read back: an E.164 number, else a user id.
    #[must_use]
    pub fn from_stored(value: &str) -> Self {
        Phone::from_e164(value).map_or_else(|| Self::User(value.to_owned()), Self::Number)
    }

    /// The addressing fields of a message object: `to` for a number, `recipient` for a user id.
    fn address(&self, message: &mut Value) {
        match self {
            Self::Number(number) => message["to"] = json!(number.as_str()),
            Self::User(id) => message["recipient"] = json!(id),
        }
    }
}

/// What is sent: free text (inside the 24-hour window only) or a template (any time).
#[derive(Clone, Debug)]
pub enum Content {
    /// At most [`MAX_TEXT`] characters: longer text is cut there.
    Text(String),
    /// The Cloud API's `template` object, and the text as the customer will read it.
    Template { template: Value, preview: String },
}

/// A message to send from connected number `number_id`.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub number_id: i64,
    pub to: Recipient,
    pub content: Content,
    /// The ticket it belongs to.
    pub ticket_id: Option<i64>,
    /// The thread's message it is shown as.
    pub message_id: Option<i64>,
}

/// A fresh id for a message to send: give it to [`enqueue_statements`], and to the thread's
/// message when that is written first.
#[must_use]
pub fn new_id() -> String {
    format!("wa-{}", crate::auth::random_token(24))
}

/// `message` queued under our id `id`, as statements for the caller's transaction.
#[must_use]
pub fn enqueue_statements(backend: DbBackend, id: &str, message: Outgoing, now: DateTime<Utc>) -> Vec<Statement> {
    let (kind, text, mut payload) = match message.content {
        Content::Text(text) => {
            let text: String = text.chars().take(MAX_TEXT).collect();
            let payload = json!({"type": "text", "text": {"preview_url": false, "body": text}});
            ("text", text, payload)
        }
        Content::Template { template, preview } => {
            ("template", preview, json!({"type": "template", "template": template}))
        }
    };
    payload["messaging_product"] = json!("whatsapp");
    payload["recipient_type"] = json!("individual");
    message.to.address(&mut payload);
    let mut row = deliveries::row(DeliveryChannel::WhatsApp, id.to_owned(), message.to.as_str(), text, now);
    row.ticket_id = Set(message.ticket_id);
    row.payload = Set(Some(payload.to_string()));
    let record = whatsapp_message::ActiveModel {
        wamid: Set(None),
        number_id: Set(message.number_id),
        ticket_id: Set(message.ticket_id),
        message_id: Set(message.message_id),
        delivery_id: Set(Some(id.to_owned())),
        direction: Set(Direction::Outbound),
        kind: Set(kind.to_owned()),
        state: Set(Some(State::Queued)),
        error_code: Set(None),
        error_reason: Set(None),
        media_id: Set(None),
        media_state: Set(None),
        media_attempts: Set(0),
        media_next_at: Set(None),
        sent_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    vec![
        crate::entities::outbox::Entity::insert(row).build(backend),
        whatsapp_message::Entity::insert(record).build(backend),
    ]
}
