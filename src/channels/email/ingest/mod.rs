//! Inbound mail becomes tickets and contacts. One function, [`ingest`], whatever the way in
//! (IMAP polling or the `ingest-mail` pipe):
//!
//! - the sender becomes a contact on its first mail (found again by address, any case);
//! - a mail that answers one we stored or sent (In-Reply-To / References), or whose subject
//!   carries `[#1042]` from the ticket's contact or a participant, joins that ticket's thread
//!   and reopens it; anything else opens a ticket and is acknowledged;
//! - the same Message-ID is stored once however often it arrives;
//! - bounces, auto-replies and bulk mail are never acknowledged, and no address gets more than
//!   a set number of acknowledgements an hour;
//! - whatever cannot become a ticket is quarantined whole with the reason (`quarantine`).
//!
//! Everything a mail changes is written in one transaction.

mod known;
pub mod quarantine;
mod store;
mod threading;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use known::Known;

use crate::channels::email::read::{message_id, read, InboundMail, Noise};
use crate::config::Settings;
use crate::db::Db;
use crate::domain::mail_html;
use crate::domain::Email;
use crate::entities::agent;
use crate::services::is_unique_violation;

const MB: usize = 1024 * 1024;

/// Size limits and the acknowledgement brake.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_mail_bytes: usize,
    pub max_file_bytes: usize,
    pub acks_per_hour: u64,
}

impl Limits {
    /// The limits the settings give.
    #[must_use]
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            max_mail_bytes: settings.max_mail_mb as usize * MB,
            max_file_bytes: settings.max_attachment_mb as usize * MB,
            acks_per_hour: u64::from(settings.acks_per_hour),
        }
    }
}

/// What ingestion needs besides the mail.
#[derive(Clone, Debug)]
pub struct IngestContext {
    /// Where links in acknowledgements point.
    pub base_url: String,
    /// The domain of our Message-IDs.
    pub domain: String,
    /// The company name acknowledgements are signed with.
    pub company: String,
    /// The default From address; mail from it is a loop.
    pub default_from: String,
    pub limits: Limits,
    /// Email of the agent who owns contacts made from mail.
    pub contact_owner: Option<String>,
}

/// Which way a mail came in.
#[derive(Clone, Copy, Debug)]
pub enum Source<'a> {
    /// `frontdesk ingest-mail`.
    Pipe,
    /// The IMAP folder of this support address.
    Mailbox(&'a str),
}

impl Source<'_> {
    /// How the quarantine list names it.
    #[must_use]
    pub fn label(&self) -> String {
        match self {
            Self::Pipe => "pipe".into(),
            Self::Mailbox(address) => format!("imap:{address}"),
        }
    }
}

/// What became of a mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A new ticket.
    Opened { number: i64, contact_created: bool, acknowledged: bool },
    /// Added to the thread of an existing ticket.
    Added { number: i64 },
    /// Its Message-ID was stored (or sent by us) already: nothing changed.
    Duplicate,
    /// Kept aside for an administrator, with the reason.
    Quarantined { id: i64, reason: String },
}

impl Outcome {
    /// One line for logs and for `ingest-mail`'s output.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::Opened { number, contact_created, acknowledged } => format!(
                "opened ticket #{number}{}{}",
                if *contact_created { " for a new contact" } else { "" },
                if *acknowledged { ", acknowledgement queued" } else { ", not acknowledged" }
            ),
            Self::Added { number } => format!("added to ticket #{number}"),
            Self::Duplicate => "already stored; nothing to do".into(),
            Self::Quarantined { id, reason } => format!("quarantined (#{id}): {reason}"),
        }
    }
}

