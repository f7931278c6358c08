//! Messages coming in through `/webhooks/whatsapp/{key}`, posted by the stand-in signed as Meta
//! signs them: the handshake, signatures, contacts found or made, threading, replays, every
//! kind of message shown in the thread, and identity changes.

use frontdesk::channels::whatsapp::numbers::Number;
use serde_json::{json, Value};

use super::connect;
use super::standin::{self, messages_webhook, post_webhook, text_from, Standin, APP_SECRET};
use crate::helpers::{spawn_app_with, TestApp};

/// The number customers write from in these tests (digits, as Meta writes `wa_id`).
pub const FROM: &str = "447700900123";

/// An app on the stand-in with its number connected; the administrator's client logged in.
pub struct Connected {
    pub meta: Standin,
    pub app: TestApp,
    pub number: Number,
}

impl Connected {
    pub async fn start() -> Self {
        let meta = Standin::start().await;
        let url = meta.url.clone();
        let app = spawn_app_with(move |s| {
            s.whatsapp_api_url = url;
            s.outbox_interval = 3600; // the tests run the workers themselves
        })
        .await;
        app.set_up_admin().await;
        let number = connect(&app).await;
        Self { meta, app, number }
    }

    pub fn callback(&self) -> String {
        self.app.url(&format!("/webhooks/whatsapp/{}", self.number.webhook_key))
    }

    /// Posts `body` signed with the App Secret; the status.
    pub async fn post(&self, body: &Value) -> u16 {
        post_webhook(&self.callback(), APP_SECRET, body).await.status().as_u16()
    }

    /// The page of the only (or latest) ticket.
    pub async fn ticket_page(&self) -> crate::helpers::Page {
        let number = self.app.texts("SELECT CAST(number AS TEXT) AS v FROM tickets ORDER BY id DESC").await.remove(0);
        self.app.get(&format!("/agent/tickets/{number}")).await
    }
}

/// A message from `FROM` (named Melissa Ortiz) of `kind` with its own object.
pub fn message(wamid: &str, kind: &str, object: Value) -> Value {
    let mut m = json!({"from": FROM, "id": wamid, "timestamp": "1765000000", "type": kind});
    m[kind] = object;
    messages_webhook(json!([{"profile": {"name": "Melissa Ortiz"}, "wa_id": FROM}]), json!([m]))
}

/// The same, replying to `quoted`.
fn reply_to(wamid: &str, quoted: &str, text: &str) -> Value {
    let mut body = message(wamid, "text", json!({"body": text}));
    body["entry"][0]["changes"][0]["value"]["messages"][0]["context"] = json!({"from": FROM, "id": quoted});
    body
}

