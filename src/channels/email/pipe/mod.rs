//! `frontdesk ingest-mail`: one message on standard input, for a mail server's pipe transport
//! (Postfix's `pipe`, Exim's `pipe` transport, a `.forward`), as Request Tracker's mail gateway
//! does. The exit status is what the mail server acts on: 0 when the message is taken care of
//! (stored, quarantined, or already there), 75 (EX_TEMPFAIL) when it should try again later.
//!
//! When an instance is running on the same database it is handed the message over its mail
//! socket ([`handoff`], [`listener`]); otherwise, or when it refuses, the command opens the
//! database and stores the message itself.

pub mod handoff;
pub mod listener;

use std::io::Read;
use std::process::ExitCode;

use crate::channels::email::ingest::{ingest, IngestContext, Source};
use crate::channels::email::Mailer;
use crate::config::Settings;
use crate::db::Db;
use crate::services::branding;
use handoff::{hand_over, Handoff};

/// sysexits.h: a temporary failure; the mail server keeps the message and retries.
const EX_TEMPFAIL: u8 = 75;
/// sysexits.h: a local input/output error (standard input could not be read).
const EX_IOERR: u8 = 74;
/// sysexits.h: a configuration error.
const EX_CONFIG: u8 = 78;

/// Reads the message and stores it. Everything it says goes to standard error, which the mail
/// server logs (and may quote in a bounce on a permanent failure).
#[must_use]
pub fn run(settings: &Settings) -> ExitCode {
    let mut raw = Vec::new();
    if let Err(e) = std::io::stdin().lock().read_to_end(&mut raw) {
        eprintln!("frontdesk ingest-mail: cannot read the message from standard input: {e}");
        return ExitCode::from(EX_IOERR);
    }
    let database_file = settings.sqlite_file();
    match settings.mail_socket_path().map(|socket| hand_over(&socket, database_file.as_deref(), &raw)) {
        Some(Handoff::Taken(line)) => {
            eprintln!("frontdesk ingest-mail: {line} (by the running instance)");
            return ExitCode::SUCCESS;
        }
        Some(Handoff::Retry(why)) => {
            eprintln!("frontdesk ingest-mail: {why}");
            return ExitCode::from(EX_TEMPFAIL);
        }
        Some(Handoff::NotTaken(Some(why))) => {
            eprintln!("frontdesk ingest-mail: {why}; storing the message directly");
        }
        Some(Handoff::NotTaken(None)) | None => {}
    }
    // Logging is set up only here: a hand-off logs nothing, and each process start counts
    // when the mail server runs one per message. Quiet unless something is wrong: the outcome
    // line is printed anyway.
    crate::telemetry::init_stderr("error");
    // One thread: threads cost more than they give for one message.
    match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime.block_on(store(settings, &raw)),
        Err(e) => {
            eprintln!("frontdesk ingest-mail: cannot start: {e}");
            ExitCode::from(EX_TEMPFAIL)
        }
    }
}

/// Opens the database and stores `raw` in this process.
async fn store(settings: &Settings, raw: &[u8]) -> ExitCode {
    let mailer = match Mailer::from_settings(settings) {
        Ok(mailer) => mailer,
        Err(e) => {
            eprintln!("frontdesk ingest-mail: {e}");
            return ExitCode::from(EX_CONFIG);
        }
    };
    let db = match Db::open(&settings.database_url(), 1).await {
        Ok(db) => db,
        Err(e) => return unavailable(&e),
    };
    let company = match branding::load(&db.conn).await {
        Ok(b) => b.company_name,
        Err(e) => return unavailable(&e),
    };
    let public_url = settings.base_url.clone().unwrap_or_else(|| format!("http://{}", settings.listen));
    let ctx = IngestContext::new(settings, &mailer, &public_url, company);
    match ingest(&db, &ctx, raw, Source::Pipe, chrono::Utc::now()).await {
        Ok(outcome) => {
            eprintln!("frontdesk ingest-mail: {}", outcome.describe());
            ExitCode::SUCCESS
        }
        Err(e) => unavailable(&e),
    }
}

fn unavailable(e: &sea_orm::DbErr) -> ExitCode {
    eprintln!("frontdesk ingest-mail: the database is unavailable, try again later: {e}");
    ExitCode::from(EX_TEMPFAIL)
}
