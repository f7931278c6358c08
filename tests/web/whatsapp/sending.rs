//! Replies on WhatsApp tickets through the stand-in: what Meta refuses for good fails at once
//! with its reason, what may pass later is retried, an expired token keeps messages waiting,
//! nothing is sent twice, and free text stops when the 24-hour window closes.

use chrono::Duration;
use frontdesk::channels::whatsapp::statuses::{self, Status};

use super::standin::{Failure, Standin, TOKEN};
use super::{connect, send_whatsapp, send_whatsapp_in};
use crate::helpers::{spawn_app_with, TestApp};
use crate::intake::{arrive, number};

/// An app on the stand-in with a WhatsApp ticket from +44 7700 900123; its ticket's page.
pub(super) async fn whatsapp_ticket(meta: &Standin) -> (TestApp, String) {
    let url = meta.url.clone();
    let app = spawn_app_with(move |s| {
        s.whatsapp_api_url = url;
        s.outbox_interval = 3600; // the test runs the sender itself
    })
    .await;
    arrive(&app, &number("+44 7700 900123"), "My router blinks").await;
    app.set_up_admin().await;
    connect(&app).await;
    let ticket = app.texts("SELECT CAST(number AS TEXT) AS v FROM tickets").await.remove(0);
    (app, format!("/agent/tickets/{ticket}"))
}

async fn reply(app: &TestApp, path: &str, text: &str) -> crate::helpers::Page {
    app.submit(path, &format!("{path}/replies"), &[("reply", text)]).await
}

async fn states(app: &TestApp) -> Vec<String> {
    app.texts("SELECT state || ' ' || COALESCE(error_reason, '') AS v FROM whatsapp_messages ORDER BY id").await
}

#[tokio::test]
async fn what_meta_refuses_for_good_fails_at_once_with_the_reason_in_words() {
    let meta = Standin::start().await;
    let (app, path) = whatsapp_ticket(&meta).await;
    for (code, words) in [
        (131_026, "not on WhatsApp"),
        (132_001, "template does not exist"),
        (131_053, "not supported"),
        (131_047, "24-hour window is closed"),
    ] {
        assert_eq!(reply(&app, &path, &format!("Try this ({code})")).await.status, 303);
        meta.fail_next(Failure::new(400, code, "Refused by Meta"));
        let round = send_whatsapp(&app).await;
        assert_eq!((round.sent, round.given_up), (0, 1), "{code}");
        let last = states(&app).await.pop().unwrap();
        assert!(last.starts_with("failed ") && last.contains(words) && last.contains(&code.to_string()), "{last}");
        // Never retried, even much later.
        assert_eq!(send_whatsapp_in(&app, Duration::days(2)).await, Default::default());
    }
    assert!(meta.sent().is_empty());
    assert_eq!(app.texts("SELECT DISTINCT status AS v FROM outbox").await, ["failed"]);
}

#[tokio::test]
async fn rate_limits_and_outages_are_retried_later_and_sent_once() {
    let meta = Standin::start().await;
    let (app, path) = whatsapp_ticket(&meta).await;
    assert_eq!(reply(&app, &path, "Unplug it for ten seconds.").await.status, 303);
    meta.fail_next(Failure::new(429, 130_429, "Rate limit hit"));
    meta.fail_next(Failure::new(503, 2, "Service temporarily unavailable"));
    assert_eq!(send_whatsapp(&app).await.retried, 1);
    assert_eq!(send_whatsapp(&app).await, Default::default(), "not before its back-off");
    assert_eq!(send_whatsapp_in(&app, Duration::minutes(1)).await.retried, 1);
    assert_eq!(send_whatsapp_in(&app, Duration::minutes(5)).await.sent, 1);
    assert_eq!(meta.sent().len(), 1);
    assert_eq!(app.texts("SELECT status || ' ' || CAST(attempts AS TEXT) AS v FROM outbox").await, ["sent 3"]);
    assert!(states(&app).await[0].starts_with("accepted "));
}

