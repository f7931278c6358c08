//! Fetching the media of inbound WhatsApp messages (images, documents, audio, video,
//! stickers), outside Meta's webhook request: the webhook notes each file `pending`, and this
//! worker fetches it from the API in two steps (its URL, then its bytes, with the number's
//! token) and stores it as an attachment of the thread message. A failed download is tried
//! again with back-off (1, 4, 16, 64 minutes) and given up after [`ATTEMPTS`], the message kept
//! either way; a file over the attachment limit is given up at once.
//!
//! Safe on every instance at once: a row is claimed by a conditional update (its attempts and
//! due time as read) before it is fetched, and the claim pushes its due time past the fetch.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait};

use super::api::{Api, ErrorKind};
use super::inbound::render;
use super::numbers;
use crate::db::Db;
use crate::domain::FileUpload;
use crate::entities::whatsapp_message::{self, MediaState};
use crate::entities::{attachment, message};
use crate::secrets::Sealer;
use crate::services::tickets::files;

/// Downloads tried before a file is given up.
pub const ATTEMPTS: i32 = 5;
/// Files claimed per round.
const BATCH: u64 = 20;
/// How long a claim holds a row: longer than any fetch.
const LEASE_MINUTES: i64 = 5;

/// What fetching needs.
#[derive(Clone, Copy)]
pub struct Fetcher<'a> {
    pub db: &'a Db,
    pub api: &'a Api,
    pub sealer: &'a Sealer,
    /// The largest file kept (`max_attachment_mb`).
    pub max_bytes: usize,
}

/// What a round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Round {
    pub stored: u32,
    pub retried: u32,
    pub failed: u32,
}

/// Fetches the files due at `now`.
///
/// # Errors
/// Database errors (a failed download is not one: it is retried or given up).
pub async fn fetch_due(f: Fetcher<'_>, now: DateTime<Utc>) -> Result<Round, sea_orm::DbErr> {
    let due = whatsapp_message::Entity::find()
        .filter(whatsapp_message::Column::MediaState.eq(MediaState::Pending))
        .filter(whatsapp_message::Column::MediaNextAt.lte(now))
        .order_by_asc(whatsapp_message::Column::MediaNextAt)
        .limit(BATCH)
        .all(&f.db.conn)
        .await?;
    let mut round = Round::default();
    for row in due {
        if !claim(f.db, &row, now).await? {
            continue;
        }
        match fetch(f, &row).await {
            Ok(file) => {
                store(f.db, &row, &file, now).await?;
                round.stored += 1;
            }
            Err((message, for_good)) => {
                let attempts = row.media_attempts + 1;
                let give_up = for_good || attempts >= ATTEMPTS;
                tracing::warn!(wamid = ?row.wamid, attempts, give_up, "fetching WhatsApp media failed: {message}");
                failed(f.db, row.id, attempts, give_up, &message, now).await?;
                if give_up {
                    round.failed += 1;
                } else {
                    round.retried += 1;
                }
            }
        }
    }
    Ok(round)
}

/// Takes `row` for this instance: only if no one else took it since it was read.
async fn claim(db: &Db, row: &whatsapp_message::Model, now: DateTime<Utc>) -> Result<bool, sea_orm::DbErr> {
    let _gate = db.write_gate().await;
    let claimed = whatsapp_message::Entity::update_many()
        .col_expr(whatsapp_message::Column::MediaAttempts, Expr::value(row.media_attempts + 1))
        .col_expr(whatsapp_message::Column::MediaNextAt, Expr::value(now + Duration::minutes(LEASE_MINUTES)))
        .filter(whatsapp_message::Column::Id.eq(row.id))
        .filter(whatsapp_message::Column::MediaState.eq(MediaState::Pending))
        .filter(whatsapp_message::Column::MediaAttempts.eq(row.media_attempts))
        .filter(whatsapp_message::Column::MediaNextAt.lte(now))
        .exec(&db.conn)
        .await?;
    Ok(claimed.rows_affected == 1)
}

/// The file of `row`, or why not and whether that is for good.
async fn fetch(f: Fetcher<'_>, row: &whatsapp_message::Model) -> Result<FileUpload, (String, bool)> {
    let media_id = row.media_id.as_deref().ok_or(("no media id".to_owned(), true))?;
    let number = numbers::find(f.db, row.number_id)
        .await
        .map_err(|e| (format!("the number: {e}"), matches!(e, crate::services::ServiceError::NotFound)))?;
    let secrets = numbers::secrets(f.sealer, &number).map_err(|e| (format!("the token: {e}"), true))?;
    let credentials = numbers::credentials(&number, &secrets.access_token);
    let media = f.api.media(&credentials, media_id, f.max_bytes).await.map_err(|e| {
        // Too large, or a type Meta will not serve: trying again gives the same.
        let for_good = e.kind == ErrorKind::Media;
        (e.with_code(), for_good)
    })?;
    let body = match row.message_id {
        Some(id) => message::Entity::find_by_id(id)
            .select_only()
            .column(message::Column::Body)
            .into_tuple::<String>()
            .one(&f.db.conn)
            .await
            .map_err(|e| (e.to_string(), false))?,
        None => None,
    };
    let filename = body
        .as_deref()
        .and_then(render::document_name)
        .map_or_else(|| render::default_filename(&row.kind, &media.mime_type), str::to_owned);
    Ok(FileUpload { filename, content_type: media.mime_type, data: media.bytes })
}

/// Stores `file` as an attachment of `row`'s thread message, and marks the media stored.
async fn store(
    db: &Db,
    row: &whatsapp_message::Model,
    file: &FileUpload,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    let (Some(ticket_id), Some(message_id)) = (row.ticket_id, row.message_id) else {
        return failed(db, row.id, row.media_attempts + 1, true, "no thread message", now).await;
    };
    let backend = db.backend();
    let attachment = attachment::Entity::insert(files::row(ticket_id, message_id, file, now)).build(backend);
    let stored = whatsapp_message::Entity::update_many()
        .col_expr(whatsapp_message::Column::MediaState, Expr::value(MediaState::Stored))
        .col_expr(whatsapp_message::Column::UpdatedAt, Expr::value(now))
        .filter(whatsapp_message::Column::Id.eq(row.id))
        .build(backend);
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    crate::db::execute_all(&txn, vec![attachment, stored]).await?;
    txn.commit().await
}

/// Records a failed download: due again after its back-off, or given up.
async fn failed(
    db: &Db,
    id: i64,
    attempts: i32,
    give_up: bool,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    let mut update = whatsapp_message::Entity::update_many()
        .col_expr(
            whatsapp_message::Column::ErrorReason,
            Expr::value(format!("The file could not be fetched: {reason}")),
        )
        .col_expr(whatsapp_message::Column::UpdatedAt, Expr::value(now));
    update = if give_up {
        update.col_expr(whatsapp_message::Column::MediaState, Expr::value(MediaState::Failed))
    } else {
        update.col_expr(whatsapp_message::Column::MediaNextAt, Expr::value(now + backoff(attempts)))
    };
    let _gate = db.write_gate().await;
    update.filter(whatsapp_message::Column::Id.eq(id)).exec(&db.conn).await?;
    Ok(())
}

/// The wait after the `attempts`-th failure: 1, 4, 16, 64 minutes.
fn backoff(attempts: i32) -> Duration {
    Duration::minutes(4_i64.pow(u32::try_from(attempts.clamp(1, 4) - 1).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_back_off_grows_fourfold() {
        assert_eq!([1, 2, 3, 4, 9].map(|a| backoff(a).num_minutes()), [1, 4, 16, 64, 64]);
    }
}
