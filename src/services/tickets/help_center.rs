//! One contact's tickets as the Help Center shows them: only its own, only public messages.

use sea_orm::{ColumnTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect, QueryTrait};

use super::list::{after_cursor, Cursor};
use super::view::{load, Reader, TicketThread};
use crate::db::{inline_limit, next_page, Db};
use crate::domain::TicketStatus;
use crate::entities::ticket;
use crate::services::ServiceResult;

/// How many tickets a page of My Tickets lists.
pub const MY_TICKETS_PAGE: u64 = 25;

/// A line of My Tickets.
#[derive(Clone, Debug, FromQueryResult)]
pub struct TicketSummary {
    pub id: i64,
    pub number: i64,
    pub subject: String,
    pub status: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl TicketSummary {
    /// A CSS class for the status badge.
    #[must_use]
    pub fn status_class(&self) -> &'static str {
        crate::domain::ticket::status_class(&self.status)
    }

    /// The last activity, for the list.
    #[must_use]
    pub fn updated_label(&self) -> String {
        self.updated_at.format("%b %-d, %Y %H:%M UTC").to_string()
    }
}

/// A page of the contact's tickets, newest activity first, optionally of one status, after
/// `after`; and the cursor of the next page (one query, on `idx_tickets_contact_activity`).
///
/// # Errors
/// Database errors.
pub async fn my_tickets(
    db: &Db,
    contact_id: i64,
    status: Option<TicketStatus>,
    after: Option<Cursor>,
) -> Result<(Vec<TicketSummary>, Option<Cursor>), sea_orm::DbErr> {
    let mut select = ticket::Entity::find()
        .select_only()
        .columns([
            ticket::Column::Id,
            ticket::Column::Number,
            ticket::Column::Subject,
            ticket::Column::Status,
            ticket::Column::CreatedAt,
            ticket::Column::UpdatedAt,
        ])
        .filter(ticket::Column::ContactId.eq(contact_id))
        .filter(ticket::Column::Trashed.eq(false));
    if let Some(status) = status {
        select = select.filter(ticket::Column::Status.eq(status.key()));
    }
    if let Some(cursor) = after {
        select = select.filter(after_cursor(cursor));
    }
    let page = select
        .order_by_desc(ticket::Column::UpdatedAt)
        .order_by_desc(ticket::Column::Id)
        .limit(MY_TICKETS_PAGE + 1)
        .build(db.backend());
    let mut rows = TicketSummary::find_by_statement(inline_limit(page)).all(&db.conn).await?;
    let next = next_page(&mut rows, MY_TICKETS_PAGE, |r| (r.updated_at, r.id));
    Ok((rows, next))
}

/// The contact's ticket `number` with its public messages (two queries).
///
/// # Errors
/// `NotFound` when there is no such ticket or it is not the contact's.
pub async fn ticket(db: &Db, contact_id: i64, number: i64) -> ServiceResult<TicketThread> {
    load(db, number, Reader::Contact(contact_id)).await
}
