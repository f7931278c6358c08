//! A ticket without a contact: a template sent to a new number by an agent whose profile may not
//! create contacts opens it; an agent links it to a contact from its page, or the customer's
//! answer links the contact the intake finds or makes; the console's lists show it, the Help
//! Center never does.

use reqwest::StatusCode;

use super::inbound::FROM;
use super::send::{app_with_templates, send_as_viewer};
use super::standin::{post_webhook, text_from, Standin, APP_SECRET};
use crate::helpers::{form_values, TestApp};

/// The number of the only ticket.
async fn ticket_number(app: &TestApp) -> String {
    app.texts("SELECT CAST(number AS TEXT) AS v FROM tickets").await.remove(0)
}

/// The ticket's contact id and the conversation's, as text ("-" for none).
async fn contacts_of_ticket(app: &TestApp) -> Vec<String> {
    app.texts(
        "SELECT COALESCE(CAST(t.contact_id AS TEXT), '-') || ' ' || COALESCE(CAST(c.contact_id AS TEXT), '-') AS v \
         FROM tickets t JOIN whatsapp_conversations c ON c.ticket_id = t.id",
    )
    .await
}

#[tokio::test]
async fn an_agent_links_a_ticket_without_a_contact_to_a_contact_found_by_name() {
    let meta = Standin::start().await;
    let app = app_with_templates(&meta).await;
    let account = app.add_account("Ortiz Plumbing").await;
    let id = app
        .add_contact(&[
            ("first_name", "Melissa"),
            ("last_name", "Ortiz"),
            ("email", "melissa@example.com"),
            ("account", "Ortiz Plumbing"),
        ])
        .await;
    let agent = send_as_viewer(&app, "+44 7700 900789").await;
    let number = ticket_number(&app).await;
    let ticket_page = format!("/agent/tickets/{number}");
    let link = agent.link_to(&ticket_page, "a", "Link to contact").await;
    let found = agent.get(&format!("{link}?q=ortiz")).await;
    assert_eq!(found.status, StatusCode::OK);
    assert!(found.text().contains("Melissa Ortiz"), "{}", found.text());

    let linked = agent.submit(&format!("{link}?q=ortiz"), &link, &[]).await;
    assert_eq!(linked.status, StatusCode::SEE_OTHER, "{}", linked.text());
    assert_eq!(linked.location.as_deref(), Some(ticket_page.as_str()));
    assert_eq!(contacts_of_ticket(&app).await, [format!("{id} {id}")]);
    let account_of = app.texts("SELECT CAST(account_id AS TEXT) AS v FROM tickets").await;
    assert_eq!(account_of, [account.to_string()]);
    let whatsapp = app
        .texts(&format!("SELECT value AS v FROM contact_identities WHERE contact_id = {id} AND kind = 'whatsapp'"))
        .await;
    assert_eq!(whatsapp, ["+447700900789"]);
    let events = app.texts("SELECT subject_kind || ' ' || action || ' ' || changes AS v FROM events WHERE changes LIKE '%\"contact\"%'").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(events[0].starts_with("ticket updated") && events[0].contains("Melissa Ortiz"), "{events:?}");
    // What happened to the ticket before is the contact's History now.
    let orphans =
        app.texts("SELECT CAST(id AS TEXT) AS v FROM events WHERE ticket_id IS NOT NULL AND contact_id IS NULL").await;
    assert!(orphans.is_empty(), "{orphans:?}");

    let page = agent.get(&ticket_page).await;
    assert!(page.text().contains("Ticket linked to the contact."), "{}", page.text());
    assert!(page.has(&format!("a[href='/agent/contacts/{id}']")), "{}", page.text());
    assert!(!page.text().contains("No contact"), "{}", page.text());
    let history = agent.get(&format!("/agent/contacts/{id}")).await;
    assert!(history.text().contains(&format!("#{number}")), "{}", history.text());
    // Linked once: the page to link is gone.
    assert_eq!(agent.get(&link).await.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_reply_on_a_ticket_without_a_contact_goes_to_its_number() {
    let meta = Standin::start().await;
    let app = app_with_templates(&meta).await;
    let agent = send_as_viewer(&app, "+44 7700 900789").await;
    let number = ticket_number(&app).await;
    let path = format!("/agent/tickets/{number}");
    let replied = agent.submit(&path, &format!("{path}/replies"), &[("reply", "Did the template reach you?")]).await;
    assert_eq!(replied.status, StatusCode::SEE_OTHER, "{}", replied.text());
    super::send_whatsapp(&app).await;
    let sent = meta.sent();
    assert_eq!(sent.len(), 2, "the template and the reply");
    assert_eq!(sent[1].body["to"], "+447700900789");
    assert_eq!(sent[1].body["text"]["body"], "Did the template reach you?");
}

#[tokio::test]
async fn a_profile_that_hides_phone_and_mobile_never_reads_the_number_of_a_ticket_without_a_contact() {
    let meta = Standin::start().await;
    let app = app_with_templates(&meta).await;
    send_as_viewer(&app, "+44 7700 900789").await;
    let number = ticket_number(&app).await;
    app.create_profile(
        "No Numbers",
        &["contacts.view", "tickets.view", "tickets.edit"],
        &[("contact.mobile", "hidden"), ("contact.phone", "hidden")],
    )
    .await;
    let agent = app.client_as("No Numbers", "nonumbers@example.com").await;
    for path in [
        format!("/agent/tickets/{number}"),
        format!("/agent/tickets/{number}/contact?q=ortiz"),
        "/agent/tickets".into(),
    ] {
        let page = agent.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(!page.html.contains("7700900789"), "{path}: {}", page.text());
    }
    assert!(agent.get(&format!("/agent/tickets/{number}")).await.text().contains("No contact"));
}

#[tokio::test]
async fn linking_needs_edit_on_tickets_and_the_forms_csrf_token() {
    let meta = Standin::start().await;
    let app = app_with_templates(&meta).await;
    let id = app.add_contact(&[("first_name", "Melissa"), ("last_name", "Ortiz")]).await;
    send_as_viewer(&app, "+44 7700 900789").await;
    let number = ticket_number(&app).await;
    let link = format!("/agent/tickets/{number}/contact");

    app.create_profile("Readers", &["contacts.view", "tickets.view"], &[]).await;
    let reader = app.client_as("Readers", "reader@example.com").await;
    let page = reader.get(&format!("/agent/tickets/{number}")).await;
    assert!(page.text().contains("No contact"), "{}", page.text());
    assert!(!page.text().contains("Link to contact"), "{}", page.text());
    assert_eq!(reader.get(&link).await.status, StatusCode::FORBIDDEN);
    // With its session's token (from the logout form every console page has), still refused.
    let mut values = form_values(&reader.get("/agent/tickets").await.html, "/agent/logout");
    values.push(("contact_id".into(), id.to_string()));
    let posted = reader.client.post(reader.url(&link)).form(&values).send().await.unwrap();
    assert_eq!(posted.status(), StatusCode::FORBIDDEN);

    // An administrator's post without the token is refused too.
    let raw = app.post_raw(&link, &[("contact_id", &id.to_string())]).await;
    assert_eq!(raw.status, StatusCode::FORBIDDEN);
    assert_eq!(contacts_of_ticket(&app).await, ["- -"]);
}

#[tokio::test]
async fn the_customers_answer_joins_the_ticket_and_links_the_contact_it_makes() {
    let meta = Standin::start().await;
    let app = app_with_templates(&meta).await;
    send_as_viewer(&app, &format!("+{FROM}")).await;
    let number = ticket_number(&app).await;
    let key = app.texts("SELECT webhook_key AS v FROM whatsapp_numbers").await.remove(0);
    let answer = text_from(FROM, "Melissa Ortiz", "wamid.ANSWER", "Yes, please call me", 1_765_000_000);
    let posted = post_webhook(&app.url(&format!("/webhooks/whatsapp/{key}")), APP_SECRET, &answer).await;
    assert_eq!(posted.status().as_u16(), 200);

    assert_eq!(app.count("tickets").await, 1, "the answer joins the ticket");
    let contact =
        app.texts("SELECT CAST(id AS TEXT) || ' ' || first_name || ' ' || last_name AS v FROM contacts").await;
    assert_eq!(contact.len(), 1, "{contact:?}");
    let id = contact[0].split(' ').next().unwrap().to_owned();
    assert_eq!(contact, [format!("{id} Melissa Ortiz")]);
    assert_eq!(contacts_of_ticket(&app).await, [format!("{id} {id}")]);
    let thread = app.texts("SELECT author_kind || ': ' || body AS v FROM messages ORDER BY id").await;
    assert_eq!(thread, ["agent: Hello from our support team.", "contact: Yes, please call me"]);
    let page = app.get(&format!("/agent/tickets/{number}")).await;
    assert!(page.text().contains("Melissa Ortiz"), "{}", page.text());
    assert!(page.has(&format!("a[href='/agent/contacts/{id}']")), "{}", page.text());
}

#[tokio::test]
async fn the_answer_of_a_known_contact_joins_the_ticket_and_links_that_contact() {
    let meta = Standin::start().await;
    let app = app_with_templates(&meta).await;
    send_as_viewer(&app, "+44 7700 900456").await;
    // Added after the message went (another agent, say), with the number as its Mobile.
    let id = app.add_contact(&[("last_name", "Ortiz"), ("mobile", "+44 7700 900456")]).await;
    let key = app.texts("SELECT webhook_key AS v FROM whatsapp_numbers").await.remove(0);
    let answer = text_from("447700900456", "Melissa Ortiz", "wamid.KNOWN", "Thanks", 1_765_000_000);
    assert_eq!(post_webhook(&app.url(&format!("/webhooks/whatsapp/{key}")), APP_SECRET, &answer).await.status(), 200);
    assert_eq!(app.count("tickets").await, 1);
    assert_eq!(app.count("contacts").await, 1);
    assert_eq!(contacts_of_ticket(&app).await, [format!("{id} {id}")]);
    let authors = app.texts("SELECT author_kind AS v FROM messages ORDER BY id").await;
    assert_eq!(authors, ["agent", "contact"]);
}

#[tokio::test]
async fn the_ticket_lists_and_search_show_a_ticket_without_a_contact() {
    let meta = Standin::start().await;
    let app = app_with_templates(&meta).await;
    let agent = send_as_viewer(&app, "+44 7700 900789").await;
    let number = ticket_number(&app).await;
    for view in ["all", "open", "unassigned"] {
        let list = agent.get(&format!("/agent/tickets?view={view}")).await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(list.has(&format!("a[href='/agent/tickets/{number}']")), "{view}: {}", list.text());
        assert!(list.text().contains("No contact"), "{view}: {}", list.text());
    }
    for q in ["hello", number.as_str()] {
        let found = agent.get(&format!("/agent/tickets?q={q}")).await;
        assert!(found.has(&format!("a[href='/agent/tickets/{number}']")), "{q}: {}", found.text());
    }
}

#[tokio::test]
async fn the_help_center_never_shows_a_ticket_without_a_contact() {
    let meta = Standin::start().await;
    let url = meta.url.clone();
    let (app, sink) = crate::mail::spawn_app_with_mail_and(move |s| {
        s.whatsapp_api_url = url;
        s.outbox_interval = 3600;
    })
    .await;
    app.set_up_admin().await;
    super::connect(&app).await;
    let now = chrono::Utc::now().to_rfc3339();
    let components = serde_json::json!([{"type": "BODY", "text": "Hello from our support team."}]).to_string();
    app.exec(&format!(
        "INSERT INTO whatsapp_templates (number_id, name, language, category, status, parameter_format, components, \
         synced_at) SELECT id, 'hello_world', 'en_US', 'UTILITY', 'APPROVED', 'POSITIONAL', '{components}', '{now}' \
         FROM whatsapp_numbers"
    ))
    .await;
    let id = app.add_contact(&[("last_name", "Ortiz"), ("email", "melissa@example.com")]).await;
    let customer = crate::help_center::invite_and_join(&app, &sink, id, "melissa@example.com").await;
    send_as_viewer(&app, "+44 7700 900789").await;
    let number = ticket_number(&app).await;

    let mine = customer.get("/help/tickets").await;
    assert_eq!(mine.status, StatusCode::OK);
    assert!(!mine.text().contains("hello_world") && !mine.text().contains(&number), "{}", mine.text());
    assert_eq!(customer.get(&format!("/help/tickets/{number}")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn upgrading_keeps_every_ticket_with_its_thread_conversation_and_search() {
    use migration::MigratorTrait;
    use sea_orm::{ConnectionTrait, Database, Statement};

    let (url, file) = crate::helpers::fresh_database().await;
    let create = if url.starts_with("sqlite") { format!("{url}?mode=rwc") } else { url.clone() };
    let db = Database::connect(&create).await.expect("connect");
    let before = migration::Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m0033_contactless_tickets")
        .expect("the contactless migration");
    migration::Migrator::up(&db, Some(u32::try_from(before).expect("count"))).await.expect("older migrations");
    let run = |sql: String| {
        let db = &db;
        async move { db.execute(Statement::from_string(db.get_database_backend(), sql.clone())).await.expect(&sql) }
    };
    for sql in [
        "INSERT INTO contacts (id, last_name, source, created_at, updated_at) \
         VALUES (1, 'Lee', 'agent', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        // No ids given: PostgreSQL's sequence hands them out, 1 and 2.
        "INSERT INTO tickets (number, contact_id, subject, status, channel, priority, created_at, updated_at) \
         VALUES (1001, 1, 'Printer jam', 'Open', 'whatsapp', 'Medium', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), \
         (1002, 1, 'Router blinks', 'Open', 'email', 'Medium', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        "INSERT INTO messages (ticket_id, author_kind, body, internal, created_at) VALUES \
         (1, 'contact', 'It jams', FALSE, CURRENT_TIMESTAMP), (2, 'contact', 'It blinks', FALSE, CURRENT_TIMESTAMP)",
        "INSERT INTO whatsapp_numbers (name, phone_number_id, waba_id, access_token, app_secret, graph_version, \
         webhook_key, verify_token, created_at, updated_at) VALUES ('Support', '1', '2', 'x', 'y', 'v23.0', 'k', \
         'v', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        "INSERT INTO whatsapp_conversations (ticket_id, number_id, contact_id, customer) VALUES (1, 1, 1, '+447700900123')",
        // A ticket purged before the upgrade: its id is never given again.
        "INSERT INTO tickets (number, contact_id, subject, status, channel, priority, created_at, updated_at) \
         VALUES (1005, 1, 'Purged', 'Open', 'web', 'Medium', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        "DELETE FROM tickets WHERE number = 1005",
    ] {
        run(sql.to_owned()).await;
    }
    migration::Migrator::up(&db, Some(1)).await.expect("the contactless migration");
    let count = |table: &str| {
        let (db, sql) = (&db, format!("SELECT COUNT(*) AS n FROM {table}"));
        async move {
            let row = db.query_one(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
            row.try_get::<i64>("", "n").unwrap()
        }
    };
    // Nothing went with the old table: no cascade into the thread or the conversation.
    assert_eq!((count("tickets").await, count("messages").await, count("whatsapp_conversations").await), (2, 2, 1));
    // A ticket and a conversation without a contact are taken; a contact that is not there is not.
    run("INSERT INTO tickets (number, subject, status, channel, priority, created_at, updated_at) \
         VALUES (1003, 'Hello printer', 'Open', 'whatsapp', 'Medium', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        .to_owned())
    .await;
    run("INSERT INTO whatsapp_conversations (ticket_id, number_id, customer) \
         SELECT id, 1, '+447700900789' FROM tickets WHERE number = 1003"
        .to_owned())
    .await;
    let dangling = "INSERT INTO tickets (number, contact_id, subject, status, channel, priority, created_at, \
                    updated_at) VALUES (1004, 99, 'x', 'Open', 'web', 'Medium', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)";
    assert!(db.execute(Statement::from_string(db.get_database_backend(), dangling)).await.is_err());
    let ids = db
        .query_all(Statement::from_string(db.get_database_backend(), "SELECT id FROM tickets ORDER BY id"))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<i64>("", "id").unwrap())
        .collect::<Vec<_>>();
    assert_eq!(ids, [1, 2, 4], "ids go on where they were, past the purged one");
    db.close().await.ok();

    // The upgraded instance finds old and new tickets by their subject's words.
    let app = crate::helpers::try_spawn_app_with(|s| s.database_url = url.clone()).await.expect("the upgraded app");
    app.set_up_admin().await;
    let found = app.get("/agent/tickets?q=printer").await;
    assert!(
        found.has("a[href='/agent/tickets/1001']") && found.has("a[href='/agent/tickets/1003']"),
        "{}",
        found.text()
    );
    assert!(!found.has("a[href='/agent/tickets/1002']"), "{}", found.text());
    if let Some(file) = file {
        std::fs::remove_file(file).ok();
    }
}
