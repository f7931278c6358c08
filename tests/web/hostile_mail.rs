//! Mail made to cost: HTML nested past what the parser handles in reasonable time, more MIME
//! parts than anyone sends, the same hostile mail delivered again, and HTML that makes the
//! parser complain once per tag. Each is stored or quarantined at a bounded cost, and the log
//! stays readable.

use frontdesk::entities::{message, quarantine};
use sea_orm::EntityTrait;

use crate::helpers::TestApp;
use crate::inbound_mail::{message, pipe, pipe_with, raw};
use crate::mail::spawn_app_with_mail;

/// A multipart/alternative mail with `text` and `html` parts.
fn alternative(from: &str, message_id: &str, text: &str, html: &str) -> Vec<u8> {
    raw(&format!(
        "From: {from}\nTo: support@frontdesk.test\nSubject: Nested\nMessage-ID: <{message_id}>\nMIME-Version: 1.0\n\
         Content-Type: multipart/alternative; boundary=\"alt\"\n\n--alt\nContent-Type: text/plain; charset=utf-8\n\n\
         {text}\n--alt\nContent-Type: text/html; charset=utf-8\n\n{html}\n--alt--\n"
    ))
}

/// A mail of `parts` small text parts.
fn many_parts(message_id: &str, parts: usize) -> Vec<u8> {
    let mut text = format!(
        "From: parts@example.com\nTo: support@frontdesk.test\nSubject: Parts\nMessage-ID: <{message_id}>\n\
         MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"p\"\n\n"
    );
    for i in 0..parts {
        text.push_str(&format!("--p\nContent-Type: text/plain\n\npart {i}\n"));
    }
    text.push_str("--p--\n");
    raw(&text)
}

async fn messages(app: &TestApp) -> Vec<message::Model> {
    message::Entity::find().all(&app.state.db.conn).await.expect("messages")
}

async fn quarantined(app: &TestApp) -> Vec<quarantine::Model> {
    quarantine::Entity::find().all(&app.state.db.conn).await.expect("quarantine")
}

#[tokio::test]
async fn html_nested_too_deep_to_sanitise_is_stored_as_its_text() {
    let (app, _sink) = spawn_app_with_mail().await;
    let nested = format!("{}deep inside{}", "<div>".repeat(5_000), "</div>".repeat(5_000));
    let said = pipe(&app, &alternative("deep@example.com", "deep@x", "The plain words.", &nested)).await;
    assert!(said.contains("opened ticket"), "{said}");
    let stored = messages(&app).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].body_html, None, "the HTML is not kept");
    assert!(stored[0].body.contains("The plain words."), "{:?}", stored[0].body);

    // An ordinary HTML mail still keeps its (sanitised) HTML.
    let html = "<div><p>Hello <b>there</b></p></div>";
    pipe(&app, &alternative("plain@example.com", "plain@x", "Hello there", html)).await;
    let stored = messages(&app).await;
    assert_eq!(stored[1].body_html.as_deref(), Some(html));
}

#[tokio::test]
async fn a_mail_with_more_parts_than_anyone_sends_is_quarantined_with_the_reason() {
    let (app, _sink) = spawn_app_with_mail().await;
    let said = pipe(&app, &many_parts("parts@x", 1_200)).await;
    assert!(said.contains("quarantined"), "{said}");
    let held = quarantined(&app).await;
    assert_eq!(held.len(), 1);
    assert!(held[0].reason.contains("more than 1,000 MIME parts"), "{}", held[0].reason);
    assert_eq!(app.count("tickets").await, 0);
    // Forty parts are a mail like any other.
    pipe(&app, &many_parts("forty@x", 40)).await;
    assert_eq!(app.count("tickets").await, 1);
}

#[tokio::test]
async fn a_stored_message_delivered_again_is_known_by_its_headers_before_its_body_is_read() {
    let (app, _sink) = spawn_app_with_mail().await;
    pipe(&app, &message("again@example.com", "Once", Some("again@x"), "", "First delivery.\n")).await;
    // The same Message-ID again, now with a body that could not even be read: it is the
    // stored message, and nothing of the body is looked at.
    let said = pipe(&app, &many_parts("again@x", 1_200)).await;
    assert!(said.contains("already stored"), "{said}");
    assert!(quarantined(&app).await.is_empty());
    assert_eq!(app.count("messages").await, 1);
}

#[tokio::test]
async fn the_html_parsers_complaints_do_not_fill_the_log() {
    let (app, _sink) = spawn_app_with_mail().await;
    // Text and tags where a table allows none: the parser complains once for each.
    let html = format!("<table>{}</table>", "<b>x</b>".repeat(2_000));
    let mail = alternative("tables@example.com", "tables@x", "Tables.", &html);
    let out = pipe_with(&app.database_url, &mail, &[("FRONTDESK_MAIL_SOCKET", "off"), ("RUST_LOG", "warn")]).await;
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stderr.lines().count() < 10, "{} lines: {}", out.stderr.lines().count(), out.stderr);
    assert_eq!(app.count("tickets").await, 1);
}
