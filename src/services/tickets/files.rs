//! The files of a ticket's thread, stored with their message and handed out only to whoever
//! may see the ticket.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, JoinType, QueryFilter, QuerySelect};

use super::find_live;
use crate::db::Db;
use crate::domain::{Action, FileUpload, Module};
use crate::entities::{attachment, message};
use crate::services::{Actor, ServiceError, ServiceResult};

/// The row that stores `file`, attached to message `message_id` of ticket `ticket_id`.
#[must_use]
pub fn row(ticket_id: i64, message_id: i64, file: &FileUpload, now: DateTime<Utc>) -> attachment::ActiveModel {
    attachment::ActiveModel {
        ticket_id: Set(ticket_id),
        message_id: Set(message_id),
        filename: Set(file.filename.clone()),
        content_type: Set(file.content_type.clone()),
        size_bytes: Set(i64::try_from(file.data.len()).unwrap_or(i64::MAX)),
        data: Set(file.data.clone()),
        created_at: Set(now),
        ..Default::default()
    }
}

/// A stored file, to download.
#[derive(Clone, Debug)]
pub struct Download {
    /// The name the sender gave it.
    pub filename: String,
    /// The type the sender claimed; serve it through [`safe_content_type`].
    pub content_type: String,
    pub data: Vec<u8>,
}

impl From<attachment::Model> for Download {
    fn from(file: attachment::Model) -> Self {
        Self { filename: file.filename, content_type: file.content_type, data: file.data }
    }
}

/// File `id` of live ticket `number`, for `actor`.
///
/// # Errors
/// `Forbidden` without the tickets view permission; `NotFound`.
pub async fn for_agent(db: &Db, actor: &Actor, number: i64, id: i64) -> ServiceResult<Download> {
    actor.may(Module::Tickets, Action::View)?;
    Ok(file(db, number, id, None).await?.into())
}

/// File `id` of ticket `number`, for contact `contact_id`: only a file of its own ticket that
/// came with a public message.
///
/// # Errors
/// `NotFound` otherwise.
pub async fn for_contact(db: &Db, contact_id: i64, number: i64, id: i64) -> ServiceResult<Download> {
    Ok(file(db, number, id, Some(contact_id)).await?.into())
}

/// File `id` of ticket `number`. For a contact (`owner`) only a file of its own ticket that
/// came with a public message; for an agent (`None`) any file of a live ticket.
async fn file(db: &Db, number: i64, id: i64, owner: Option<i64>) -> ServiceResult<attachment::Model> {
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

/// The type a stored file is served with: its own when it is one that cannot run anything in
/// a browser (pictures, PDF, plain text, office documents, archives, audio, video), otherwise
/// `application/octet-stream`. HTML, SVG, scripts and style sheets are never served as
/// themselves, even as downloads, so no file can be loaded as a script or a page of ours.
#[must_use]
pub fn safe_content_type(stored: &str) -> &str {
    const INERT: [&str; 12] = [
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "application/pdf",
        "text/plain",
        "text/csv",
        "application/zip",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "message/rfc822",
    ];
    const INERT_FAMILIES: [&str; 4] =
        ["application/vnd.openxmlformats-officedocument.", "application/vnd.oasis.opendocument.", "audio/", "video/"];
    let token = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b));
    let well_formed = stored.split_once('/').is_some_and(|(kind, sub)| token(kind) && token(sub));
    if well_formed && (INERT.contains(&stored) || INERT_FAMILIES.iter().any(|f| stored.starts_with(f))) {
        stored
    } else {
        "application/octet-stream"
    }
}

#[cfg(test)]
mod tests {
    use super::safe_content_type;

    #[test]
    fn only_inert_types_are_served_as_themselves() {
        assert_eq!(safe_content_type("application/pdf"), "application/pdf");
        assert_eq!(safe_content_type("image/png"), "image/png");
        for risky in ["text/html", "image/svg+xml", "text/javascript", "text/css", "application/xhtml+xml", "x/y\r\nz"]
        {
            assert_eq!(safe_content_type(risky), "application/octet-stream", "{risky}");
        }
    }
}
