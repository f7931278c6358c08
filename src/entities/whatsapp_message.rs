//! `whatsapp_messages`: every WhatsApp message in or out, with Meta's id and its state.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "whatsapp_messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Meta's id; `None` for an outgoing message Meta has not accepted yet.
    pub wamid: Option<String>,
    pub number_id: i64,
    pub ticket_id: Option<i64>,
    /// The thread's message it is shown as.
    pub message_id: Option<i64>,
    /// Our id of an outgoing message (its outbox row's `message_id`).
    pub delivery_id: Option<String>,
    pub direction: Direction,
    /// Meta's message type (`text`, `image`, `template`...).
    pub kind: String,
    /// Outgoing messages only.
    pub state: Option<State>,
    pub error_code: Option<i64>,
    pub error_reason: Option<String>,
    pub media_id: Option<String>,
    pub media_state: Option<MediaState>,
    pub media_attempts: i32,
    pub media_next_at: Option<DateTimeUtc>,
    pub sent_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Which way a message went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Direction {
    #[sea_orm(string_value = "inbound")]
    Inbound,
    #[sea_orm(string_value = "outbound")]
    Outbound,
}

/// Where an outgoing message is. The order is the order states move in: a state only moves
/// forward (a late "delivered" never undoes "read"); `Failed` ends it, except after `Read`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum State {
    #[sea_orm(string_value = "queued")]
    Queued,
    #[sea_orm(string_value = "accepted")]
    Accepted,
    #[sea_orm(string_value = "sent")]
    Sent,
    #[sea_orm(string_value = "delivered")]
    Delivered,
    #[sea_orm(string_value = "read")]
    Read,
    #[sea_orm(string_value = "failed")]
    Failed,
}

/// Where a message's media is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum MediaState {
    /// To fetch (again, after `media_next_at`).
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "stored")]
    Stored,
    /// Given up on: the message stays, without the file.
    #[sea_orm(string_value = "failed")]
    Failed,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
