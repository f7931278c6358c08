//! The email channel, through `frontdesk ingest-mail` (a mail server's pipe): first mail makes
//! a contact and a ticket, later mail from the same address (any case) attaches to it, replies
//! thread back, the same Message-ID is stored once, automatic mail is never acknowledged, and
//! awkward real-world messages are stored or quarantined with a reason.

use frontdesk::channels::email::ingest::{ingest, IngestContext, Outcome, Source};
use frontdesk::entities::{contact, message, outbox, ticket};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

use crate::helpers::TestApp;
use crate::mail::{last_mail_to, mail_to_saying, spawn_app_with_mail};

/// What `ingest-mail` did: its exit status and what it said on standard error.
pub struct Piped {
    pub status: i32,
    pub stderr: String,
}

/// Runs `frontdesk ingest-mail` on `database_url` with `raw` on standard input, as a mail
/// server's pipe transport would, with extra environment `env`. It stores the message itself
/// unless `env` names a running instance's mail socket (`FRONTDESK_MAIL_SOCKET`).
pub async fn pipe_with(database_url: &str, raw: &[u8], env: &[(&str, &str)]) -> Piped {
    pipe_as(None, database_url, raw, env).await
}

/// [`pipe_with`], run as the user `uid` (and the group of the same number) when given, as a
/// mail server runs its pipe as a user of its own; the tests run as root, who may.
pub async fn pipe_as(uid: Option<u32>, database_url: &str, raw: &[u8], env: &[(&str, &str)]) -> Piped {
    use std::io::Write;
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    let raw = raw.to_vec();
    let database_url = database_url.to_owned();
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    tokio::task::spawn_blocking(move || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_frontdesk"));
        if let Some(uid) = uid {
            command.uid(uid).gid(uid);
        }
        let mut child = command
            .arg("ingest-mail")
            .env("DATABASE_URL", database_url)
            .env("FRONTDESK_MAIL_FROM", "support@frontdesk.test")
            .env("FRONTDESK_BASE_URL", "http://help.frontdesk.test")
            .env("FRONTDESK_MAIL_SOCKET", "off")
            .env_remove("RUST_LOG")
            .envs(env)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start frontdesk ingest-mail");
        child.stdin.take().expect("stdin").write_all(&raw).expect("write the message");
        let out = child.wait_with_output().expect("ingest-mail ran");
        Piped { status: out.status.code().unwrap_or(-1), stderr: String::from_utf8_lossy(&out.stderr).into_owned() }
    })
    .await
    .expect("join")
}

/// How `ingest-mail` stores a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// Handed to the running app over its mail socket.
    Instance,
    /// Written to the database by `ingest-mail` itself, as when no instance runs.
    Itself,
}

/// Pipes `raw` to `app` the way `via` says; the message must be taken care of (exit status 0)
/// that way. Returns what `ingest-mail` said.
pub async fn pipe_via(app: &TestApp, raw: &[u8], via: Via) -> String {
    let socket = match via {
        Via::Instance => {
            app.state.settings.mail_socket_path().expect("the app has a mail socket").display().to_string()
        }
        Via::Itself => "off".to_owned(),
    };
    let out = pipe_with(&app.database_url, raw, &[("FRONTDESK_MAIL_SOCKET", &socket)]).await;
    assert_eq!(out.status, 0, "ingest-mail failed: {}", out.stderr);
    assert_eq!(out.stderr.contains("(by the running instance)"), via == Via::Instance, "{via:?}: {}", out.stderr);
    out.stderr
}

/// Pipes `raw` to the running `app`, as a mail server's pipe does when an instance runs.
pub async fn pipe(app: &TestApp, raw: &[u8]) -> String {
    pipe_via(app, raw, Via::Instance).await
}

/// A plain-text message; `headers` are added as they are (one per line).
pub fn message(from: &str, subject: &str, message_id: Option<&str>, headers: &str, body: &str) -> Vec<u8> {
    let mut text = format!("From: {from}\r\nTo: Support <support@frontdesk.test>\r\nSubject: {subject}\r\n");
    if let Some(id) = message_id {
        text.push_str(&format!("Message-ID: <{id}>\r\n"));
    }
    text.push_str("Date: Tue, 24 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n");
    for line in headers.lines().filter(|l| !l.is_empty()) {
        text.push_str(line);
        text.push_str("\r\n");
    }
    if !headers.to_ascii_lowercase().contains("content-type:") {
        text.push_str("Content-Type: text/plain; charset=utf-8\r\n");
    }
    text.push_str("\r\n");
    text.push_str(&body.replace('\n', "\r\n"));
    text.into_bytes()
}

async fn contacts_with(app: &TestApp, email: &str) -> Vec<contact::Model> {
    contact::Entity::find().filter(contact::Column::Email.eq(email)).all(&app.state.db.conn).await.expect("contacts")
}

pub async fn ticket_no(app: &TestApp, number: i64) -> ticket::Model {
    ticket::Entity::find()
        .filter(ticket::Column::Number.eq(number))
        .one(&app.state.db.conn)
        .await
        .expect("q")
        .expect("ticket")
}

async fn thread_of(app: &TestApp, number: i64) -> Vec<message::Model> {
    let t = ticket_no(app, number).await;
    message::Entity::find()
        .filter(message::Column::TicketId.eq(t.id))
        .order_by_asc(message::Column::Id)
        .all(&app.state.db.conn)
        .await
        .expect("thread")
}

#[tokio::test]
async fn a_first_mail_makes_a_contact_and_a_ticket_and_the_reply_to_the_acknowledgement_threads_back() {
    first_mail_story(Via::Instance).await;
}

#[tokio::test]
async fn the_same_story_when_ingest_mail_stores_the_mail_itself() {
    first_mail_story(Via::Itself).await;
}

