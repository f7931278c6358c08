//! A WhatsApp message is never lost: one from a contact in the Recycle Bin is held (both by the
//! batch and by the one-message path), listed for administrators with the reason, retried or
//! deleted, and taken by itself when the contact is restored; a NUL character in what Meta
//! sends is taken out rather than failing the message on PostgreSQL.

use frontdesk::services::{recycle_bin, Actor};
use reqwest::StatusCode;
use serde_json::json;

use super::inbound::{Connected, FROM};
use super::send::{app_with_templates, send_as_viewer};
use super::standin::{messages_webhook, post_webhook, text_from, Standin, APP_SECRET};
use crate::helpers::TestApp;

const HELD: &str = "/agent/settings/channels/whatsapp/held";

/// Deletes contact `id` through its page; the Recycle Bin entry's id.
async fn trash(app: &TestApp, id: &str) -> i64 {
    let path = format!("/agent/contacts/{id}/delete");
    assert_eq!(app.submit(&path, &path, &[]).await.status, StatusCode::SEE_OTHER);
    app.texts("SELECT CAST(id AS TEXT) AS v FROM recycle_bin").await.remove(0).parse().unwrap()
}

/// The only contact's id.
async fn contact_id(app: &TestApp) -> String {
    app.texts("SELECT CAST(id AS TEXT) AS v FROM contacts").await.remove(0)
}

/// The ids of the held messages, oldest first.
async fn held_ids(app: &TestApp) -> Vec<String> {
    app.texts("SELECT CAST(id AS TEXT) AS v FROM whatsapp_held_messages ORDER BY id").await
}

/// A customer writes, then is deleted: the app, the contact's Recycle Bin entry.
async fn customer_in_the_bin() -> (Connected, i64) {
    let wa = Connected::start().await;
    let first = text_from(FROM, "Melissa Ortiz", "wamid.H0", "My router blinks red", 1_765_000_000);
    assert_eq!(wa.post(&first).await, 200);
    let id = contact_id(&wa.app).await;
    let entry = trash(&wa.app, &id).await;
    (wa, entry)
}

#[tokio::test]
async fn a_message_from_a_contact_in_the_recycle_bin_is_held_once_and_listed_with_its_reason() {
    let (wa, _) = customer_in_the_bin().await;
    let again = text_from(FROM, "Melissa Ortiz", "wamid.H1", "Are you still there?", 1_765_000_100);
    assert_eq!(wa.post(&again).await, 200, "Meta gets its 200: the message is kept here");
    for _ in 0..3 {
        assert_eq!(wa.post(&again).await, 200, "a replay");
    }
    assert_eq!(wa.app.count("messages").await, 1, "not in a ticket");
    let held = wa
        .app
        .texts("SELECT wamid || ' ' || sender_phone || ' ' || profile_name || ' ' || reason AS v FROM whatsapp_held_messages")
        .await;
    assert_eq!(
        held,
        ["wamid.H1 +447700900123 Melissa Ortiz The sender +447700900123 is a contact in the Recycle Bin. Restore the contact, then retry."],
        "held once"
    );
    let raw = wa.app.texts("SELECT raw AS v FROM whatsapp_held_messages").await.remove(0);
    let raw: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(raw, again["entry"][0]["changes"][0]["value"]["messages"][0], "kept as Meta sent it");

    let settings = wa.app.get("/agent/settings/channels/whatsapp").await;
    assert!(settings.text().contains("1 message is held"), "{}", settings.text());
    assert_eq!(wa.app.link_to("/agent/settings/channels/whatsapp", "a", "1 message is held").await, HELD);
    let page = wa.app.get(HELD).await;
    assert_eq!(page.status, StatusCode::OK);
    let row = page.texts("#held-messages tbody tr").join(" ");
    assert!(row.contains("+447700900123") && row.contains("Melissa Ortiz"), "{row}");
    assert!(row.contains("Are you still there?"), "{row}");
    assert!(row.contains("is a contact in the Recycle Bin. Restore the contact, then retry."), "{row}");
    assert!(page.texts("button").contains(&"Retry".to_owned()) && page.texts("button").contains(&"Delete".to_owned()));
}