#[tokio::test]
async fn the_handshake_answers_the_challenge_only_for_the_verify_token() {
    let wa = Connected::start().await;
    let client = reqwest::Client::new();
    let ask = |token: &str, mode: &str| {
        format!("{}?hub.mode={mode}&hub.verify_token={token}&hub.challenge=1158201444", wa.callback())
    };
    let right = client.get(ask(&wa.number.verify_token, "subscribe")).send().await.unwrap();
    assert_eq!(right.status(), 200);
    assert!(right.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    assert_eq!(right.text().await.unwrap(), "1158201444");
    assert_eq!(client.get(ask("guessed", "subscribe")).send().await.unwrap().status(), 403);
    assert_eq!(client.get(ask(&wa.number.verify_token, "unsubscribe")).send().await.unwrap().status(), 403);
    assert_eq!(client.get(wa.callback()).send().await.unwrap().status(), 403);
    let unknown = wa.app.url("/webhooks/whatsapp/no-such-key?hub.mode=subscribe&hub.challenge=1");
    assert_eq!(client.get(unknown).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn a_wrong_or_missing_signature_is_refused_and_nothing_is_stored() {
    let wa = Connected::start().await;
    let body = text_from(FROM, "Melissa Ortiz", "wamid.A1", "Hello", 1_765_000_000);
    let bytes = serde_json::to_vec(&body).unwrap();
    let client = reqwest::Client::new();
    let wrong = client
        .post(wa.callback())
        .header("x-hub-signature-256", standin::signature("another secret", &bytes))
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let missing = client.post(wa.callback()).body(bytes.clone()).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    // Signed over other bytes than those sent.
    let mut changed = bytes.clone();
    changed.push(b' ');
    let moved = client
        .post(wa.callback())
        .header("x-hub-signature-256", standin::signature(APP_SECRET, &bytes))
        .body(changed)
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 401);
    for table in ["contacts", "tickets", "messages", "whatsapp_messages"] {
        assert_eq!(wa.app.count(table).await, 0, "{table}");
    }
}

#[tokio::test]
async fn a_body_too_large_is_refused_and_one_that_is_not_json_is_ignored() {
    let wa = Connected::start().await;
    let client = reqwest::Client::new();
    let huge = vec![b' '; 1024 * 1024 + 1];
    let refused = client
        .post(wa.callback())
        .header("x-hub-signature-256", standin::signature(APP_SECRET, &huge))
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 413);
    let garbage = b"this is not json".to_vec();
    let ignored = client
        .post(wa.callback())
        .header("x-hub-signature-256", standin::signature(APP_SECRET, &garbage))
        .body(garbage)
        .send()
        .await
        .unwrap();
    assert_eq!(ignored.status(), 200, "signed, so Meta's: a retry would not read better");
    // Other fields and odd shapes are answered 200 too, and ignored.
    let odd = json!({"object": "whatsapp_business_account", "entry": [
        {"id": "1", "changes": [{"field": "account_update", "value": {"x": 1}}, {"field": "messages", "value": 7}]},
        "not an entry"]});
    assert_eq!(wa.post(&odd).await, 200);
    // A sender that is neither a phone number nor a user id is skipped, the rest answered.
    assert_eq!(wa.post(&text_from("12", "Nobody", "wamid.X1", "Hi", 1_765_000_000)).await, 200);
    assert_eq!(wa.app.count("tickets").await, 0);
    assert_eq!(wa.app.count("contacts").await, 0);
}

#[tokio::test]
async fn a_template_status_change_reads_the_numbers_templates_again() {
    let wa = Connected::start().await;
    assert_eq!(wa.app.count("whatsapp_templates").await, 0);
    let change = json!({"object": "whatsapp_business_account", "entry": [{"id": standin::WABA_ID, "changes": [
        {"field": "message_template_status_update", "value": {"event": "APPROVED", "message_template_id": 1,
         "message_template_name": "ticket_update", "message_template_language": "en_US", "reason": "NONE"}}]}]});
    assert_eq!(wa.post(&change).await, 200);
    // Read after the answer: every page of the stand-in's templates arrives shortly.
    for _ in 0..100 {
        if wa.app.count("whatsapp_templates").await == 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(wa.app.count("whatsapp_templates").await, 4);
    let synced = wa
        .app
        .texts("SELECT CAST(COUNT(*) AS TEXT) AS v FROM whatsapp_numbers WHERE templates_synced_at IS NOT NULL")
        .await;
    assert_eq!(synced, ["1"]);
}

#[tokio::test]
async fn a_first_message_makes_a_contact_and_a_ticket_the_next_joins_it_and_a_replay_is_stored_once() {
    let wa = Connected::start().await;
    let first = text_from(FROM, "Melissa Ortiz", "wamid.A1", "My router blinks red since the storm", 1_765_000_000);
    assert_eq!(wa.post(&first).await, 200);
    let contact = wa
        .app
        .texts("SELECT first_name || ' ' || last_name || ' ' || mobile || ' ' || source AS v FROM contacts")
        .await;
    assert_eq!(contact, ["Melissa Ortiz +447700900123 whatsapp"]);
    let identities = wa.app.texts("SELECT kind || ' ' || value AS v FROM contact_identities ORDER BY kind").await;
    assert_eq!(identities, ["mobile +447700900123", "whatsapp +447700900123"]);
    let ticket = wa.app.texts("SELECT channel || ' ' || subject || ' ' || status AS v FROM tickets").await;
    assert_eq!(ticket, ["whatsapp My router blinks red since the storm Open"]);

    let second = text_from(FROM, "Melissa Ortiz", "wamid.A2", "It is green now", 1_765_000_100);
    assert_eq!(wa.post(&second).await, 200);
    for _ in 0..3 {
        assert_eq!(wa.post(&second).await, 200, "a replay is answered 200");
    }
    assert_eq!(wa.app.count("contacts").await, 1);
    assert_eq!(wa.app.count("tickets").await, 1);
    assert_eq!(wa.app.count("messages").await, 2);
    assert_eq!(wa.app.count("whatsapp_messages").await, 2);
    let linked =
        wa.app.texts("SELECT kind || ' ' || direction AS v FROM whatsapp_messages WHERE message_id IS NOT NULL").await;
    assert_eq!(linked, ["text inbound", "text inbound"]);
    // The 24-hour window runs from the latest message's own timestamp, and never moves back.
    let late = text_from(FROM, "Melissa Ortiz", "wamid.A0", "(sent before the others)", 1_764_999_000);
    assert_eq!(wa.post(&late).await, 200);
    let window = wa.app.texts("SELECT CAST(last_inbound_at AS TEXT) AS v FROM whatsapp_conversations").await;
    assert!(window[0].starts_with("2025-12-06 05:48:20") || window[0].starts_with("2025-12-06T05:48:20"), "{window:?}");

    let page = wa.ticket_page().await;
    let thread = page.texts(".thread");
    let text = page.text();
    assert!(text.contains("My router blinks red") && text.contains("It is green now"), "{thread:?}");
}

#[tokio::test]
async fn a_message_from_an_existing_contacts_mobile_joins_that_contact_and_never_renames_it() {
    let wa = Connected::start().await;
    let id =
        wa.app.add_contact(&[("first_name", "Mel"), ("last_name", "Ortiz-Agent"), ("mobile", "+44 7700 900123")]).await;
    assert_eq!(wa.post(&text_from(FROM, "Melissa O.", "wamid.B1", "Hi", 1_765_000_000)).await, 200);
    assert_eq!(wa.app.count("contacts").await, 1);
    let names = wa.app.texts("SELECT first_name || ' ' || last_name AS v FROM contacts").await;
    assert_eq!(names, ["Mel Ortiz-Agent"], "the profile name never renames a contact an agent named");
    let owners = wa.app.texts("SELECT CAST(contact_id AS TEXT) AS v FROM tickets").await;
    assert_eq!(owners, [id.to_string()]);
    let whatsapp =
        wa.app.texts("SELECT CAST(contact_id AS TEXT) AS v FROM contact_identities WHERE kind = 'whatsapp'").await;
    assert_eq!(whatsapp, [id.to_string()], "the WhatsApp identity is added to the contact found by its mobile");
    let history = wa.app.count("events WHERE subject_kind = 'contact' AND changes LIKE '%whatsapp%900123%'").await;
    assert_eq!(history, 1, "and its History says so");
    let page = wa.app.get(&format!("/agent/contacts/{id}")).await.text();
    assert!(page.contains("changed WhatsApp from “” to “+447700900123”"), "{page}");
    // The thread shows it as the contact's message, not a stranger's.
    assert!(!wa.ticket_page().await.text().contains("(not the contact)"));
}

#[tokio::test]
async fn fifty_first_messages_at_once_from_one_number_make_one_contact_and_one_ticket() {
    let wa = Connected::start().await;
    let posts = (0..50).map(|i| {
        let body = text_from(FROM, "Rush Hour", &format!("wamid.R{i}"), &format!("Message {i}"), 1_765_000_000 + i);
        let callback = wa.callback();
        async move { post_webhook(&callback, APP_SECRET, &body).await.status().as_u16() }
    });
    let statuses = futures_util::future::join_all(posts).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(wa.app.count("contacts").await, 1);
    assert_eq!(wa.app.count("tickets").await, 1);
    assert_eq!(wa.app.count("messages").await, 50);
    assert_eq!(wa.app.count("contact_identities").await, 2);
}

#[tokio::test]
async fn a_username_without_a_number_makes_a_contact_by_its_user_id_named_from_the_profile() {
    let wa = Connected::start().await;
    let body = messages_webhook(
        json!([{"profile": {"name": "Kai"}, "user_id": "US.13491208655302741918"}]),
        json!([{"from_user_id": "US.13491208655302741918", "id": "wamid.U1", "timestamp": "1765000000",
                "type": "text", "text": {"body": "Hello from a username"}}]),
    );
    assert_eq!(wa.post(&body).await, 200);
    let contact = wa.app.texts("SELECT last_name || ' ' || COALESCE(mobile, 'no mobile') AS v FROM contacts").await;
    assert_eq!(contact, ["Kai no mobile"]);
    let identities = wa.app.texts("SELECT kind || ' ' || value AS v FROM contact_identities").await;
    assert_eq!(identities, ["whatsapp_user US.13491208655302741918"]);
    assert_eq!(wa.app.texts("SELECT customer AS v FROM whatsapp_conversations").await, ["US.13491208655302741918"]);
}

#[tokio::test]
async fn a_reply_shows_the_message_it_quotes_and_locations_reactions_and_unknown_types_are_shown() {
    let wa = Connected::start().await;
    assert_eq!(wa.post(&text_from(FROM, "Melissa Ortiz", "wamid.Q1", "My router blinks", 1_765_000_000)).await, 200);
    assert_eq!(wa.post(&reply_to("wamid.Q2", "wamid.Q1", "Still blinking")).await, 200);
    let location = json!({"latitude": 51.501, "longitude": -0.1419, "name": "Head office", "address": "1 Main St"});
    assert_eq!(wa.post(&message("wamid.Q3", "location", location)).await, 200);
    assert_eq!(wa.post(&message("wamid.Q4", "reaction", json!({"message_id": "wamid.Q1", "emoji": "👍"}))).await, 200);
    let unsupported = json!([{"code": 131051, "title": "Message type unknown"}]);
    let mut body = message("wamid.Q5", "unsupported", json!({}));
    body["entry"][0]["changes"][0]["value"]["messages"][0]["errors"] = unsupported;
    assert_eq!(wa.post(&body).await, 200);
    let shared =
        json!([{"name": {"formatted_name": "Bob Lee"}, "phones": [{"phone": "+1 650 555 1234", "type": "CELL"}]}]);
    assert_eq!(wa.post(&message("wamid.Q6", "contacts", shared)).await, 200);
    let tapped = json!({"type": "button_reply", "button_reply": {"id": "fixed", "title": "Yes, it works"}});
    assert_eq!(wa.post(&message("wamid.Q7", "interactive", tapped)).await, 200);

    assert_eq!(wa.app.count("tickets").await, 1);
    let text = wa.ticket_page().await.text();
    for shown in [
        "In reply to “My router blinks”",
        "Still blinking",
        "Location: Head office · 1 Main St · 51.501000, -0.141900",
        "Reacted 👍 to “My router blinks”",
        "Unsupported message type",
        "Shared contact: Bob Lee (+1 650 555 1234)",
        "Chose “Yes, it works”",
    ] {
        assert!(text.contains(shown), "{shown} not in {text}");
    }
}

#[tokio::test]
async fn a_changed_number_is_added_to_the_contact_and_opens_no_ticket() {
    let wa = Connected::start().await;
    assert_eq!(wa.post(&text_from(FROM, "Melissa Ortiz", "wamid.S1", "Hi", 1_765_000_000)).await, 200);
    let system = json!({"body": "Melissa changed from +44 7700 900123 to +44 7700 900456",
                        "wa_id": "447700900456", "type": "user_changed_number"});
    assert_eq!(wa.post(&message("wamid.S2", "system", system.clone())).await, 200);
    assert_eq!(wa.post(&message("wamid.S2", "system", system)).await, 200);
    let identities =
        wa.app.texts("SELECT value AS v FROM contact_identities WHERE kind = 'whatsapp' ORDER BY value").await;
    assert_eq!(identities, ["+447700900123", "+447700900456"], "the old number is kept");
    assert_eq!(wa.app.count("tickets").await, 1);
    assert_eq!(wa.app.count("messages").await, 1);
    let history = wa.app.count("events WHERE subject_kind = 'contact' AND changes LIKE '%whatsapp%900456%'").await;
    assert_eq!(history, 1, "the History records it once");
    // A message from the new number joins the same contact and ticket.
    assert_eq!(wa.post(&text_from("447700900456", "Melissa Ortiz", "wamid.S3", "New phone", 1_765_000_100)).await, 200);
    assert_eq!(wa.app.count("contacts").await, 1);
}

#[tokio::test]
async fn a_webhook_cannot_speak_for_a_number_of_another_business_account() {
    let wa = Connected::start().await;
    let admin = wa.app.texts("SELECT CAST(id AS TEXT) AS v FROM agents ORDER BY id").await.remove(0);
    let admin = frontdesk::services::Actor::load(&wa.app.state.db.conn, admin.parse().unwrap()).await.unwrap().unwrap();
    let other = frontdesk::domain::whatsapp_number::NumberForm {
        name: "Other business".into(),
        phone_number_id: "555000111".into(),
        waba_id: "777000111".into(),
        access_token: "EAAother".into(),
        app_secret: "another-secret".into(),
        graph_version: "v23.0".into(),
    };
    let input = other.parse(true).unwrap();
    frontdesk::channels::whatsapp::numbers::create(
        &wa.app.state.db,
        &admin,
        &wa.app.state.sealer,
        input,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    // Signed with the first number's App Secret, about the other business's number.
    let mut body = text_from(FROM, "Melissa Ortiz", "wamid.X1", "Hello", 1_765_000_000);
    body["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = json!("555000111");
    assert_eq!(wa.post(&body).await, 200);
    assert_eq!(wa.app.count("tickets").await, 0);
    assert_eq!(wa.app.count("whatsapp_messages").await, 0);
}