/// The sentence from the docs, and the replies that follow it, piped `via`.
async fn first_mail_story(via: Via) {
    let (app, sink) = spawn_app_with_mail().await;
    let said = pipe_via(
        &app,
        &message(
            "\"Melissa Ortiz\" <melissa@example.com>",
            "Printer on fire",
            Some("m1@mail.example.com"),
            "",
            "It smokes.\n",
        ),
        via,
    )
    .await;
    assert!(said.contains("opened ticket #1001 for a new contact"), "{said}");
    let melissa = contacts_with(&app, "melissa@example.com").await;
    assert_eq!(melissa.len(), 1);
    assert_eq!((melissa[0].first_name.as_deref(), melissa[0].last_name.as_str()), (Some("Melissa"), "Ortiz"));
    assert_eq!(melissa[0].source, "email");
    assert_eq!(melissa[0].owner_id, None, "no contact owner is configured");
    let first = ticket_no(&app, 1001).await;
    assert_eq!(
        (first.contact_id, first.channel.as_str(), first.subject.as_str()),
        (Some(melissa[0].id), "email", "Printer on fire")
    );

    // The acknowledgement goes out from the support address, threaded under her mail.
    let ack = last_mail_to(&app, &sink, "melissa@example.com", "[#1001]").await;
    assert!(ack.header("From").unwrap_or_default().contains("support@frontdesk.test"), "{:?}", ack.header("From"));
    assert_eq!(ack.header("In-Reply-To").as_deref(), Some("<m1@mail.example.com>"));
    assert_eq!(ack.header("References").as_deref(), Some("<m1@mail.example.com>"));
    // Links point at the public URL of whoever stored the mail: the running instance's own,
    // or the one in the environment of `ingest-mail`.
    let public_url = match via {
        Via::Instance => app.state.public_url.clone(),
        Via::Itself => "http://help.frontdesk.test".to_owned(),
    };
    assert!(ack.body().contains(&format!("{public_url}/help/tickets/1001")), "{}", ack.body());
    let ack_id = ack.header("Message-ID").expect("Message-ID");

    // A second mail from the same address, in other case: a new ticket, the same contact.
    let again = message("MELISSA@Example.COM", "Another question", Some("m2@mail.example.com"), "", "Hi\n");
    let said = pipe_via(&app, &again, via).await;
    assert!(said.contains("opened ticket #1002,"), "{said}");
    assert_eq!(contacts_with(&app, "melissa@example.com").await.len(), 1);
    assert_eq!(ticket_no(&app, 1002).await.contact_id, Some(melissa[0].id));

    // Her reply to the acknowledgement lands in the first ticket's thread.
    let reply = message(
        "Melissa Ortiz <melissa@example.com>",
        "Re: [#1001] Printer on fire",
        Some("m3@mail.example.com"),
        &format!("In-Reply-To: {ack_id}\nReferences: <m1@mail.example.com> {ack_id}"),
        "Still burning.\n\nOn Tue, 24 Nov 2026, Support <support@frontdesk.test> wrote:\n> We have received your request.\n",
    );
    let said = pipe_via(&app, &reply, via).await;
    assert!(said.contains("added to ticket #1001"), "{said}");
    let thread = thread_of(&app, 1001).await;
    assert_eq!(thread.len(), 2);
    assert_eq!(thread[1].from_address.as_deref(), Some("melissa@example.com"));
    assert_eq!(app.count("tickets").await, 2);

    // The agent sees it, with the quoted history folded away.
    app.set_up_admin().await;
    let page = app.get("/agent/tickets/1001").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("Still burning."), "{}", page.text());
    assert_eq!(page.texts("details.quoted summary"), ["Show quoted text"]);
    assert!(page.texts(".message .meta").iter().any(|m| m.contains("melissa@example.com")));
    // Her contact's history tells how she came and what she wrote, a line each.
    let history = app.get(&format!("/agent/contacts/{}", melissa[0].id)).await.texts("ol.history li");
    let lines_saying = |what: &str| history.iter().filter(|l| l.contains(what)).count();
    assert_eq!(lines_saying("created the contact"), 1, "{history:?}");
    assert_eq!(lines_saying("changed Ticket #1001 from “” to “Created (Email)”"), 1, "{history:?}");
    assert_eq!(lines_saying("changed Ticket #1002 from “” to “Created (Email)”"), 1, "{history:?}");
    assert_eq!(lines_saying("changed Ticket #1001 from “” to “Customer replied by email”"), 1, "{history:?}");
    assert_eq!(history.len(), 4, "{history:?}");
    // And the agent finds her by her name and her address.
    for q in ["ortiz", "melissa@example.com"] {
        let found = app.get(&format!("/agent/contacts?q={q}")).await.texts("tbody td a");
        assert!(found.contains(&"Melissa Ortiz".to_owned()), "{q}: {found:?}");
    }

    // The agent's answer goes out from the support address with the thread's Message-IDs.
    let form = app
        .submit("/agent/tickets/1001", "/agent/tickets/1001/replies", &[("reply", "A technician is on the way.")])
        .await;
    assert_eq!(form.status, StatusCode::SEE_OTHER);
    let answer = mail_to_saying(&app, &sink, "melissa@example.com", "A technician is on the way.").await;
    assert_eq!(answer.header("In-Reply-To").as_deref(), Some("<m3@mail.example.com>"));
    assert!(answer.header("References").unwrap_or_default().contains("<m1@mail.example.com>"));

    // Her answer to that joins the thread by its headers alone, though her mail client dropped
    // the ticket number from the subject.
    let answer_id = answer.header("Message-ID").expect("Message-ID");
    let before = thread_of(&app, 1001).await.len();
    let thanks = message(
        "melissa@example.com",
        "Re: technician",
        Some("m4@mail.example.com"),
        &format!("In-Reply-To: {answer_id}"),
        "Thanks!\n",
    );
    let said = pipe_via(&app, &thanks, via).await;
    assert!(said.contains("added to ticket #1001"), "{said}");
    assert_eq!(thread_of(&app, 1001).await.len(), before + 1);
    assert_eq!(app.count("tickets").await, 2);
}

#[tokio::test]
async fn the_same_message_delivered_twice_is_stored_once() {
    let (app, _sink) = spawn_app_with_mail().await;
    let raw = message("ann@example.com", "Twice", Some("twice@mail.example.com"), "", "Once only.\n");
    pipe(&app, &raw).await;
    let said = pipe(&app, &raw).await;
    assert!(said.contains("already stored"), "{said}");
    assert_eq!(app.count("tickets").await, 1);
    assert_eq!(app.count("messages").await, 1);
    // Without a Message-ID the bytes themselves identify the message.
    let anonymous = message("ann@example.com", "No id", None, "", "Same bytes.\n");
    pipe(&app, &anonymous).await;
    let said = pipe(&app, &anonymous).await;
    assert!(said.contains("already stored"), "{said}");
    assert_eq!(app.count("tickets").await, 2);
}

#[tokio::test]
async fn fifty_first_mails_from_one_new_address_at_once_make_one_contact() {
    let (app, _sink) = spawn_app_with_mail().await;
    let ctx = IngestContext::new(&app.state.settings, &app.state.mailer, "http://help.frontdesk.test", "Acme".into());
    let mut tasks = Vec::new();
    for n in 0..50 {
        let (db, ctx) = (app.state.db.clone(), ctx.clone());
        tasks.push(tokio::spawn(async move {
            let raw = message(
                "Rush Hour <rush@example.com>",
                &format!("Question {n}"),
                Some(&format!("rush{n}@x.example.com")),
                "",
                "?\n",
            );
            ingest(&db, &ctx, &raw, Source::Pipe, chrono::Utc::now()).await.expect("ingest")
        }));
    }
    let mut opened = 0;
    for task in tasks {
        if matches!(task.await.expect("join"), Outcome::Opened { .. }) {
            opened += 1;
        }
    }
    assert_eq!(opened, 50);
    assert_eq!(contacts_with(&app, "rush@example.com").await.len(), 1);
    assert_eq!(app.count("contacts").await, 1);
    assert_eq!(app.count("tickets").await, 50);
}

#[tokio::test]
async fn first_mails_from_one_new_address_piped_by_separate_processes_at_once_make_one_contact() {
    // As a mail server delivers them: one `ingest-mail` process per message, several at once,
    // so that the race is between processes (and, on SQLite, the database file's own locks).
    piped_at_once(Via::Itself).await;
}

#[tokio::test]
async fn first_mails_from_one_new_address_handed_to_the_instance_at_once_make_one_contact() {
    piped_at_once(Via::Instance).await;
}

async fn piped_at_once(via: Via) {
    let (app, _sink) = spawn_app_with_mail().await;
    let deliveries = (0..8).map(|n| {
        let raw =
            message("Rush Hour <rush@example.com>", &format!("Q{n}"), Some(&format!("p{n}@x.example.com")), "", "?\n");
        let app = &app;
        async move { pipe_via(app, &raw, via).await }
    });
    for said in futures_util::future::join_all(deliveries).await {
        assert!(said.contains("opened ticket"), "{said}");
    }
    assert_eq!(contacts_with(&app, "rush@example.com").await.len(), 1);
    assert_eq!(app.count("tickets").await, 8);
}