#[tokio::test]
async fn an_expired_token_keeps_replies_waiting_and_says_so_until_it_works_again() {
    let meta = Standin::start().await;
    let (app, path) = whatsapp_ticket(&meta).await;
    meta.expire_token();
    assert_eq!(reply(&app, &path, "Unplug it for ten seconds.").await.status, 303);
    assert_eq!(send_whatsapp(&app).await.retried, 1);
    let marked = app.texts("SELECT token_error AS v FROM whatsapp_numbers").await;
    assert!(marked[0].contains("code 190"), "{marked:?}");
    assert_eq!(app.texts("SELECT status AS v FROM outbox").await, ["pending"]);

    meta.inner.lock().unwrap().token = TOKEN.to_owned();
    assert_eq!(send_whatsapp_in(&app, Duration::minutes(1)).await.sent, 1);
    assert_eq!(app.texts("SELECT COALESCE(token_error, 'none') AS v FROM whatsapp_numbers").await, ["none"]);
}

#[tokio::test]
async fn a_retry_after_meta_took_the_message_after_all_does_not_send_it_again() {
    let meta = Standin::start().await;
    let (app, path) = whatsapp_ticket(&meta).await;
    assert_eq!(reply(&app, &path, "Unplug it for ten seconds.").await.status, 303);
    meta.fail_next(Failure::new(504, 2, "Gateway timeout"));
    assert_eq!(send_whatsapp(&app).await.retried, 1);
    // Meta had taken it: its status comes back with our id.
    let ours = app.texts("SELECT message_id AS v FROM outbox").await.remove(0);
    let number_id: i64 = app.texts("SELECT CAST(id AS TEXT) AS v FROM whatsapp_numbers").await[0].parse().unwrap();
    let status = Status {
        wamid: "wamid.TAKEN".into(),
        status: "delivered".into(),
        callback_data: Some(ours),
        ..Status::default()
    };
    assert_eq!(statuses::record(&app.state.db, number_id, &[status], chrono::Utc::now()).await.unwrap(), 1);
    assert_eq!(send_whatsapp_in(&app, Duration::minutes(1)).await.sent, 1);
    assert!(meta.sent().is_empty(), "sent once, by the first attempt");
    assert_eq!(app.texts("SELECT state || ' ' || wamid AS v FROM whatsapp_messages").await, ["delivered wamid.TAKEN"]);
}

#[tokio::test]
async fn free_text_stops_when_the_24_hour_window_closes() {
    let meta = Standin::start().await;
    let (app, path) = whatsapp_ticket(&meta).await;
    let ticket = app.texts("SELECT CAST(id AS TEXT) AS v FROM tickets").await.remove(0);
    let contact = app.texts("SELECT CAST(id AS TEXT) AS v FROM contacts").await.remove(0);
    let number = app.texts("SELECT CAST(id AS TEXT) AS v FROM whatsapp_numbers").await.remove(0);
    let wrote = (chrono::Utc::now() - Duration::hours(25)).to_rfc3339();
    app.exec(&format!(
        "INSERT INTO whatsapp_conversations (ticket_id, number_id, contact_id, customer, last_inbound_at) \
         VALUES ({ticket}, {number}, {contact}, '+447700900123', '{wrote}')"
    ))
    .await;
    let refused = reply(&app, &path, "Are you still there?").await;
    assert_eq!(refused.status, 422);
    assert!(refused.field_error("reply").is_some_and(|e| e.contains("24-hour window is closed")), "{}", refused.text());
    assert_eq!(refused.value_of("reply").as_deref(), Some("Are you still there?"));
    assert_eq!(app.count("outbox").await, 0);

    let wrote = (chrono::Utc::now() - Duration::hours(23)).to_rfc3339();
    app.exec(&format!("UPDATE whatsapp_conversations SET last_inbound_at = '{wrote}'")).await;
    assert_eq!(reply(&app, &path, "Are you still there?").await.status, 303);
    assert_eq!(app.count("outbox").await, 1);
}

