//! `outbox`: deliveries (mail, WhatsApp messages) waiting to be sent, being retried, sent, or
//! given up on.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Our Message-ID (without angle brackets), fixed when queued so a retry sends the same one.
    pub message_id: String,
    /// The recipient on the channel: an email address, an E.164 number.
    pub to_address: String,
    pub to_name: Option<String>,
    pub subject: String,
    pub body_text: String,
    pub in_reply_to: Option<String>,
    pub references: Option<String>,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub locked_until: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    pub ticket_id: Option<i64>,
    /// The From address when not the default one (the support address a ticket came to).
    pub from_address: Option<String>,
    /// `acknowledgement` for the automatic answers the loop brake counts; otherwise empty.
    pub kind: Option<String>,
    /// The channel it goes out on; each channel's sender takes its own rows.
    pub channel: DeliveryChannel,
    /// What the channel needs beyond the recipient and the text, as JSON (WhatsApp: the Cloud
    /// API's message object); none for mail, whose envelope has columns of its own.
    pub payload: Option<String>,
}

/// The channel of a delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum DeliveryChannel {
    #[sea_orm(string_value = "email")]
    Email,
    #[sea_orm(string_value = "whatsapp")]
    WhatsApp,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
