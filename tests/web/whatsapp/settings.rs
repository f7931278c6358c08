//! Settings → Channels → WhatsApp against the stand-in: an administrator connects a number and
//! is shown what to paste into Meta's dashboard (never the secrets), Test connection and Sync
//! templates answer in Meta's words, a refused token asks for a new one, and nobody else may
//! enter.

use reqwest::StatusCode;
use serde_json::json;

use super::standin::{template, Standin, APP_SECRET, PHONE_NUMBER_ID, TOKEN, WABA_ID};
use crate::helpers::{form_values, id_from_location, spawn_app_with, Page, TestApp};
use crate::intake::{arrive, number};

const LIST: &str = "/agent/settings/channels/whatsapp";
const NEW: &str = "/agent/settings/channels/whatsapp/new";

/// An app on `meta` with its administrator logged in.
async fn app_on(meta: &Standin) -> TestApp {
    let url = meta.url.clone();
    let app = spawn_app_with(move |s| s.whatsapp_api_url = url).await;
    app.set_up_admin().await;
    app
}

fn filled(phone_number_id: &str) -> Vec<(&str, &str)> {
    vec![
        ("name", "Support line"),
        ("phone_number_id", phone_number_id),
        ("waba_id", WABA_ID),
        ("access_token", TOKEN),
        ("app_secret", APP_SECRET),
        ("graph_version", "v23.0"),
    ]
}

/// Adds the stand-in's number over the form; its page's path.
async fn add_number(app: &TestApp) -> String {
    let page = app.submit(NEW, LIST, &filled(PHONE_NUMBER_ID)).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    format!("{LIST}/{}", id_from_location(&page))
}

/// Presses a button (a form posting to `action`) on `path`.
async fn press(app: &TestApp, path: &str, action: &str) -> Page {
    app.submit(path, action, &[]).await
}

fn assert_no_secret(page: &Page) {
    assert!(!page.html.contains(TOKEN) && !page.html.contains(APP_SECRET), "a secret is in the page");
}

#[tokio::test]
async fn an_administrator_connects_a_number_and_sees_what_to_paste_into_meta_but_never_its_secrets() {
    let meta = Standin::start().await;
    let app = app_on(&meta).await;
    let form = app.get(NEW).await;
    assert_eq!(form.value_of("graph_version").as_deref(), Some("v23.0"));
    assert!(form.has("input[name=access_token][type=password]") && form.has("input[name=app_secret][type=password]"));

    let path = add_number(&app).await;
    let page = app.get(&path).await;
    let key = app.texts("SELECT webhook_key AS v FROM whatsapp_numbers").await.remove(0);
    let verify = app.texts("SELECT verify_token AS v FROM whatsapp_numbers").await.remove(0);
    let callback = format!("{}/webhooks/whatsapp/{key}", app.state.public_url.trim_end_matches('/'));
    assert_eq!(page.texts("#callback-url"), [callback]);
    assert_eq!(page.texts("#verify-token"), [verify]);
    assert!(page.text().contains("Support line connected"), "{}", page.text());
    assert!(key.len() >= 32, "the Callback URL's key is unguessable");

    // Saved again with the secrets left blank: they are kept.
    let edit = format!("{path}/edit");
    let saved = app.submit(&edit, &path, &[("name", "Support")]).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    for page in [app.get(LIST).await, app.get(&path).await, app.get(&edit).await] {
        assert_eq!(page.status, StatusCode::OK);
        assert_no_secret(&page);
    }
    let stored = app.texts("SELECT access_token || ' ' || app_secret AS v FROM whatsapp_numbers").await.remove(0);
    assert!(!stored.contains(TOKEN) && !stored.contains(APP_SECRET), "stored in clear: {stored}");
    let number = frontdesk::channels::whatsapp::numbers::find(&app.state.db, id_from_path(&path)).await.unwrap();
    let secrets = frontdesk::channels::whatsapp::numbers::secrets(&app.state.sealer, &number).unwrap();
    assert_eq!((secrets.access_token.as_str(), secrets.app_secret.as_str()), (TOKEN, APP_SECRET));
    assert_eq!(number.name, "Support");
    assert!(app.get(LIST).await.texts("table.list a").contains(&"Support".to_owned()));
}