/// Stores `raw`: as a ticket or thread entry, or in the quarantine with the reason.
///
/// # Errors
/// Only when the database cannot be reached (the mail server should try again later); a mail
/// that cannot be ingested is quarantined, never an error.
pub async fn ingest(
    db: &Db,
    ctx: &IngestContext,
    raw: &[u8],
    source: Source<'_>,
    now: DateTime<Utc>,
) -> Result<Outcome, sea_orm::DbErr> {
    // Too large to keep whole: only its headers go to the quarantine.
    if raw.len() > ctx.limits.max_mail_bytes {
        return quarantine_oversized(db, ctx, raw, raw.len(), source, now).await;
    }
    let reason = match accept(db, ctx, raw, source, now).await {
        Ok(Ok(outcome)) => return Ok(outcome),
        Ok(Err(reason)) => reason,
        // Unavailable or busy: the mail server (or the next poll) tries again later.
        Err(e) if crate::db::is_transient(&e) => return Err(e),
        // The database refused this one message. When the quarantine can still take it, it
        // waits there, instead of blocking its mailbox or bouncing between retries forever.
        Err(e) => {
            tracing::error!(error = %e, "storing an inbound mail failed");
            let reason = format!("Storing it failed: {e}");
            return match quarantine::store(db, raw, &reason, &source.label(), true, now).await {
                Ok(id) => Ok(Outcome::Quarantined { id, reason }),
                Err(_) => Err(e),
            };
        }
    };
    quarantined(db, raw, reason, source, true, now).await
}

/// Quarantines a mail over the size limit, of which `start` (at least its first 64 KB) was
/// read and `size` is the whole size: only its headers are kept.
///
/// # Errors
/// When the database cannot be reached.
pub async fn quarantine_oversized(
    db: &Db,
    ctx: &IngestContext,
    start: &[u8],
    size: usize,
    source: Source<'_>,
    now: DateTime<Utc>,
) -> Result<Outcome, sea_orm::DbErr> {
    let reason = format!("{} Only its headers were kept.", too_large(size, &ctx.limits));
    quarantined(db, headers_of(start), reason, source, false, now).await
}

async fn quarantined(
    db: &Db,
    kept: &[u8],
    reason: Rejection,
    source: Source<'_>,
    whole: bool,
    now: DateTime<Utc>,
) -> Result<Outcome, sea_orm::DbErr> {
    let id = quarantine::store(db, kept, &reason, &source.label(), whole, now).await?;
    tracing::warn!(quarantine = id, %reason, "inbound mail quarantined");
    Ok(Outcome::Quarantined { id, reason })
}

/// Why a mail of `size` bytes is not taken.
fn too_large(size: usize, limits: &Limits) -> Rejection {
    format!(
        "The message is {} and the limit is {} (FRONTDESK_MAX_MAIL_MB).",
        megabytes(size),
        megabytes(limits.max_mail_bytes)
    )
}

/// The reason a mail is quarantined.
type Rejection = String;

/// The checks that need no database: size, readability, bounces, the size of each file. What
/// passes is read, its HTML sanitised; the fuzz target (`fuzz/`) drives this with arbitrary
/// bytes.
///
/// # Errors
/// The reason the mail is quarantined.
pub fn screen(raw: &[u8], limits: &Limits) -> Result<InboundMail, String> {
    if raw.len() > limits.max_mail_bytes {
        return Err(too_large(raw.len(), limits));
    }
    let mail = read(raw).map_err(|e| e.to_string())?;
    if mail.noise == Some(Noise::Bounce) {
        return Err(format!("It is {} from {}; it does not become a ticket.", Noise::Bounce.label(), mail.from));
    }
    if let Some(file) = mail.files.iter().find(|f| f.data.len() > limits.max_file_bytes) {
        return Err(format!(
            "The attachment \"{}\" is {} and the limit per file is {} (FRONTDESK_MAX_ATTACHMENT_MB).",
            file.filename,
            megabytes(file.data.len()),
            megabytes(limits.max_file_bytes)
        ));
    }
    // Sanitised here, before the write gate is taken: it is the costly part of storing a mail,
    // and bounded first (see `mail_html`): past the bounds the mail keeps its text.
    let mut mail = mail;
    mail.html = mail.html.take().and_then(|html| match mail_html::too_costly(&html) {
        Some(why) => {
            tracing::warn!(message_id = %mail.message_id, "the HTML of an inbound mail is kept as text only: {why}");
            None
        }
        None => Some(mail_html::sanitise(&html)),
    });
    Ok(mail)
}

/// [`screen`] on a blocking thread: reading and sanitising a mail is CPU work that must not
/// hold up the async threads serving pages.
async fn screen_off_thread(raw: Vec<u8>, limits: Limits) -> Result<InboundMail, Rejection> {
    tokio::task::spawn_blocking(move || screen(&raw, &limits))
        .await
        .unwrap_or_else(|e| Err(format!("Reading it failed unexpectedly: {e}")))
}

