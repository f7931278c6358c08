//! The IMAP poller: every instance runs it, and a lease in the database makes sure only one
//! of them polls a given mailbox at a time. Each mailbox remembers the last UID it ingested:
//! a poll takes the messages after it, read or not (someone may have opened the mailbox in a
//! mail client first), ingests each one, marks it read for the people looking at the folder,
//! and records the new last UID when it lets go of the mailbox. The first poll of a folder
//! (or after its UIDVALIDITY changed) takes its unread messages only: what was read before
//! Frontdesk came is history, not new tickets. A crash before the last UID is recorded fetches
//! those messages again, and ingestion, idempotent by Message-ID, stores them once.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};
use tokio_rustls::rustls::ClientConfig;

use super::mailboxes::account;
use crate::channels::email::imap::Folder;
use crate::channels::email::ingest::{ingest_run, quarantine, IngestContext, Source};
use crate::db::Db;
use crate::entities::mailbox;
use crate::secrets::Sealer;

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
            let round = self.poll(db, ctx, &m).await;
            report.ingested += round.ingested;
            if let Some(e) = &round.error {
                report.failed += 1;
                tracing::warn!(mailbox = %m.address, error = %e, "polling a mailbox failed");
            }
            self.release(db, m.id, &round, Utc::now()).await?;
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

    async fn release(&self, db: &Db, id: i64, round: &Round, now: DateTime<Utc>) -> Result<(), sea_orm::DbErr> {
        let error = round.error.as_ref().map(|e| e.chars().take(1000).collect::<String>());
        let mut update = mailbox::Entity::update_many()
            .col_expr(mailbox::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(mailbox::Column::LeaseHolder, Expr::value(Option::<String>::None))
            .col_expr(mailbox::Column::LastPolledAt, Expr::value(now))
            .col_expr(mailbox::Column::LastError, Expr::value(error));
        if let Some(mark) = round.mark {
            update = update
                .col_expr(mailbox::Column::UidValidity, Expr::value(i64::from(mark.uid_validity)))
                .col_expr(mailbox::Column::LastUid, Expr::value(i64::from(mark.last_uid)));
        }
        let _gate = db.write_gate().await;
        update
            .filter(mailbox::Column::Id.eq(id))
            .filter(mailbox::Column::LeaseHolder.eq(self.holder.clone()))
            .exec(&db.conn)
            .await?;
        Ok(())
    }

    /// Polls one mailbox: what it ingested, how far it got, and what went wrong if anything.
    async fn poll(&self, db: &Db, ctx: &IngestContext, m: &mailbox::Model) -> Round {
        let mut round = Round::default();
        let opened = match account(m, &self.sealer) {
            Ok(account) => Folder::open(&account, &self.tls).await.map_err(String::from),
            Err(e) => Err(e.to_string()),
        };
        let mut folder = match opened {
            Ok((folder, _)) => folder,
            Err(e) => {
                round.error = Some(e);
                return round;
            }
        };
        round.error = self.ingest_new(db, ctx, m, &mut folder, &mut round).await.err();
        folder.close().await;
        round
    }

    /// Ingests the folder's new messages, keeping `round` up to date as it goes, so that what
    /// was done before an error still counts.
    async fn ingest_new(
        &self,
        db: &Db,
        ctx: &IngestContext,
        m: &mailbox::Model,
        folder: &mut Folder,
        round: &mut Round,
    ) -> Result<(), String> {
        let uid_validity = folder.uid_validity.unwrap_or(0);
        let last = m
            .last_uid
            .filter(|_| m.uid_validity == Some(i64::from(uid_validity)))
            .and_then(|uid| u32::try_from(uid).ok());
        let (uids, mut first_poll_upto) = match last {
            Some(last) => (folder.after(last, BATCH).await?, None),
            None => {
                let highest = folder.highest_uid().await?;
                let mut unread = folder.unseen(BATCH + 1).await?;
                // Only a first poll that saw all the unread mail may say where the next one
                // starts; otherwise the next poll is a first poll again.
                let complete = unread.len() <= BATCH;
                unread.truncate(BATCH);
                (unread, complete.then_some(highest))
            }
        };
        let started = std::time::Instant::now();
        let sizes = folder.sizes(&uids).await?;
        let fits = |uid: &u32| sizes.get(uid).is_none_or(|s| *s as usize <= ctx.limits.max_mail_bytes);
        for chunk in chunks(&uids, &sizes, ctx.limits.max_mail_bytes) {
            // Well inside the lease: the rest waits for the next round.
            if started.elapsed() > POLL_TIME {
                first_poll_upto = None;
                break;
            }
            let wanted: Vec<u32> = chunk.iter().copied().filter(fits).collect();
            let mut bodies = folder.fetch(&wanted).await?;
            let (fetched, unfetched): (Vec<u32>, Vec<u32>) = chunk.iter().partition(|uid| bodies.contains_key(uid));
            let raws: Vec<Vec<u8>> = fetched.iter().filter_map(|uid| bodies.remove(uid)).collect();
            let outcomes = ingest_run(db, ctx, raws, Source::Mailbox(&m.address), Utc::now())
                .await
                .map_err(|e| format!("storing a message failed: {e}"))?;
            for (uid, outcome) in fetched.iter().zip(&outcomes) {
                tracing::info!(mailbox = %m.address, uid, outcome = %outcome.describe(), "inbound mail");
                round.ingested += 1;
            }
            for uid in unfetched {
                self.quarantine_unfetched(db, ctx, m, folder, uid, sizes.get(&uid).copied()).await?;
                round.ingested += 1;
            }
            folder.mark_seen(chunk).await?;
            let done = chunk.last().copied().unwrap_or_default();
            if last.is_some() {
                round.mark = Some(Mark { uid_validity, last_uid: done });
            } else if let Some(upto) = &mut first_poll_upto {
                *upto = (*upto).max(done);
            }
        }
        if let Some(last_uid) = first_poll_upto {
            round.mark = Some(Mark { uid_validity, last_uid });
        }
        Ok(())
    }

    /// Quarantines by its headers a message whose content was not fetched: too large, or the
    /// server sent none. A database error is returned before the message counts as done, so it
    /// is fetched again next time.
    async fn quarantine_unfetched(
        &self,
        db: &Db,
        ctx: &IngestContext,
        m: &mailbox::Model,
        folder: &mut Folder,
        uid: u32,
        size: Option<u32>,
    ) -> Result<(), String> {
        let source = Source::Mailbox(&m.address);
        let reason = match size {
            Some(s) if s as usize > ctx.limits.max_mail_bytes => format!(
                "The message is {:.1} MB and the limit is {} MB (FRONTDESK_MAX_MAIL_MB). Only its headers were kept.",
                f64::from(s) / 1_048_576.0,
                ctx.limits.max_mail_bytes >> 20
            ),
            _ => format!("The IMAP server sent no content for this message (UID {uid}). Only its headers were kept."),
        };
        let head = folder.headers(uid).await?.unwrap_or_default();
        let id = quarantine::store(db, &head, &reason, &source.label(), false, Utc::now())
            .await
            .map_err(|e| format!("storing a message failed: {e}"))?;
        tracing::warn!(mailbox = %m.address, uid, quarantine = id, %reason, "inbound mail quarantined");
        Ok(())
    }
}