#[tokio::test]
async fn one_message_delivered_by_several_processes_at_once_is_stored_once() {
    // Each process stores it itself, so on PostgreSQL the copies race to the unique index and
    // the losers must come out as "already stored", not as a failure the mail server retries.
    let (app, _sink) = spawn_app_with_mail().await;
    let raw = message("Dee <dee@example.com>", "Sent once", Some("once@mail.example.com"), "", "Only once.\n");
    let deliveries = (0..8).map(|_| pipe_via(&app, &raw, Via::Itself));
    let said = futures_util::future::join_all(deliveries).await;
    let opened = said.iter().filter(|s| s.contains("opened ticket")).count();
    let duplicates = said.iter().filter(|s| s.contains("already stored")).count();
    assert_eq!((opened, duplicates), (1, 7), "{said:#?}");
    assert_eq!(app.count("messages").await, 1);
    assert_eq!(app.count("tickets").await, 1);
    assert_eq!(app.count("contacts").await, 1);
}

/// The Settings → Channels → Email form for help@acme.example, filled in and saved.
fn support_address_form() -> Vec<(&'static str, &'static str)> {
    vec![
        ("address", "help@acme.example"),
        ("imap_host", "imap.acme.example"),
        ("imap_port", "993"),
        ("imap_security", "tls"),
        ("imap_user", "help"),
        ("imap_password", "hunter2"),
        ("folder", "INBOX"),
        ("poll_seconds", "60"),
        ("active", "on"),
        ("action", "save"),
    ]
}

#[tokio::test]
async fn piped_mail_to_a_configured_support_address_is_answered_from_it() {
    let (app, sink) = spawn_app_with_mail().await;
    app.set_up_admin().await;
    let fields = support_address_form();
    let page = app.submit("/agent/settings/channels/email/new", "/agent/settings/channels/email", &fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    // Written to the support address, and to it by an alias the mail server expanded.
    let direct = b"From: Ann <ann@example.com>\r\nTo: Acme Help <Help@Acme.example>\r\n\
        Subject: Direct\r\nMessage-ID: <d1@mail.example.com>\r\n\r\nHello\r\n";
    let alias = b"Delivered-To: help@acme.example\r\nFrom: Bo <bo@example.com>\r\n\
        To: team@acme.example\r\nSubject: Via the alias\r\nMessage-ID: <d2@mail.example.com>\r\n\r\nHi\r\n";
    pipe(&app, direct).await;
    pipe(&app, alias).await;
    for (number, customer) in [(1001, "ann@example.com"), (1002, "bo@example.com")] {
        assert_eq!(ticket_no(&app, number).await.support_address.as_deref(), Some("help@acme.example"));
        let ack = last_mail_to(&app, &sink, customer, &format!("[#{number}]")).await;
        assert!(ack.header("From").unwrap_or_default().contains("help@acme.example"), "{:?}", ack.header("From"));
        assert!(
            ack.header("Message-ID").unwrap_or_default().ends_with("@frontdesk.test>"),
            "{:?}",
            ack.header("Message-ID")
        );
    }
    // Mail to the default address (FRONTDESK_MAIL_FROM) is answered from that one.
    pipe(&app, &message("cy@example.com", "Elsewhere", Some("d3@mail.example.com"), "", "Hey\n")).await;
    assert_eq!(ticket_no(&app, 1003).await.support_address.as_deref(), Some("support@frontdesk.test"));
    let ack = last_mail_to(&app, &sink, "cy@example.com", "[#1003]").await;
    assert!(ack.header("From").unwrap_or_default().contains("support@frontdesk.test"), "{:?}", ack.header("From"));
}

#[tokio::test]
async fn a_ticket_token_counts_only_from_the_contact_or_a_participant() {
    let (app, _sink) = spawn_app_with_mail().await;
    pipe(
        &app,
        &message(
            "Pat <pat@example.com>",
            "Invoice wrong",
            Some("p1@x.example.com"),
            "Cc: Cory <cory@example.com>",
            "See attached.\n",
        ),
    )
    .await;
    // A stranger cannot write into Pat's ticket by quoting its number.
    let said =
        pipe(&app, &message("mallory@evil.example.com", "[#1001] let me in", Some("e1@x.example.com"), "", "hi\n"))
            .await;
    assert!(said.contains("opened ticket #1002"), "{said}");
    // The colleague Pat copied can.
    let said = pipe(
        &app,
        &message("cory@example.com", "Re: [#1001] Invoice wrong", Some("c1@x.example.com"), "", "Adding the PO.\n"),
    )
    .await;
    assert!(said.contains("added to ticket #1001"), "{said}");
    // And Pat, from a client that dropped the threading headers.
    let said = pipe(
        &app,
        &message("pat@example.com", "Re: [#1001] Invoice wrong", Some("p2@x.example.com"), "", "Any news?\n"),
    )
    .await;
    assert!(said.contains("added to ticket #1001"), "{said}");
    assert_eq!(thread_of(&app, 1001).await.len(), 3);
    assert_eq!(thread_of(&app, 1002).await.len(), 1);
}

#[tokio::test]
async fn the_quoted_history_of_an_html_reply_is_folded_on_the_ticket() {
    let (app, _sink) = spawn_app_with_mail().await;
    let html = "<div dir=\"ltr\">The fix worked, thanks.</div><br><div class=\"gmail_quote\">\
                <div class=\"gmail_attr\">On Mon, Support wrote:<br></div>\
                <blockquote class=\"gmail_quote\">Did the fix work?</blockquote></div>\n";
    let mail = message("ann@example.com", "Fixed", Some("ann1@x"), "Content-Type: text/html; charset=utf-8", html);
    assert!(pipe(&app, &mail).await.contains("opened ticket #1001"));
    app.set_up_admin().await;
    let page = app.get("/agent/tickets/1001").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.texts("details.quoted summary"), ["Show quoted text"]);
    let folded = page.texts("details.quoted").join(" ");
    assert!(folded.contains("Did the fix work?"), "{folded}");
    assert!(!folded.contains("The fix worked"), "{folded}");
    assert!(page.text().contains("The fix worked, thanks."));
}

#[tokio::test]
async fn a_reply_reopens_a_closed_ticket_and_an_auto_reply_does_not() {
    let (app, _sink) = spawn_app_with_mail().await;
    pipe(&app, &message("olga@example.com", "Login", Some("o1@x.example.com"), "", "Cannot log in.\n")).await;
    let t = ticket_no(&app, 1001).await;
    frontdesk::services::tickets::thread::contact_close(
        &app.state.db,
        t.contact_id.expect("a contact"),
        1001,
        chrono::Utc::now(),
    )
    .await
    .expect("close");
    let auto = message(
        "olga@example.com",
        "Out of office",
        Some("o2@x.example.com"),
        "Auto-Submitted: auto-replied\nIn-Reply-To: <o1@x.example.com>",
        "Back Monday.\n",
    );
    assert!(pipe(&app, &auto).await.contains("added to ticket #1001"));
    assert_eq!(ticket_no(&app, 1001).await.status, "Closed");
    let human = message(
        "olga@example.com",
        "Re: Login",
        Some("o3@x.example.com"),
        "In-Reply-To: <o1@x.example.com>",
        "It broke again.\n",
    );
    assert!(pipe(&app, &human).await.contains("added to ticket #1001"));
    assert_eq!(ticket_no(&app, 1001).await.status, "Open");
}

