//! Send WhatsApp Message, the seed's journey: an agent sends an approved template to a
//! contact's number or to a new number, through the stand-in, under each permission case.

use reqwest::StatusCode;

use super::connect;
use super::standin::Standin;
use crate::helpers::{spawn_app_with, Page, TestApp};

pub(super) const FORM: &str = "/agent/whatsapp/send";

/// An app on the stand-in, an administrator logged in, the number connected with two approved
/// templates (as a sync leaves them).
pub(super) async fn app_with_templates(meta: &Standin) -> TestApp {
    let url = meta.url.clone();
    let app = spawn_app_with(move |s| {
        s.whatsapp_api_url = url;
        s.outbox_interval = 3600;
    })
    .await;
    app.set_up_admin().await;
    let number = connect(&app).await;
    let now = chrono::Utc::now().to_rfc3339();
    for (name, language, body) in [
        ("ticket_update", "en_US", "Hi {{1}}, your ticket {{2}} was updated. {{3}}"),
        ("hello_world", "en_US", "Hello from our support team."),
    ] {
        let components = serde_json::json!([{"type": "BODY", "text": body}]).to_string().replace('\'', "''");
        app.exec(&format!(
            "INSERT INTO whatsapp_templates (number_id, name, language, category, status, parameter_format, \
             components, synced_at) VALUES ({}, '{name}', '{language}', 'UTILITY', 'APPROVED', 'POSITIONAL', \
             '{components}', '{now}')",
            number.id
        ))
        .await;
    }
    app
}

pub(super) async fn template_id(app: &TestApp, name: &str) -> String {
    app.texts(&format!("SELECT CAST(id AS TEXT) AS v FROM whatsapp_templates WHERE name = '{name}'")).await.remove(0)
}

/// Posts `fields` to the form as `client`, with its session's CSRF token (from the logout form
/// every console page has): a post no form of its own offered.
pub(super) async fn crafted(client: &TestApp, fields: &[(&str, &str)]) -> Page {
    let mut values = crate::helpers::form_values(&client.get("/agent/tickets").await.html, "/agent/logout");
    values.extend(fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    Page::from(client.client.post(client.url(FORM)).form(&values).send().await.unwrap()).await
}

/// Posts the form as the page at `page` shows it, with `fields` changed.
pub(super) async fn post(app: &TestApp, page: &str, fields: &[(&str, &str)]) -> Page {
    app.submit(page, FORM, fields).await
}

#[tokio::test]
async fn an_agent_sends_a_template_to_a_contacts_mobile_and_lands_on_its_new_ticket() {
    let meta = Standin::start().await;
    let app = app_with_templates(&meta).await;
    let id = app.add_contact(&[("first_name", "Melissa"), ("last_name", "Ortiz"), ("mobile", "+44 7700 900123")]).await;
    let template = template_id(&app, "ticket_update").await;
    let page = format!("{FORM}?contact_id={id}&template_id={template}");
    let form = app.get(&page).await;
    assert!(form.text().contains("Mobile: +447700900123"), "{}", form.text());
    // The first name is filled in, the ticket number is the new ticket's, the rest is asked.
    assert_eq!(form.value_of("body_1").as_deref(), Some("Melissa"));
    assert!(form.value_of("body_2").is_none());
    assert!(form.text().contains("Hi Melissa, your ticket #(the new ticket's number) was updated."));

    // No opt-in recorded: a warning first, nothing sent.
    let warned = post(&app, &page, &[("body_3", "Thanks!"), ("action", "send")]).await;
    assert_eq!(warned.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(warned.field_error("opt_in").is_some_and(|e| e.contains("No opt-in")));
    assert_eq!(warned.value_of("body_3").as_deref(), Some("Thanks!"));
    assert_eq!(app.count("outbox").await, 0);

    let sent = post(&app, &page, &[("body_3", "Thanks!"), ("opt_in", "on"), ("action", "send")]).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text());
    let number = app.texts("SELECT CAST(number AS TEXT) AS v FROM tickets").await.remove(0);
    let ticket = sent.location.clone().expect("a redirect");
    assert_eq!(ticket, format!("/agent/tickets/{number}"));
    let out = meta.sent();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].body["to"], "+447700900123");
    assert_eq!(out[0].body["template"]["name"], "ticket_update");
    let values: Vec<_> = out[0].body["template"]["components"][0]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].clone())
        .collect();
    assert_eq!(values, ["Melissa", &format!("#{number}"), "Thanks!"]);

    let shown = app.get(&ticket).await;
    assert!(shown.text().contains("WhatsApp message sent."), "{}", shown.text());
    assert!(shown.text().contains(&format!("Hi Melissa, your ticket #{number} was updated. Thanks!")));
    assert_eq!(shown.texts(".delivery-state"), ["Accepted by WhatsApp"]);
    assert!(shown.text().contains("Channel: WhatsApp"), "{}", shown.text());
    assert_eq!(app.count("whatsapp_opt_ins").await, 1);
    assert_eq!(app.count("contacts").await, 1);
}

