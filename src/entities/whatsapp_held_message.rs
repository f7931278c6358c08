//! `whatsapp_held_messages`: inbound WhatsApp messages kept aside, with the reason, until they
//! are retried or deleted (see `channels::whatsapp::inbound::held`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "whatsapp_held_messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub number_id: i64,
    /// Meta's id of the message: unique, so a message delivered again is held once.
    #[sea_orm(unique)]
    pub wamid: String,
    /// The sender's number (E.164), if it showed it.
    pub sender_phone: Option<String>,
    /// The sender's business-scoped user id, if any.
    pub sender_user_id: Option<String>,
    /// The sender's WhatsApp profile name.
    pub profile_name: Option<String>,
    /// The message object as Meta sent it (JSON).
    pub raw: String,
    /// Why it is held, in words for an administrator.
    pub reason: String,
    pub attempts: i32,
    pub received_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
