//! `messages`: entries of a ticket's thread.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub ticket_id: i64,
    /// `contact` (the ticket's contact, by any of its addresses), `agent`, or `participant`
    /// (anyone else who wrote into the thread by mail).
    pub author_kind: String,
    pub author_agent_id: Option<i64>,
    pub body: String,
    pub internal: bool,
    pub message_id: Option<String>,
    pub created_at: DateTimeUtc,
    /// The sender of an inbound mail.
    pub from_address: Option<String>,
    /// The mail's HTML part, sanitised when it was stored.
    pub body_html: Option<String>,
    /// The display name of the mail's From address, if it had one.
    pub from_name: Option<String>,
    /// Whether the ticket's contact was among the mail's recipients (To or Cc), so that it saw
    /// who sent it.
    pub contact_copied: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
