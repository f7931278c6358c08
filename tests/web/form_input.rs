//! What forms accept whatever page they belong to: only form content types, only valid UTF-8
//! text, and file names without invisible characters that disguise them.

use reqwest::StatusCode;

use crate::help_center::{invite_and_join, submit_with_files};
use crate::helpers::{form_values, spawn_app, Page, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::mail::spawn_app_with_mail;

#[tokio::test]
async fn an_uploaded_file_name_loses_the_right_to_left_override_that_disguises_it() {
    let (app, sink) = spawn_app_with_mail().await;
    app.set_up_admin().await;
    let id = app.add_contact(&[("last_name", "Ortiz"), ("email", "melissa@example.com")]).await;
    let customer = invite_and_join(&app, &sink, id, "melissa@example.com").await;

    // Shown as "invoiceexe.png" where the override is honoured.
    let files = vec![("invoice\u{202E}gnp.exe", b"MZ".to_vec()), ("\u{200B}notes\u{2066}.txt\u{FEFF}", b"n".to_vec())];
    let page = submit_with_files(&customer, "Invoice", files, true).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());

    let ticket = customer.get("/help/tickets/1001").await;
    assert_eq!(ticket.texts("ul.files a"), ["invoicegnp.exe", "notes.txt"]);
    assert_eq!(app.get("/agent/tickets/1001").await.texts("ul.files a"), ["invoicegnp.exe", "notes.txt"]);
    assert_eq!(app.count("attachments WHERE filename IN ('invoicegnp.exe', 'notes.txt')").await, 2);
}

/// The Add Contact form's fields as a browser would send them (CSRF token included) but for
/// Last Name and Title, with `extra` appended to the url-encoded body as raw bytes.
async fn add_contact_body(app: &TestApp, extra: &[u8]) -> Vec<u8> {
    let page = app.get("/agent/contacts/new").await;
    let mut values = form_values(&page.html, "/agent/contacts");
    values.retain(|(k, _)| k != "last_name" && k != "title");
    let mut body = serde_urlencoded::to_string(&values).expect("encode").into_bytes();
    body.extend_from_slice(b"&");
    body.extend_from_slice(extra);
    body
}

async fn post_add_contact(app: &TestApp, content_type: Option<&str>, body: Vec<u8>) -> Page {
    let mut request = app.client.post(app.url("/agent/contacts")).body(body);
    if let Some(content_type) = content_type {
        request = request.header("Content-Type", content_type);
    }
    Page::from(request.send().await.expect("POST")).await
}

#[tokio::test]
async fn a_form_posted_as_anything_but_a_form_is_refused_with_415_and_changes_nothing() {
    let app = spawn_app().await;
    app.set_up_admin().await;

    // A cross-site page can post text/plain without a preflight; the body is still name=value.
    for content_type in [Some("text/plain"), Some("text/plain; charset=utf-8"), Some("application/json"), None] {
        let body = add_contact_body(&app, b"last_name=Plain").await;
        let page = post_add_contact(&app, content_type, body).await;
        assert_eq!(page.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type:?}");
        assert!(page.text().contains("not sent as a form"), "{}", page.text());
    }
    let login = app.new_client();
    let page = login.get("/agent/login").await;
    let values = form_values(&page.html, "/agent/login");
    let body = serde_urlencoded::to_string(&values).expect("encode")
        + &format!("&email={ADMIN_EMAIL}&password={ADMIN_PASSWORD}");
    let response = login.client.post(login.url("/agent/login")).header("Content-Type", "text/plain").body(body);
    assert_eq!(response.send().await.expect("POST").status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(login.get("/agent/contacts").await.status, StatusCode::SEE_OTHER, "not logged in");
    assert_eq!(app.count("contacts").await, 0);

    // Both form encodings still work, whatever their parameters.
    let body = add_contact_body(&app, b"last_name=Encoded").await;
    let page = post_add_contact(&app, Some("application/x-www-form-urlencoded; charset=UTF-8"), body).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let page = app.get("/agent/contacts/new").await;
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in form_values(&page.html, "/agent/contacts") {
        form = form.text(name.clone(), if name == "last_name" { "Multipart".to_owned() } else { value });
    }
    let response = app.client.post(app.url("/agent/contacts")).multipart(form).send().await.expect("POST");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("contacts WHERE last_name IN ('Encoded', 'Multipart')").await, 2);
}

#[tokio::test]
async fn form_text_that_is_not_utf8_is_refused_with_400_and_nothing_stored() {
    let app = spawn_app().await;
    app.set_up_admin().await;

    let invalid: [&[u8]; 7] = [
        b"last_name=Bad%C0%AF",             // overlong "/"
        b"last_name=Bad%E0%80%AF",          // overlong, three bytes
        b"last_name=Bad%ED%A0%80",          // a lone surrogate
        b"last_name=Bad%80",                // a continuation byte alone
        b"last_name=Bad%E2%82",             // cut short
        b"last_name=Bad\xFF\xFE",           // raw bytes, not percent-encoded
        b"last_name=Ok&title=%F4%90%80%80", // beyond U+10FFFF, in another field
    ];
    for extra in invalid {
        let body = add_contact_body(&app, extra).await;
        let page = post_add_contact(&app, Some("application/x-www-form-urlencoded"), body).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", String::from_utf8_lossy(extra));
        assert!(page.text().contains("invalid text encoding"), "{}", page.text());
    }
    assert_eq!(app.count("contacts").await, 0);

    // A NUL is valid UTF-8: it gets its field's message, as before.
    let body = add_contact_body(&app, b"last_name=Nul%00").await;
    let page = post_add_contact(&app, Some("application/x-www-form-urlencoded"), body).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.field_error("last_name").is_some(), "{}", page.text());
    // Real non-ASCII text, percent-encoded or raw, is kept as sent.
    let body = add_contact_body(&app, "last_name=M%C3%BCller&title=Gesch\u{e4}ftsf\u{fc}hrer".as_bytes()).await;
    let page = post_add_contact(&app, Some("application/x-www-form-urlencoded"), body).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    assert_eq!(app.count("contacts WHERE last_name = 'Müller' AND title = 'Geschäftsführer'").await, 1);
}

#[tokio::test]
async fn multipart_text_that_is_not_utf8_is_refused_with_400_and_no_ticket() {
    let (app, sink) = spawn_app_with_mail().await;
    app.set_up_admin().await;
    let id = app.add_contact(&[("last_name", "Ortiz"), ("email", "melissa@example.com")]).await;
    let customer = invite_and_join(&app, &sink, id, "melissa@example.com").await;

    let page = customer.get("/help/tickets/new").await;
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in form_values(&page.html, "/help/tickets") {
        if name != "subject" {
            form = form.text(name, value);
        }
    }
    form = form.part("subject", reqwest::multipart::Part::bytes(b"Broken \xC0\xAF screen".to_vec()));
    let response = customer.client.post(customer.url("/help/tickets")).multipart(form).send().await.expect("POST");
    let page = Page::from(response).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.text().contains("invalid text encoding"), "{}", page.text());
    assert_eq!(app.count("tickets").await, 0);
}