/// Most messages fetched from the server in one command.
const CHUNK: usize = 50;
/// Most bytes fetched in one command (a single larger message, up to the size limit, is
/// fetched alone).
const CHUNK_BYTES: usize = 16 * 1024 * 1024;

/// `uids` cut into runs fetched with one command each: a round trip per message was most of
/// a poll's time. Messages over `max_mail_bytes` are not fetched, so they weigh nothing.
fn chunks<'a>(uids: &'a [u32], sizes: &HashMap<u32, u32>, max_mail_bytes: usize) -> Vec<&'a [u32]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0usize);
    for (i, uid) in uids.iter().enumerate() {
        let size = sizes.get(uid).map_or(0, |s| *s as usize);
        let weight = if size > max_mail_bytes { 0 } else { size };
        if i > start && (i - start == CHUNK || bytes + weight > CHUNK_BYTES) {
            out.push(&uids[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += weight;
    }
    if start < uids.len() {
        out.push(&uids[start..]);
    }
    out
}

/// Where a mailbox's polling has got to.
#[derive(Clone, Copy, Debug)]
struct Mark {
    uid_validity: u32,
    last_uid: u32,
}

/// What one poll of one mailbox did.
#[derive(Debug, Default)]
struct Round {
    ingested: u32,
    /// The new last UID, when it moved.
    mark: Option<Mark>,
    error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_hold_at_most_fifty_messages_and_sixteen_megabytes() {
        let uids: Vec<u32> = (1..=120).collect();
        let small: HashMap<u32, u32> = uids.iter().map(|u| (*u, 1000)).collect();
        let cut = chunks(&uids, &small, 25 << 20);
        assert_eq!(cut.iter().map(|c| c.len()).collect::<Vec<_>>(), vec![50, 50, 20]);
        assert_eq!(cut.concat(), uids);

        // 6 MB each: two per chunk; a message over the limit is not fetched and weighs nothing.
        let mut big: HashMap<u32, u32> = (1..=5).map(|u| (u, 6 << 20)).collect();
        big.insert(3, 40 << 20);
        let uids: Vec<u32> = (1..=5).collect();
        let cut = chunks(&uids, &big, 25 << 20);
        assert_eq!(cut, vec![&[1, 2, 3][..], &[4, 5][..]]);
        assert!(chunks(&[], &big, 25 << 20).is_empty());
    }
}
