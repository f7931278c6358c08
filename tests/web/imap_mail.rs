//! The email channel through a real IMAP server (Dovecot, started by `.ci/imap-server`): a
//! support address set up in Settings → Channels → Email, its folder polled, messages marked
//! read once stored, one poller per mailbox however many instances run, and Test connection
//! showing the server's own answer.
//!
//! On a developer's machine without an IMAP server these tests say so loudly and skip; CI sets
//! `FRONTDESK_TEST_IMAP`, and then a missing server fails them.

use frontdesk::channels::email::imap::{tls_config, Folder, ImapAccount};
use frontdesk::domain::mailbox::ImapSecurity;
use frontdesk::entities::{contact, mailbox, message};
use frontdesk::startup::Application;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::helpers::TestApp;
use crate::inbound_mail::{message, ticket_no};
use crate::mail::{last_mail_to, mail_to_saying, spawn_app_with_mail, spawn_app_with_mail_and};
use crate::smtp_sink::SmtpSink;

/// The IMAP server to test against, or `None` (with a loud message) when there is none here.
fn imap_server() -> Option<(String, u16)> {
    let (configured, address) = match std::env::var("FRONTDESK_TEST_IMAP") {
        Ok(a) => (true, a),
        Err(_) => (false, "127.0.0.1:10143".to_owned()),
    };
    let reachable = std::net::TcpStream::connect_timeout(
        &address.parse().expect("FRONTDESK_TEST_IMAP is host:port"),
        std::time::Duration::from_secs(2),
    )
    .is_ok();
    if !reachable {
        assert!(!configured, "FRONTDESK_TEST_IMAP={address} is set but no IMAP server answers there");
        // Written to the process's standard error, past the test harness's capture of
        // `eprintln!`, so a skip is seen even when the test "passes".
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "\n!!! SKIPPED: no IMAP server on {address}. Run .ci/imap-server (Dovecot) to test the email channel over IMAP. !!!\n"
        );
        return None;
    }
    let (host, port) = address.rsplit_once(':').expect("host:port");
    Some((host.to_owned(), port.parse().expect("port")))
}

/// A fresh mailbox on the test server: every user name gets its own (password `secret`).
fn account(host: &str, port: u16) -> ImapAccount {
    ImapAccount {
        host: host.to_owned(),
        port,
        security: ImapSecurity::None,
        user: format!("fdt-{}", uuid::Uuid::new_v4().simple()),
        password: "secret".into(),
        folder: "INBOX".into(),
    }
}

/// Delivers `raw` into the mailbox over IMAP, as a mail server would.
async fn deliver_to(account: &ImapAccount, raw: &[u8]) {
    deliver_flagged(account, None, raw).await;
}

/// Delivers `raw` with IMAP `flags`: `Some("(\\Seen)")` is a message someone already read.
async fn deliver_flagged(account: &ImapAccount, flags: Option<&str>, raw: &[u8]) {
    let tls = tls_config(None).expect("tls");
    let (mut folder, _) = Folder::open(account, &tls).await.expect("open the test mailbox");
    folder.append("INBOX", flags, raw).await.expect("append");
    folder.close().await;
}

async fn unseen(account: &ImapAccount) -> usize {
    let tls = tls_config(None).expect("tls");
    let (mut folder, _) = Folder::open(account, &tls).await.expect("open the test mailbox");
    let n = folder.unseen(usize::MAX).await.expect("search").len();
    folder.close().await;
    n
}

/// Sets up the support address through the console, as an administrator would.
/// An app whose administrator has set up help@acme.example on a fresh mailbox of the test
/// server, or `None` (said loudly) when there is no server here.
async fn app_with_support_address() -> Option<(TestApp, SmtpSink, ImapAccount)> {
    app_with_support_address_and(|_| {}).await
}

/// [`app_with_support_address`] with more settings changed by `tweak`.
async fn app_with_support_address_and(
    tweak: impl FnOnce(&mut frontdesk::config::Settings),
) -> Option<(TestApp, SmtpSink, ImapAccount)> {
    let (host, port) = imap_server()?;
    let (app, sink) = spawn_app_with_mail_and(tweak).await;
    app.set_up_admin().await;
    let account = account(&host, port);
    add_support_address(&app, "help@acme.example", &account).await;
    Some((app, sink, account))
}