#[tokio::test]
async fn a_profile_that_hides_mobile_reads_no_number_in_a_whatsapp_thread() {
    let meta = Standin::start().await;
    let (app, path) = whatsapp_ticket(&meta).await;
    assert!(app.get(&path).await.html.contains("+447700900123"));
    app.create_profile("No Mobile", &["contacts.view", "tickets.view"], &[("contact.mobile", "hidden")]).await;
    let agent = app.client_as("No Mobile", "nomobile@example.com").await;
    let page = agent.get(&path).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("My router blinks"));
    assert!(!page.html.contains("7700900123"), "{}", page.text());
}

#[tokio::test]
async fn after_the_window_closed_a_template_goes_into_the_same_ticket() {
    let meta = Standin::start().await;
    let (app, path) = whatsapp_ticket(&meta).await;
    let ticket = app.texts("SELECT CAST(id AS TEXT) AS v FROM tickets").await.remove(0);
    let contact = app.texts("SELECT CAST(id AS TEXT) AS v FROM contacts").await.remove(0);
    let number = app.texts("SELECT CAST(id AS TEXT) AS v FROM whatsapp_numbers").await.remove(0);
    let wrote = (chrono::Utc::now() - Duration::hours(30)).to_rfc3339();
    app.exec(&format!(
        "INSERT INTO whatsapp_conversations (ticket_id, number_id, contact_id, customer, last_inbound_at) \
         VALUES ({ticket}, {number}, {contact}, '+447700900123', '{wrote}')"
    ))
    .await;
    app.exec(&format!(
        "INSERT INTO whatsapp_templates (number_id, name, language, category, status, parameter_format, components, \
         synced_at) VALUES ({number}, 'ticket_update', 'en_US', 'UTILITY', 'APPROVED', 'POSITIONAL', \
         '[{{\"type\":\"BODY\",\"text\":\"Hi {{{{1}}}}, your ticket {{{{2}}}} was updated.\"}}]', '{wrote}')"
    ))
    .await;
    let page = app.get(&path).await;
    assert!(page.text().contains("closed since"), "{}", page.text());
    let link = app.link_to(&path, "a[href^=\"/agent/whatsapp/send?ticket=\"]", "Send a template").await;
    let template = app.texts("SELECT CAST(id AS TEXT) AS v FROM whatsapp_templates").await.remove(0);
    let form = format!("{link}&template_id={template}");
    let sent =
        app.submit(&form, "/agent/whatsapp/send", &[("body_1", "Rush"), ("opt_in", "on"), ("action", "send")]).await;
    assert_eq!(sent.status, 303, "{}", sent.text());
    assert_eq!(sent.location.as_deref(), Some(path.as_str()));
    assert_eq!(app.count("tickets").await, 1, "no new ticket");
    let number = path.rsplit('/').next().unwrap();
    let out = meta.sent();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].body["to"], "+447700900123");
    assert_eq!(out[0].body["template"]["components"][0]["parameters"][1]["text"], format!("#{number}"));
    let shown = app.get(&path).await;
    assert!(shown.text().contains(&format!("Hi Rush, your ticket #{number} was updated.")), "{}", shown.text());
    assert_eq!(shown.texts(".delivery-state"), ["Accepted by WhatsApp"]);
}

#[tokio::test]
async fn a_reply_the_outbox_gives_up_on_reads_failed_with_the_last_reason() {
    let meta = Standin::start().await;
    let (app, path) = whatsapp_ticket(&meta).await;
    assert_eq!(reply(&app, &path, "Unplug it for ten seconds.").await.status, 303);
    // As after a day of retries: the next attempt is the last.
    let last = frontdesk::services::deliveries::MAX_ATTEMPTS - 1;
    app.exec(&format!("UPDATE outbox SET attempts = {last}")).await;
    meta.fail_next(Failure::new(503, 2, "Service temporarily unavailable"));
    assert_eq!(send_whatsapp(&app).await.given_up, 1);
    let page = app.get(&path).await;
    assert_eq!(page.texts(".delivery-state"), ["Failed"], "{}", page.text());
    assert!(page.text().contains("Service temporarily unavailable"));
}
