//! Every form that hashes or checks a password is throttled like the logins, and the throttle is
//! asked before anything else about the form: a throttled request is answered 429 where it
//! would otherwise have had its form refused (422) or its link found dead (410). Those answers
//! come before any hashing, so a request answered 429 instead has not hashed either: nothing
//! outside the server sees a hash being computed, but this order can be seen.

use reqwest::StatusCode;
use scraper::Selector;

use crate::helpers::{spawn_app, Page, TestApp};

/// Fails set-password links from this machine until its address is throttled for setting
/// passwords (more than 20 failures in the window, whatever the link).
async fn throttle_this_address(app: &TestApp) {
    let visitor = app.new_client();
    for n in 0..=21 {
        let link = format!("/help/invitation/dead{n}");
        let status = post(&visitor, "/help/login", &link, &MISMATCHED).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            return;
        }
        assert_eq!(status, StatusCode::GONE);
    }
    panic!("never throttled");
}

/// Posts `fields` to `action` with the CSRF token of the page at `path`.
async fn post(client: &TestApp, path: &str, action: &str, fields: &[(&str, &str)]) -> StatusCode {
    let page = client.get(path).await;
    let sel = Selector::parse("input[name=csrf_token]").expect("selector");
    let token = page.doc().select(&sel).next().and_then(|e| e.value().attr("value").map(str::to_owned));
    let mut values = vec![("csrf_token", token.expect("a CSRF token"))];
    values.extend(fields.iter().map(|(k, v)| (*k, (*v).to_owned())));
    Page::from(client.client.post(client.url(action)).form(&values).send().await.expect("POST")).await.status
}

/// Who posts, the page whose CSRF token is sent, where to, what.
type Case<'a> = (&'a TestApp, &'a str, &'a str, Vec<(&'a str, &'a str)>);

const MISMATCHED: [(&str, &str); 2] = [("password", "long enough 1"), ("confirm_password", "long enough 2")];

#[tokio::test]
async fn a_throttled_client_is_refused_before_any_password_form_is_looked_at() {
    let app = spawn_app().await;
    app.set_up_admin().await;
    app.add_agent("Bob", "bob@example.com", "agent password 1", "Agent").await;
    let bob = app.count("agents").await; // the id of the newest agent
    let visitor = app.new_client();

    let signup = [("last_name", "Ortiz"), ("email", "melissa@example.com")];
    let edit_bob = format!("/agent/settings/agents/{bob}");
    let invalid: Vec<Case> = vec![
        (&visitor, "/help/signup", "/help/password-reset/dead", MISMATCHED.to_vec()),
        (&visitor, "/help/signup", "/help/invitation/dead", MISMATCHED.to_vec()),
        (&visitor, "/help/signup", "/help/activate/dead", vec![("password", "long enough 1")]),
        (&app, "/agent/password", "/agent/password", [&[("current_password", "wrong")][..], &MISMATCHED].concat()),
        (
            &app,
            "/agent/password",
            "/agent/settings/agents",
            vec![("name", "Eve"), ("email", "e@x.com"), ("password", "short")],
        ),
        (&app, "/agent/password", &edit_bob, vec![("profile", "2"), ("password", "short")]),
    ];
    // Each of them is refused before any hashing: the form (422) or the link (410).
    for (client, page, action, fields) in &invalid {
        let status = post(client, page, action, fields).await;
        assert!([StatusCode::UNPROCESSABLE_ENTITY, StatusCode::GONE].contains(&status), "{action}: {status}");
    }
    throttle_this_address(&app).await;
    // Throttled, each is refused before that.
    for (client, page, action, fields) in &invalid {
        assert_eq!(post(client, page, action, fields).await, StatusCode::TOO_MANY_REQUESTS, "{action}");
    }
    // Valid forms wait too, and nothing is stored.
    let eve = [("name", "Eve"), ("email", "eve@example.com"), ("profile", "2"), ("password", "agent password 2")];
    assert_eq!(post(&app, "/agent/password", "/agent/settings/agents", &eve).await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(app.count("agents").await, bob);
    // Sign-ups are counted apart: this one is looked at, and refused for its mismatched passwords.
    let mismatched = [&signup[..], &MISMATCHED].concat();
    assert_eq!(post(&visitor, "/help/signup", "/help/signup", &mismatched).await, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn sign_ups_for_one_address_are_throttled_before_their_form_is_checked() {
    let app = spawn_app().await;
    let visitor = app.new_client();
    let signup = |password: &'static str| {
        [
            ("last_name", "Ortiz"),
            ("email", "melissa@example.com"),
            ("password", "long enough 1"),
            ("confirm_password", password),
        ]
    };
    for _ in 0..6 {
        assert_eq!(post(&visitor, "/help/signup", "/help/signup", &signup("long enough 1")).await, StatusCode::OK);
    }
    // The seventh would not even have reached the hashing: its passwords do not match.
    assert_eq!(
        post(&visitor, "/help/signup", "/help/signup", &signup("long enough 2")).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(app.count("signups").await, 6);
}

#[tokio::test]
async fn a_throttled_client_cannot_post_the_set_up_form() {
    let app = spawn_app().await;
    throttle_this_address(&app).await;
    let fields = [("name", "Ada"), ("email", "ada@example.com"), ("password", "short"), ("confirm_password", "short")];
    assert_eq!(post(&app, "/setup", "/setup", &fields).await, StatusCode::TOO_MANY_REQUESTS);
    let fields = [
        ("name", "Ada"),
        ("email", "ada@example.com"),
        ("password", "long enough 1"),
        ("confirm_password", "long enough 1"),
    ];
    assert_eq!(post(&app, "/setup", "/setup", &fields).await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(app.count("agents").await, 0);
}
