//! The files of a ticket's thread, handed out only to whoever may see the ticket.

use sea_orm::{ColumnTrait, EntityTrait, JoinType, QueryFilter, QuerySelect};

use super::find_live;
use crate::db::Db;
use crate::entities::{attachment, message};
use crate::services::{ServiceError, ServiceResult};

/// File `id` of ticket `number`. For a contact (`owner`) only a file of its own ticket that
/// came with a public message; for an agent (`None`) any file of a live ticket.
///
/// # Errors
/// `NotFound` otherwise.
pub async fn file(db: &Db, number: i64, id: i64, owner: Option<i64>) -> ServiceResult<attachment::Model> {
    let t = find_live(&db.conn, number, owner).await?;
    let mut select =
        attachment::Entity::find().filter(attachment::Column::Id.eq(id)).filter(attachment::Column::TicketId.eq(t.id));
    if owner.is_some() {
        select = select
            .join(
                JoinType::InnerJoin,
                attachment::Entity::belongs_to(message::Entity)
                    .from(attachment::Column::MessageId)
                    .to(message::Column::Id)
                    .into(),
            )
            .filter(message::Column::Internal.eq(false));
    }
    select.one(&db.conn).await?.ok_or(ServiceError::NotFound)
}

/// A content type safe to send back as it is (`type/subtype`, token characters only);
/// anything else is served as `application/octet-stream`.
#[must_use]
pub fn safe_content_type(stored: &str) -> &str {
    let token = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b));
    match stored.split_once('/') {
        Some((kind, sub)) if token(kind) && token(sub) => stored,
        _ => "application/octet-stream",
    }
}
