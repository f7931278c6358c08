//! A contact's page lists its WhatsApp accounts and the opt-ins it gave; an agent records one,
//! and a template then goes without the warning.

use reqwest::StatusCode;

use super::standin::Standin;
use crate::helpers::TestApp;

async fn app(meta: &Standin) -> TestApp {
    let url = meta.url.clone();
    let app = crate::helpers::spawn_app_with(move |s| {
        s.whatsapp_api_url = url;
        s.outbox_interval = 3600;
    })
    .await;
    app.set_up_admin().await;
    super::connect(&app).await;
    app
}

#[tokio::test]
async fn an_agent_records_an_opt_in_and_the_contact_page_lists_it() {
    let meta = Standin::start().await;
    let app = app(&meta).await;
    let id = app.add_contact(&[("last_name", "Ortiz"), ("mobile", "+44 7700 900123")]).await;
    let contact = format!("/agent/contacts/{id}");
    assert!(app.get(&contact).await.text().contains("No WhatsApp account yet"));
    // The contact's WhatsApp account comes with the first message to it.
    let number = app.texts("SELECT CAST(id AS TEXT) AS v FROM whatsapp_numbers").await.remove(0);
    app.exec(&format!(
        "INSERT INTO whatsapp_templates (number_id, name, language, category, status, parameter_format, components, \
         synced_at) VALUES ({number}, 'hello_world', 'en_US', 'UTILITY', 'APPROVED', 'POSITIONAL', \
         '[{{\"type\":\"BODY\",\"text\":\"Hello\"}}]', '2026-12-07T10:00:00Z')"
    ))
    .await;
    let template = app.texts("SELECT CAST(id AS TEXT) AS v FROM whatsapp_templates").await.remove(0);
    let send = format!("/agent/whatsapp/send?contact_id={id}&template_id={template}");
    let sent = app.submit(&send, "/agent/whatsapp/send", &[("opt_in", "on"), ("action", "send")]).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text());
    let page = app.get(&contact).await;
    assert_eq!(page.texts(".whatsapp-accounts li"), ["+447700900123"]);
    assert!(page.texts(".opt-ins li")[0].starts_with("+447700900123: Confirmed by the agent who sent a template"));

    let form = format!("{contact}/whatsapp/opt-in");
    let refused = app.submit(&form, &form, &[("how", "  ")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.field_error("how").is_some_and(|e| e.contains("how the customer agreed")));
    let stranger = app.submit(&form, &form, &[("customer", "+15550001111"), ("how", "Phone call")]).await;
    assert_eq!(stranger.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("whatsapp_opt_ins").await, 1);
    let saved = app.submit(&form, &form, &[("how", "Ticked the box on our web form")]).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    assert!(app.get(&contact).await.texts(".opt-ins li")[0].contains("Ticked the box on our web form"));

    // With an opt-in on record, a template goes without the question.
    let again = app.submit(&send, "/agent/whatsapp/send", &[("action", "send")]).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.text());
    assert_eq!(meta.sent().len(), 2);

    // A profile that hides Mobile sees none of it.
    app.create_profile("No Mobile", &["contacts.view", "contacts.edit"], &[("contact.mobile", "hidden")]).await;
    let agent = app.client_as("No Mobile", "nomobile@example.com").await;
    let page = agent.get(&contact).await;
    assert!(!page.html.contains("447700900123"), "{}", page.text());
    assert!(page.texts(".opt-ins li").is_empty());
    assert_eq!(agent.get(&form).await.texts("select[name=customer] option").len(), 0);
}

#[tokio::test]
async fn a_customer_who_writes_start_has_opted_in() {
    let wa = super::inbound::Connected::start().await;
    let first = super::standin::text_from(super::inbound::FROM, "Melissa Ortiz", "wamid.O1", "Hello", 1_765_000_000);
    assert_eq!(wa.post(&first).await, 200);
    assert_eq!(wa.app.count("whatsapp_opt_ins").await, 0, "writing is not asking");
    let start = super::standin::text_from(super::inbound::FROM, "Melissa Ortiz", "wamid.O2", "START", 1_765_000_060);
    assert_eq!(wa.post(&start).await, 200);
    let contact = wa.app.texts("SELECT CAST(id AS TEXT) AS v FROM contacts").await.remove(0);
    let page = wa.app.get(&format!("/agent/contacts/{contact}")).await;
    assert!(
        page.texts(".opt-ins li")[0].starts_with("+447700900123: Asked for it in a WhatsApp message"),
        "{}",
        page.text()
    );
}
