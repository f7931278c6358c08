//! `quarantine`: mail that could not be ingested, kept with the reason.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "quarantine")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub reason: String,
    /// Where it came from: `pipe` or `imap:<address>`.
    pub source: String,
    pub sender: Option<String>,
    pub subject: Option<String>,
    pub size_bytes: i64,
    pub raw: Vec<u8>,
    /// False when only the headers were kept (the mail was too large): it cannot be retried.
    pub whole: bool,
    pub attempts: i32,
    pub received_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
