//! Contacts: the list, the detail page, adding, editing. Every read goes through [`redact`] so
//! that a field hidden from the agent's profile never leaves the server, and every write goes
//! through `FieldRules::screen` so that a hidden field is ignored and a read-only one cannot be
//! changed.

pub(crate) mod detail;
pub mod export;
pub mod fragments;
pub mod identities;
pub mod import;
mod list;
mod matching;
pub mod merge;
mod rules;
pub(crate) mod search_terms;
pub mod write;

pub use detail::{detail, get, with_counts, ContactDetail, RelatedCounts};
pub use list::{list, ContactList, ListQuery, Sort, View};
pub use rules::redact;
pub use write::{create, edit_form, form_of, update, NewContactSource};

use chrono::{DateTime, Utc};
use sea_orm::{FromQueryResult, JoinType, QuerySelect, RelationTrait};

use crate::entities::{account, agent, contact};

use crate::domain::PersonName;

/// `select` with the columns of [`ContactRow`], the account's and the owner's names joined in.
pub(crate) fn with_row_columns(select: sea_orm::Select<contact::Entity>) -> sea_orm::Select<contact::Entity> {
    select
        .select_only()
        .columns([
            contact::Column::Id,
            contact::Column::FirstName,
            contact::Column::LastName,
            contact::Column::Email,
            contact::Column::Phone,
            contact::Column::Mobile,
            contact::Column::AccountId,
            contact::Column::OwnerId,
            contact::Column::Title,
            contact::Column::Description,
            contact::Column::Source,
            contact::Column::HelpCenterStatus,
            contact::Column::CreatedAt,
        ])
        .column_as(account::Column::Name, "account_name")
        .column_as(agent::Column::Name, "owner_name")
        .join(JoinType::LeftJoin, contact::Relation::Account.def())
        .join(JoinType::LeftJoin, contact::Relation::Owner.def())
}

/// Help Center statuses that make a contact a Help Center user. A deactivated contact (its
/// access removed) is not one any more, and can be deleted.
pub const HELP_CENTER_USER_STATUSES: [&str; 2] = ["invited", "active"];

/// A contact as pages show it, joined with its account's and owner's names.
#[derive(Clone, Debug, FromQueryResult)]
pub struct ContactRow {
    pub id: i64,
    pub first_name: Option<String>,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub account_id: Option<i64>,
    pub account_name: Option<String>,
    pub owner_id: Option<i64>,
    pub owner_name: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub source: String,
    pub help_center_status: String,
    pub created_at: DateTime<Utc>,
}

impl ContactRow {
    /// "First Last".
    #[must_use]
    pub fn name(&self) -> String {
        PersonName { first: self.first_name.as_deref(), last: &self.last_name }.to_string()
    }

    /// Whether the contact is a Help Center user (and so cannot be deleted).
    #[must_use]
    pub fn is_help_center_user(&self) -> bool {
        HELP_CENTER_USER_STATUSES.contains(&self.help_center_status.as_str())
    }

    /// The Help Center status as people read it.
    #[must_use]
    pub fn help_center_label(&self) -> &'static str {
        help_center_label(&self.help_center_status)
    }

    /// How the contact came to be, as people read it.
    #[must_use]
    pub fn source_label(&self) -> &'static str {
        match self.source.as_str() {
            "email" => "Email",
            "whatsapp" => "WhatsApp",
            "help_center" => "Help Center sign-up",
            "import" => "Import",
            _ => "Added by an agent",
        }
    }

    /// The creation date for lists.
    #[must_use]
    pub fn created_label(&self) -> String {
        self.created_at.format("%b %-d, %Y").to_string()
    }
}

/// A Help Center status as people read it.
#[must_use]
pub fn help_center_label(status: &str) -> &'static str {
    match status {
        "invited" => "Invited",
        "active" => "Active",
        "deactivated" => "Deactivated",
        _ => "Not invited",
    }
}
