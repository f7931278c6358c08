//! The durable outbox. Queuing is one insert, done in the transaction of whatever triggered the
//! mail; sending happens later, in [`send_due`], which every instance may run at once: a row is
//! claimed with a conditional update before it is sent, so no two workers send the same row,
//! and a failed send is retried with exponential back-off until it goes through.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Statement,
};

use super::Mailer;
use crate::db::Db;
use crate::domain::Email;
use crate::entities::outbox;

/// Attempts before a message is given up on (about a day of back-off).
pub const MAX_ATTEMPTS: i32 = 30;
/// How long a claimed row is reserved for the worker that claimed it.
const CLAIM: i64 = 120;
/// Rows handled per round.
const BATCH: u64 = 20;

/// A message to send.
#[derive(Clone, Debug)]
pub struct OutgoingMail {
    pub to: Email,
    pub to_name: Option<String>,
    pub subject: String,
    pub body_text: String,
    /// The Message-ID this one answers (threading), without angle brackets.
    pub in_reply_to: Option<String>,
    /// The References header, as it should be sent.
    pub references: Option<String>,
    /// The ticket the message is about, so that a reply to it finds its way back.
    pub ticket_id: Option<i64>,
    /// The From address, when not the default one: the support address a ticket came to.
    pub from: Option<Email>,
    /// Set on automatic answers (`acknowledgement`), which the mail-loop brake counts.
    pub kind: Option<&'static str>,
}

impl OutgoingMail {
    /// A message that starts no thread and belongs to no ticket.
    #[must_use]
    pub fn new(to: Email, to_name: Option<String>, subject: String, body_text: String) -> Self {
        Self {
            to,
            to_name,
            subject,
            body_text,
            in_reply_to: None,
            references: None,
            ticket_id: None,
            from: None,
            kind: None,
        }
    }
}

/// Queues `mail`; returns the Message-ID it will be sent with.
///
/// # Errors
/// Database errors.
pub async fn enqueue<C: ConnectionTrait>(
    conn: &C,
    mail: OutgoingMail,
    domain: &str,
    now: DateTime<Utc>,
) -> Result<String, sea_orm::DbErr> {
    let (row, message_id) = row(mail, domain, now);
    outbox::Entity::insert(row).exec_without_returning(conn).await?;
    Ok(message_id)
}

/// [`enqueue`] as a statement, for a caller that runs it together with others
/// ([`crate::db::execute_all`]).
#[must_use]
pub fn enqueue_statement(backend: DbBackend, mail: OutgoingMail, domain: &str, now: DateTime<Utc>) -> Statement {
    outbox::Entity::insert(row(mail, domain, now).0).build(backend)
}

/// Queues several messages in one statement.
///
/// # Errors
/// Database errors.
pub async fn enqueue_many<C: ConnectionTrait>(
    conn: &C,
    mails: Vec<OutgoingMail>,
    domain: &str,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    if mails.is_empty() {
        return Ok(());
    }
    let rows: Vec<outbox::ActiveModel> = mails.into_iter().map(|m| row(m, domain, now).0).collect();
    outbox::Entity::insert_many(rows).exec_without_returning(conn).await?;
    Ok(())
}

/// The outbox row for `mail`, with the Message-ID it will be sent with.
fn row(mail: OutgoingMail, domain: &str, now: DateTime<Utc>) -> (outbox::ActiveModel, String) {
    let message_id = format!("{}@{domain}", crate::auth::random_token(24));
    let row = outbox::ActiveModel {
        message_id: Set(message_id.clone()),
        to_address: Set(mail.to.as_str().to_owned()),
        to_name: Set(mail.to_name),
        subject: Set(mail.subject),
        body_text: Set(mail.body_text),
        in_reply_to: Set(mail.in_reply_to),
        references: Set(mail.references),
        ticket_id: Set(mail.ticket_id),
        from_address: Set(mail.from.map(|e| e.as_str().to_owned())),
        kind: Set(mail.kind.map(str::to_owned)),
        status: Set("pending".into()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        locked_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
        ..Default::default()
    };
    (row, message_id)
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

/// Sends the messages that are due at `now`.
///
/// # Errors
/// Database errors (a failed send is recorded on its row, not returned).
pub async fn send_due(db: &Db, mailer: &Mailer, now: DateTime<Utc>) -> Result<SendReport, sea_orm::DbErr> {
    let mut report = SendReport::default();
    if !mailer.configured() {
        return Ok(report);
    }
    let due = outbox::Entity::find()
        .filter(outbox::Column::Status.eq("pending"))
        .filter(outbox::Column::NextAttemptAt.lte(now))
        .filter(unclaimed(now))
        .order_by_asc(outbox::Column::NextAttemptAt)
        .limit(BATCH)
        .all(&db.conn)
        .await?;
    for row in due {
        if !claim(db, row.id, now).await? {
            continue; // another worker has it
        }
        match mailer.send(&row).await {
            Ok(()) => {
                // Which instance sent which row, for an operator following a mail.
                tracing::info!(outbox = row.id, "mail sent");
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
                tracing::warn!(outbox = row.id, attempts, error = %e, "sending mail failed");
                let mut failed: outbox::ActiveModel = row.into();
                failed.attempts = Set(attempts);
                failed.locked_until = Set(None);
                failed.last_error = Set(Some(e.to_string().chars().take(1000).collect()));
                if attempts >= MAX_ATTEMPTS {
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
    }
    Ok(report)
}

fn unclaimed(now: DateTime<Utc>) -> Condition {
    Condition::any().add(outbox::Column::LockedUntil.is_null()).add(outbox::Column::LockedUntil.lt(now))
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

/// How many messages wait to be sent (for the console's notice when no SMTP is configured).
///
/// # Errors
/// Database errors.
pub async fn pending(db: &Db) -> Result<u64, sea_orm::DbErr> {
    use sea_orm::PaginatorTrait;
    outbox::Entity::find().filter(outbox::Column::Status.eq("pending")).count(&db.conn).await
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
