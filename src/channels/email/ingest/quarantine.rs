//! The quarantine: mail that could not be ingested, kept with the reason, until an
//! administrator retries it (after restoring a contact, say) or discards it; reading and
//! handling it takes the acting agent and refuses anyone but an administrator. Mail too large to
//! keep is held as its headers only, so the list still says who sent what; that cannot be
//! retried, only discarded once the sender has been asked to send it again. What nobody deals
//! with is deleted after the retention period (`FRONTDESK_QUARANTINE_RETENTION_DAYS`).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait,
};

use super::{accept, IngestContext, Outcome, Source};
use crate::db::{next_page, Db};
use crate::entities::quarantine;
use crate::services::{Actor, ServiceError, ServiceResult};

/// How many mails one purge statement deletes at most. Each may be as large as the largest mail
/// accepted, so a long-neglected quarantine is emptied in steps that each hold SQLite's write
/// lock briefly.
const PURGE_BATCH: u64 = 100;

/// A quarantined mail as the list shows it (without its bytes).
#[derive(Clone, Debug, FromQueryResult)]
pub struct Held {
    pub id: i64,
    pub reason: String,
    pub source: String,
    pub sender: Option<String>,
    pub subject: Option<String>,
    pub size_bytes: i64,
    pub whole: bool,
    pub attempts: i32,
    pub received_at: DateTime<Utc>,
}

/// Keeps `raw` with `reason`; what can be read of its sender and subject is kept for the list.
/// `whole` is false when `raw` is only the mail's headers.
///
/// # Errors
/// Database errors.
pub async fn store(
    db: &Db,
    raw: &[u8],
    reason: &str,
    source: &str,
    whole: bool,
    now: DateTime<Utc>,
) -> Result<i64, sea_orm::DbErr> {
    let (sender, subject) = glance(raw);
    let _gate = db.write_gate().await;
    let row = quarantine::ActiveModel {
        reason: Set(reason.to_owned()),
        source: Set(source.to_owned()),
        sender: Set(sender),
        subject: Set(subject),
        size_bytes: Set(i64::try_from(raw.len()).unwrap_or(i64::MAX)),
        raw: Set(raw.to_vec()),
        whole: Set(whole),
        attempts: Set(1),
        received_at: Set(now),
        ..Default::default()
    }
    .insert(&db.conn)
    .await?;
    Ok(row.id)
}

/// The From and Subject headers as far as they can be read, for the list.
fn glance(raw: &[u8]) -> (Option<String>, Option<String>) {
    // Mail in the quarantine is the mail the parser liked least: it must not take the list down.
    std::panic::catch_unwind(|| glance_unguarded(raw)).unwrap_or_default()
}

fn glance_unguarded(raw: &[u8]) -> (Option<String>, Option<String>) {
    let Some(msg) = mail_parser::MessageParser::default().parse_headers(raw) else { return (None, None) };
    let sender = msg
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .map(|a| a.chars().filter(|c| !c.is_control()).take(200).collect());
    let subject = msg.subject().map(|s| s.chars().filter(|c| !c.is_control()).take(200).collect());
    (sender, subject)
}

/// A page of the quarantine, newest first, for an administrator: at most `size` messages
/// older than `older_than` (a message id; the first page without it), and the cursor of the
/// next page if there is one.
///
/// # Errors
/// `Forbidden` for anyone else; database errors.
pub async fn page(
    db: &Db,
    actor: &Actor,
    older_than: Option<i64>,
    size: u64,
) -> ServiceResult<(Vec<Held>, Option<i64>)> {
    actor.must_be_admin()?;
    let mut query = quarantine::Entity::find().select_only().columns([
        quarantine::Column::Id,
        quarantine::Column::Reason,
        quarantine::Column::Source,
        quarantine::Column::Sender,
        quarantine::Column::Subject,
        quarantine::Column::SizeBytes,
        quarantine::Column::Whole,
        quarantine::Column::Attempts,
        quarantine::Column::ReceivedAt,
    ]);
    if let Some(id) = older_than {
        query = query.filter(quarantine::Column::Id.lt(id));
    }
    // Ids grow in the order mail arrives, and the primary key walks them without sorting.
    let mut held =
        query.order_by_desc(quarantine::Column::Id).limit(size + 1).into_model::<Held>().all(&db.conn).await?;
    let next = next_page(&mut held, size, |h| h.id);
    Ok((held, next))
}

