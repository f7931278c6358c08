//! `recycle_bin`: deleted items and what went with them.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recycle_bin")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: String,
    pub item_id: i64,
    pub label: String,
    pub deleted_by: Option<i64>,
    pub deleted_at: DateTimeUtc,
    /// JSON: counts of what went with the item, and ids needed to restore links.
    pub details: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
