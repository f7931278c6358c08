//! `contact_merges`: one merge of contacts into a master, remembered for Undo merge.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contact_merges")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub master_id: i64,
    pub merged_by: Option<i64>,
    pub merged_at: DateTimeUtc,
    /// JSON: the master's fields and Help Center state before the merge.
    #[sea_orm(column_type = "Text")]
    pub master_before: String,
    pub undone_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
