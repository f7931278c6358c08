//! `activities`: calls, tasks, events and notes against a contact.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "activities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub contact_id: i64,
    pub ticket_id: Option<i64>,
    pub kind: String,
    pub subject: String,
    pub due_at: Option<DateTimeUtc>,
    pub done: bool,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub trashed: bool,
    pub recycle_entry_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
