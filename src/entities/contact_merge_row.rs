//! `contact_merge_rows`: what a merge moved to its master, and from which contact; one row per
//! merged contact (`kind = "contact"`) with what the merge changed on it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contact_merge_rows")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub merge_id: i64,
    pub kind: String,
    pub row_id: i64,
    pub contact_id: i64,
    pub flag: Option<bool>,
    #[sea_orm(column_type = "Text", nullable)]
    pub detail: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