#[tokio::test]
async fn retry_keeps_it_held_while_the_contact_is_in_the_bin_and_stores_it_once_restored() {
    let (wa, entry) = customer_in_the_bin().await;
    let again = text_from(FROM, "Melissa Ortiz", "wamid.H1", "Are you still there?", 1_765_000_100);
    assert_eq!(wa.post(&again).await, 200);
    let id = held_ids(&wa.app).await.remove(0);
    let retry = format!("{HELD}/{id}/retry");

    let still = wa.app.submit(HELD, &retry, &[]).await;
    assert_eq!(still.status, StatusCode::SEE_OTHER);
    let page = wa.app.get(HELD).await;
    assert!(
        page.text().contains("Still held: The sender +447700900123 is a contact in the Recycle Bin."),
        "{}",
        page.text()
    );
    assert!(page.text().contains("(2 attempts)"), "{}", page.text());
    assert_eq!(held_ids(&wa.app).await, std::slice::from_ref(&id));
    assert_eq!(wa.app.count("messages").await, 1);

    // Restored by another way than the Recycle Bin's page (which would take it by itself).
    let admin = wa.app.texts("SELECT CAST(id AS TEXT) AS v FROM agents ORDER BY id").await.remove(0);
    let admin = Actor::load(&wa.app.state.db.conn, admin.parse().unwrap()).await.unwrap().unwrap();
    recycle_bin::restore(&wa.app.state.db, &admin, entry).await.unwrap();
    assert_eq!(held_ids(&wa.app).await.len(), 1);

    let stored = wa.app.submit(HELD, &retry, &[]).await;
    assert_eq!(stored.status, StatusCode::SEE_OTHER);
    let number = wa.app.texts("SELECT CAST(number AS TEXT) AS v FROM tickets").await.remove(0);
    let page = wa.app.get(HELD).await;
    assert!(page.text().contains(&format!("Stored in ticket #{number}.")), "{}", page.text());
    assert!(page.text().contains("No message is held."), "{}", page.text());
    assert!(held_ids(&wa.app).await.is_empty());
    let thread = wa.app.texts("SELECT body AS v FROM messages ORDER BY id").await;
    assert_eq!(thread, ["My router blinks red", "Are you still there?"], "in the contact's ticket");
    assert_eq!(wa.app.count("tickets").await, 1);
    assert_eq!(wa.app.count("whatsapp_messages WHERE wamid = 'wamid.H1'").await, 1);
    // Meta delivering it once more changes nothing.
    assert_eq!(wa.post(&again).await, 200);
    assert_eq!(wa.app.count("messages").await, 2);
    assert!(held_ids(&wa.app).await.is_empty());
}

#[tokio::test]
async fn restoring_the_contact_takes_its_held_messages_into_its_ticket() {
    let (wa, entry) = customer_in_the_bin().await;
    for (n, text) in ["One", "Two"].iter().enumerate() {
        let body = text_from(FROM, "Melissa Ortiz", &format!("wamid.R{n}"), text, 1_765_000_100 + n as i64);
        assert_eq!(wa.post(&body).await, 200);
    }
    assert_eq!(held_ids(&wa.app).await.len(), 2);
    let restored = wa.app.submit("/agent/recycle-bin", &format!("/agent/recycle-bin/{entry}/restore"), &[]).await;
    assert_eq!(restored.status, StatusCode::SEE_OTHER);
    let page = wa.app.get(restored.location.as_deref().unwrap()).await;
    assert!(page.text().contains("2 held WhatsApp messages were added to its tickets."), "{}", page.text());
    assert!(held_ids(&wa.app).await.is_empty());
    let thread = wa.app.texts("SELECT body AS v FROM messages ORDER BY id").await;
    assert_eq!(thread, ["My router blinks red", "One", "Two"], "in order");
}

