//! `time_entries`: time agents spent on a contact's tickets.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "time_entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub contact_id: i64,
    pub ticket_id: Option<i64>,
    pub agent_id: Option<i64>,
    pub minutes: i32,
    pub note: Option<String>,
    pub created_at: DateTimeUtc,
    pub trashed: bool,
    pub recycle_entry_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
