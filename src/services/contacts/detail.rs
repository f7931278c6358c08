//! The contact detail page: the contact, its tickets, activities, time entries and history, in
//! a fixed number of queries whatever the contact has.

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect};

use super::{redact, with_row_columns, ContactRow};
use crate::domain::FieldRules;
use crate::entities::{activity, agent, contact, contact_history, ticket, time_entry};
use crate::services::{ServiceError, ServiceResult};

/// How many of each related list the page shows.
pub const RELATED_LIMIT: u64 = 50;

/// Everything the detail page shows.
#[derive(Debug)]
pub struct ContactDetail {
    pub contact: ContactRow,
    /// Whether the contact has an email address, even when the profile hides it: it decides
    /// whether the contact can be invited to the Help Center.
    pub has_email: bool,
    pub tickets: Vec<ticket::Model>,
    pub activities: Vec<activity::Model>,
    pub time_entries: Vec<time_entry::Model>,
    pub history: Vec<HistoryLine>,
}

/// One change to the contact, with the agent's name.
#[derive(Debug, sea_orm::FromQueryResult)]
pub struct HistoryLine {
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub at: chrono::DateTime<chrono::Utc>,
    pub agent_name: Option<String>,
}

impl HistoryLine {
    #[must_use]
    pub fn when(&self) -> String {
        self.at.format("%b %-d, %Y %H:%M UTC").to_string()
    }
}

/// One live contact joined with its account's and owner's names (not redacted).
///
/// # Errors
/// Database errors.
pub async fn find_row(conn: &DatabaseConnection, id: i64) -> Result<Option<ContactRow>, sea_orm::DbErr> {
    with_row_columns(contact::Entity::find_by_id(id))
        .filter(contact::Column::Trashed.eq(false))
        .into_model::<ContactRow>()
        .one(conn)
        .await
}

/// One contact as `rules` let the agent see it (for the edit form).
///
/// # Errors
/// `NotFound`; database errors.
pub async fn get(conn: &DatabaseConnection, rules: &FieldRules, id: i64) -> ServiceResult<ContactRow> {
    let mut row = find_row(conn, id).await?.ok_or(ServiceError::NotFound)?;
    redact(rules, &mut row);
    Ok(row)
}

/// The detail page's data.
///
/// # Errors
/// `NotFound`; database errors.
pub async fn detail(conn: &DatabaseConnection, rules: &FieldRules, id: i64) -> ServiceResult<ContactDetail> {
    let mut contact = find_row(conn, id).await?.ok_or(ServiceError::NotFound)?;
    let has_email = contact.email.is_some();
    redact(rules, &mut contact);
    let tickets = ticket::Entity::find()
        .filter(ticket::Column::ContactId.eq(id))
        .filter(ticket::Column::Trashed.eq(false))
        .order_by_desc(ticket::Column::CreatedAt)
        .limit(RELATED_LIMIT)
        .all(conn)
        .await?;
    let activities = activity::Entity::find()
        .filter(activity::Column::ContactId.eq(id))
        .filter(activity::Column::Trashed.eq(false))
        .order_by_desc(activity::Column::CreatedAt)
        .limit(RELATED_LIMIT)
        .all(conn)
        .await?;
    let time_entries = time_entry::Entity::find()
        .filter(time_entry::Column::ContactId.eq(id))
        .filter(time_entry::Column::Trashed.eq(false))
        .order_by_desc(time_entry::Column::CreatedAt)
        .limit(RELATED_LIMIT)
        .all(conn)
        .await?;
    let history = contact_history::Entity::find()
        .filter(contact_history::Column::ContactId.eq(id))
        .select_only()
        .columns([
            contact_history::Column::Field,
            contact_history::Column::OldValue,
            contact_history::Column::NewValue,
            contact_history::Column::At,
        ])
        .column_as(agent::Column::Name, "agent_name")
        .join(
            JoinType::LeftJoin,
            sea_orm::RelationDef::from(
                contact_history::Entity::belongs_to(agent::Entity)
                    .from(contact_history::Column::AgentId)
                    .to(agent::Column::Id),
            ),
        )
        .order_by_desc(contact_history::Column::At)
        .order_by_desc(contact_history::Column::Id)
        .limit(RELATED_LIMIT)
        .into_model::<HistoryLine>()
        .all(conn)
        .await?;
    let history = history.into_iter().filter(|h| history_visible(rules, &h.field)).collect();
    Ok(ContactDetail { contact, has_email, tickets, activities, time_entries, history })
}

/// A history line about a hidden field would reveal its values.
fn history_visible(rules: &FieldRules, field_label: &str) -> bool {
    let key = match field_label {
        "First Name" => "first_name",
        "Email" => "email",
        "Phone" => "phone",
        "Mobile" => "mobile",
        "Account Name" => "account",
        "Contact Owner" => "owner",
        "Title" => "title",
        "Description" => "description",
        _ => return true,
    };
    rules.shows(key)
}
