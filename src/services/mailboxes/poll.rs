//! The IMAP poller: every instance runs it, and a lease in the database makes sure only one
//! of them polls a given mailbox at a time. A poll fetches the unread messages (without
//! marking them), ingests each one, then marks it read. A crash between the two fetches the
//! message again next time, and ingestion, idempotent by Message-ID, stores it once.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};
use tokio_rustls::rustls::ClientConfig;

use super::account;
use crate::db::Db;
use crate::email::imap::Folder;
use crate::entities::mailbox;
use crate::secrets::Sealer;
use crate::services::inbound::{ingest, quarantine, IngestContext, Source};

/// How long a poll may hold its mailbox before another instance may take it over.
const LEASE_MINUTES: i64 = 10;
/// Most messages ingested in one poll (the rest wait for the next one).
const BATCH: usize = 500;
/// Longest a poll goes on fetching, well inside the lease.
const POLL_TIME: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// What one round did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PollReport {
    /// Mailboxes polled by this instance.
    pub polled: u32,
    /// Messages ingested (stored, added, duplicate or quarantined).
    pub ingested: u32,
    /// Mailboxes whose poll failed (the reason is on the mailbox).
    pub failed: u32,
}

/// What the poller needs besides the database.
#[derive(Clone)]
pub struct Poller {
    pub sealer: Sealer,
    pub tls: Arc<ClientConfig>,
    /// Names this instance in leases.
    pub holder: String,
}

impl Poller {
    /// Polls every active mailbox that is due and not held by another instance.
    ///
    /// # Errors
    /// Database errors.
    pub async fn run_due(
        &self,
        db: &Db,
        ctx: &IngestContext,
        now: DateTime<Utc>,
    ) -> Result<PollReport, sea_orm::DbErr> {
        let mut report = PollReport::default();
        let active = mailbox::Entity::find().filter(mailbox::Column::Active.eq(true)).all(&db.conn).await?;
        for m in active {
            let due = m.last_polled_at.is_none_or(|at| at + Duration::seconds(i64::from(m.poll_seconds)) <= now);
            if !due || !self.claim(db, &m).await? {
                continue;
            }
            report.polled += 1;
            let result = self.poll(db, ctx, &m).await;
            let error = match &result {
                Ok(count) => {
                    report.ingested += count;
                    None
                }
                Err(e) => {
                    report.failed += 1;
                    tracing::warn!(mailbox = %m.address, error = %e, "polling a mailbox failed");
                    Some(e.chars().take(1000).collect::<String>())
                }
            };
            self.release(db, m.id, error, Utc::now()).await?;
        }
        Ok(report)
    }

    /// Takes the mailbox's lease; false when another instance holds it, or polled it since `m`
    /// was read (its last poll time moved), so a mailbox is not polled twice in a row.
    async fn claim(&self, db: &Db, m: &mailbox::Model) -> Result<bool, sea_orm::DbErr> {
        let now = Utc::now();
        let _gate = db.write_gate().await;
        let free = Condition::any().add(mailbox::Column::LeaseUntil.is_null()).add(mailbox::Column::LeaseUntil.lt(now));
        let unchanged = match m.last_polled_at {
            Some(at) => mailbox::Column::LastPolledAt.eq(at),
            None => mailbox::Column::LastPolledAt.is_null(),
        };
        let done = mailbox::Entity::update_many()
            .col_expr(mailbox::Column::LeaseUntil, Expr::value(now + Duration::minutes(LEASE_MINUTES)))
            .col_expr(mailbox::Column::LeaseHolder, Expr::value(self.holder.clone()))
            .filter(mailbox::Column::Id.eq(m.id))
            .filter(free)
            .filter(unchanged)
            .exec(&db.conn)
            .await?;
        Ok(done.rows_affected == 1)
    }

    async fn release(&self, db: &Db, id: i64, error: Option<String>, now: DateTime<Utc>) -> Result<(), sea_orm::DbErr> {
        let _gate = db.write_gate().await;
        mailbox::Entity::update_many()
            .col_expr(mailbox::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(mailbox::Column::LeaseHolder, Expr::value(Option::<String>::None))
            .col_expr(mailbox::Column::LastPolledAt, Expr::value(now))
            .col_expr(mailbox::Column::LastError, Expr::value(error))
            .filter(mailbox::Column::Id.eq(id))
            .filter(mailbox::Column::LeaseHolder.eq(self.holder.clone()))
            .exec(&db.conn)
            .await?;
        Ok(())
    }

    /// Polls one mailbox; the number of messages ingested, or what went wrong.
    async fn poll(&self, db: &Db, ctx: &IngestContext, m: &mailbox::Model) -> Result<u32, String> {
        let account = account(m, &self.sealer).map_err(|e| e.to_string())?;
        let (mut folder, _) = Folder::open(&account, &self.tls).await.map_err(|e| e.to_string())?;
        let started = std::time::Instant::now();
        let result = async {
            let mut count = 0;
            for uid in folder.unseen(BATCH).await.map_err(|e| e.to_string())? {
                // Well inside the lease: the rest waits for the next round.
                if started.elapsed() > POLL_TIME {
                    break;
                }
                let size = folder.size(uid).await.map_err(|e| e.to_string())?;
                if size.is_some_and(|s| s as usize > ctx.limits.max_mail_bytes) {
                    // Not fetched whole: its headers go to the quarantine with the reason.
                    let head = folder.headers(uid).await.map_err(|e| e.to_string())?.unwrap_or_default();
                    let reason = format!(
                        "The message is {:.1} MB and the limit is {} MB (FRONTDESK_MAX_MAIL_MB). Only its headers were kept.",
                        f64::from(size.unwrap_or_default()) / 1_048_576.0,
                        ctx.limits.max_mail_bytes >> 20
                    );
                    quarantine::store(db, &head, &reason, &Source::Mailbox(&m.address).label(), Utc::now())
                        .await
                        .map_err(|e| format!("storing a message failed: {e}"))?;
                    folder.mark_seen(uid).await.map_err(|e| e.to_string())?;
                    count += 1;
                    continue;
                }
                let Some(raw) = folder.fetch(uid).await.map_err(|e| e.to_string())? else {
                    tracing::warn!(mailbox = %m.address, uid, "the server sent no content for a message");
                    continue;
                };
                // A database error stops the poll before the message is marked read: it is
                // fetched again next time.
                let outcome = ingest(db, ctx, &raw, Source::Mailbox(&m.address), Utc::now())
                    .await
                    .map_err(|e| format!("storing a message failed: {e}"))?;
                tracing::info!(mailbox = %m.address, uid, outcome = %outcome.describe(), "inbound mail");
                folder.mark_seen(uid).await.map_err(|e| e.to_string())?;
                count += 1;
            }
            Ok(count)
        }
        .await;
        folder.close().await;
        result
    }
}