#[tokio::test]
async fn a_message_to_a_new_number_creates_the_contact_when_the_profile_may() {
    let meta = Standin::start().await;
    let app = app_with_templates(&meta).await;
    let template = template_id(&app, "hello_world").await;
    let page = format!("{FORM}?template_id={template}");
    let fields =
        [("contact_name", "Rush Hour"), ("new_number", "+44 7700 900456"), ("opt_in", "on"), ("action", "send")];
    let sent = post(&app, &page, &fields).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text());
    let shown = app.get(&sent.location.clone().unwrap()).await;
    assert!(shown.text().contains("WhatsApp message sent and contact created."), "{}", shown.text());
    assert_eq!(
        app.texts("SELECT first_name || ' ' || last_name || ' ' || mobile || ' ' || source AS v FROM contacts").await,
        ["Rush Hour +447700900456 whatsapp"]
    );
    let kinds = app.texts("SELECT kind AS v FROM contact_identities ORDER BY kind").await;
    assert_eq!(kinds, ["mobile", "whatsapp"]);
    assert_eq!(meta.sent().len(), 1);

    // The same number again finds that contact: no second one.
    let again =
        post(&app, &page, &[("contact_name", "Someone Else"), ("new_number", "+447700900456"), ("action", "send")])
            .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.text());
    assert_eq!(app.count("contacts").await, 1);
    assert_eq!(app.count("tickets").await, 2);
}

#[tokio::test]
async fn without_create_permission_the_message_goes_and_its_ticket_waits_for_a_contact() {
    let meta = Standin::start().await;
    let app = app_with_templates(&meta).await;
    let agent = send_as_viewer(&app, "+44 7700 900789").await;
    assert_eq!(meta.sent().len(), 1);
    assert_eq!(meta.sent()[0].body["to"], "+447700900789");
    assert_eq!(app.count("contacts").await, 0);
    // The ticket is kept, with no contact, the template first in its thread.
    let tickets =
        app.texts("SELECT CAST(number AS TEXT) || ' ' || channel || ' ' || subject AS v FROM tickets WHERE contact_id IS NULL").await;
    let number = tickets[0].split(' ').next().unwrap().to_owned();
    assert_eq!(tickets, [format!("{number} whatsapp WhatsApp: hello_world")]);
    let thread = app.texts("SELECT author_kind || ': ' || body AS v FROM messages").await;
    assert_eq!(thread, ["agent: Hello from our support team."]);
    let conversation = app.texts("SELECT customer AS v FROM whatsapp_conversations WHERE contact_id IS NULL").await;
    assert_eq!(conversation, ["+447700900789"]);
    let page = agent.get(&format!("/agent/tickets/{number}")).await;
    assert!(page.text().contains("Hello from our support team."), "{}", page.text());
    assert!(page.text().contains("No contact: this ticket is not linked to a contact yet."), "{}", page.text());
    assert!(page.text().contains("+447700900789"), "the number, which the profile may see: {}", page.text());
    assert!(page.has("a[href$='/contact']"), "Link to contact: {}", page.text());
}

/// Sends the hello_world template to `number` as an agent whose profile may view contacts and
/// edit tickets but not create contacts; the agent's client, on the ticket it landed on.
pub(super) async fn send_as_viewer(app: &TestApp, number: &str) -> TestApp {
    app.create_profile("Viewers", &["contacts.view", "tickets.view", "tickets.edit"], &[]).await;
    let agent = app.client_as("Viewers", "viewer@example.com").await;
    let template = template_id(app, "hello_world").await;
    let page = format!("{FORM}?template_id={template}");
    let form = agent.get(&page).await;
    assert!(form.text().contains("may not create contacts"), "{}", form.text());
    let sent = post(
        &agent,
        &page,
        &[("contact_name", "New Person"), ("new_number", number), ("opt_in", "on"), ("action", "send")],
    )
    .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text());
    let location = sent.location.clone().unwrap();
    assert!(location.starts_with("/agent/tickets/"), "{location}");
    let after = agent.get(&location).await;
    assert!(after.text().contains("No contact was created: your profile may not create contacts."), "{}", after.text());
    agent
}

#[tokio::test]
async fn without_view_permission_on_contacts_there_is_no_form_and_nothing_goes() {
    let meta = Standin::start().await;
    let app = app_with_templates(&meta).await;
    app.create_profile("Tickets Only", &["tickets.view"], &[]).await;
    let agent = app.client_as("Tickets Only", "tickets@example.com").await;
    assert_eq!(agent.get(FORM).await.status, StatusCode::FORBIDDEN);
    let template = template_id(&app, "hello_world").await;
    let posted = crafted(
        &agent,
        &[
            ("contact_name", "X"),
            ("new_number", "+447700900123"),
            ("template_id", &template),
            ("opt_in", "on"),
            ("action", "send"),
        ],
    )
    .await;
    assert_eq!(posted.status, StatusCode::FORBIDDEN);
    assert!(meta.sent().is_empty());
    assert_eq!(app.count("outbox").await, 0);
}