#[tokio::test]
async fn automatic_mail_is_never_acknowledged_and_acknowledgements_per_sender_are_limited() {
    let (app, _sink) = spawn_app_with_mail().await;
    let two = [("FRONTDESK_ACKS_PER_HOUR", "2")];
    for n in 1..=3 {
        let raw =
            message("eager@example.com", &format!("Question {n}"), Some(&format!("q{n}@x.example.com")), "", "?\n");
        assert_eq!(pipe_with(&app.database_url, &raw, &two).await.status, 0);
    }
    let acks = |to: &'static str| {
        outbox::Entity::find()
            .filter(outbox::Column::ToAddress.eq(to))
            .filter(outbox::Column::Kind.eq("acknowledgement"))
            .count(&app.state.db.conn)
    };
    assert_eq!(acks("eager@example.com").await.expect("count"), 2);
    assert_eq!(app.count("tickets").await, 3);
    // The brake is per sender: someone else writing now is still acknowledged.
    let other = message("calm@example.com", "Question", Some("c1@x.example.com"), "", "?\n");
    assert!(pipe_with(&app.database_url, &other, &two).await.stderr.contains("acknowledgement queued"));
    // And per hour: once the first two are more than an hour old, the next one is acknowledged.
    outbox::Entity::update_many()
        .col_expr(
            outbox::Column::CreatedAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::minutes(61)),
        )
        .filter(outbox::Column::ToAddress.eq("eager@example.com"))
        .exec(&app.state.db.conn)
        .await
        .expect("back-date");
    let later = message("eager@example.com", "Question 4", Some("q4@x.example.com"), "", "?\n");
    assert!(pipe_with(&app.database_url, &later, &two).await.stderr.contains("acknowledgement queued"));
    assert_eq!(acks("eager@example.com").await.expect("count"), 3);
    assert_eq!(acks("calm@example.com").await.expect("count"), 1);
    for (from, header) in [
        ("ooo@example.com", "Auto-Submitted: auto-replied"),
        ("news@example.com", "Precedence: bulk\nList-Id: <news.example.com>"),
        ("no-reply@shop.example.com", ""),
    ] {
        let said = pipe(&app, &message(from, "Automatic", Some(&format!("{from}.1@x")), header, "Robot text.\n")).await;
        assert!(said.contains("not acknowledged"), "{from}: {said}");
    }
    assert_eq!(outbox::Entity::find().count(&app.state.db.conn).await.expect("count"), 4);
}

#[tokio::test]
async fn ingest_mail_asks_the_mail_server_to_retry_when_the_database_is_down() {
    let raw = message("late@example.com", "Hello", Some("late@x.example.com"), "", "Anyone?\n");
    let out = pipe_with("postgres://postgres@127.0.0.1:1/nowhere", &raw, &[]).await;
    assert_eq!(out.status, 75, "{}", out.stderr);
    assert!(out.stderr.contains("database is unavailable, try again later"), "{}", out.stderr);
}

/// The running instance's database made unreachable from outside, as an outage would: on
/// SQLite another process holds the write lock; on PostgreSQL the database stops taking
/// connections and the instance's are cut.
enum Outage {
    Sqlite(sea_orm::sqlx::SqliteConnection),
    Postgres { admin: sea_orm::DatabaseConnection, database: String },
}

impl Outage {
    async fn start(database_url: &str) -> Self {
        use sea_orm::sqlx::Connection;
        use sea_orm::ConnectionTrait;
        if database_url.starts_with("sqlite:") {
            let mut holder = sea_orm::sqlx::SqliteConnection::connect(database_url).await.expect("connect");
            sea_orm::sqlx::query("BEGIN IMMEDIATE").execute(&mut holder).await.expect("take the write lock");
            return Self::Sqlite(holder);
        }
        let base = std::env::var("TEST_DATABASE_URL").expect("PostgreSQL tests run with TEST_DATABASE_URL");
        let admin = sea_orm::Database::connect(&base).await.expect("connect as admin");
        let database = database_url.rsplit_once('/').expect("a database name").1.to_owned();
        for sql in [
            format!("ALTER DATABASE {database} ALLOW_CONNECTIONS false"),
            format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'"),
        ] {
            admin.execute_unprepared(&sql).await.expect("cut the database off");
        }
        Self::Postgres { admin, database }
    }

    async fn end(self) {
        use sea_orm::ConnectionTrait;
        match self {
            Self::Sqlite(mut holder) => {
                sea_orm::sqlx::query("ROLLBACK").execute(&mut holder).await.expect("release the lock");
            }
            Self::Postgres { admin, database } => {
                admin
                    .execute_unprepared(&format!("ALTER DATABASE {database} ALLOW_CONNECTIONS true"))
                    .await
                    .expect("reopen the database");
            }
        }
    }
}

/// The tickets, and the contacts with address `email`, in the database at `url`, counted on a
/// connection of the test's own (the app's pool may still hold connections the outage cut).
async fn stored_in(url: &str, email: &str) -> (u64, u64) {
    let conn = sea_orm::Database::connect(url).await.expect("connect");
    let tickets = ticket::Entity::find().count(&conn).await.expect("count");
    let contacts = contact::Entity::find().filter(contact::Column::Email.eq(email)).count(&conn).await.expect("count");
    conn.close().await.ok();
    (tickets, contacts)
}

#[tokio::test]
async fn ingest_mail_asks_the_mail_server_to_retry_when_the_running_instance_cannot_store() {
    let (app, _sink) = spawn_app_with_mail().await;
    let socket = app.state.settings.mail_socket_path().expect("a mail socket").display().to_string();
    let raw = message("patient@example.com", "Hello", Some("patient@x.example.com"), "", "Anyone there?\n");
    let outage = Outage::start(&app.database_url).await;
    let out = pipe_with(&app.database_url, &raw, &[("FRONTDESK_MAIL_SOCKET", &socket)]).await;
    assert_eq!(out.status, 75, "EX_TEMPFAIL, so that the mail server keeps the message: {}", out.stderr);
    assert!(out.stderr.contains("database is unavailable, try again later"), "{}", out.stderr);
    outage.end().await;
    assert_eq!(stored_in(&app.database_url, "patient@example.com").await, (0, 0), "nothing stored during the outage");
    // The mail server retries until the message is taken; the instance's pool may first have
    // to drop connections the outage cut (one failed attempt each), then the message is stored.
    let mut tries = vec![];
    for _ in 0..8 {
        let out = pipe_with(&app.database_url, &raw, &[("FRONTDESK_MAIL_SOCKET", &socket)]).await;
        tries.push(out.status);
        if out.status == 0 {
            assert!(out.stderr.contains("for a new contact"), "{}", out.stderr);
            assert!(out.stderr.contains("(by the running instance)"), "{}", out.stderr);
            break;
        }
        assert_eq!(out.status, 75, "a retry is only ever put off: {}", out.stderr);
    }
    assert_eq!(tries.last(), Some(&0), "taken in the end: {tries:?}");
    assert_eq!(stored_in(&app.database_url, "patient@example.com").await, (1, 1), "stored once");
}

