//! Who sent each message of a ticket's thread, on both sides: mail from any of the contact's
//! addresses is the contact's; a reply from anyone else (a colleague copied, someone the thread
//! was forwarded to) shows as theirs, never as the contact's; such mail stored before the
//! upgrade becomes theirs too, and the history lines that named its address no longer do.

use migration::MigratorTrait;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, Statement};

use crate::help_center::invite_and_join;
use crate::helpers::fresh_database;
use crate::inbound_mail::{message, pipe, ticket_no};
use crate::mail::{last_mail_to, spawn_app_with_mail};

#[tokio::test]
async fn a_reply_from_someone_other_than_the_contact_shows_as_theirs_on_both_sides() {
    let (app, sink) = spawn_app_with_mail().await;
    app.set_up_admin().await;
    let first = message(
        "Melissa Ortiz <melissa@example.com>",
        "Printer jam",
        Some("m1@mail.example.com"),
        "",
        "The printer jams.\n",
    );
    assert!(pipe(&app, &first).await.contains("opened ticket #1001"));
    let contact = ticket_no(&app, 1001).await.contact_id.expect("a contact");
    let ack_id = last_mail_to(&app, &sink, "melissa@example.com", "[#1001]").await.header("Message-ID").expect("id");
    // A colleague replies to all, to her first mail: she is copied.
    let colleague = message(
        "Stan Ranger <stranger@other.example>",
        "Re: Printer jam",
        Some("s1@other.example"),
        "Cc: Melissa Ortiz <melissa@example.com>\nIn-Reply-To: <m1@mail.example.com>",
        "It jams on tray 2 only.\n",
    );
    assert!(pipe(&app, &colleague).await.contains("added to ticket #1001"));
    // Someone the acknowledgement was forwarded to answers it, without copying her.
    let forwarded = message(
        "Dana Lee <dana@third.example>",
        "Re: [#1001] Printer jam",
        Some("d1@third.example"),
        &format!("In-Reply-To: {ack_id}"),
        "I can fix it on Monday.\n",
    );
    assert!(pipe(&app, &forwarded).await.contains("added to ticket #1001"));
    // And she writes from a second address of hers.
    let saved = app
        .submit(
            &format!("/agent/contacts/{contact}/edit"),
            &format!("/agent/contacts/{contact}"),
            &[("secondary_emails", "m.ortiz@work.example")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let from_work = message(
        "M. Ortiz <M.Ortiz@work.example>",
        "Re: Printer jam",
        Some("m2@work.example"),
        "In-Reply-To: <s1@other.example>",
        "Thanks both.\n",
    );
    assert!(pipe(&app, &from_work).await.contains("added to ticket #1001"));

    let agent_page = app.get("/agent/tickets/1001").await;
    assert_eq!(agent_page.status, StatusCode::OK);
    assert_eq!(
        agent_page.texts("li.message .sender"),
        [
            "Melissa Ortiz <melissa@example.com>",
            "Stan Ranger <stranger@other.example>",
            "Dana Lee <dana@third.example>",
            "Melissa Ortiz <m.ortiz@work.example>",
        ]
    );
    assert_eq!(agent_page.texts("li.from-participant .meta .muted"), ["(not the contact)", "(not the contact)"]);

    // In the Help Center she sees who wrote; the address only of whom she saw in her own mail.
    let customer = invite_and_join(&app, &sink, contact, "melissa@example.com").await;
    let help_page = customer.get("/help/tickets/1001").await;
    assert_eq!(help_page.status, StatusCode::OK);
    let yours = help_page.texts("li.message .meta").into_iter().filter(|m| m.starts_with("You ")).count();
    assert_eq!(yours, 2, "only her own messages read as hers");
    assert_eq!(
        help_page.texts("li.message .sender"),
        ["You", "Stan Ranger <stranger@other.example>", "Dana Lee", "You"]
    );
    assert!(!help_page.html.contains("dana@third.example"), "a forward she never saw");
    assert_eq!(
        app.count("messages WHERE author_kind = 'participant' AND contact_copied = true").await,
        1,
        "the colleague's mail, which copied her"
    );
}

#[tokio::test]
async fn mail_stored_before_the_upgrade_from_someone_other_than_the_contact_becomes_theirs_and_history_names_no_address(
) {
    let (url, file) = fresh_database().await;
    let url = if url.starts_with("sqlite") { format!("{url}?mode=rwc") } else { url };
    let db = Database::connect(&url).await.expect("connect");
    let before = migration::Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m0029_message_sender_name")
        .expect("the sender migration");
    migration::Migrator::up(&db, Some(u32::try_from(before).expect("count"))).await.expect("older migrations");
    for sql in [
        "INSERT INTO contacts (id, last_name, email, source, created_at, updated_at) \
         VALUES (1, 'Ortiz', 'melissa@example.com', 'email', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        "INSERT INTO contact_identities (contact_id, kind, value, is_primary, created_at) VALUES \
         (1, 'email', 'melissa@example.com', TRUE, CURRENT_TIMESTAMP), \
         (1, 'email', 'm.ortiz@work.example', FALSE, CURRENT_TIMESTAMP)",
        "INSERT INTO tickets (id, number, contact_id, subject, status, channel, priority, created_at, updated_at) \
         VALUES (1, 1001, 1, 'Printer jam', 'Open', 'email', 'Medium', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        "INSERT INTO messages (id, ticket_id, author_kind, body, internal, created_at, from_address) VALUES \
         (1, 1, 'contact', 'a', FALSE, CURRENT_TIMESTAMP, 'melissa@example.com'), \
         (2, 1, 'contact', 'b', FALSE, CURRENT_TIMESTAMP, 'stranger@other.example'), \
         (3, 1, 'contact', 'c', FALSE, CURRENT_TIMESTAMP, 'm.ortiz@work.example'), \
         (4, 1, 'contact', 'd', FALSE, CURRENT_TIMESTAMP, NULL)",
        "INSERT INTO contact_history (id, contact_id, field, old_value, new_value, at) VALUES \
         (1, 1, 'Ticket #1001', NULL, 'Email from melissa@example.com', CURRENT_TIMESTAMP), \
         (2, 1, 'Ticket #1001', NULL, 'Email from stranger@other.example', CURRENT_TIMESTAMP), \
         (3, 1, 'Email', 'old@example.com', 'melissa@example.com', CURRENT_TIMESTAMP)",
    ] {
        db.execute(Statement::from_string(db.get_database_backend(), sql.to_owned())).await.expect(sql);
    }
    migration::Migrator::up(&db, Some(1)).await.expect("the sender migration");
    let rows = db
        .query_all(Statement::from_string(
            db.get_database_backend(),
            "SELECT author_kind FROM messages ORDER BY id".to_owned(),
        ))
        .await
        .expect("messages");
    let kinds: Vec<String> = rows.iter().map(|r| r.try_get("", "author_kind").expect("kind")).collect();
    assert_eq!(kinds, ["contact", "participant", "contact", "contact"]);
    // The history no longer names who wrote by address (profiles that hide Email read it).
    let rows = db
        .query_all(Statement::from_string(
            db.get_database_backend(),
            "SELECT new_value FROM contact_history ORDER BY id".to_owned(),
        ))
        .await
        .expect("history");
    let lines: Vec<String> = rows.iter().map(|r| r.try_get("", "new_value").expect("value")).collect();
    assert_eq!(lines, ["Customer replied by email", "Someone else replied by email", "melissa@example.com"]);
    db.close().await.ok();
    if let Some(file) = file {
        std::fs::remove_file(file).ok();
    }
}
