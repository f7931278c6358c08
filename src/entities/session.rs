//! `sessions`: server-side session state.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    /// SHA-256 of the session key in the cookie, so a leaked table does not leak sessions.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub agent_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub state: String,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
