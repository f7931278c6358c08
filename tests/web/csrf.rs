//! The CSRF token is renewed with the session id whenever the session gains privileges (logging
//! into the console or the Help Center, setting up the first administrator, changing one's
//! password): a token seen before, in a page served to the anonymous visitor or planted by
//! someone else, is refused afterwards.

use reqwest::StatusCode;

use crate::help_center::{invite_and_join, CONTACT_PASSWORD};
use crate::helpers::{form_values, spawn_app, Page, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::mail::spawn_app_with_mail;

/// The CSRF token in the form with `action` on the page at `path`.
async fn token_on(client: &TestApp, path: &str, action: &str) -> String {
    let page = client.get(path).await;
    let values = form_values(&page.html, action);
    values.into_iter().find(|(k, _)| k == "csrf_token").map(|(_, v)| v).expect("a CSRF token")
}

/// Posts `fields` to `action` with the CSRF token `token`.
async fn post_with(client: &TestApp, action: &str, token: &str, fields: &[(&str, &str)]) -> Page {
    let mut values = vec![("csrf_token", token)];
    values.extend_from_slice(fields);
    Page::from(client.client.post(client.url(action)).form(&values).send().await.expect("POST")).await
}

#[tokio::test]
async fn logging_into_the_console_renews_the_csrf_token_and_the_old_one_is_refused() {
    let app = spawn_app().await;
    app.set_up_admin().await;
    let agent = app.new_client();
    let before = token_on(&agent, "/agent/login", "/agent/login").await;

    assert_eq!(agent.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status, StatusCode::SEE_OTHER);
    let after = token_on(&agent, "/agent/contacts/new", "/agent/contacts").await;
    assert_ne!(before, after);
    let stale = post_with(&agent, "/agent/contacts", &before, &[("last_name", "Stale")]).await;
    assert_eq!(stale.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("contacts").await, 0);
    let fresh = post_with(&agent, "/agent/contacts", &after, &[("last_name", "Fresh")]).await;
    assert_eq!(fresh.status, StatusCode::SEE_OTHER, "{}", fresh.text());

    // Changing one's password renews it again.
    let fields =
        [("current_password", ADMIN_PASSWORD), ("password", "new secret 123"), ("confirm_password", "new secret 123")];
    assert_eq!(post_with(&agent, "/agent/password", &after, &fields).await.status, StatusCode::SEE_OTHER);
    assert_eq!(post_with(&agent, "/agent/logout", &after, &[]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(agent.get("/agent/contacts").await.status, StatusCode::OK, "still logged in");
}

#[tokio::test]
async fn setting_up_the_first_administrator_renews_the_csrf_token() {
    let app = spawn_app().await;
    let before = token_on(&app, "/setup", "/setup").await;
    app.set_up_admin().await;
    assert_eq!(post_with(&app, "/agent/logout", &before, &[]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/agent/contacts").await.status, StatusCode::OK, "still logged in");
}

#[tokio::test]
async fn logging_into_the_help_center_renews_the_csrf_token_and_the_old_one_is_refused() {
    let (app, sink) = spawn_app_with_mail().await;
    app.set_up_admin().await;
    let id = app.add_contact(&[("last_name", "Ortiz"), ("email", "melissa@example.com")]).await;
    let customer = invite_and_join(&app, &sink, id, "melissa@example.com").await;
    assert_eq!(customer.submit("/help/tickets", "/help/logout", &[]).await.status, StatusCode::SEE_OTHER);

    let before = token_on(&customer, "/help/login", "/help/login").await;
    let login = customer
        .submit("/help/login", "/help/login", &[("email", "melissa@example.com"), ("password", CONTACT_PASSWORD)])
        .await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.text());
    let after = token_on(&customer, "/help/tickets", "/help/logout").await;
    assert_ne!(before, after);
    assert_eq!(post_with(&customer, "/help/logout", &before, &[]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(customer.get("/help/tickets").await.status, StatusCode::OK, "still logged in");
    assert_eq!(post_with(&customer, "/help/logout", &after, &[]).await.status, StatusCode::SEE_OTHER);
}
