//! The email channel's benchmark: a 5,000-message corpus (half from senders the database knows,
//! half from new ones; plain, HTML and with an attachment) ingested through `frontdesk
//! ingest-mail` (one process per message, several at once, as a mail server's pipe runs it),
//! once handed to a running instance and once with none running, and another through IMAP
//! (appended to a Dovecot mailbox, then polled). It prints messages/s and
//! the contacts created. Run by `benches/mail.sh`, which seeds the database and starts Dovecot:
//!
//! ```sh
//! MAIL_BENCH_DATABASE_URL=sqlite:///path/seeded.db cargo bench --bench mail_ingest
//! ```

// A benchmark, like a test, stops at the first thing that goes wrong.
#![allow(clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use frontdesk::channels::email::imap::{tls_config, Folder, ImapAccount};
use frontdesk::channels::email::ingest::IngestContext;
use frontdesk::channels::email::mailboxes;
use frontdesk::channels::email::poll::Poller;
use frontdesk::channels::email::Mailer;
use frontdesk::config::Settings;
use frontdesk::db::Db;
use frontdesk::domain::mailbox::{ImapSecurity, MailboxInput};
use frontdesk::domain::{Email, Permissions};
use frontdesk::secrets::Sealer;
use frontdesk::services::Actor;
use sea_orm::{ConnectionTrait, Statement};

// The IMAP run polls in this process: it allocates as `frontdesk` does (src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const MESSAGES: usize = 5_000;

fn corpus(run: &str, known: &[String]) -> Vec<Vec<u8>> {
    (0..MESSAGES)
        .map(|n| {
            let from = if n % 2 == 0 && !known.is_empty() {
                known[(n / 2) % known.len()].clone()
            } else {
                format!("new{n}.{run}@bench.example")
            };
            let head = format!(
                "From: Bench Sender{n} <{from}>\r\nTo: help@bench.example\r\nSubject: Question {n} about my order\r\n\
                 Message-ID: <{run}.{n}@bench.example>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
            );
            let body = match n % 10 {
                0 => "Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\nThe invoice is attached.\r\n\
                      --m\r\nContent-Type: application/pdf; name=\"invoice.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                    .to_owned()
                    + &"JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PC9UeXBlL0NhdGFsb2c+PgplbmRvYmoK\r\n".repeat(300)
                    + "--m--\r\n",
                1..=3 => "Content-Type: multipart/alternative; boundary=\"a\"\r\n\r\n--a\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
                          Hello, my parcel has not arrived.\r\n--a\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
                          <p>Hello, my <b>parcel</b> has not arrived.</p><img src=\"https://t.example/p.gif\">\r\n--a--\r\n"
                    .to_owned(),
                _ => "Content-Type: text/plain; charset=utf-8\r\n\r\nHello,\r\n\r\nI cannot log in since this morning.\r\n\r\nThanks\r\n"
                    .to_owned(),
            };
            (head + &body).into_bytes()
        })
        .collect()
}

async fn count(db: &Db, table: &str) -> i64 {
    let backend = db.conn.get_database_backend();
    let row = db
        .conn
        .query_one(Statement::from_string(backend, format!("SELECT COUNT(*) AS n FROM {table}")))
        .await
        .ok()
        .flatten()
        .expect("a count");
    row.try_get::<i64>("", "n").expect("n")
}

async fn known_senders(db: &Db) -> Vec<String> {
    let backend = db.conn.get_database_backend();
    let rows = db
        .conn
        .query_all(Statement::from_string(
            backend,
            "SELECT email FROM contacts WHERE email IS NOT NULL AND trashed = false ORDER BY id LIMIT 2500",
        ))
        .await
        .expect("senders");
    rows.iter().filter_map(|r| r.try_get::<String>("", "email").ok()).collect()
}

/// The `frontdesk` executable: another build to compare with (`FRONTDESK_BIN`), else this one.
fn frontdesk_binary() -> String {
    std::env::var("FRONTDESK_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_frontdesk").to_owned())
}

/// A `frontdesk serve` taking piped mail on its mail socket.
struct Instance(std::process::Child);

