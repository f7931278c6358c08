//! `tickets`: requests from a contact.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tickets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub number: i64,
    pub contact_id: i64,
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