fn id_from_path(path: &str) -> i64 {
    path.rsplit('/').next().and_then(|id| id.parse().ok()).expect("an id")
}

#[tokio::test]
async fn an_agent_who_is_not_an_administrator_gets_403() {
    let meta = Standin::start().await;
    let app = app_on(&meta).await;
    let path = add_number(&app).await;
    let agent = app.client_as("Agent", "agent@example.com").await;
    for page in [LIST.to_owned(), NEW.to_owned(), path.clone(), format!("{path}/edit"), format!("{path}/delete")] {
        assert_eq!(agent.get(&page).await.status, StatusCode::FORBIDDEN, "{page}");
    }
    let own = agent.get("/agent/contacts").await;
    let csrf = form_values(&own.html, "/agent/logout");
    for action in ["test", "sync", "delete"] {
        let response = agent.client.post(agent.url(&format!("{path}/{action}"))).form(&csrf).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{action}");
    }
    assert!(meta.inner.lock().unwrap().requests.is_empty(), "nothing reached Meta");
    assert_eq!(app.count("whatsapp_numbers").await, 1);
}

#[tokio::test]
async fn a_bad_form_is_answered_next_to_the_field_with_nothing_stored_and_no_secret_echoed() {
    let meta = Standin::start().await;
    let app = app_on(&meta).await;
    for (field, value, message) in [
        ("phone_number_id", "", "Phone Number ID is required."),
        ("phone_number_id", "10654abc", "digits only"),
        ("graph_version", "23", "Graph API Version looks like v23.0."),
    ] {
        let mut fields = filled(PHONE_NUMBER_ID);
        fields.retain(|(k, _)| *k != field);
        fields.push((field, value));
        let page = app.submit(NEW, LIST, &fields).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}={value}");
        let error = page.field_error(field).unwrap_or_default();
        assert!(error.contains(message), "{field}: {error}");
        assert_eq!(page.value_of("name").as_deref(), Some("Support line"), "the input is kept");
        assert_no_secret(&page);
        assert!(page.texts("#access_token-hint").join(" ").contains("enter it again"), "{}", page.text());
        assert!(page.texts("#app_secret-hint").join(" ").contains("enter it again"));
    }
    assert_eq!(app.count("whatsapp_numbers").await, 0);
}

#[tokio::test]
async fn the_same_phone_number_id_twice_is_a_field_error() {
    let meta = Standin::start().await;
    let app = app_on(&meta).await;
    add_number(&app).await;
    let page = app.submit(NEW, LIST, &filled(PHONE_NUMBER_ID)).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(page.field_error("phone_number_id").as_deref(), Some("This number is connected already."));
    assert_no_secret(&page);
    assert_eq!(app.count("whatsapp_numbers").await, 1);
}

#[tokio::test]
async fn test_connection_shows_metas_answer_and_a_refused_token_asks_for_a_new_one_until_one_is_entered() {
    let meta = Standin::start().await;
    let app = app_on(&meta).await;
    let path = add_number(&app).await;
    let test = format!("{path}/test");

    let page = press(&app, &path, &test).await;
    assert_eq!(page.status, StatusCode::OK);
    let result = page.texts("#test-result").join(" ");
    assert!(result.contains("Connection works") && result.contains("Frontdesk Support"), "{result}");
    assert!(result.contains("GREEN") && result.contains("+1 555-000-1111"), "{result}");
    let shown = app.get(&path).await.text();
    assert!(shown.contains("Frontdesk Support") && shown.contains("GREEN"), "kept: {shown}");

    meta.expire_token();
    let page = press(&app, &path, &test).await;
    let result = page.texts("#test-result").join(" ");
    assert!(result.contains("Connection failed") && result.contains("Session has expired"), "{result}");
    assert!(result.contains("code 190"), "{result}");
    let asks = app.get(&path).await.texts("#token-error").join(" ");
    assert!(asks.contains("needs a new Access Token"), "{asks}");
    assert!(app.get(LIST).await.text().contains("Needs a new Access Token"));

    meta.inner.lock().unwrap().token = "EAAnewtoken".into();
    let edit = format!("{path}/edit");
    let saved = app.submit(&edit, &path, &[("access_token", "EAAnewtoken")]).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    assert!(!app.get(&path).await.has("#token-error"), "a new token clears it");
    let result = press(&app, &path, &test).await.texts("#test-result").join(" ");
    assert!(result.contains("Connection works"), "{result}");
}

