//! `contact_imports`: one Import Contacts, from upload to its end (or its revert), with its
//! counts and the lease of the instance running it (see `services::contacts::import`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contact_imports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub agent_id: i64,
    pub file_name: String,
    /// `csv` or `xlsx`.
    pub file_kind: String,
    pub file_bytes: i64,
    /// The header row (JSON array of strings).
    #[sea_orm(column_type = "Text")]
    pub headers: String,
    /// The field key of each column (JSON array, null for "do not import").
    #[sea_orm(column_type = "Text", nullable)]
    pub mapping: Option<String>,
    /// `add`, `update` or `add_update`.
    pub mode: Option<String>,
    pub create_accounts: bool,
    /// `uploaded`, `testing`, `tested`, `importing`, `imported`, `failed`, `reverted`.
    pub status: String,
    pub total_rows: i64,
    pub done_rows: i64,
    pub created: i64,
    pub updated: i64,
    pub skipped: i64,
    pub rejected: i64,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    pub reverted_at: Option<DateTimeUtc>,
    pub lease_until: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
    /// What Revert left as it was (contacts edited since), one line each.
    #[sea_orm(column_type = "Text", nullable)]
    pub revert_notes: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
