//! Deliveries: everything the desk sends, on every channel, goes through one durable outbox.
//! Queuing is one insert, done in the transaction of whatever triggered the message (each
//! channel builds its rows: `channels::email::outgoing`, `channels::whatsapp::outgoing`);
//! sending happens later, in [`send_due`], through the channel's [`Sender`]. Every instance may
//! run it at once: a row is claimed with a conditional update before it is sent, so no two
//! workers send the same row, and a failed send is retried with exponential back-off until it
//! goes through.

use chrono::{DateTime, Duration, Utc};
use futures_util::future::join_all;
use sea_orm::sea_query::{Expr, LockBehavior, LockType, Order, Query};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter};

use crate::db::Db;
use crate::entities::outbox::{self, DeliveryChannel};

/// Attempts before a message is given up on (about a day of back-off).
pub const MAX_ATTEMPTS: i32 = 30;
/// How long a claimed row is reserved for the worker that claimed it.
const CLAIM: i64 = 120;
/// Rows handled per round.
const BATCH: u64 = 20;

/// The error a sender gives when trying again cannot help (the recipient cannot be reached, the
/// message is refused as it is): the row fails at once instead of being retried.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Permanent(pub String);

/// A channel's way out: it sends one queued row of its channel.
pub trait Sender {
    /// The channel whose rows it sends.
    fn channel(&self) -> DeliveryChannel;

    /// Whether it can send at all; without it, rows wait in the outbox.
    fn configured(&self) -> bool;

    /// Sends one row; a [`Permanent`] error fails it at once, any other is retried later.
    fn send(&self, row: &outbox::Model) -> impl std::future::Future<Output = anyhow::Result<()>> + Send;
}

/// A new row for `channel`, due at once: the channel fills in its own fields.
#[must_use]
pub fn row(
    channel: DeliveryChannel,
    message_id: String,
    to: &str,
    body: String,
    now: DateTime<Utc>,
) -> outbox::ActiveModel {
    outbox::ActiveModel {
        channel: Set(channel),
        message_id: Set(message_id),
        to_address: Set(to.to_owned()),
        to_name: Set(None),
        subject: Set(String::new()),
        body_text: Set(body),
        in_reply_to: Set(None),
        references: Set(None),
        ticket_id: Set(None),
        from_address: Set(None),
        kind: Set(None),
        payload: Set(None),
        status: Set("pending".into()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        locked_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
        ..Default::default()
    }
}

/// What one round of sending did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SendReport {
    pub sent: u32,
    pub retried: u32,
    pub given_up: u32,
}

/// The wait before attempt `attempts + 1`: 30 s, doubling, at most an hour.
#[must_use]
pub fn back_off(attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.clamp(1, 8) - 1).unwrap_or(0);
    Duration::seconds((30_i64 << exponent).min(3600))
}

/// Sends the rows of `sender`'s channel that are due at `now`.
///
/// # Errors
/// Database errors (a failed send is recorded on its row, not returned).
pub async fn send_due<S: Sender>(db: &Db, sender: &S, now: DateTime<Utc>) -> Result<SendReport, sea_orm::DbErr> {
    let mut report = SendReport::default();
    if !sender.configured() {
        return Ok(report);
    }
    let channel = sender.channel();
    let claimed = claim_due(db, channel, now).await?;
    // Sent side by side: a round waits for the slowest answer, not for the sum of them.
    let outcomes = join_all(claimed.iter().map(|row| sender.send(row))).await;
    // Every outcome is recorded even when one write fails: a row left claimed but unrecorded
    // would be sent again once its claim runs out.
    let mut failed = None;
    for (row, outcome) in claimed.into_iter().zip(outcomes) {
        if let Err(e) = record(db, channel, row, outcome, now, &mut report).await {
            failed.get_or_insert(e);
        }
    }
    failed.map_or(Ok(report), Err)
}

/// Sends the row with our id `message_id` now, if it is due and no worker has it: a message an
/// agent just sent goes out while the agent waits, so the page can say what happened.
///
/// # Errors
/// Database errors (a failed send is recorded on its row, not returned).
pub async fn send_now<S: Sender>(
    db: &Db,
    sender: &S,
    message_id: &str,
    now: DateTime<Utc>,
) -> Result<SendReport, sea_orm::DbErr> {
    let mut report = SendReport::default();
    let row = outbox::Entity::find()
        .filter(outbox::Column::MessageId.eq(message_id))
        .filter(outbox::Column::Channel.eq(sender.channel()))
        .one(&db.conn)
        .await?;
    if let Some(row) = row.filter(|r| r.status == "pending" && r.next_attempt_at <= now) {
        if sender.configured() && claim(db, row.id, now).await? {
            let outcome = sender.send(&row).await;
            record(db, sender.channel(), row, outcome, now, &mut report).await?;
        }
    }
    Ok(report)
}

