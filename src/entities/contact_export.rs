//! `contact_exports`: one row per export of contacts as CSV (Export History). Written by
//! `services::contacts::export`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contact_exports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The agent who exported.
    pub agent_id: i64,
    /// The Contacts Home view (`all`, `mine`, ...), sort key and direction, and search exported.
    pub view: String,
    pub sort: String,
    pub descending: bool,
    #[sea_orm(column_type = "Text")]
    pub search: String,
    /// Contacts written so far; final once the export is no longer running.
    pub row_count: i64,
    pub status: ExportStatus,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

/// Where an export stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ExportStatus {
    /// Being written to the agent's download.
    #[sea_orm(string_value = "running")]
    Running,
    /// Every row was written.
    #[sea_orm(string_value = "finished")]
    Finished,
    /// The download stopped before the end (the connection closed, or a database error).
    #[sea_orm(string_value = "interrupted")]
    Interrupted,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::agent::Entity", from = "Column::AgentId", to = "super::agent::Column::Id")]
    Agent,
}

impl Related<super::agent::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Agent.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