impl Instance {
    /// Starts one on `url`, with its mail socket at `socket`, and waits until the socket answers.
    /// It logs at its default level (a line a mail) to `log`, as a service's log would take it.
    fn start(url: &str, socket: &str, log: &std::path::Path) -> Self {
        let log = std::fs::File::create(log).expect("the instance's log file");
        let child = Command::new(frontdesk_binary())
            .arg("serve")
            .env("DATABASE_URL", url)
            .env("FRONTDESK_LISTEN", "127.0.0.1:0")
            .env("FRONTDESK_MAIL_SOCKET", socket)
            .env("FRONTDESK_MAIL_FROM", "help@bench.example")
            .env_remove("FRONTDESK_LOG")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the log file again"))
            .stderr(log)
            .spawn()
            .expect("start frontdesk serve");
        let started = Instant::now();
        while std::os::unix::net::UnixStream::connect(socket).is_err() {
            assert!(started.elapsed().as_secs() < 60, "the instance did not open its mail socket {socket}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Self(child)
    }

    /// Stops it as a service manager would (SIGTERM), and waits for it to finish.
    fn stop(mut self) {
        let status = Command::new("kill").arg(self.0.id().to_string()).status().expect("kill");
        assert!(status.success(), "cannot stop the instance");
        self.0.wait().expect("the instance's exit");
    }
}

impl Drop for Instance {
    /// A benchmark that stops half-way leaves no instance behind (a no-op after [`Instance::stop`]).
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Pipes every message of `corpus` through its own `ingest-mail` process, `parallel` at once,
/// with the mail socket setting `socket`. Returns how many failed.
fn pipe_all(url: &str, socket: &str, corpus: Vec<Vec<u8>>, parallel: usize) -> usize {
    let corpus = Arc::new(corpus);
    let next = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..parallel)
        .map(|_| {
            let (corpus, next, failed) = (corpus.clone(), next.clone(), failed.clone());
            let (url, socket) = (url.to_owned(), socket.to_owned());
            let binary = frontdesk_binary();
            std::thread::spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(raw) = corpus.get(i) else { break };
                let mut child = Command::new(&binary)
                    .arg("ingest-mail")
                    .env("DATABASE_URL", &url)
                    .env("FRONTDESK_MAIL_SOCKET", &socket)
                    .env("FRONTDESK_MAIL_FROM", "help@bench.example")
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("spawn ingest-mail");
                child.stdin.take().expect("stdin").write_all(raw).expect("write");
                if !child.wait().expect("wait").success() {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker");
    }
    failed.load(Ordering::Relaxed)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Ok(url) = std::env::var("MAIL_BENCH_DATABASE_URL") else {
        eprintln!("set MAIL_BENCH_DATABASE_URL to a seeded database (see benches/mail.sh); nothing measured");
        return Ok(());
    };
    let parallel: usize = std::env::var("PARALLEL").ok().and_then(|p| p.parse().ok()).unwrap_or(4);
    let db = Db::connect(&url, 4).await?;
    let run = format!("{}", chrono::Utc::now().timestamp());
    let known = known_senders(&db).await;
    let contacts_at_start = count(&db, "contacts").await;
    println!("database: {contacts_at_start} contacts, {} tickets", count(&db, "tickets").await);

    // Through the pipe, handed to a running instance (the `frontdesk serve` that users run,
    // started here on the same database), and then with no instance running, each process
    // storing its message itself.
    let mut settings = Settings::defaults();
    settings.database_url.clone_from(&url);
    if settings.mail_socket_path().is_none() {
        // PostgreSQL: no database file to put the socket beside.
        settings.mail_socket =
            Some(std::env::temp_dir().join(format!("frontdesk-bench-{run}.sock")).display().to_string());
    }
    let socket = settings.mail_socket_path().map(|p| p.display().to_string()).unwrap_or_default();
    let log = std::env::temp_dir().join(format!("frontdesk-bench-{run}.log"));
    println!("the instance logs to {}", log.display());
    let mut instance = Some(Instance::start(&url, &socket, &log));
    for (way, socket, name) in
        [("handed to the running instance", socket.as_str(), "pipe"), ("no instance running", "off", "own")]
    {
        let (contacts, tickets) = (count(&db, "contacts").await, count(&db, "tickets").await);
        let started = Instant::now();
        let failed = pipe_all(&url, socket, corpus(&format!("{name}{run}"), &known), parallel);
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "ingest-mail, {way} ({parallel} at once): {MESSAGES} messages in {seconds:.1} s = {:.0} messages/s; {} contacts and {} tickets created; {failed} failed",
            MESSAGES as f64 / seconds,
            count(&db, "contacts").await - contacts,
            count(&db, "tickets").await - tickets
        );
        if let Some(instance) = instance.take() {
            instance.stop();
        }
    }

    // Through IMAP.
    let host = std::env::var("IMAP_HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let account = ImapAccount {
        host,
        port: 10143,
        security: ImapSecurity::None,
        user: format!("bench{run}"),
        password: "secret".into(),
        folder: "INBOX".into(),
    };
    let tls = tls_config(None)?;
    let (mut folder, _) = Folder::open(&account, &tls).await.map_err(|e| anyhow::anyhow!("IMAP: {e}"))?;
    for raw in corpus(&format!("imap{run}"), &known) {
        folder.append("INBOX", None, &raw).await.map_err(|e| anyhow::anyhow!("append: {e}"))?;
    }
    folder.close().await;
    let mut settings = Settings::defaults();
    settings.mail_from = Some("help@bench.example".into());
    // The poller below is the only one to open the password this sealer seals.
    let sealer = Sealer::new(&frontdesk::auth::random_token(86));
    let input = MailboxInput {
        address: Email::parse(&format!("help{run}@bench.example")).map_err(anyhow::Error::msg)?,
        imap_host: account.host.clone(),
        imap_port: account.port,
        imap_security: account.security,
        imap_user: account.user.clone(),
        imap_password: Some(account.password.clone()),
        folder: "INBOX".into(),
        poll_seconds: 10,
        active: true,
    };
    // The mailbox is set up as an administrator would (who, the mailbox does not record).
    let admin = Actor::new(0, "Administrator", Permissions::administrator());
    let mailbox =
        mailboxes::create(&db, &admin, &sealer, input, chrono::Utc::now()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mailer = Mailer::from_settings(&settings)?;
    let ctx = IngestContext::new(&settings, &mailer, "http://127.0.0.1:8080", "Bench".into());
    let poller = Poller { sealer, tls, holder: "bench".into() };
    let (contacts, tickets) = (count(&db, "contacts").await, count(&db, "tickets").await);
    let started = Instant::now();
    let mut ingested = 0u32;
    let mut moment = chrono::Utc::now();
    while (ingested as usize) < MESSAGES {
        let report = poller.run_due(&db, &ctx, moment).await?;
        if report.failed > 0 || report.polled == 0 {
            anyhow::bail!("the poll failed or did not run: {report:?}");
        }
        ingested += report.ingested;
        // The next round is due at once (the benchmark does not wait out the interval).
        moment += chrono::Duration::hours(1);
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "IMAP poller: {ingested} messages in {seconds:.1} s = {:.0} messages/s; {} contacts and {} tickets created",
        f64::from(ingested) / seconds,
        count(&db, "contacts").await - contacts,
        count(&db, "tickets").await - tickets
    );
    mailboxes::delete(&db, &admin, mailbox.id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}
