//! Activities and time entries logged against a contact (their pages come with the ticket
//! issue; they exist now so that deleting and restoring a contact carries them).

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ActiveValue::Set};

use super::ServiceResult;
use crate::db::Db;
use crate::entities::{activity, time_entry};

/// Logs an activity (`call`, `task`, `event` or `note`).
///
/// # Errors
/// Database errors (an unknown contact violates the foreign key).
pub async fn log_activity(
    db: &Db,
    contact_id: i64,
    agent_id: Option<i64>,
    kind: &str,
    subject: &str,
) -> ServiceResult<i64> {
    let _gate = db.write_gate().await;
    let row = activity::ActiveModel {
        contact_id: Set(contact_id),
        ticket_id: Set(None),
        kind: Set(kind.to_owned()),
        subject: Set(subject.to_owned()),
        due_at: Set(None),
        done: Set(false),
        created_by: Set(agent_id),
        created_at: Set(Utc::now()),
        trashed: Set(false),
        recycle_entry_id: Set(None),
        ..Default::default()
    };
    Ok(row.insert(&db.conn).await?.id)
}

/// Logs time spent for a contact, optionally on one of its tickets.
///
/// # Errors
/// Database errors.
pub async fn log_time(
    db: &Db,
    contact_id: i64,
    ticket_id: Option<i64>,
    agent_id: Option<i64>,
    minutes: i32,
    note: &str,
) -> ServiceResult<i64> {
    let _gate = db.write_gate().await;
    let row = time_entry::ActiveModel {
        contact_id: Set(contact_id),
        ticket_id: Set(ticket_id),
        agent_id: Set(agent_id),
        minutes: Set(minutes),
        note: Set(Some(note.to_owned())),
        created_at: Set(Utc::now()),
        trashed: Set(false),
        recycle_entry_id: Set(None),
        ..Default::default()
    };
    Ok(row.insert(&db.conn).await?.id)
}