/// Records how sending a row this worker claimed went.
async fn record(
    db: &Db,
    channel: DeliveryChannel,
    row: outbox::Model,
    outcome: anyhow::Result<()>,
    now: DateTime<Utc>,
    report: &mut SendReport,
) -> Result<(), sea_orm::DbErr> {
    match outcome {
        Ok(()) => {
            // Which instance sent which row, for an operator following a message.
            if channel == DeliveryChannel::Email {
                tracing::info!(outbox = row.id, "mail sent");
            } else {
                tracing::info!(outbox = row.id, ?channel, "message sent");
            }
            let mut done: outbox::ActiveModel = row.into();
            done.status = Set("sent".into());
            done.sent_at = Set(Some(now));
            done.locked_until = Set(None);
            done.last_error = Set(None);
            done.attempts = Set(done.attempts.take().unwrap_or_default() + 1);
            let _gate = db.write_gate().await;
            done.update(&db.conn).await?;
            report.sent += 1;
        }
        Err(e) => {
            let attempts = row.attempts + 1;
            tracing::warn!(outbox = row.id, ?channel, attempts, error = %e, "sending a delivery failed");
            let mut failed: outbox::ActiveModel = row.into();
            failed.attempts = Set(attempts);
            failed.locked_until = Set(None);
            failed.last_error = Set(Some(e.to_string().chars().take(1000).collect()));
            if attempts >= MAX_ATTEMPTS || e.is::<Permanent>() {
                failed.status = Set("failed".into());
                report.given_up += 1;
            } else {
                failed.next_attempt_at = Set(now + back_off(attempts));
                report.retried += 1;
            }
            let _gate = db.write_gate().await;
            failed.update(&db.conn).await?;
        }
    }
    Ok(())
}

fn unclaimed(now: DateTime<Utc>) -> Condition {
    Condition::any().add(outbox::Column::LockedUntil.is_null()).add(outbox::Column::LockedUntil.lt(now))
}

/// Reserves up to [`BATCH`] due rows of `channel` for this worker in one statement, and gives
/// them: rows another worker holds are left out (on PostgreSQL the worker does not even wait for
/// a row another one is claiming: `SKIP LOCKED`).
async fn claim_due(
    db: &Db,
    channel: DeliveryChannel,
    now: DateTime<Utc>,
) -> Result<Vec<outbox::Model>, sea_orm::DbErr> {
    let mut due = Query::select();
    due.column(outbox::Column::Id)
        .from(outbox::Entity)
        .and_where(outbox::Column::Channel.eq(channel))
        .and_where(outbox::Column::Status.eq("pending"))
        .and_where(outbox::Column::NextAttemptAt.lte(now))
        .cond_where(unclaimed(now))
        .order_by(outbox::Column::NextAttemptAt, Order::Asc)
        .limit(BATCH)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    let _gate = db.write_gate().await;
    outbox::Entity::update_many()
        .col_expr(outbox::Column::LockedUntil, Expr::value(now + Duration::seconds(CLAIM)))
        .filter(outbox::Column::Id.in_subquery(due))
        .filter(outbox::Column::Status.eq("pending"))
        .filter(unclaimed(now))
        .exec_with_returning(&db.conn)
        .await
}

/// Reserves a row for this worker; false when another worker got it first.
async fn claim(db: &Db, id: i64, now: DateTime<Utc>) -> Result<bool, sea_orm::DbErr> {
    let _gate = db.write_gate().await;
    let result = outbox::Entity::update_many()
        .col_expr(outbox::Column::LockedUntil, Expr::value(now + Duration::seconds(CLAIM)))
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::Status.eq("pending"))
        .filter(unclaimed(now))
        .exec(&db.conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// How many messages of `channel` wait to be sent (for the console's notice when the channel
/// cannot send).
///
/// # Errors
/// Database errors.
pub async fn pending(db: &Db, channel: DeliveryChannel) -> Result<u64, sea_orm::DbErr> {
    use sea_orm::PaginatorTrait;
    outbox::Entity::find()
        .filter(outbox::Column::Channel.eq(channel))
        .filter(outbox::Column::Status.eq("pending"))
        .count(&db.conn)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_up_to_an_hour() {
        assert_eq!(back_off(1), Duration::seconds(30));
        assert_eq!(back_off(2), Duration::seconds(60));
        assert_eq!(back_off(5), Duration::seconds(480));
        assert_eq!(back_off(20), Duration::seconds(3600));
    }
}
