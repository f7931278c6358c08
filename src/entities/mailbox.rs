//! `mailboxes`: support addresses whose IMAP folder Frontdesk polls.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mailboxes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub address: String,
    pub imap_host: String,
    pub imap_port: i32,
    /// `tls`, `starttls` or `none`.
    pub imap_security: String,
    pub imap_user: String,
    /// Sealed with the instance's secret key.
    pub imap_password: String,
    pub folder: String,
    pub poll_seconds: i32,
    pub active: bool,
    /// Until when one instance's worker holds the mailbox.
    pub lease_until: Option<DateTimeUtc>,
    pub lease_holder: Option<String>,
    pub last_polled_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    /// The folder's UIDVALIDITY when `last_uid` was recorded.
    pub uid_validity: Option<i64>,
    /// The highest IMAP UID ingested; `None` until the first complete poll.
    pub last_uid: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