async fn add_support_address(app: &TestApp, address: &str, account: &ImapAccount) {
    let port = account.port.to_string();
    let page = app
        .submit(
            "/agent/settings/channels/email/new",
            "/agent/settings/channels/email",
            &[
                ("address", address),
                ("imap_host", &account.host),
                ("imap_port", &port),
                ("imap_security", account.security.key()),
                ("imap_user", &account.user),
                ("imap_password", &account.password),
                ("folder", "INBOX"),
                ("poll_seconds", "10"),
                ("active", "on"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
}

/// Runs one round of this instance's poller, as the background worker would.
async fn poll(app: &TestApp) -> frontdesk::channels::email::poll::PollReport {
    poll_at(app, chrono::Utc::now()).await
}

/// One round of the poller as if the clock said `now`.
async fn poll_at(app: &TestApp, now: chrono::DateTime<chrono::Utc>) -> frontdesk::channels::email::poll::PollReport {
    let ctx = app.state.ingest_context().await.expect("context");
    app.state.poller.run_due(&app.state.db, &ctx, now).await.expect("poll")
}

/// The one support address the test set up, as stored.
async fn the_mailbox(app: &TestApp) -> mailbox::Model {
    mailbox::Entity::find().one(&app.state.db.conn).await.expect("q").expect("mailbox")
}

async fn contacts_with(app: &TestApp, email: &str) -> usize {
    contact::Entity::find().filter(contact::Column::Email.eq(email)).all(&app.state.db.conn).await.expect("q").len()
}

#[tokio::test]
async fn mail_polled_over_imap_makes_contacts_and_tickets_and_replies_thread_back() {
    let Some((app, sink, account)) = app_with_support_address().await else { return };
    // The password is stored sealed, never as typed.
    let stored = the_mailbox(&app).await;
    assert!(!stored.imap_password.contains("secret"));
    assert!(stored.imap_password.starts_with("v1:"), "{}", stored.imap_password);
    assert_eq!(app.state.sealer.open(&stored.imap_password).ok().as_deref(), Some(account.password.as_str()));
    assert!(frontdesk::secrets::Sealer::new("another key").open(&stored.imap_password).is_err());

    deliver_to(
        &account,
        &message(
            "\"Melissa Ortiz\" <melissa@example.com>",
            "Printer on fire",
            Some("i1@mail.example.com"),
            "",
            "It smokes.\n",
        ),
    )
    .await;
    let report = poll(&app).await;
    assert_eq!((report.polled, report.ingested, report.failed), (1, 1, 0), "{report:?}");
    assert_eq!(unseen(&account).await, 0, "stored messages are marked read");
    assert_eq!(contacts_with(&app, "melissa@example.com").await, 1);
    let first = ticket_no(&app, 1001).await;
    assert_eq!(first.support_address.as_deref(), Some("help@acme.example"));

    // The acknowledgement goes out from the support address the customer wrote to.
    let ack = last_mail_to(&app, &sink, "melissa@example.com", "[#1001]").await;
    assert!(ack.header("From").unwrap_or_default().contains("help@acme.example"), "{:?}", ack.header("From"));
    let ack_id = ack.header("Message-ID").expect("Message-ID");

    // The same address in other case: a new ticket for the same contact; a reply threads back.
    deliver_to(&account, &message("Melissa@EXAMPLE.com", "Second question", Some("i2@mail.example.com"), "", "Hi\n"))
        .await;
    deliver_to(
        &account,
        &message(
            "melissa@example.com",
            "Re: [#1001] Printer on fire",
            Some("i3@mail.example.com"),
            &format!("In-Reply-To: {ack_id}"),
            "Still burning.\n",
        ),
    )
    .await;
    // Not polled again before the mailbox's interval (10 s) has passed.
    let last = the_mailbox(&app).await.last_polled_at.expect("polled");
    let early = poll_at(&app, last + chrono::Duration::seconds(9)).await;
    assert_eq!((early.polled, early.ingested), (0, 0), "{early:?}");
    assert_eq!(unseen(&account).await, 2);
    let report = poll_when_due(&app).await;
    assert_eq!(report.ingested, 2, "{report:?}");
    assert_eq!(app.count("contacts").await, 1, "the address in other case is the same contact");
    assert_eq!(app.count("tickets").await, 2);
    let second = ticket_no(&app, 1002).await;
    assert_eq!((second.contact_id, second.subject.as_str()), (first.contact_id, "Second question"));
    let thread = message::Entity::find()
        .filter(message::Column::TicketId.eq(first.id))
        .all(&app.state.db.conn)
        .await
        .expect("q");
    assert_eq!(thread.len(), 2);

    // Nothing is fetched twice.
    assert_eq!(poll_when_due(&app).await.ingested, 0);
    assert_eq!(app.count("messages").await, 3);

    // The settings page shows the mailbox working.
    let page = app.get("/agent/settings/channels/email").await;
    assert!(page.text().contains("help@acme.example") && page.text().contains("Working"), "{}", page.text());

    // An agent's answer goes out from that address too, threaded under her reply.
    let form = app.submit("/agent/tickets/1001", "/agent/tickets/1001/replies", &[("reply", "On our way.")]).await;
    assert_eq!(form.status, StatusCode::SEE_OTHER);
    let answer = mail_to_saying(&app, &sink, "melissa@example.com", "On our way.").await;
    assert!(answer.header("From").unwrap_or_default().contains("help@acme.example"), "{:?}", answer.header("From"));
    assert_eq!(answer.header("In-Reply-To").as_deref(), Some("<i3@mail.example.com>"));
}

#[tokio::test]
async fn the_background_worker_polls_a_new_mailbox_without_being_asked() {
    let Some((app, _sink, account)) = app_with_support_address_and(|s| s.mail_poll_interval = 1).await else { return };
    deliver_to(&account, &message("ann@example.com", "Left alone", Some("bg1@mail.example.com"), "", "Hi\n")).await;
    // The test only waits: the instance's own worker finds the mailbox due and fetches it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while app.count("tickets").await == 0 {
        assert!(std::time::Instant::now() < deadline, "the background poller never stored the mail");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(contacts_with(&app, "ann@example.com").await, 1);
    assert_eq!(unseen(&account).await, 0);
    assert!(the_mailbox(&app).await.last_polled_at.is_some());
}

/// Polls once the mailbox's interval has passed (the test does not wait for it: it moves the
/// last poll back in time).
async fn poll_when_due(app: &TestApp) -> frontdesk::channels::email::poll::PollReport {
    use sea_orm::sea_query::Expr;
    mailbox::Entity::update_many()
        .col_expr(mailbox::Column::LastPolledAt, Expr::value(chrono::Utc::now() - chrono::Duration::hours(1)))
        .exec(&app.state.db.conn)
        .await
        .expect("backdate");
    poll(app).await
}

#[tokio::test]
async fn mail_read_in_a_mail_client_before_the_poll_is_still_ingested_but_mail_read_before_frontdesk_is_not() {
    let Some((host, port)) = imap_server() else { return };
    let (app, _sink) = spawn_app_with_mail().await;
    app.set_up_admin().await;
    let account = account(&host, port);
    let seen = Some("(\\Seen)");
    // Before the address is set up: one message dealt with long ago, one still waiting.
    deliver_flagged(&account, seen, &message("old@example.com", "Old", Some("old@x.example.com"), "", "done\n")).await;
    deliver_to(&account, &message("waiting@example.com", "Waiting", Some("wait@x.example.com"), "", "?\n")).await;
    add_support_address(&app, "help@acme.example", &account).await;
    assert_eq!(poll(&app).await.ingested, 1);
    assert_eq!(contacts_with(&app, "old@example.com").await, 0, "read mail from before is history");
    assert_eq!(contacts_with(&app, "waiting@example.com").await, 1);

    // Someone opens the support mailbox and reads new mail before Frontdesk polls it.
    deliver_flagged(
        &account,
        seen,
        &message("early@example.com", "Read first", Some("early@x.example.com"), "", "!\n"),
    )
    .await;
    deliver_to(&account, &message("late@example.com", "Unread", Some("late@x.example.com"), "", "?\n")).await;
    assert_eq!(poll_when_due(&app).await.ingested, 2);
    assert_eq!(contacts_with(&app, "early@example.com").await, 1);
    assert_eq!(contacts_with(&app, "late@example.com").await, 1);
    assert_eq!(poll_when_due(&app).await.ingested, 0, "nothing is fetched twice");
    assert_eq!(app.count("tickets").await, 3);
}

#[tokio::test]
async fn mail_too_large_for_the_limit_is_quarantined_by_its_headers_without_being_fetched() {
    let Some((app, _sink, account)) = app_with_support_address_and(|s| s.max_mail_mb = 1).await else { return };
    let body = format!("{}\n", "y".repeat(999)).repeat(1500);
    deliver_to(&account, &message("scanner@example.com", "Scan", Some("scan@x.example.com"), "", &body)).await;
    deliver_to(&account, &message("ann@example.com", "Small", Some("small@x.example.com"), "", "hi\n")).await;
    let report = poll(&app).await;
    assert_eq!((report.ingested, report.failed), (2, 0), "{report:?}");
    assert_eq!(app.count("tickets").await, 1);
    let held = frontdesk::entities::quarantine::Entity::find().all(&app.state.db.conn).await.expect("q");
    assert_eq!(held.len(), 1);
    assert!(!held[0].whole && held[0].raw.len() < 4096, "{} bytes", held[0].raw.len());
    assert_eq!(held[0].sender.as_deref(), Some("scanner@example.com"));
    assert!(held[0].reason.contains("the limit is 1 MB"), "{}", held[0].reason);
}

#[tokio::test]
async fn two_instances_never_poll_one_mailbox_at_the_same_time() {
    let Some((app, _sink, account)) = app_with_support_address().await else { return };
    for n in 0..5 {
        deliver_to(
            &account,
            &message("ann@example.com", &format!("Question {n}"), Some(&format!("two{n}@x.example.com")), "", "?\n"),
        )
        .await;
    }
    // A second instance on the same database; it finds the same generated secret key.
    let mut settings = app.state.settings.clone();
    settings.listen = "127.0.0.1:0".into();
    let other = Application::build(settings).await.expect("second instance");
    let other = other.state();
    let ctx = app.state.ingest_context().await.expect("ctx");
    let now = chrono::Utc::now();
    let (a, b) =
        tokio::join!(app.state.poller.run_due(&app.state.db, &ctx, now), other.poller.run_due(&other.db, &ctx, now));
    let (a, b) = (a.expect("poll a"), b.expect("poll b"));
    assert_eq!(a.polled + b.polled, 1, "{a:?} {b:?}");
    assert_eq!(a.ingested + b.ingested, 5);
    assert_eq!(app.count("tickets").await, 5);
    assert_eq!(contacts_with(&app, "ann@example.com").await, 1);
}

#[tokio::test]
async fn a_mailbox_held_by_an_instance_that_died_is_polled_again_once_its_lease_runs_out() {
    use sea_orm::sea_query::Expr;
    let Some((app, _sink, account)) = app_with_support_address().await else { return };
    deliver_to(&account, &message("ann@example.com", "Hello", Some("lease1@x.example.com"), "", "?\n")).await;
    let lease = |until: chrono::DateTime<chrono::Utc>| {
        mailbox::Entity::update_many()
            .col_expr(mailbox::Column::LeaseHolder, Expr::value("an instance that was killed"))
            .col_expr(mailbox::Column::LeaseUntil, Expr::value(until))
            .exec(&app.state.db.conn)
    };
    // While another instance's lease runs, nobody else polls the mailbox.
    lease(chrono::Utc::now() + chrono::Duration::minutes(2)).await.expect("lease");
    let report = poll(&app).await;
    assert_eq!((report.polled, report.ingested), (0, 0), "{report:?}");
    assert_eq!(app.count("tickets").await, 0);
    // Once it has run out (its holder never came back to release it), the next poll takes over.
    lease(chrono::Utc::now() - chrono::Duration::seconds(1)).await.expect("lease");
    let report = poll(&app).await;
    assert_eq!((report.polled, report.ingested), (1, 1), "{report:?}");
    assert_eq!(app.count("tickets").await, 1);
    let mailbox = the_mailbox(&app).await;
    assert_eq!((mailbox.lease_holder, mailbox.lease_until), (None, None), "released after the poll");
}

#[tokio::test]
async fn test_connection_reports_the_servers_answer() {
    let Some((host, port)) = imap_server() else { return };
    let ca = std::env::var("FRONTDESK_TEST_IMAP_CA").unwrap_or_else(|_| "/tmp/frontdesk-dovecot/tls/ca.pem".into());
    let (app, _sink) = crate::mail::spawn_app_with_mail_and(|s| s.imap_ca_file = Some(ca.clone())).await;
    app.set_up_admin().await;
    let account = account(&host, port);
    let port_text = port.to_string();
    let fields = |password: &'static str, security: &'static str, port: String| {
        vec![
            ("address", "help@acme.example".to_owned()),
            ("imap_host", account.host.clone()),
            ("imap_port", port),
            ("imap_security", security.to_owned()),
            ("imap_user", account.user.clone()),
            ("imap_password", password.to_owned()),
            ("folder", "INBOX".to_owned()),
            ("poll_seconds", "60".to_owned()),
            ("action", "test".to_owned()),
        ]
    };
    let post = |fields: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.submit("/agent/settings/channels/email/new", "/agent/settings/channels/email", &borrowed).await
        }
    };
    let page = post(fields("wrong", "none", port_text.clone())).await;
    assert_eq!(page.status, StatusCode::OK);
    let result = page.texts("#test-result").join(" ");
    assert!(result.contains("Connection failed") && result.contains("Authentication failed"), "{result}");
    assert_eq!(page.value_of("imap_user").as_deref(), Some(account.user.as_str()), "the input is kept");
    assert_eq!(app.count("mailboxes").await, 0, "testing saves nothing");

    let page = post(fields("secret", "none", port_text.clone())).await;
    let result = page.texts("#test-result").join(" ");
    assert!(result.contains("Connection works") && result.contains("Logged in as"), "{result}");
    // Dovecot's own greeting, as it said it.
    assert!(result.contains("(the server said: ") && result.contains("ready"), "{result}");

    // TLS from the first byte, on the server's certificate signed by the configured authority.
    let page = post(fields("secret", "tls", "10993".into())).await;
    let result = page.texts("#test-result").join(" ");
    assert!(result.contains("Connection works"), "{result}");
    let page = post(fields("secret", "starttls", port_text)).await;
    let result = page.texts("#test-result").join(" ");
    assert!(result.contains("Connection works"), "{result}");

    // Nothing listening: the answer says so.
    let page = post(fields("secret", "none", "1".into())).await;
    let result = page.texts("#test-result").join(" ");
    assert!(result.contains("Connection failed") && result.contains("connecting"), "{result}");
}

#[tokio::test]
async fn awkward_mail_in_the_folder_never_stops_the_poller() {
    let Some((app, _sink, account)) = app_with_support_address().await else { return };
    let corpus = crate::inbound_mail::awkward_corpus();
    for (_, raw) in &corpus {
        deliver_to(&account, raw).await;
    }
    let raw = crate::inbound_mail::raw;
    for reject in [
        raw("From: MAILER-DAEMON@mx.example.com\nSubject: Undelivered\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\n\n--r\nContent-Type: text/plain\n\nfailed\n--r--\n"),
        raw("Subject: no sender\nMessage-ID: <nosender@x>\n\nbody\n"),
        b"\x00\x01\x02 garbage".to_vec(),
    ] {
        deliver_to(&account, &reject).await;
    }
    let report = poll(&app).await;
    assert_eq!(report.failed, 0, "{report:?}");
    assert_eq!(report.ingested as usize, corpus.len() + 3);
    assert_eq!(app.count("tickets").await as usize, corpus.len());
    assert_eq!(app.count("quarantine").await, 3);
    assert_eq!(unseen(&account).await, 0);
    let held = frontdesk::entities::quarantine::Entity::find().all(&app.state.db.conn).await.expect("q");
    assert!(held.iter().all(|q| q.source == "imap:help@acme.example"));
}

#[tokio::test]
async fn a_mail_the_database_refuses_is_quarantined_and_the_rest_of_its_run_is_still_stored() {
    let Some((app, _sink, account)) = app_with_support_address().await else { return };
    for n in 1..=5 {
        let id = format!("r{n}@x.example.com");
        deliver_to(&account, &message("ann@example.com", &format!("Broken screen {n}"), Some(&id), "", "Cracked.\n"))
            .await;
    }
    assert_eq!(poll(&app).await.ingested, 5);
    // Ticket numbers set back onto #1001..#1005: a new ticket now fails on its number (on
    // PostgreSQL each try takes the next one from the sequence, and meets the next ticket).
    app.exec(match app.state.db.backend() {
        sea_orm::DbBackend::Postgres => "SELECT setval('ticket_numbers', 1000)",
        _ => "UPDATE counters SET value = 1000 WHERE name = 'ticket_number'",
    })
    .await;
    // One run: a reply (needs no new number) between two new tickets (the database refuses).
    deliver_to(&account, &message("bob@example.com", "New one", Some("s1@x.example.com"), "", "Hi\n")).await;
    deliver_to(
        &account,
        &message("ann@example.com", "Re: [#1001] Broken screen 1", Some("s2@x.example.com"), "", "Still.\n"),
    )
    .await;
    deliver_to(&account, &message("cy@example.com", "Another", Some("s3@x.example.com"), "", "Hello\n")).await;
    let report = poll_when_due(&app).await;
    assert_eq!((report.ingested, report.failed), (3, 0), "{report:?}");
    assert_eq!(unseen(&account).await, 0, "nothing is left to be fetched again");
    assert_eq!(app.count("tickets").await, 5);
    assert_eq!(app.count("messages").await, 6, "the reply is in ticket #1001's thread");
    let held = frontdesk::entities::quarantine::Entity::find().all(&app.state.db.conn).await.expect("q");
    let mut senders: Vec<_> = held.iter().filter_map(|q| q.sender.clone()).collect();
    senders.sort();
    assert_eq!(senders, ["bob@example.com", "cy@example.com"]);
    assert!(held.iter().all(|q| q.whole && q.reason.starts_with("Storing it failed")), "{held:?}");
}
