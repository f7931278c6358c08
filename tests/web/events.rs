//! Domain events: every change to a contact, an account, a ticket or a message writes one
//! structured event in its transaction (what happened, to what, by whom, when, the changed
//! fields old and new), a write that fails writes none, the History pages read them, and the
//! contact history kept before events became events on upgrade.

use frontdesk::services::tickets;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, Statement};

use crate::helpers::{fresh_database, try_spawn_app_with, TestApp, ADMIN_EMAIL};
use crate::inbound_mail::{message, pipe, pipe_via, Via};
use crate::mail::spawn_app_with_mail;

/// The events that `filter` (SQL after `FROM events`) selects, oldest first, one a line:
/// `actor [id] action subject id contact=… ticket=… changes`.
async fn events(app: &TestApp, filter: &str) -> Vec<String> {
    app.texts(&format!(
        "SELECT actor_kind || ' ' || COALESCE(CAST(actor_id AS TEXT), '-') || ' ' || action || ' ' || subject_kind \
           || ' ' || CAST(subject_id AS TEXT) || ' contact=' || COALESCE(CAST(contact_id AS TEXT), '-') \
           || ' ticket=' || COALESCE(CAST(ticket_id AS TEXT), '-') || ' ' || changes AS v \
         FROM events {filter} ORDER BY id"
    ))
    .await
}

/// The id of the row of `table` that `filter` selects.
async fn id_of(app: &TestApp, table: &str, filter: &str) -> i64 {
    let ids = app.texts(&format!("SELECT CAST(id AS TEXT) AS v FROM {table} WHERE {filter}")).await;
    assert_eq!(ids.len(), 1, "{table} WHERE {filter}: {ids:?}");
    ids[0].parse().expect("an id")
}

/// The lines of the History on `path`, without their time: "Ada Admin : changed Title from …".
async fn history(app: &TestApp, path: &str) -> Vec<String> {
    let page = app.get(path).await;
    assert_eq!(page.status, StatusCode::OK, "{path}");
    page.texts("ol.history li")
        .into_iter()
        .map(|line| line.split_once(" UTC ").map_or(line.clone(), |(_, rest)| rest.to_owned()))
        .collect()
}

fn says(lines: &[String], what: &str) -> bool {
    lines.iter().any(|l| l == what)
}

