//! Deliveries by channel: a reply goes back through the channel its ticket came from, and each
//! channel's sender takes only its own rows of the outbox.

use frontdesk::services::deliveries;

use crate::intake::{arrive, number};
use crate::mail::{deliver, spawn_app_with_mail, spawn_app_with_mail_and};
use crate::whatsapp::standin::Standin;
use crate::whatsapp::{connect, send_whatsapp};

#[tokio::test]
async fn a_reply_on_a_whatsapp_ticket_goes_back_by_whatsapp_not_by_mail() {
    let meta = Standin::start().await;
    let (app, sink) = spawn_app_with_mail_and(|s| s.whatsapp_api_url = meta.url.clone()).await;
    arrive(&app, &number("+44 7700 900123"), "My router blinks").await;
    app.set_up_admin().await;
    connect(&app).await;
    // The contact has an address too: the reply still goes where the customer wrote from.
    let id = app.texts("SELECT CAST(id AS TEXT) AS v FROM contacts").await.remove(0);
    let edit = format!("/agent/contacts/{id}/edit");
    let saved = app.submit(&edit, &format!("/agent/contacts/{id}"), &[("email", "rush@example.com")]).await;
    assert_eq!(saved.status, 303, "{}", saved.text());

    let number = app.texts("SELECT CAST(number AS TEXT) AS v FROM tickets").await.remove(0);
    let path = format!("/agent/tickets/{number}");
    let replied = app.submit(&path, &format!("{path}/replies"), &[("reply", "Unplug it for ten seconds.")]).await;
    assert_eq!(replied.status, 303, "{}", replied.text());

    let queued =
        app.texts("SELECT channel || ' ' || to_address || ' ' || status || ' ' || payload AS v FROM outbox").await;
    assert_eq!(queued.len(), 1, "{queued:?}");
    let (head, payload) = queued[0].split_at(queued[0].find('{').expect("a payload"));
    assert_eq!(head, "whatsapp +447700900123 pending ");
    let payload: serde_json::Value = serde_json::from_str(payload).expect("JSON");
    assert_eq!(payload["to"], "+447700900123");
    assert_eq!(payload["type"], "text");
    assert_eq!(payload["text"]["body"], "Unplug it for ten seconds.");
    // The agent sees the reply in the thread.
    assert!(app.get(&path).await.text().contains("Unplug it for ten seconds."));

    // The mail sender leaves it alone: no mail goes out, the row waits for WhatsApp's sender.
    assert_eq!(deliver(&app).await, 0);
    assert!(sink.messages().is_empty());
    assert_eq!(app.texts("SELECT CAST(attempts AS TEXT) || ' ' || status AS v FROM outbox").await, ["0 pending"]);
    use frontdesk::entities::outbox::DeliveryChannel;
    assert_eq!(deliveries::pending(&app.state.db, DeliveryChannel::WhatsApp).await.expect("count"), 1);
    assert_eq!(deliveries::pending(&app.state.db, DeliveryChannel::Email).await.expect("count"), 0);

    // WhatsApp's sender posts it to the Cloud API once, with our id to come back on statuses.
    assert_eq!(send_whatsapp(&app).await.sent, 1);
    assert_eq!(send_whatsapp(&app).await.sent, 0);
    let sent = meta.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body["text"]["body"], "Unplug it for ten seconds.");
    let ours = app.texts("SELECT message_id AS v FROM outbox").await.remove(0);
    assert_eq!(sent[0].body["biz_opaque_callback_data"], ours.as_str());
    assert_eq!(
        app.texts("SELECT state || ' ' || wamid AS v FROM whatsapp_messages").await,
        [format!("accepted {}", sent[0].wamid)]
    );
}

#[tokio::test]
async fn a_reply_on_a_ticket_from_the_console_goes_by_mail() {
    let (app, sink) = spawn_app_with_mail().await;
    app.set_up_admin().await;
    let id = app.add_contact(&[("last_name", "Ortiz"), ("email", "melissa@example.com")]).await;
    let new = app
        .submit(
            &format!("/agent/tickets/new?contact_id={id}"),
            "/agent/tickets",
            &[("subject", "Router"), ("description", "It blinks.")],
        )
        .await;
    assert_eq!(new.status, 303, "{}", new.text());
    let number = app.texts("SELECT CAST(number AS TEXT) AS v FROM tickets").await.remove(0);
    let path = format!("/agent/tickets/{number}");
    let before = app.count("outbox").await;
    app.submit(&path, &format!("{path}/replies"), &[("reply", "On its way.")]).await;
    let last = "SELECT channel || ' ' || to_address || ' ' || body_text AS v FROM outbox ORDER BY id DESC LIMIT 1";
    assert!(app.texts(last).await[0].starts_with("email melissa@example.com On its way."));
    assert_eq!(app.count("outbox").await, before + 1);
    let sent = deliver(&app).await;
    assert_eq!(usize::try_from(sent).expect("count"), sink.messages().len());
    assert!(sink.messages().iter().any(|m| m.contains("On its way.")));
}