#[tokio::test]
async fn only_administrators_see_retry_or_delete_held_messages_and_only_with_the_forms_token() {
    let (wa, _) = customer_in_the_bin().await;
    assert_eq!(wa.post(&text_from(FROM, "Melissa Ortiz", "wamid.H1", "Hello?", 1_765_000_100)).await, 200);
    let id = held_ids(&wa.app).await.remove(0);
    let agent = wa.app.client_as("Agent", "agent@example.com").await;
    assert_eq!(agent.get(HELD).await.status, StatusCode::FORBIDDEN);
    let csrf = agent.get("/agent/contacts").await.value_of("csrf_token").expect("a token");
    for action in ["retry", "delete"] {
        let refused = agent.post_raw(&format!("{HELD}/{id}/{action}"), &[("csrf_token", &csrf)]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{action}");
        let forged = wa.app.post_raw(&format!("{HELD}/{id}/{action}"), &[]).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{action} without the token");
    }
    assert_eq!(held_ids(&wa.app).await, std::slice::from_ref(&id));
    assert_eq!(wa.app.count("whatsapp_held_messages WHERE attempts = 1").await, 1, "not retried");

    let deleted = wa.app.submit(HELD, &format!("{HELD}/{id}/delete"), &[]).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert!(wa.app.get(HELD).await.text().contains("Held message deleted."));
    assert!(held_ids(&wa.app).await.is_empty());
    assert_eq!(wa.app.post_raw(&format!("{HELD}/{id}/retry"), &[]).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn concurrent_messages_store_every_other_sender_and_hold_the_one_in_the_bin() {
    let (wa, _) = customer_in_the_bin().await;
    let posts = (0..12).map(|i| {
        let (from, name) =
            if i == 5 { (FROM.to_owned(), "Melissa Ortiz") } else { (format!("4477009002{i:02}"), "Other") };
        let body = text_from(&from, name, &format!("wamid.C{i}"), &format!("Message {i}"), 1_765_000_100 + i);
        let callback = wa.callback();
        async move { post_webhook(&callback, APP_SECRET, &body).await.status().as_u16() }
    });
    let statuses = futures_util::future::join_all(posts).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(wa.app.count("messages").await, 1 + 11);
    assert_eq!(wa.app.texts("SELECT wamid AS v FROM whatsapp_held_messages").await, ["wamid.C5"]);
}

#[tokio::test]
async fn an_answer_to_a_ticket_waiting_for_its_contact_is_held_when_the_contact_is_in_the_bin() {
    // The one-message path: an answer to a ticket without a contact is left to it by the batch.
    let meta = Standin::start().await;
    let app = app_with_templates(&meta).await;
    let key = app.texts("SELECT webhook_key AS v FROM whatsapp_numbers").await.remove(0);
    let callback = app.url(&format!("/webhooks/whatsapp/{key}"));
    let first = text_from(FROM, "Melissa Ortiz", "wamid.P0", "Hello", 1_765_000_000);
    assert_eq!(post_webhook(&callback, APP_SECRET, &first).await.status(), 200);
    let id = contact_id(&app).await;
    trash(&app, &id).await;
    // The contact being in the bin, an agent who may not create contacts writes to the number.
    send_as_viewer(&app, &format!("+{FROM}")).await;
    let answer = text_from(FROM, "Melissa Ortiz", "wamid.P1", "Yes, please call me", 1_765_000_100);
    for _ in 0..2 {
        assert_eq!(post_webhook(&callback, APP_SECRET, &answer).await.status(), 200);
    }
    let held = app.texts("SELECT wamid || ': ' || reason AS v FROM whatsapp_held_messages").await;
    assert_eq!(
        held,
        ["wamid.P1: The sender +447700900123 is a contact in the Recycle Bin. Restore the contact, then retry."]
    );
    assert_eq!(app.count("messages WHERE body = 'Yes, please call me'").await, 0);
}

#[tokio::test]
async fn nul_characters_in_a_message_and_its_senders_name_are_taken_out_and_the_message_stored() {
    let wa = Connected::start().await;
    let body = messages_webhook(
        json!([{"profile": {"name": "Meli\u{0}ssa Ortiz"}, "wa_id": FROM}]),
        json!([{"from": FROM, "id": "wamid.N1", "timestamp": "1765000000", "type": "text",
                "text": {"body": "Hello\u{0} there\u{0}"}}]),
    );
    assert_eq!(wa.post(&body).await, 200);
    assert_eq!(wa.app.texts("SELECT body AS v FROM messages").await, ["Hello there"]);
    assert_eq!(wa.app.texts("SELECT subject AS v FROM tickets").await, ["Hello there"]);
    let contact = wa.app.texts("SELECT first_name || ' ' || last_name AS v FROM contacts").await;
    assert_eq!(contact, ["Melissa Ortiz"]);
    let document = messages_webhook(
        json!([{"profile": {"name": "Melissa Ortiz"}, "wa_id": FROM}]),
        json!([{"from": FROM, "id": "wamid.N2", "timestamp": "1765000100", "type": "document",
                "document": {"id": "media-1", "mime_type": "application/pdf", "filename": "bi\u{0}ll.pdf",
                             "caption": "Here\u{0} it is"}}]),
    );
    assert_eq!(wa.post(&document).await, 200);
    let bodies = wa.app.texts("SELECT body AS v FROM messages ORDER BY id").await;
    assert_eq!(bodies, ["Hello there", "Document “bill.pdf”: Here it is"]);
}

#[tokio::test]
async fn a_batch_with_a_nul_in_one_message_stores_all_of_them() {
    let wa = Connected::start().await;
    let posts = (0..20).map(|i| {
        let text = if i == 7 { "Broken\u{0} text".to_owned() } else { format!("Message {i}") };
        let body = text_from(&format!("4477009003{i:02}"), "Someone", &format!("wamid.B{i}"), &text, 1_765_000_000 + i);
        let callback = wa.callback();
        async move { post_webhook(&callback, APP_SECRET, &body).await.status().as_u16() }
    });
    let statuses = futures_util::future::join_all(posts).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(wa.app.count("messages").await, 20);
    assert_eq!(wa.app.count("tickets").await, 20);
    assert_eq!(wa.app.count("messages WHERE body = 'Broken text'").await, 1);
}

#[tokio::test]
async fn a_number_with_held_messages_is_not_deleted_until_they_are_dealt_with() {
    let (wa, _) = customer_in_the_bin().await;
    let again = text_from(FROM, "Melissa Ortiz", "wamid.H9", "Hello?", 1_765_000_100);
    assert_eq!(wa.post(&again).await, 200);
    let path = format!("/agent/settings/channels/whatsapp/{}/delete", wa.number.id);
    let refused = wa.app.submit(&path, &path, &[]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.text().contains("1 held message(s), which would be lost"), "{}", refused.text());
    assert_eq!((wa.app.count("whatsapp_numbers").await, held_ids(&wa.app).await.len()), (1, 1), "nothing lost");

    let id = held_ids(&wa.app).await.remove(0);
    let drop = format!("{HELD}/{id}/delete");
    assert_eq!(wa.app.submit(HELD, &drop, &[]).await.status, StatusCode::SEE_OTHER);
    assert_eq!(wa.app.submit(&path, &path, &[]).await.status, StatusCode::SEE_OTHER);
    assert_eq!(wa.app.count("whatsapp_numbers").await, 0);
}
