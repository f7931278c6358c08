//! Failed logins are throttled per account and client address together, and per client address
//! apart for logins, sign-ups and reset requests; failures from elsewhere only slow an account
//! down, so that nobody can lock an agent out by guessing. Client addresses come from
//! `X-Forwarded-For`, as behind a trusted proxy.

use reqwest::StatusCode;

use crate::help_center::{invite_and_join, CONTACT_PASSWORD};
use crate::helpers::{spawn_app_with, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::mail::{last_mail_to, spawn_app_with_mail_and};

const ATTACKER: &str = "203.0.113.9";
const OFFICE: &str = "198.51.100.7";

/// An app behind a trusted proxy, with the administrator logged in on `app.client`.
async fn behind_a_proxy() -> TestApp {
    let app = spawn_app_with(|s| s.trust_proxy = true).await;
    app.set_up_admin().await;
    app
}

/// Fails `n` logins of `client`, one for each of as many unknown accounts.
async fn fail_logins_for_others(client: &TestApp, path: &str, n: usize) {
    for i in 0..n {
        let email = format!("nobody{i}@example.com");
        let page = client.submit(path, path, &[("email", &email), ("password", "wrong password")]).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "failure {i}");
    }
}

#[tokio::test]
async fn guessing_from_one_address_does_not_lock_the_administrator_out_elsewhere() {
    let app = behind_a_proxy().await;
    let attacker = app.new_client_from(ATTACKER);
    for n in 0..30 {
        let status = attacker.login(ADMIN_EMAIL, "wrong password").await.status;
        let expected = if n < 6 { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::TOO_MANY_REQUESTS };
        assert_eq!(status, expected, "attempt {n}");
    }
    assert_eq!(attacker.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);

    let admin = app.new_client_from(OFFICE);
    assert_eq!(admin.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status, StatusCode::SEE_OTHER);
    assert_eq!(admin.get("/agent/contacts").await.status, StatusCode::OK);
}

#[tokio::test]
async fn more_than_five_failures_refuse_an_account_from_that_address_only() {
    let app = behind_a_proxy().await;
    app.add_agent("Bob", "bob@example.com", "bob's password 1", "Agent").await;
    let shared = app.new_client_from(ATTACKER);
    for _ in 0..5 {
        assert_eq!(shared.login(ADMIN_EMAIL, "wrong password").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // Five failures refuse nothing.
    assert_eq!(shared.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status, StatusCode::SEE_OTHER);
    let again = app.new_client_from(ATTACKER);
    assert_eq!(again.login(ADMIN_EMAIL, "wrong password").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The sixth: now the right password is refused from this address...
    let refused = again.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.text().contains("Too many failed attempts"));
    // ...but not another account from it, nor this account from elsewhere.
    assert_eq!(app.new_client_from(ATTACKER).login("bob@example.com", "bob's password 1").await.status, 303);
    assert_eq!(app.new_client_from(OFFICE).login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status, 303);
}

#[tokio::test]
async fn more_than_twenty_failed_logins_refuse_an_address_every_login_but_not_a_sign_up() {
    let app = behind_a_proxy().await;
    let attacker = app.new_client_from(ATTACKER);
    fail_logins_for_others(&attacker, "/agent/login", 21).await;
    assert_eq!(attacker.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(app.new_client_from(OFFICE).login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status, 303);

    // Sign-ups are counted apart.
    let fields = [
        ("last_name", "Ortiz"),
        ("email", "melissa@example.com"),
        ("password", "long enough 1"),
        ("confirm_password", "long enough 1"),
    ];
    let page = attacker.submit("/help/signup", "/help/signup", &fields).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert_eq!(app.count("signups").await, 1);
}

#[tokio::test]
async fn an_administrator_sees_a_locked_agent_and_lifts_the_lock() {
    let app = behind_a_proxy().await;
    app.add_agent("Bob", "bob@example.com", "bob's password 1", "Agent").await;
    let attacker = app.new_client_from(ATTACKER);
    for _ in 0..6 {
        assert_eq!(attacker.login("bob@example.com", "wrong password").await.status, 422);
    }
    assert_eq!(attacker.login("bob@example.com", "bob's password 1").await.status, 429);

    let agents = app.get("/agent/settings/agents").await;
    let rows = agents.texts(".login-locks tbody tr");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].starts_with("Bob 6, slowed down"), "{}", rows[0]);
    assert!(rows[0].contains(&format!("{ATTACKER}: 6, refused")), "{}", rows[0]);

    // Bob himself, logged in from the office, may not lift it.
    let bob = app.new_client_from(OFFICE);
    assert_eq!(bob.login("bob@example.com", "bob's password 1").await.status, 303);
    let bob_id = app.count("agents").await;
    let lift = format!("/agent/settings/agents/{bob_id}/lift-lock");
    let token = bob.get("/agent/contacts").await.value_of("csrf_token").expect("a CSRF token");
    assert_eq!(bob.post_raw(&lift, &[("csrf_token", &token)]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(attacker.login("bob@example.com", "bob's password 1").await.status, 429);

    let lifted = app.submit("/agent/settings/agents", &lift, &[]).await;
    assert_eq!(lifted.status, StatusCode::SEE_OTHER);
    let agents = app.get("/agent/settings/agents").await;
    assert!(agents.text().contains("Login lock lifted."));
    assert!(!agents.has(".login-locks"));
    assert_eq!(attacker.login("bob@example.com", "bob's password 1").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn help_center_logins_and_reset_requests_are_counted_apart_per_address() {
    let (app, sink) = spawn_app_with_mail_and(|s| s.trust_proxy = true).await;
    app.set_up_admin().await;
    let id = app.add_contact(&[("last_name", "Ortiz"), ("email", "m@example.com")]).await;
    invite_and_join(&app, &sink, id, "m@example.com").await;
    let right = [("email", "m@example.com"), ("password", CONTACT_PASSWORD)];

    // An address refused for logins may still ask for a reset link.
    let guesser = app.new_client_from(ATTACKER);
    fail_logins_for_others(&guesser, "/help/login", 21).await;
    assert_eq!(guesser.submit("/help/login", "/help/login", &right).await.status, 429);
    let asked = guesser.submit("/help/password-reset", "/help/password-reset", &[("email", "m@example.com")]).await;
    assert_eq!(asked.status, StatusCode::OK);
    last_mail_to(&app, &sink, "m@example.com", "Reset").await;

    // An address refused for reset requests may still log in.
    let asker = app.new_client_from(OFFICE);
    for n in 0..=21 {
        let email = format!("nobody{n}@example.com");
        let page = asker.submit("/help/password-reset", "/help/password-reset", &[("email", &email)]).await;
        let expected = if n < 21 { StatusCode::OK } else { StatusCode::TOO_MANY_REQUESTS };
        assert_eq!(page.status, expected, "request {n}");
    }
    assert_eq!(asker.submit("/help/login", "/help/login", &right).await.status, StatusCode::SEE_OTHER);
}