/// How much of a mail that is too large the quarantine keeps at most: its headers, up to this.
pub const HEADERS_KEPT: usize = 64 * 1024;

/// What the quarantine keeps of a mail that is too large: its headers (at most 64 KB).
fn headers_of(raw: &[u8]) -> &[u8] {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").or_else(|| raw.windows(2).position(|w| w == b"\n\n"));
    &raw[..end.unwrap_or(raw.len()).min(HEADERS_KEPT)]
}

/// Ingests `raw`, or says why it cannot be.
pub(crate) async fn accept(
    db: &Db,
    ctx: &IngestContext,
    raw: &[u8],
    source: Source<'_>,
    now: DateTime<Utc>,
) -> Result<Result<Outcome, Rejection>, sea_orm::DbErr> {
    // A mail stored already costs a look at its headers, nothing more: the same hostile mail
    // delivered again must not be read again.
    if known::already_stored(&db.conn, &message_id(raw)).await? {
        return Ok(Ok(Outcome::Duplicate));
    }
    let mail = match screen_off_thread(raw.to_vec(), ctx.limits).await {
        Ok(mail) => mail,
        Err(reason) => return Ok(Err(reason)),
    };
    let owner = contact_owner(db, ctx).await?;
    let _gate = db.write_gate().await;
    let (txn, row) = db.begin_write_reading(Known::query(db.backend(), &mail, now)).await?;
    let known = Known::from_row(row, ctx)?;
    let outcome = match store_in(&txn, ctx, &mail, known, source, owner.as_ref(), now).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(reason)) => return Ok(Err(reason)),
        Err(e) => {
            drop(txn);
            return duplicate_or(db, &mail.message_id, e).await;
        }
    };
    match txn.commit().await {
        Ok(()) => Ok(Ok(outcome)),
        Err(e) => duplicate_or(db, &mail.message_id, e).await,
    }
}