/// How many messages wait in the quarantine.
///
/// # Errors
/// Database errors.
pub async fn count(db: &Db) -> Result<u64, sea_orm::DbErr> {
    quarantine::Entity::find().count(&db.conn).await
}

/// The raw message, for an administrator to download.
///
/// # Errors
/// `Forbidden` for anyone else; `NotFound`; database errors.
pub async fn raw(db: &Db, actor: &Actor, id: i64) -> ServiceResult<Vec<u8>> {
    actor.must_be_admin()?;
    Ok(quarantine::Entity::find_by_id(id).one(&db.conn).await?.ok_or(ServiceError::NotFound)?.raw)
}

/// Ingests a quarantined mail again, at an administrator's request. When it goes through it
/// leaves the quarantine; when it does not, the reason is brought up to date.
///
/// # Errors
/// `Forbidden` for anyone else; `NotFound`; `Conflict` when only the mail's headers were kept;
/// database errors.
pub async fn retry(db: &Db, actor: &Actor, ctx: &IngestContext, id: i64, now: DateTime<Utc>) -> ServiceResult<Outcome> {
    actor.must_be_admin()?;
    let held = quarantine::Entity::find_by_id(id).one(&db.conn).await?.ok_or(ServiceError::NotFound)?;
    if !held.whole {
        return Err(ServiceError::Conflict(
            "Only the headers of this message were kept, so it cannot become a ticket. Ask the sender to send it \
             again (with smaller attachments, or after raising FRONTDESK_MAX_MAIL_MB), then discard this one."
                .into(),
        ));
    }
    let address = held.source.strip_prefix("imap:").map(str::to_owned);
    let source = address.as_deref().map_or(Source::Pipe, Source::Mailbox);
    let result = accept(db, ctx, &held.raw, source, now).await?;
    let _gate = db.write_gate().await;
    match result {
        Ok(outcome) => {
            quarantine::Entity::delete_by_id(id).exec(&db.conn).await?;
            Ok(outcome)
        }
        Err(reason) => {
            let attempts = held.attempts + 1;
            let mut row: quarantine::ActiveModel = held.into();
            row.reason = Set(reason.clone());
            row.attempts = Set(attempts);
            row.update(&db.conn).await?;
            Ok(Outcome::Quarantined { id, reason })
        }
    }
}

/// Deletes a quarantined mail for good, at an administrator's request.
///
/// # Errors
/// `Forbidden` for anyone else; `NotFound`; database errors.
pub async fn discard(db: &Db, actor: &Actor, id: i64) -> ServiceResult<()> {
    actor.must_be_admin()?;
    let _gate = db.write_gate().await;
    let done = quarantine::Entity::delete_many().filter(quarantine::Column::Id.eq(id)).exec(&db.conn).await?;
    if done.rows_affected == 0 {
        return Err(ServiceError::NotFound);
    }
    Ok(())
}

/// Deletes the mail received before `cutoff` (the retention period), oldest first, a batch at
/// a time through the `(received_at, id)` index. Safe on every instance at once: a mail
/// another instance deleted first is simply not there to delete; returns how many this call
/// deleted.
///
/// # Errors
/// Database errors.
pub async fn purge_older_than(db: &Db, cutoff: DateTime<Utc>) -> Result<u64, sea_orm::DbErr> {
    let mut purged = 0;
    loop {
        let oldest = quarantine::Entity::find()
            .select_only()
            .column(quarantine::Column::Id)
            .filter(quarantine::Column::ReceivedAt.lt(cutoff))
            .order_by_asc(quarantine::Column::ReceivedAt)
            .limit(PURGE_BATCH)
            .into_query();
        let _gate = db.write_gate().await;
        let done =
            quarantine::Entity::delete_many().filter(quarantine::Column::Id.in_subquery(oldest)).exec(&db.conn).await?;
        purged += done.rows_affected;
        if done.rows_affected < PURGE_BATCH {
            return Ok(purged);
        }
    }
}