#[tokio::test]
async fn an_agents_edit_of_a_contact_is_one_event_with_each_changed_field_old_and_new() {
    let app = crate::helpers::spawn_app().await;
    app.set_up_admin().await;
    let admin = id_of(&app, "agents", &format!("email = '{ADMIN_EMAIL}'")).await;
    let id = app
        .add_contact(&[
            ("first_name", "Ann"),
            ("last_name", "Lee"),
            ("email", "ann@example.com"),
            ("title", "Engineer"),
        ])
        .await;
    let created = events(&app, "").await;
    assert_eq!(created.len(), 1, "{created:?}");
    assert!(created[0].starts_with(&format!("agent {admin} created contact {id} contact={id} ticket=- [")));
    assert!(created[0].contains(r#"{"field":"email","old":null,"new":"ann@example.com"}"#), "{}", created[0]);

    let path = format!("/agent/contacts/{id}");
    let saved = app
        .submit(
            &format!("{path}/edit"),
            &path,
            &[("title", "Head of IT"), ("email", "ann@corp.example"), ("secondary_emails", "ann@example.com")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    assert_eq!(
        events(&app, "WHERE action = 'updated'").await,
        [format!(
            "agent {admin} updated contact {id} contact={id} ticket=- [\
             {{\"field\":\"email\",\"old\":\"ann@example.com\",\"new\":\"ann@corp.example\"}},\
             {{\"field\":\"title\",\"old\":\"Engineer\",\"new\":\"Head of IT\"}},\
             {{\"field\":\"secondary_email\",\"old\":null,\"new\":\"ann@example.com\"}}]"
        )]
    );
    // The History reads it as before: a line per field, who and when.
    let lines = history(&app, &path).await;
    assert_eq!(
        lines[..4],
        [
            "Ada Admin : changed Email from “ann@example.com” to “ann@corp.example”",
            "Ada Admin : changed Title from “Engineer” to “Head of IT”",
            "Ada Admin : changed Secondary Email from “” to “ann@example.com”",
            "Ada Admin : created the contact",
        ],
        "{lines:?}"
    );
    // A profile that hides Email reads the title's change and no address.
    app.create_profile("No Email", &["contacts.view"], &[("contact.email", "hidden")]).await;
    let hidden = app.client_as("No Email", "noemail@example.com").await;
    let lines = history(&hidden, &path).await;
    assert_eq!(lines, ["Ada Admin : changed Title from “Engineer” to “Head of IT”", "Ada Admin : created the contact"]);
}

#[tokio::test]
async fn a_write_that_fails_writes_no_event_and_nothing_else() {
    let app = crate::helpers::spawn_app().await;
    app.set_up_admin().await;
    app.add_contact(&[("last_name", "First"), ("email", "one@example.com")]).await;
    let second = app.add_contact(&[("last_name", "Second"), ("email", "two@example.com")]).await;
    let before = events(&app, "").await;
    let path = format!("/agent/contacts/{second}");
    // Another contact's address.
    let refused = app.submit(&format!("{path}/edit"), &path, &[("title", "CTO"), ("email", "one@example.com")]).await;
    assert_ne!(refused.status, StatusCode::SEE_OTHER, "{}", refused.text());
    // An address added, then an account that does not exist: the address is not kept either.
    let refused = app
        .submit(
            &format!("{path}/edit"),
            &path,
            &[("secondary_emails", "new@example.com"), ("account", "No Such Account"), ("title", "CTO")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.text());
    assert_eq!(events(&app, "").await, before);
    assert_eq!(app.count("contact_identities WHERE value = 'new@example.com'").await, 0);
    assert_eq!(app.column("contacts", "title", second).await, None);
    assert!(!history(&app, &path).await.iter().any(|l| l.contains("CTO")));
}

#[tokio::test]
async fn an_account_rename_is_an_event_of_the_account_shown_on_its_page_as_its_profile_allows() {
    let app = crate::helpers::spawn_app().await;
    app.set_up_admin().await;
    let admin = id_of(&app, "agents", &format!("email = '{ADMIN_EMAIL}'")).await;
    let id = app.add_account("Acme").await;
    let path = format!("/agent/accounts/{id}");
    let saved = app.submit(&format!("{path}/edit"), &path, &[("name", "Acme Corp"), ("website", "acme.example")]).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    assert_eq!(
        events(&app, "WHERE action = 'updated'").await,
        [format!(
            "agent {admin} updated account {id} contact=- ticket=- [\
             {{\"field\":\"name\",\"old\":\"Acme\",\"new\":\"Acme Corp\"}},\
             {{\"field\":\"website\",\"old\":null,\"new\":\"acme.example\"}}]"
        )]
    );
    assert_eq!(
        history(&app, &path).await,
        [
            "Ada Admin : changed Account Name from “Acme” to “Acme Corp”",
            "Ada Admin : changed Website from “” to “acme.example”",
            "Ada Admin : created the account",
        ]
    );
    // Saving the form unchanged changes nothing, and says so by writing nothing.
    let again = app.submit(&format!("{path}/edit"), &path, &[]).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.text());
    assert_eq!(app.count("events").await, 2);
    app.create_profile("No Website", &["accounts.view"], &[("account.website", "hidden")]).await;
    let hidden = app.client_as("No Website", "nosite@example.com").await;
    assert_eq!(
        history(&hidden, &path).await,
        ["Ada Admin : changed Account Name from “Acme” to “Acme Corp”", "Ada Admin : created the account"]
    );
}

#[tokio::test]
async fn a_ticket_status_change_an_agent_reply_and_a_note_are_events_of_the_ticket_and_its_messages() {
    let app = crate::helpers::spawn_app().await;
    app.set_up_admin().await;
    let admin = id_of(&app, "agents", &format!("email = '{ADMIN_EMAIL}'")).await;
    let contact = app.add_contact(&[("last_name", "Ortiz"), ("email", "m@example.com")]).await;
    let new = tickets::NewTicket {
        contact_id: contact,
        subject: "Printer jam".into(),
        status: "Open",
        channel: "web",
        priority: "Low",
    };
    let t = tickets::create(&app.state.db, new).await.expect("ticket");
    let path = format!("/agent/tickets/{}", t.number);
    let changed =
        app.submit(&path, &format!("{path}/properties"), &[("status", "On Hold"), ("priority", "High")]).await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.text());
    let replied = app.submit(&path, &format!("{path}/replies"), &[("reply", "On its way.")]).await;
    assert_eq!(replied.status, StatusCode::SEE_OTHER, "{}", replied.text());
    let noted = app.submit(&path, &format!("{path}/notes"), &[("note", "Call first.")]).await;
    assert_eq!(noted.status, StatusCode::SEE_OTHER, "{}", noted.text());
    let reply = id_of(&app, "messages", "internal = false").await;
    let note = id_of(&app, "messages", "internal = true").await;
    let tid = t.id;
    assert_eq!(
        events(&app, "WHERE subject_kind IN ('ticket', 'message')").await,
        [
            format!(
                "system - created ticket {tid} contact={contact} ticket={tid} [\
                 {{\"field\":\"subject\",\"old\":null,\"new\":\"Printer jam\"}},\
                 {{\"field\":\"status\",\"old\":null,\"new\":\"Open\"}},\
                 {{\"field\":\"priority\",\"old\":null,\"new\":\"Low\"}},\
                 {{\"field\":\"channel\",\"old\":null,\"new\":\"web\"}}]"
            ),
            format!(
                "agent {admin} updated ticket {tid} contact={contact} ticket={tid} [\
                 {{\"field\":\"priority\",\"old\":\"Low\",\"new\":\"High\"}},\
                 {{\"field\":\"status\",\"old\":\"Open\",\"new\":\"On Hold\"}}]"
            ),
            format!(
                "agent {admin} replied message {reply} contact={contact} ticket={tid} \
                 [{{\"field\":\"author\",\"old\":null,\"new\":\"agent\"}}]"
            ),
            format!(
                "agent {admin} noted message {note} contact={contact} ticket={tid} \
                 [{{\"field\":\"author\",\"old\":null,\"new\":\"agent\"}}]"
            ),
        ]
    );
    let n = t.number;
    assert_eq!(
        history(&app, &format!("/agent/contacts/{contact}")).await,
        [
            format!("Ada Admin : changed Ticket #{n} from “” to “Agent added a note”"),
            format!("Ada Admin : changed Ticket #{n} from “” to “Agent replied”"),
            format!("Ada Admin : changed Ticket #{n} priority from “Low” to “High”"),
            format!("Ada Admin : changed Ticket #{n} status from “Open” to “On Hold”"),
            format!("System : changed Ticket #{n} from “” to “Created (Web)”"),
            "Ada Admin : created the contact".to_owned(),
        ]
    );
}

#[tokio::test]
async fn inbound_mail_writes_the_events_of_its_contact_its_ticket_and_each_message() {
    let (app, _sink) = spawn_app_with_mail().await;
    let first = message(
        "\"Melissa Ortiz\" <melissa@example.com>",
        "Printer on fire",
        Some("m1@mail.example.com"),
        "Cc: colleague@other.example",
        "It smokes.\n",
    );
    assert!(pipe(&app, &first).await.contains("opened ticket #1001 for a new contact"));
    let contact = id_of(&app, "contacts", "email = 'melissa@example.com'").await;
    let tid = id_of(&app, "tickets", "number = 1001").await;
    let opened = events(&app, "").await;
    assert_eq!(opened.len(), 2, "{opened:?}");
    assert!(opened[0].starts_with(&format!("system - created contact {contact} contact={contact} ticket=- [")));
    assert!(opened[0].contains(r#"{"field":"source","old":null,"new":"email"}"#), "{}", opened[0]);
    assert!(
        opened[1].starts_with(&format!("contact {contact} created ticket {tid} contact={contact} ticket={tid} [")),
        "{}",
        opened[1]
    );
    assert!(opened[1].contains(r#"{"field":"channel","old":null,"new":"email"}"#), "{}", opened[1]);

    // Closed by an agent, opened again by her reply: the message and the status, by her.
    app.set_up_admin().await;
    let closed = app.submit("/agent/tickets/1001", "/agent/tickets/1001/properties", &[("status", "Closed")]).await;
    assert_eq!(closed.status, StatusCode::SEE_OTHER);
    let reply = message(
        "Melissa Ortiz <melissa@example.com>",
        "Re: [#1001] Printer on fire",
        Some("m2@mail.example.com"),
        "In-Reply-To: <m1@mail.example.com>",
        "Still burning.\n",
    );
    assert!(pipe(&app, &reply).await.contains("added to ticket #1001"));
    let hers = id_of(&app, "messages", "message_id = 'm2@mail.example.com'").await;
    // Her colleague's, stored by `ingest-mail` itself: by someone who is not a contact.
    let colleague = message(
        "Colleague <colleague@other.example>",
        "Re: [#1001] Printer on fire",
        Some("m3@mail.example.com"),
        "In-Reply-To: <m1@mail.example.com>",
        "I see smoke too.\n",
    );
    assert!(pipe_via(&app, &colleague, Via::Itself).await.contains("added to ticket #1001"));
    let theirs = id_of(&app, "messages", "message_id = 'm3@mail.example.com'").await;
    let by_mail = r#"{"field":"channel","old":null,"new":"email"}"#;
    assert_eq!(
        events(&app, "WHERE actor_kind <> 'agent' AND action <> 'created'").await,
        [
            format!(
                "contact {contact} replied message {hers} contact={contact} ticket={tid} \
                 [{{\"field\":\"author\",\"old\":null,\"new\":\"contact\"}},{by_mail}]"
            ),
            format!(
                "contact {contact} updated ticket {tid} contact={contact} ticket={tid} \
                 [{{\"field\":\"status\",\"old\":\"Closed\",\"new\":\"Open\"}}]"
            ),
            format!(
                "system - replied message {theirs} contact={contact} ticket={tid} \
                 [{{\"field\":\"author\",\"old\":null,\"new\":\"participant\"}},{by_mail}]"
            ),
        ]
    );
    assert_eq!(
        history(&app, &format!("/agent/contacts/{contact}")).await,
        [
            "System : changed Ticket #1001 from “” to “Someone else replied by email”",
            "Customer : changed Ticket #1001 status from “Closed” to “Open”",
            "Customer : changed Ticket #1001 from “” to “Customer replied by email”",
            "Ada Admin : changed Ticket #1001 status from “Open” to “Closed”",
            "Customer : changed Ticket #1001 from “” to “Created (Email)”",
            "System : created the contact",
        ]
    );
}

#[tokio::test]
async fn the_recycle_bin_writes_the_events_of_a_contact_its_tickets_and_an_accounts_contacts() {
    let app = crate::helpers::spawn_app().await;
    app.set_up_admin().await;
    let admin = id_of(&app, "agents", &format!("email = '{ADMIN_EMAIL}'")).await;
    let account = app.add_account("Acme").await;
    let contact = app.add_contact(&[("last_name", "Lee"), ("account", "Acme")]).await;
    let new = tickets::NewTicket {
        contact_id: contact,
        subject: "Hi".into(),
        status: "Open",
        channel: "web",
        priority: "Low",
    };
    let tid = tickets::create(&app.state.db, new).await.expect("ticket").id;
    let contact_path = format!("/agent/contacts/{contact}");
    // The account goes: its contact loses its Account Name, and gets it back.
    let path = format!("/agent/accounts/{account}/delete");
    assert_eq!(app.submit(&path, &path, &[]).await.status, StatusCode::SEE_OTHER);
    let lines = history(&app, &contact_path).await;
    assert!(says(&lines, "Ada Admin : changed Account Name from “Acme” to “”"), "{lines:?}");
    let entry = id_of(&app, "recycle_bin", "kind = 'account'").await;
    let restored = app.submit("/agent/recycle-bin", &format!("/agent/recycle-bin/{entry}/restore"), &[]).await;
    assert_eq!(restored.status, StatusCode::SEE_OTHER);
    let lines = history(&app, &contact_path).await;
    assert!(says(&lines, "Ada Admin : changed Account Name from “” to “Acme”"), "{lines:?}");

    // The contact goes with its ticket, and comes back.
    let path = format!("{contact_path}/delete");
    assert_eq!(app.submit(&path, &path, &[]).await.status, StatusCode::SEE_OTHER);
    let entry = id_of(&app, "recycle_bin", "kind = 'contact'").await;
    let restored = app.submit("/agent/recycle-bin", &format!("/agent/recycle-bin/{entry}/restore"), &[]).await;
    assert_eq!(restored.status, StatusCode::SEE_OTHER);
    let account_change = |old: &str, new: &str| format!("[{{\"field\":\"account\",\"old\":{old},\"new\":{new}}}]");
    assert_eq!(
        events(&app, "WHERE action IN ('deleted', 'restored') OR (subject_kind = 'contact' AND action = 'updated')")
            .await,
        [
            format!("agent {admin} deleted account {account} contact=- ticket=- []"),
            format!(
                "agent {admin} updated contact {contact} contact={contact} ticket=- {}",
                account_change("\"Acme\"", "null")
            ),
            format!("agent {admin} restored account {account} contact=- ticket=- []"),
            format!(
                "agent {admin} updated contact {contact} contact={contact} ticket=- {}",
                account_change("null", "\"Acme\"")
            ),
            format!("agent {admin} deleted contact {contact} contact={contact} ticket=- []"),
            format!("agent {admin} deleted ticket {tid} contact=- ticket={tid} []"),
            format!("agent {admin} restored contact {contact} contact={contact} ticket=- []"),
            format!("agent {admin} restored ticket {tid} contact=- ticket={tid} []"),
        ]
    );
    // The contact's History says it in one line each, not one per ticket.
    let lines = history(&app, &contact_path).await;
    assert_eq!(lines[..2], ["Ada Admin : restored the contact", "Ada Admin : deleted the contact"], "{lines:?}");
    assert!(!lines.iter().any(|l| l.contains("Deleted") || l.contains("Restored")), "{lines:?}");
}

#[tokio::test]
async fn the_contact_history_kept_before_events_becomes_events_on_upgrade() {
    let (url, file) = fresh_database().await;
    let create = if url.starts_with("sqlite") { format!("{url}?mode=rwc") } else { url.clone() };
    let db = Database::connect(&create).await.expect("connect");
    use migration::MigratorTrait;
    let before = migration::Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m0030_events")
        .expect("the events migration");
    migration::Migrator::up(&db, Some(u32::try_from(before).expect("count"))).await.expect("older migrations");
    // (id, agent, field, old, new) of lines as Frontdesk wrote them before events.
    let lines = [
        "1, NULL, 'Contact', NULL, 'Created from an email'",
        "2, NULL, 'Ticket #1001', NULL, 'Created (Email)'",
        "3, 1, 'Title', NULL, 'Head of \"IT\"'",
        "4, 1, 'Description', NULL, 'two\nlines'",
        "5, 1, 'Email', 'old@example.com', 'ann@example.com'",
        "6, 1, 'Secondary Email', NULL, 'ann@work.example'",
        "7, 1, 'Ticket #1001 status', 'Open', 'On Hold'",
        "8, NULL, 'Ticket #1001', NULL, 'Customer replied by email'",
        "9, 1, 'Ticket #1001', NULL, 'Agent replied'",
        "10, 1, 'Help Center', 'Not invited', 'Invited'",
        "11, 1, 'Help Center', NULL, 'Invitation sent again'",
        "12, NULL, 'Help Center', 'Invited', 'Active (signed up)'",
        "13, 1, 'Shoe Size', '9', '10'",
        "14, NULL, 'Ticket #9999', NULL, 'Created (Email)'",
    ];
    let values: Vec<String> = lines
        .iter()
        .map(|l| {
            let (id, rest) = l.split_once(", ").expect("an id");
            format!("({id}, 1, {rest}, CURRENT_TIMESTAMP)")
        })
        .collect();
    for sql in [
        "INSERT INTO contacts (id, last_name, email, source, created_at, updated_at) \
         VALUES (1, 'Lee', 'ann@example.com', 'email', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            .to_owned(),
        "INSERT INTO tickets (id, number, contact_id, subject, status, channel, priority, created_at, updated_at) \
         VALUES (1, 1001, 1, 'Printer jam', 'On Hold', 'email', 'Medium', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            .to_owned(),
        format!(
            "INSERT INTO contact_history (id, contact_id, agent_id, field, old_value, new_value, at) VALUES {}",
            values.join(", ")
        ),
    ] {
        db.execute(Statement::from_string(db.get_database_backend(), sql.clone())).await.expect(&sql);
    }
    db.close().await.ok();

    // The next start-up runs the migration; its first agent is the one the lines name.
    let app = try_spawn_app_with(|s| s.database_url = url.clone()).await.expect("the upgraded app");
    app.set_up_admin().await;
    let changes = |json: &str| format!("[{json}]");
    let change = |field: &str, old: &str, new: &str| format!("{{\"field\":\"{field}\",\"old\":{old},\"new\":{new}}}");
    let author = |kind: &str| change("author", "null", &format!("\"{kind}\""));
    let email = change("channel", "null", "\"email\"");
    assert_eq!(
        events(&app, "").await,
        [
            "system - created contact 1 contact=1 ticket=- []".to_owned(),
            format!("system - created ticket 1 contact=1 ticket=1 {}", changes(&email)),
            format!(
                "agent 1 updated contact 1 contact=1 ticket=- {}",
                changes(&change("title", "null", r#""Head of \"IT\"""#))
            ),
            format!(
                "agent 1 updated contact 1 contact=1 ticket=- {}",
                changes(&change("description", "null", r#""two\nlines""#))
            ),
            format!(
                "agent 1 updated contact 1 contact=1 ticket=- {}",
                changes(&change("email", "\"old@example.com\"", "\"ann@example.com\""))
            ),
            format!(
                "agent 1 updated contact 1 contact=1 ticket=- {}",
                changes(&change("secondary_email", "null", "\"ann@work.example\""))
            ),
            format!(
                "agent 1 updated ticket 1 contact=1 ticket=1 {}",
                changes(&change("status", "\"Open\"", "\"On Hold\""))
            ),
            format!("system - replied ticket 1 contact=1 ticket=1 [{},{email}]", author("contact")),
            format!("agent 1 replied ticket 1 contact=1 ticket=1 [{}]", author("agent")),
            format!(
                "agent 1 invited contact 1 contact=1 ticket=- {}",
                changes(&change("help_center", "\"not_invited\"", "\"invited\""))
            ),
            "agent 1 invited contact 1 contact=1 ticket=- []".to_owned(),
            format!(
                "system - signed_up contact 1 contact=1 ticket=- {}",
                changes(&change("help_center", "\"invited\"", "\"active\""))
            ),
            format!(
                "agent 1 updated contact 1 contact=1 ticket=- {}",
                changes(&change("Shoe Size", "\"9\"", "\"10\""))
            ),
            format!(
                "system - updated contact 1 contact=1 ticket=- {}",
                changes(&change("Ticket #9999", "null", "\"Created (Email)\""))
            ),
        ]
    );
    assert_eq!(app.texts("SELECT CAST(MAX(id) AS TEXT) AS v FROM events").await, ["14"], "the lines' ids are kept");

    // The History reads as it did.
    let path = "/agent/contacts/1";
    let lines = history(&app, path).await;
    assert_eq!(
        lines,
        [
            "System : changed Ticket #9999 from “” to “Created (Email)”",
            "Ada Admin : changed Shoe Size from “9” to “10”",
            "System : changed Help Center from “Invited” to “Active (signed up)”",
            "Ada Admin : changed Help Center from “” to “Invitation sent again”",
            "Ada Admin : changed Help Center from “Not invited” to “Invited”",
            "Ada Admin : changed Ticket #1001 from “” to “Agent replied”",
            "System : changed Ticket #1001 from “” to “Customer replied by email”",
            "Ada Admin : changed Ticket #1001 status from “Open” to “On Hold”",
            "Ada Admin : changed Secondary Email from “” to “ann@work.example”",
            "Ada Admin : changed Email from “old@example.com” to “ann@example.com”",
            "Ada Admin : changed Description from “” to “two lines”",
            "Ada Admin : changed Title from “” to “Head of \"IT\"”",
            "System : changed Ticket #1001 from “” to “Created (Email)”",
            "System : created the contact",
        ]
    );
    // A profile that hides Email reads no address in it.
    app.create_profile("No Email", &["contacts.view"], &[("contact.email", "hidden")]).await;
    let hidden = app.client_as("No Email", "noemail@example.com").await;
    let lines = history(&hidden, path).await;
    assert_eq!(lines.len(), 12, "{lines:?}");
    assert!(!lines.iter().any(|l| l.contains('@')), "{lines:?}");

    // New events follow the kept ones.
    let saved = app.submit(&format!("{path}/edit"), path, &[("title", "CTO")]).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    assert_eq!(app.texts("SELECT CAST(MAX(id) AS TEXT) AS v FROM events").await, ["15"]);
    // (The lines were all there was: the contact's title is still empty.)
    assert!(says(&history(&app, path).await, "Ada Admin : changed Title from “” to “CTO”"));
    drop(app);
    if let Some(file) = file {
        std::fs::remove_file(file).ok();
    }
}