/// Ingests a run of fetched mails, in their order, in one write transaction: the IMAP
/// poller's way (774 mails/s against 454 with a transaction each, measured by
/// `benches/mail.sh`). One outcome per mail. Should the database refuse any of them, the run is rolled back and each mail goes
/// through [`ingest`] alone: one mail that cannot be stored costs the others only speed.
///
/// # Errors
/// As [`ingest`].
pub async fn ingest_run(
    db: &Db,
    ctx: &IngestContext,
    raws: Vec<Vec<u8>>,
    source: Source<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<Outcome>, sea_orm::DbErr> {
    // Mails stored already are not read again (see `accept`).
    let ids: Vec<String> = raws.iter().map(|raw| message_id(raw)).collect();
    let stored_already = known::stored_among(&db.conn, &ids).await?;
    let fresh: Vec<bool> = ids.iter().map(|id| !stored_already.contains(id)).collect();
    let limits = ctx.limits;
    let (raws, screened) = tokio::task::spawn_blocking(move || {
        // `None`: stored already, or too large to read (`ingest` keeps its headers).
        let screened: Vec<Option<Result<InboundMail, Rejection>>> = raws
            .iter()
            .zip(fresh)
            .map(|(raw, fresh)| (fresh && raw.len() <= limits.max_mail_bytes).then(|| screen(raw, &limits)))
            .collect();
        (raws, screened)
    })
    .await
    .map_err(|e| sea_orm::DbErr::Custom(format!("reading fetched mail failed: {e}")))?;
    let stored = match store_together(db, ctx, &screened, source, now).await {
        Ok(stored) => stored,
        Err(e) => {
            tracing::warn!(error = %e, mails = raws.len(), "storing a run of mails together failed; storing them one by one");
            let mut outcomes = Vec::with_capacity(raws.len());
            for raw in &raws {
                outcomes.push(ingest(db, ctx, raw, source, now).await?);
            }
            return Ok(outcomes);
        }
    };
    // After the commit, as `ingest` does them: the quarantine, and mails too large to read.
    let mut outcomes = Vec::with_capacity(raws.len());
    for ((raw, stored), id) in raws.iter().zip(stored).zip(&ids) {
        outcomes.push(match stored {
            Some(Ok(outcome)) => outcome,
            Some(Err(reason)) => quarantined(db, raw, reason, source, true, now).await?,
            None if stored_already.contains(id) => Outcome::Duplicate,
            None => ingest(db, ctx, raw, source, now).await?,
        });
    }
    Ok(outcomes)
}

/// Stores the screened mails of a run in one transaction: what became of each (`None` where
/// there was nothing to read), or the first database error, the whole run rolled back.
async fn store_together(
    db: &Db,
    ctx: &IngestContext,
    screened: &[Option<Result<InboundMail, Rejection>>],
    source: Source<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<Option<Result<Outcome, Rejection>>>, sea_orm::DbErr> {
    let owner = contact_owner(db, ctx).await?;
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let mut stored = Vec::with_capacity(screened.len());
    for mail in screened {
        stored.push(match mail {
            Some(Ok(mail)) => {
                let known = Known::read(&txn, ctx, mail, now).await?;
                Some(store_in(&txn, ctx, mail, known, source, owner.as_ref(), now).await?)
            }
            Some(Err(reason)) => Some(Err(reason.clone())),
            None => None,
        });
    }
    txn.commit().await?;
    Ok(stored)
}

/// Stores one screened mail inside `txn`, given what is `known` of it, or says why it cannot be
/// (before writing anything).
async fn store_in(
    txn: &sea_orm::DatabaseTransaction,
    ctx: &IngestContext,
    mail: &InboundMail,
    known: Known,
    source: Source<'_>,
    owner: Option<&agent::Model>,
    now: DateTime<Utc>,
) -> Result<Result<Outcome, Rejection>, sea_orm::DbErr> {
    // Stored already, or our own mail coming back (a forwarding rule, an alias that points at
    // itself): it is in its thread already.
    if known.duplicate {
        return Ok(Ok(Outcome::Duplicate));
    }
    if known.support.iter().any(|a| a == mail.from.as_str()) {
        return Ok(Err(format!("It was sent from the support address {}: a mail loop.", mail.from)));
    }
    let support_address = match source {
        Source::Mailbox(address) => Some(address.to_owned()),
        Source::Pipe => {
            mail.recipients.iter().map(Email::as_str).find(|r| known.support.iter().any(|a| a == r)).map(str::to_owned)
        }
    };
    if let Some(ticket) = threading::find_ticket(txn, mail).await? {
        return store::add_to_thread(txn, ticket, mail, &known.support, now).await.map(Ok);
    }
    store::open_ticket(txn, ctx, mail, known, support_address, owner, now).await
}

/// The agent who owns contacts created from mail (`FRONTDESK_EMAIL_CONTACT_OWNER`), if any.
async fn contact_owner(db: &Db, ctx: &IngestContext) -> Result<Option<agent::Model>, sea_orm::DbErr> {
    let Some(email) = &ctx.contact_owner else { return Ok(None) };
    let found = agent::Entity::find().filter(agent::Column::Email.eq(email.to_lowercase())).one(&db.conn).await?;
    if found.is_none() {
        // The contact is still created, without an owner; the setting needs fixing.
        tracing::warn!(%email, "FRONTDESK_EMAIL_CONTACT_OWNER names no agent; contacts from mail get no owner");
    }
    Ok(found)
}

/// A write that failed on a unique index because a concurrent delivery of the same Message-ID
/// got there first is a duplicate; any other failure is an error (never silently dropped).
async fn duplicate_or(
    db: &Db,
    message_id: &str,
    e: sea_orm::DbErr,
) -> Result<Result<Outcome, Rejection>, sea_orm::DbErr> {
    if is_unique_violation(&e) && known::already_stored(&db.conn, message_id).await? {
        Ok(Ok(Outcome::Duplicate))
    } else {
        Err(e)
    }
}

fn megabytes(bytes: usize) -> String {
    #[allow(clippy::cast_precision_loss)]
    let mb = bytes as f64 / MB as f64;
    format!("{mb:.1} MB")
}

impl IngestContext {
    /// The context for this instance: links to `public_url`, Message-IDs and the loop check
    /// from the mailer, limits from the settings.
    #[must_use]
    pub fn new(
        settings: &Settings,
        mailer: &crate::channels::email::Mailer,
        public_url: &str,
        company: String,
    ) -> Self {
        Self {
            base_url: public_url.trim_end_matches('/').to_owned(),
            domain: mailer.domain.clone(),
            company,
            default_from: mailer.from_address(),
            limits: Limits::from_settings(settings),
            contact_owner: settings.email_contact_owner.clone(),
        }
    }
}
