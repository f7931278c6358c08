//! What forms accept whatever page they belong to: only form content types, and file names
//! without invisible characters that disguise them.

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