#[tokio::test]
async fn ingest_mail_never_creates_a_database_where_none_is() {
    // A pipe transport started without DATABASE_URL (or with a typo in it) must not store
    // mail in a new empty file that no instance serves: the mail server keeps it and retries.
    let dir = std::env::temp_dir().join(format!("fdt-missing-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("frontdesk.db");
    let raw = message("lost@example.com", "Hello", Some("lost@x.example.com"), "", "Anyone?\n");
    let out = pipe_with(&format!("sqlite://{}", file.display()), &raw, &[]).await;
    assert_eq!(out.status, 75, "{}", out.stderr);
    assert!(out.stderr.contains("try again later"), "{}", out.stderr);
    assert!(!file.exists(), "no database file was created");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn a_socket_left_by_a_stopped_instance_loses_no_mail_and_the_next_instance_takes_it_over() {
    let (app, _sink) = spawn_app_with_mail().await;
    // What an instance that was killed leaves behind: the socket file, with no one listening.
    let socket = std::env::temp_dir().join(format!("fdt-stale-{}.sock", uuid::Uuid::new_v4().simple()));
    drop(std::os::unix::net::UnixListener::bind(&socket).expect("bind"));
    assert!(socket.exists());
    let path = socket.display().to_string();
    let first = message("Stan <stan@example.com>", "Anyone home?", Some("stan1@x.example.com"), "", "Hello?\n");
    let out = pipe_with(&app.database_url, &first, &[("FRONTDESK_MAIL_SOCKET", &path)]).await;
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stderr.contains("opened ticket #1001") && !out.stderr.contains("running instance"), "{}", out.stderr);

    // An instance started on that path takes the socket over and the next mail goes to it.
    let _next = app.second_instance_with(|s| s.mail_socket = Some(path.clone())).await;
    let second = message("Stan <stan@example.com>", "Still there?", Some("stan2@x.example.com"), "", "Hello?\n");
    let out = pipe_with(&app.database_url, &second, &[("FRONTDESK_MAIL_SOCKET", &path)]).await;
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("opened ticket #1002") && out.stderr.contains("(by the running instance)"),
        "{}",
        out.stderr
    );
    assert_eq!(contacts_with(&app, "stan@example.com").await.len(), 1);
    std::fs::remove_file(&socket).ok();
}

#[tokio::test]
async fn a_served_instance_takes_piped_mail_beside_its_sqlite_file_and_removes_the_socket_when_stopped() {
    // The real binary, as `cargo run --release` starts it, with no mail setting at all.
    let dir = std::env::temp_dir().join(format!("fdt-serve-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let url = format!("sqlite://{}", dir.join("frontdesk.db").display());
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_frontdesk"))
        .env("DATABASE_URL", &url)
        .env("FRONTDESK_LISTEN", "127.0.0.1:0")
        .env("FRONTDESK_LOG", "warn")
        .env_remove("FRONTDESK_MAIL_SOCKET")
        .spawn()
        .expect("start frontdesk");
    let socket = dir.join("frontdesk.db-mail.sock");
    for _ in 0..300 {
        if socket.exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(socket.exists(), "no mail socket beside the database");
    let path = socket.display().to_string();
    let raw = message("Sam <sam@example.com>", "Hello", Some("sam1@x.example.com"), "", "Hi\n");
    let out = pipe_with(&url, &raw, &[("FRONTDESK_MAIL_SOCKET", &path)]).await;
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("opened ticket #1001") && out.stderr.contains("(by the running instance)"),
        "{}",
        out.stderr
    );

    // Stopped as a service manager stops it: the socket goes with it, and the next mail is
    // stored by `ingest-mail` itself.
    let killed = std::process::Command::new("kill").args(["-TERM", &server.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    let stopped = tokio::task::spawn_blocking(move || server.wait()).await.expect("join").expect("wait");
    assert!(stopped.success(), "{stopped:?}");
    assert!(!socket.exists(), "the socket file is removed");
    let raw = message("Sam <sam@example.com>", "Again", Some("sam2@x.example.com"), "", "Hi\n");
    let out = pipe_with(&url, &raw, &[("FRONTDESK_MAIL_SOCKET", &path)]).await;
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stderr.contains("opened ticket #1002") && !out.stderr.contains("running instance"), "{}", out.stderr);
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn the_running_instance_applies_its_own_size_limit_to_piped_mail() {
    let (app, _sink) = crate::mail::spawn_app_with_mail_and(|s| s.max_mail_mb = 1).await;
    let socket = app.state.settings.mail_socket_path().expect("socket").display().to_string();
    let long = raw(&format!("From: big@example.com\nSubject: Scan\nMessage-ID: <scan@x>\n\n{}\n", "x".repeat(3 << 20)));
    // The pipe's own environment allows 25 MB; the instance that stores the mail allows 1 MB.
    let env = [("FRONTDESK_MAIL_SOCKET", socket.as_str()), ("FRONTDESK_MAX_MAIL_MB", "25")];
    let out = pipe_with(&app.database_url, &long, &env).await;
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stderr.contains("quarantined") && out.stderr.contains("the limit is 1.0 MB"), "{}", out.stderr);
    assert!(out.stderr.contains("(by the running instance)"), "{}", out.stderr);
    let held = quarantined(&app).await;
    assert_eq!(held.len(), 1);
    assert!(!held[0].whole && held[0].raw.starts_with(b"From: big@example.com") && held[0].raw.len() < 1024);
    assert!(held[0].reason.contains("The message is 3.0 MB") && held[0].reason.contains("Only its headers were kept"));
    assert_eq!(app.count("tickets").await, 0);
    // A mail within the limit still goes through the same socket.
    pipe(&app, &message("small@example.com", "Small", Some("small@x"), "", "Fits.\n")).await;
    assert_eq!(app.count("tickets").await, 1);
}

/// A MIME message from its raw lines (`\n` becomes CRLF).
pub fn raw(text: &str) -> Vec<u8> {
    text.replace("\r\n", "\n").replace('\n', "\r\n").into_bytes()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    encoded.as_bytes().chunks(76).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join("\n")
}

async fn quarantined(app: &TestApp) -> Vec<frontdesk::entities::quarantine::Model> {
    frontdesk::entities::quarantine::Entity::find().all(&app.state.db.conn).await.expect("quarantine")
}

/// The file attached to the corpus's "attachment" message.
pub fn corpus_pdf() -> Vec<u8> {
    b"%PDF-1.4\n% a tiny file\n".repeat(10)
}

/// Awkward real-world messages that must each become a ticket: multipart/alternative, only
/// (hostile) HTML, base64 and quoted-printable bodies, ISO-8859-1 and Shift_JIS subjects, no
/// display name, an attachment, no Message-ID, an auto-reply, NUL characters.
pub fn awkward_corpus() -> Vec<(&'static str, Vec<u8>)> {
    let pdf = corpus_pdf();
    vec![
        ("alternative", raw(
            "From: Alt Person <alt@example.com>\nSubject: Alternative\nMessage-ID: <alt@x>\nMIME-Version: 1.0\n\
             Content-Type: multipart/alternative; boundary=\"b1\"\n\n--b1\nContent-Type: text/plain; charset=utf-8\n\n\
             The plain part.\n--b1\nContent-Type: text/html; charset=utf-8\n\n<p>The <b>HTML</b> part.</p>\n--b1--\n",
        )),
        ("html only, hostile", raw(
            "From: html@example.com\nSubject: Only HTML\nMessage-ID: <html@x>\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n\
             <html><head><style>.x{display:none}</style><script>alert('mail')</script></head><body>\
             <p onclick=\"alert('click')\">Visible words</p><div style=\"display:none\">hidden words</div>\
             <img src=\"https://tracker.example.com/pixel.gif\" onerror=\"alert('img')\" alt=\"pixel\">\
             <a href=\"javascript:alert('link')\">bad link</a></body></html>\n",
        )),
        ("base64 body", raw(&format!(
            "From: b64@example.com\nSubject: Base64\nMessage-ID: <b64@x>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\
             Content-Transfer-Encoding: base64\n\n{}\n",
            b64("Grüße aus Köln".as_bytes())
        ))),
        ("quoted-printable latin-1 body", raw(
            "From: qp@example.com\nSubject: =?ISO-8859-1?Q?Caf=E9_cr=E8me?=\nMessage-ID: <qp@x>\nMIME-Version: 1.0\n\
             Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nUn caf=E9 s'il vous pla=EEt.\n",
        )),
        ("shift_jis subject", raw(
            "From: =?Shift_JIS?B?k/qWe4zq?= <jp@example.com>\nSubject: =?Shift_JIS?B?k/qWe4zq?=\nMessage-ID: <jp@x>\n\nkonnichiwa\n",
        )),
        ("no display name", raw("From: kim.lee@example.com\nSubject: Bare address\nMessage-ID: <bare@x>\n\nHello\n")),
        ("attachment", raw(&format!(
            "From: files@example.com\nSubject: With a file\nMessage-ID: <file@x>\nMIME-Version: 1.0\n\
             Content-Type: multipart/mixed; boundary=\"m\"\n\n--m\nContent-Type: text/plain\n\nSee the invoice.\n\
             --m\nContent-Type: application/pdf; name=\"invoice.pdf\"\nContent-Disposition: attachment; filename=\"invoice.pdf\"\n\
             Content-Transfer-Encoding: base64\n\n{}\n--m--\n",
            b64(&pdf)
        ))),
        ("no message id", raw("From: noid@example.com\nSubject: No id\n\nBody\n")),
        ("auto-reply", raw("From: away@example.com\nSubject: Automatic reply: hi\nAuto-Submitted: auto-replied\nMessage-ID: <away@x>\n\nI am away.\n")),
        // NUL characters, which PostgreSQL cannot store, in the subject and the body.
        ("nul bytes", raw("From: nul@example.com\nSubject: =?utf-8?Q?half=00way?=\nMessage-ID: <nul@x>\n\nbefore\0after\n")),
    ]
}

#[tokio::test]
async fn awkward_real_world_mail_is_stored_or_quarantined_with_a_reason() {
    let (app, sink) = spawn_app_with_mail().await;
    app.set_up_admin().await;
    let pdf = corpus_pdf();
    let corpus = awkward_corpus();
    for (name, bytes) in &corpus {
        let said = pipe(&app, bytes).await;
        assert!(said.contains("opened ticket"), "{name}: {said}");
    }
    let subjects: Vec<String> = ticket::Entity::find()
        .order_by_asc(ticket::Column::Number)
        .all(&app.state.db.conn)
        .await
        .expect("tickets")
        .into_iter()
        .map(|t| t.subject)
        .collect();
    assert_eq!(
        subjects,
        [
            "Alternative",
            "Only HTML",
            "Base64",
            "Café crème",
            "日本語",
            "Bare address",
            "With a file",
            "No id",
            "Automatic reply: hi",
            "half way"
        ]
    );
    let bodies: Vec<String> = message::Entity::find()
        .order_by_asc(message::Column::Id)
        .all(&app.state.db.conn)
        .await
        .expect("messages")
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert_eq!(bodies[0].trim(), "The plain part.");
    assert!(bodies[1].contains("Visible words"), "{}", bodies[1]);
    assert_eq!(bodies[2].trim(), "Grüße aus Köln");
    assert_eq!(bodies[3].trim(), "Un café s'il vous plaît.");
    assert_eq!(contacts_with(&app, "kim.lee@example.com").await[0].last_name, "kim.lee");
    assert_eq!(contacts_with(&app, "jp@example.com").await[0].last_name, "日本語");

    // The hostile HTML reaches the page without a script, a handler, a hidden block or a pixel.
    let page = app.get("/agent/tickets/1002").await;
    let body = page.texts(".message .body.html").join(" ");
    assert!(body.contains("Visible words"), "{}", page.html);
    for bad in
        ["alert(", "onerror", "onclick", "javascript:", "display:none", "tracker.example.com/pixel.gif\" alt", "<img"]
    {
        assert!(!page.html.contains(bad), "{bad} reached the page");
    }
    assert!(page.html.contains("href=\"https://tracker.example.com/pixel.gif\""), "the image is a link to click");
    assert!(page.text().contains("Show image: pixel"));
    // Nor through the sender's own Help Center page.
    let html_sender = contacts_with(&app, "html@example.com").await[0].id;
    let customer = crate::help_center::invite_and_join(&app, &sink, html_sender, "html@example.com").await;
    let page = customer.get("/help/tickets/1002").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("Visible words"), "{}", page.html);
    for bad in ["alert(", "onerror", "onclick", "javascript:", "display:none", "<img"] {
        assert!(!page.html.contains(bad), "{bad} reached the Help Center page");
    }
    // Of multipart/alternative both parts are kept: the text, and the HTML for display.
    let alternative = message::Entity::find().order_by_asc(message::Column::Id).one(&app.state.db.conn).await;
    let html = alternative.expect("q").expect("first message").body_html.unwrap_or_default();
    assert!(html.contains("<b>HTML</b>"), "{html}");

    // The file is listed and downloads as an attachment with its type.
    let page = app.get("/agent/tickets/1007").await;
    let link = page
        .doc()
        .select(&scraper::Selector::parse("ul.files a").expect("sel"))
        .next()
        .expect("file link")
        .value()
        .attr("href")
        .expect("href")
        .to_owned();
    assert!(page.texts("ul.files li").join(" ").contains("invoice.pdf"));
    let response = app.client.get(app.url(&link)).send().await.expect("download");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert!(response.headers()["content-disposition"]
        .to_str()
        .expect("ascii")
        .starts_with("attachment; filename=\"invoice.pdf\""));
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.bytes().await.expect("bytes").as_ref(), pdf.as_slice());
    // Not to someone without a session.
    let stranger = app.new_client();
    let refused = stranger.client.get(app.url(&link)).send().await.expect("get");
    assert_eq!(refused.status(), StatusCode::SEE_OTHER, "to the login page");
    assert!(!refused.bytes().await.expect("body").windows(8).any(|w| w == b"%PDF-1.4"));

    // What cannot become a ticket is kept with the reason; none of it stops the next mail.
    let one_mb = [("FRONTDESK_MAX_ATTACHMENT_MB", "1"), ("FRONTDESK_MAX_MAIL_MB", "3")];
    let big_file = raw(&format!(
        "From: big@example.com\nSubject: Huge\nMessage-ID: <big@x>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"m\"\n\n\
         --m\nContent-Type: text/plain\n\nsee file\n--m\nContent-Type: application/octet-stream; name=\"disk.img\"\n\
         Content-Transfer-Encoding: base64\n\n{}\n--m--\n",
        b64(&vec![7u8; 1536 * 1024])
    ));
    let rejects: Vec<(&str, Vec<u8>, &str)> = vec![
        ("huge attachment", big_file, "the limit per file is 1.0 MB"),
        ("too large", raw(&format!("From: big2@example.com\nSubject: Long\n\n{}\n", "x".repeat(4 * 1024 * 1024))), "the limit is 3.0 MB"),
        ("bounce", raw(
            "From: MAILER-DAEMON@mx.example.com\nSubject: Undelivered Mail Returned to Sender\nMessage-ID: <bounce@x>\nMIME-Version: 1.0\n\
             Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\n\n--r\nContent-Type: text/plain\n\n\
             Delivery failed.\n--r\nContent-Type: message/delivery-status\n\nStatus: 5.1.1\n--r--\n",
        ), "bounce"),
        ("no sender", raw("Subject: Who am I\nMessage-ID: <nofrom@x>\n\nbody\n"), "no sender"),
        ("garbage", vec![0u8, 159, 146, 150, 255, 0, 10, 13, 10], "not an email message"),
        ("loop", raw("From: support@frontdesk.test\nSubject: Echo\nMessage-ID: <loop@x>\n\nbody\n"), "mail loop"),
    ];
    for (name, bytes, reason) in &rejects {
        let out = pipe_with(&app.database_url, bytes, &one_mb).await;
        assert_eq!(out.status, 0, "{name}: {}", out.stderr);
        assert!(
            out.stderr.contains("quarantined") && out.stderr.to_lowercase().contains(&reason.to_lowercase()),
            "{name}: {}",
            out.stderr
        );
    }
    let held = quarantined(&app).await;
    assert_eq!(held.len(), rejects.len());
    assert!(held.iter().all(|q| q.source == "pipe" && !q.raw.is_empty()));
    // Of a mail over the size limit only the headers are kept, and the reason says so.
    let long = held.iter().find(|q| q.sender.as_deref() == Some("big2@example.com")).expect("the long one");
    assert!(long.raw.len() < 1024 && long.raw.starts_with(b"From: big2@example.com"), "{} bytes", long.raw.len());
    assert!(long.reason.contains("Only its headers were kept"), "{}", long.reason);
    assert_eq!(app.count("tickets").await, 10);
}

#[tokio::test]
async fn administrators_retry_discard_and_download_quarantined_mail() {
    let (app, _sink) = spawn_app_with_mail().await;
    app.set_up_admin().await;
    let big = raw(&format!(
        "From: big@example.com\nSubject: Disk image\nMessage-ID: <img@x>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"m\"\n\n\
         --m\nContent-Type: text/plain\n\nsee file\n--m\nContent-Type: application/octet-stream; name=\"disk.img\"\n\
         Content-Transfer-Encoding: base64\n\n{}\n--m--\n",
        b64(&vec![7u8; 1536 * 1024])
    ));
    // Quarantined by an instance with a 1 MB limit per file...
    assert_eq!(pipe_with(&app.database_url, &big, &[("FRONTDESK_MAX_ATTACHMENT_MB", "1")]).await.status, 0);
    let garbage = b"\x00\x01 not mail at all".to_vec();
    pipe(&app, &garbage).await;
    let page = app.get("/agent/settings/channels/email").await;
    assert!(page.text().contains("2 messages could not be ingested"), "{}", page.text());
    let page = app.get("/agent/settings/channels/email/quarantine").await;
    assert_eq!(page.status, StatusCode::OK);
    let rows = page.texts("table.quarantine tbody tr");
    assert_eq!(rows.len(), 2);
    assert!(rows
        .iter()
        .any(|r| r.contains("big@example.com") && r.contains("Disk image") && r.contains("limit per file")));
    let held = quarantined(&app).await;
    let (image, junk) = if held[0].sender.is_some() { (&held[0], &held[1]) } else { (&held[1], &held[0]) };

    // Downloading gives the message exactly as it came.
    let response = app
        .client
        .get(app.url(&format!("/agent/settings/channels/email/quarantine/{}/message.eml", junk.id)))
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.bytes().await.expect("bytes").as_ref(), garbage.as_slice());

    // ...retried by this one, whose limit is 10 MB: it becomes a ticket and leaves the list.
    let quarantine = "/agent/settings/channels/email/quarantine";
    let page = app.submit(quarantine, &format!("{quarantine}/{}/retry", image.id), &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(app.get(quarantine).await.text().contains("Ingested: opened ticket #1001"));
    assert_eq!(app.count("tickets").await, 1);
    assert_eq!(app.count("attachments").await, 1);
    // The junk stays, with one more attempt, until it is discarded.
    app.submit(quarantine, &format!("{quarantine}/{}/retry", junk.id), &[]).await;
    assert!(app.get(quarantine).await.text().contains("Still cannot be ingested"));
    assert_eq!(quarantined(&app).await[0].attempts, 2);
    app.submit(quarantine, &format!("{quarantine}/{}/discard", junk.id), &[]).await;
    assert!(quarantined(&app).await.is_empty());
    assert!(app.get(quarantine).await.text().contains("No message is waiting"));

    // Only administrators, and only with a session.
    let stranger = app.new_client();
    assert_eq!(stranger.get(quarantine).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_quarantine_pages_through_older_messages() {
    let (app, _sink) = spawn_app_with_mail().await;
    app.set_up_admin().await;
    for n in 1..=60 {
        let raw = format!("From: sender{n}@example.com\r\nSubject: Broken {n}\r\n\r\nx");
        frontdesk::channels::email::ingest::quarantine::store(
            &app.state.db,
            raw.as_bytes(),
            "Test",
            "pipe",
            true,
            chrono::Utc::now(),
        )
        .await
        .expect("store");
    }
    assert!(app.get("/agent/settings/channels/email").await.text().contains("60 messages could not be ingested"));
    let quarantine = "/agent/settings/channels/email/quarantine";
    let first = app.get(quarantine).await;
    let rows = first.texts("table.quarantine tbody tr");
    assert_eq!(rows.len(), 50);
    assert!(rows[0].contains("Broken 60") && rows[49].contains("Broken 11"), "{} / {}", rows[0], rows[49]);
    let older = app.link_to(quarantine, "nav.pager a", "Older messages").await;
    let second = app.get(&older).await;
    let rows = second.texts("table.quarantine tbody tr");
    assert_eq!(rows.len(), 10);
    assert!(rows[0].contains("Broken 10") && rows[9].contains("Broken 1"), "{} / {}", rows[0], rows[9]);
    assert!(!second.has("nav.pager a"));
    // Past the oldest (the rest was discarded meanwhile): said so, with the way back.
    let past = app.get(&format!("{quarantine}?older=1")).await;
    assert!(!past.has("table.quarantine"));
    assert!(past.text().contains("No older message is waiting"), "{}", past.text());
    assert_eq!(app.link_to(&format!("{quarantine}?older=1"), "p.muted a", "Back to the newest").await, quarantine);
    assert_eq!(app.get(&format!("{quarantine}?older=abc")).await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn mail_kept_as_headers_only_cannot_be_retried_into_an_empty_ticket() {
    let (app, _sink) = spawn_app_with_mail().await;
    app.set_up_admin().await;
    let long = raw(&format!("From: big@example.com\nSubject: Scan\nMessage-ID: <scan@x>\n\n{}\n", "x".repeat(2 << 20)));
    assert_eq!(pipe_with(&app.database_url, &long, &[("FRONTDESK_MAX_MAIL_MB", "1")]).await.status, 0);
    let held = quarantined(&app).await;
    assert_eq!(held.len(), 1);
    assert!(!held[0].whole && held[0].raw.len() < 1024);

    let quarantine = "/agent/settings/channels/email/quarantine";
    let page = app.get(quarantine).await;
    let row = page.texts("table.quarantine tbody tr").join(" ");
    assert!(row.contains("Headers only") && !row.contains("Retry"), "{row}");
    // A crafted retry (with the page's CSRF token) is refused with the reason; the headers stay.
    let discard = format!("{quarantine}/{}/discard", held[0].id);
    let token = crate::helpers::form_values(&page.html, &discard);
    let token: Vec<(&str, &str)> = token.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let page = app.post_raw(&format!("{quarantine}/{}/retry", held[0].id), &token).await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(page.text().contains("Only the headers of this message were kept"), "{}", page.text());
    assert_eq!(app.count("tickets").await, 0);
    assert_eq!(quarantined(&app).await.len(), 1);
}

#[tokio::test]
async fn the_support_address_form_keeps_the_input_and_refuses_bad_values() {
    let (app, _sink) = spawn_app_with_mail().await;
    app.set_up_admin().await;
    let page = app
        .submit(
            "/agent/settings/channels/email/new",
            "/agent/settings/channels/email",
            &[
                ("address", "not an address"),
                ("imap_host", "imap.example.com"),
                ("imap_port", "99999"),
                ("imap_security", "tls"),
                ("imap_user", "help"),
                ("imap_password", "hunter2"),
                ("folder", "INBOX"),
                ("poll_seconds", "5"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.field_error("address").is_some() && page.field_error("imap_port").is_some());
    assert!(page.field_error("poll_seconds").is_some());
    assert_eq!(page.value_of("imap_host").as_deref(), Some("imap.example.com"));
    assert!(!page.html.contains("hunter2"), "a password is never sent back");
    assert_eq!(app.count("mailboxes").await, 0);

    // Saved (saving does not connect), then pointed at another server without the password:
    // the stored password is not handed to the new server.
    let mut fields = support_address_form();
    let page = app.submit("/agent/settings/channels/email/new", "/agent/settings/channels/email", &fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let id = frontdesk::entities::mailbox::Entity::find().one(&app.state.db.conn).await.expect("q").expect("saved").id;
    let edit = format!("/agent/settings/channels/email/{id}");
    fields[5] = ("imap_password", "");
    fields[1] = ("imap_host", "attacker.example.net");
    fields[3] = ("imap_security", "none");
    for action in ["test", "save"] {
        fields[9] = ("action", action);
        let page = app.submit(&edit, &edit, &fields).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{action}");
        assert!(page.field_error("imap_password").unwrap_or_default().contains("Enter the password again"), "{action}");
    }
    let stored =
        frontdesk::entities::mailbox::Entity::find_by_id(id).one(&app.state.db.conn).await.expect("q").expect("row");
    assert_eq!(stored.imap_host, "imap.acme.example");
    // Other changes keep the stored password.
    fields[1] = ("imap_host", "imap.acme.example");
    fields[3] = ("imap_security", "tls");
    fields[7] = ("poll_seconds", "120");
    let page = app.submit(&edit, &edit, &fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());

    // Agents who are not administrators get 403, on the pages and on the posts.
    let agent = app.client_as("Agent", "agent@example.com").await;
    for path in ["/agent/settings/channels/email", "/agent/settings/channels/email/quarantine", edit.as_str()] {
        assert_eq!(agent.get(path).await.status, StatusCode::FORBIDDEN, "{path}");
    }
}

#[tokio::test]
async fn a_contact_sees_and_downloads_the_files_of_its_own_mail_only() {
    let (app, sink) = spawn_app_with_mail().await;
    app.set_up_admin().await;
    let file = b"quarterly numbers".to_vec();
    let with_file = raw(&format!(
        "From: Dana <dana@example.com>\nSubject: Numbers\nMessage-ID: <dana1@x>\nMIME-Version: 1.0\n\
         Content-Type: multipart/mixed; boundary=\"m\"\n\n--m\nContent-Type: text/plain\n\nAttached.\n\
         --m\nContent-Type: text/csv; name=\"q3.csv\"\nContent-Disposition: attachment; filename=\"q3.csv\"\n\
         Content-Transfer-Encoding: base64\n\n{}\n--m--\n",
        b64(&file)
    ));
    pipe(&app, &with_file).await;
    pipe(&app, &message("eve@example.com", "Mine", Some("eve1@x"), "", "Hello\n")).await;
    let dana = contacts_with(&app, "dana@example.com").await[0].id;
    let eve = contacts_with(&app, "eve@example.com").await[0].id;
    let dana_browser = crate::help_center::invite_and_join(&app, &sink, dana, "dana@example.com").await;
    let page = dana_browser.get("/help/tickets/1001").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.texts("ul.files li").join(" ").contains("q3.csv"));
    let sel = scraper::Selector::parse("ul.files a").expect("selector");
    let link = page.doc().select(&sel).next().expect("a file link").value().attr("href").expect("href").to_owned();
    assert!(link.starts_with("/help/tickets/1001/files/"), "{link}");
    let response = dana_browser.client.get(app.url(&link)).send().await.expect("get");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-disposition"].to_str().expect("ascii").starts_with("attachment"));
    assert_eq!(response.bytes().await.expect("bytes").as_ref(), file.as_slice());
    // Another contact gets nothing, whatever the URL.
    let eve_browser = crate::help_center::invite_and_join(&app, &sink, eve, "eve@example.com").await;
    assert_eq!(eve_browser.client.get(app.url(&link)).send().await.expect("get").status(), StatusCode::NOT_FOUND);
    assert_eq!(
        eve_browser.client.get(app.url("/help/tickets/1002/files/1")).send().await.expect("get").status(),
        StatusCode::NOT_FOUND
    );
    // Agents download it from the ticket, when their profile may see tickets.
    let agent_link = link.replacen("/help/", "/agent/", 1);
    let response = app.client.get(app.url(&agent_link)).send().await.expect("get");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-disposition"].to_str().expect("ascii").starts_with("attachment"));
    assert_eq!(response.bytes().await.expect("bytes").as_ref(), file.as_slice());
    app.create_profile("Contacts Desk", &["contacts.view"], &[]).await;
    let contacts_only = app.client_as("Contacts Desk", "desk@example.com").await;
    let refused = contacts_only.get(&agent_link).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(!refused.html.contains("quarterly numbers"));
}

#[tokio::test]
async fn contacts_from_mail_get_the_configured_owner_and_our_own_mail_coming_back_is_ignored() {
    let (app, sink) = spawn_app_with_mail().await;
    app.set_up_admin().await;
    let owner = [("FRONTDESK_EMAIL_CONTACT_OWNER", crate::helpers::ADMIN_EMAIL)];
    let raw = message("Nora Newman <nora@example.com>", "Hello", Some("nora1@x.example.com"), "", "Hi\n");
    assert_eq!(pipe_with(&app.database_url, &raw, &owner).await.status, 0);
    let nora = &contacts_with(&app, "nora@example.com").await[0];
    let admin = frontdesk::entities::agent::Entity::find().one(&app.state.db.conn).await.expect("q").expect("admin");
    assert_eq!(nora.owner_id, Some(admin.id));
    // The acknowledgement, delivered back to us (a forwarding rule, a misconfigured alias):
    // it is ours, so nothing new is stored and nothing is answered.
    let ack = last_mail_to(&app, &sink, "nora@example.com", "[#1001]").await;
    let said = pipe(&app, ack.raw.as_bytes()).await;
    assert!(said.contains("already stored"), "{said}");
    assert_eq!(app.count("tickets").await, 1);
    assert_eq!(app.count("messages").await, 1);
    assert_eq!(app.count("quarantine").await, 0);
}
