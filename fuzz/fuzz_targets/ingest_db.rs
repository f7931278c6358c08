//! Arbitrary bytes through the whole ingestion function, database included: `ingest` on a
//! SQLite file made for this run, as `frontdesk ingest-mail` and the IMAP poller call it.
//! Whatever the bytes, the mail becomes a ticket, joins a thread, is recognised as a duplicate
//! or is quarantined with a reason: never a panic, never an error (the database is there, so
//! nothing is "try again later"). Run: `cargo fuzz run ingest_db` (see `.ci/run`).
#![no_main]

use std::sync::OnceLock;

use frontdesk::channels::email::ingest::{ingest, IngestContext, Outcome, Source};
use frontdesk::channels::email::Mailer;
use frontdesk::config::Settings;
use frontdesk::db::Db;
use libfuzzer_sys::fuzz_target;

#[path = "hook.rs"]
mod hook;

struct World {
    runtime: tokio::runtime::Runtime,
    db: Db,
    ctx: IngestContext,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let path = std::env::temp_dir().join(format!("frontdesk-fuzz-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let db = runtime.block_on(Db::connect(&format!("sqlite://{}", path.display()), 1)).expect("database");
        let mut settings = Settings::defaults();
        settings.mail_from = Some("support@frontdesk.test".into());
        settings.max_mail_mb = 1;
        settings.max_attachment_mb = 1;
        let mailer = Mailer::from_settings(&settings).expect("mailer");
        let ctx = IngestContext::new(&settings, &mailer, "http://help.frontdesk.test", "Acme".into());
        World { runtime, db, ctx }
    })
}

fuzz_target!(|raw: &[u8]| {
    hook::one_line_panics();
    let w = world();
    let outcome = w.runtime.block_on(ingest(&w.db, &w.ctx, raw, Source::Pipe, chrono::Utc::now()));
    match outcome {
        Ok(Outcome::Quarantined { reason, .. }) => assert!(!reason.trim().is_empty(), "a quarantine without a reason"),
        Ok(_) => {}
        Err(e) => panic!("ingestion failed on a reachable database: {e}"),
    }
});