#[tokio::test]
async fn sync_templates_reads_every_page_and_a_second_sync_replaces_them() {
    let meta = Standin::start().await;
    let app = app_on(&meta).await;
    let path = add_number(&app).await;
    let sync = format!("{path}/sync");

    let page = press(&app, &path, &sync).await;
    let result = page.texts("#sync-result").join(" ");
    assert!(result.contains("4 templates read, 3 approved"), "{result}");
    let rows = page.texts("#templates tbody tr");
    assert_eq!(
        rows,
        [
            "hello_world en_US UTILITY APPROVED 0",
            "promo en_US MARKETING REJECTED 1",
            "ticket_update de UTILITY APPROVED 2",
            "ticket_update en_US UTILITY APPROVED 2",
        ]
    );
    assert!(app.column("whatsapp_numbers", "templates_synced_at", id_from_path(&path)).await.is_some());

    meta.inner.lock().unwrap().templates = vec![
        template("ticket_closed", "en_US", "Hi {{1}}, we closed {{2}}. Reply to reopen it within {{3}} days."),
        json!({"id": "1", "name": "hello_world", "language": "en_US", "status": "PAUSED", "category": "UTILITY",
               "components": [{"type": "BODY", "text": "Hello from our support team."}]}),
    ];
    let page = press(&app, &path, &sync).await;
    assert!(page.texts("#sync-result").join(" ").contains("2 templates read, 1 approved"));
    let rows = page.texts("#templates tbody tr");
    assert_eq!(rows, ["hello_world en_US UTILITY PAUSED 0", "ticket_closed en_US UTILITY APPROVED 3"]);
    assert_eq!(app.count("whatsapp_templates").await, 2);

    // Two syncs at once (the button and a template-status webhook) both end in one set.
    let (a, b) = tokio::join!(press(&app, &path, &sync), press(&app, &path, &sync));
    assert_eq!((a.status, b.status), (StatusCode::OK, StatusCode::OK));
    assert_eq!(app.count("whatsapp_templates").await, 2);

    // A failed sync shows Meta's message and keeps the templates.
    meta.expire_token();
    let page = press(&app, &path, &sync).await;
    let result = page.texts("#sync-result").join(" ");
    assert!(result.contains("Templates not synced") && result.contains("code 190"), "{result}");
    assert_eq!(app.count("whatsapp_templates").await, 2);
}

#[tokio::test]
async fn deleting_a_number_asks_first_and_keeps_its_tickets() {
    let meta = Standin::start().await;
    let app = app_on(&meta).await;
    let path = add_number(&app).await;
    press(&app, &path, &format!("{path}/sync")).await;
    arrive(&app, &number("+44 7700 900123"), "My router blinks").await;
    let id = id_from_path(&path);
    app.exec(&format!(
        "INSERT INTO whatsapp_conversations (ticket_id, number_id, contact_id, customer) \
         SELECT id, {id}, contact_id, '+447700900123' FROM tickets"
    ))
    .await;

    let confirm = app.get(&format!("{path}/delete")).await;
    assert!(confirm.text().contains("Its tickets stay"), "{}", confirm.text());
    let done = press(&app, &format!("{path}/delete"), &format!("{path}/delete")).await;
    assert_eq!(done.location.as_deref(), Some(LIST));
    assert!(app.get(LIST).await.text().contains("Support line was disconnected. Its tickets stay."));
    assert_eq!(app.count("whatsapp_numbers").await, 0);
    assert_eq!(app.count("whatsapp_templates").await, 0);
    assert_eq!(app.count("whatsapp_conversations").await, 0);
    assert_eq!(app.count("tickets").await, 1);
    assert_eq!(app.get(&path).await.status, StatusCode::NOT_FOUND);
}
