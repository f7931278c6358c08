//! `tickets`: requests from a contact (or, for a while, from a number no contact has yet).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tickets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub number: i64,
    /// None until the ticket is linked to a contact (a WhatsApp message to a new number sent by
    /// an agent who may not create contacts).
    pub contact_id: Option<i64>,
    pub account_id: Option<i64>,
    pub subject: String,
    pub status: String,
    pub channel: String,
    pub priority: String,
    pub assignee_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub trashed: bool,
    pub recycle_entry_id: Option<i64>,
    /// The support address the customer wrote to; replies go out from it.
    pub support_address: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