#[tokio::test]
async fn a_read_only_number_cannot_be_changed_and_hidden_numbers_are_a_restricted_field_permission() {
    let meta = Standin::start().await;
    let app = app_with_templates(&meta).await;
    let id = app.add_contact(&[("last_name", "Ortiz"), ("mobile", "+44 7700 900123")]).await;
    let template = template_id(&app, "hello_world").await;
    app.create_profile(
        "Read Only Numbers",
        &["contacts.view", "contacts.create", "contacts.edit", "tickets.view"],
        &[("contact.mobile", "read_only"), ("contact.phone", "read_only")],
    )
    .await;
    let agent = app.client_as("Read Only Numbers", "ro@example.com").await;
    let page = format!("{FORM}?contact_id={id}&template_id={template}");
    assert!(agent.get(&page).await.value_of("new_number").is_none(), "no number to type");
    let other = post(
        &agent,
        &page,
        &[("number", "new"), ("new_number", "+44 7700 900999"), ("opt_in", "on"), ("action", "send")],
    )
    .await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(other.field_error("number").is_some_and(|e| e.contains("may not change")), "{}", other.text());
    assert!(meta.sent().is_empty());

    app.create_profile(
        "Hidden Numbers",
        &["contacts.view", "contacts.create", "contacts.edit", "tickets.view"],
        &[("contact.mobile", "hidden"), ("contact.phone", "hidden")],
    )
    .await;
    let hidden = app.client_as("Hidden Numbers", "hidden@example.com").await;
    let shown = hidden.get(&page).await;
    assert!(shown.text().contains("restricted field permission"), "{}", shown.text());
    assert!(!shown.html.contains("7700") && !shown.html.contains("447700900123"));
    let id = id.to_string();
    let posted = crafted(
        &hidden,
        &[
            ("contact_id", id.as_str()),
            ("number", "mobile"),
            ("template_id", template.as_str()),
            ("opt_in", "on"),
            ("action", "send"),
        ],
    )
    .await;
    assert_eq!(posted.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(posted.text().contains("restricted field permission"));
    assert!(!posted.html.contains("447700900123"));
    assert!(meta.sent().is_empty());
    assert_eq!(app.count("outbox").await, 0);
}

#[tokio::test]
async fn bad_input_is_answered_on_the_form_and_nothing_is_sent() {
    let meta = Standin::start().await;
    let app = app_with_templates(&meta).await;
    let update = template_id(&app, "ticket_update").await;
    let page = format!("{FORM}?template_id={update}");
    for (fields, field, words) in [
        (vec![("contact_name", "A B"), ("new_number", "+447700900123"), ("template_id", "")], "template_id", "Choose"),
        (
            vec![("contact_name", "A B"), ("new_number", "not a number"), ("body_1", "A")],
            "new_number",
            "WhatsApp number",
        ),
        (vec![("contact_name", "A B"), ("new_number", "+447700900123"), ("body_1", "")], "body_1", "Enter Body {{1}}"),
        (vec![("contact_name", ""), ("new_number", "+447700900123"), ("body_1", "A")], "contact_name", "name"),
    ] {
        let mut fields = fields;
        fields.extend([("body_3", "x"), ("opt_in", "on"), ("action", "send")]);
        let answered = post(&app, &page, &fields).await;
        assert_eq!(answered.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let error = answered.field_error(field).unwrap_or_default();
        assert!(error.contains(words), "{field}: {error:?} in {}", answered.text());
    }
    let too_long = "x".repeat(1025);
    let answered = post(
        &app,
        &page,
        &[
            ("contact_name", "A B"),
            ("new_number", "+447700900123"),
            ("body_1", "A"),
            ("body_3", &too_long),
            ("opt_in", "on"),
            ("action", "send"),
        ],
    )
    .await;
    assert_eq!(answered.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answered.field_error("body_3").is_some_and(|e| e.contains("at most 1024")), "{}", answered.text());

    // A channel whose token WhatsApp refused.
    app.exec("UPDATE whatsapp_numbers SET token_error = 'Session has expired (code 190)'").await;
    let answered = post(
        &app,
        &page,
        &[
            ("contact_name", "A B"),
            ("new_number", "+447700900123"),
            ("body_1", "A"),
            ("body_3", "x"),
            ("opt_in", "on"),
            ("action", "send"),
        ],
    )
    .await;
    assert!(answered.field_error("template_id").is_some_and(|e| e.contains("Access Token")), "{}", answered.text());
    assert!(meta.sent().is_empty());
    assert_eq!(app.count("outbox").await + app.count("contacts").await + app.count("tickets").await, 0);
}
