//! Tickets: for now, creating them against a contact (the ticket pages come with the Help Center
//! issue). Numbers are sequential and human-friendly, distinct from ids.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, QuerySelect};

use super::{is_unique_violation, ServiceError, ServiceResult};
use crate::db::Db;
use crate::entities::{contact, ticket};

/// The first ticket number.
pub const FIRST_NUMBER: i64 = 1001;

/// A new ticket's fields.
#[derive(Clone, Debug)]
pub struct NewTicket {
    pub contact_id: i64,
    pub subject: String,
    pub status: &'static str,
    pub channel: &'static str,
    pub priority: &'static str,
}

async fn next_number<C: ConnectionTrait>(conn: &C) -> Result<i64, sea_orm::DbErr> {
    let max: Option<Option<i64>> = ticket::Entity::find()
        .select_only()
        .expr(Expr::col(ticket::Column::Number).max())
        .into_tuple()
        .one(conn)
        .await?;
    Ok(max.flatten().map_or(FIRST_NUMBER, |n| n + 1))
}

/// Opens a ticket for a live contact, linked to the contact's account. Two tickets created at
/// once may pick the same number; the unique index refuses the second, which tries again.
///
/// # Errors
/// `NotFound` for an unknown contact.
pub async fn create(db: &Db, new: NewTicket) -> ServiceResult<ticket::Model> {
    let _gate = db.write_gate().await;
    let c = contact::Entity::find_by_id(new.contact_id).one(&db.conn).await?.ok_or(ServiceError::NotFound)?;
    let mut attempts = 0;
    loop {
        let now = Utc::now();
        let row = ticket::ActiveModel {
            number: Set(next_number(&db.conn).await?),
            contact_id: Set(c.id),
            account_id: Set(c.account_id),
            subject: Set(new.subject.clone()),
            status: Set(new.status.to_owned()),
            channel: Set(new.channel.to_owned()),
            priority: Set(new.priority.to_owned()),
            assignee_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            trashed: Set(c.trashed),
            recycle_entry_id: Set(c.recycle_entry_id),
            ..Default::default()
        };
        match row.insert(&db.conn).await {
            Ok(t) => return Ok(t),
            Err(e) if is_unique_violation(&e) && attempts < 5 => attempts += 1,
            Err(e) => return Err(e.into()),
        }
    }
}
