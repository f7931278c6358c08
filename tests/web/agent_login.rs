use crate::helpers::{spawn_app, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};

#[tokio::test]
async fn without_a_session_the_console_redirects_to_login() {
    let app = spawn_app().await;
    app.set_up_admin().await;
    let anonymous = app.new_client();
    let page = anonymous.get("/agent/contacts?view=mine").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location.as_deref(), Some("/agent/login?next=%2Fagent%2Fcontacts%3Fview%3Dmine"));
}

#[tokio::test]
async fn wrong_credentials_get_one_generic_message() {
    let app = spawn_app().await;
    app.set_up_admin().await;
    let other = app.new_client();
    for (email, password) in [(ADMIN_EMAIL, "wrong password"), ("nobody@example.com", ADMIN_PASSWORD)] {
        let page = other.login(email, password).await;
        assert_eq!(page.status, 422);
        assert!(page.text().contains("The email or password is not right."));
        assert_eq!(page.value_of("email").as_deref(), Some(email));
    }
}

#[tokio::test]
async fn login_goes_to_the_page_asked_for_and_renews_the_session() {
    let app = spawn_app().await;
    app.set_up_admin().await;
    let other = app.new_client();
    let login_page = other.get("/agent/login?next=/agent/accounts").await;
    assert_eq!(login_page.value_of("next").as_deref(), Some("/agent/accounts"));
    let sessions_before = app.count("sessions").await;
    let page = other
        .submit(
            "/agent/login?next=/agent/accounts",
            "/agent/login",
            &[("email", "ADMIN@example.com"), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location.as_deref(), Some("/agent/accounts"));
    // The anonymous session was replaced, not reused: same number of rows, a new id.
    assert_eq!(app.count("sessions").await, sessions_before);

    let evil = other
        .submit(
            "/agent/login?next=//evil.example",
            "/agent/login",
            &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(evil.location.as_deref(), Some("/agent/contacts"));
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server() {
    let app = spawn_app().await;
    app.set_up_admin().await;
    let cookie_before = app.client.get(app.url("/agent/contacts")).send().await.expect("GET").status();
    assert_eq!(cookie_before, 200);
    let out = app.submit("/agent/contacts", "/agent/logout", &[]).await;
    assert_eq!(out.status, 303);
    assert_eq!(app.count("sessions WHERE agent_id IS NOT NULL").await, 0);
    assert_eq!(app.get("/agent/contacts").await.status, 303);
}

#[tokio::test]
async fn a_post_without_a_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    app.set_up_admin().await;
    let page = app.post_raw("/agent/logout", &[]).await;
    assert_eq!(page.status, 403);
    let forged = app.post_raw("/agent/logout", &[("csrf_token", "forged")]).await;
    assert_eq!(forged.status, 403);
    assert_eq!(app.get("/agent/contacts").await.status, 200, "still logged in");
}

#[tokio::test]
async fn more_than_five_failures_from_one_address_lock_the_account_there_for_a_while() {
    let app = spawn_app().await;
    app.set_up_admin().await;
    let other = app.new_client();
    for _ in 0..5 {
        assert_eq!(other.login(ADMIN_EMAIL, "wrong password").await.status, 422);
    }
    // Five failures do not lock anyone out.
    assert_eq!(other.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status, 303);
    let third = app.new_client();
    assert_eq!(third.login(ADMIN_EMAIL, "wrong password").await.status, 422);
    // That was the sixth failure: now even the right password is refused.
    let locked = third.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(locked.status, 429);
    assert!(locked.text().contains("Too many failed attempts"));
}

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions() {
    let app = spawn_app().await;
    app.set_up_admin().await;
    let laptop = app.new_client();
    assert_eq!(laptop.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status, 303);
    let wrong = app
        .submit(
            "/agent/password",
            "/agent/password",
            &[("current_password", "nope"), ("password", "new secret 123"), ("confirm_password", "new secret 123")],
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.field_error("current_password").is_some());
    assert_eq!(laptop.get("/agent/contacts").await.status, 200, "a refused change ends nothing");

    let changed = app
        .submit(
            "/agent/password",
            "/agent/password",
            &[
                ("current_password", ADMIN_PASSWORD),
                ("password", "new secret 123"),
                ("confirm_password", "new secret 123"),
            ],
        )
        .await;
    assert_eq!(changed.status, 303);
    assert_eq!(laptop.get("/agent/contacts").await.status, 303, "the other session ended");
    assert_eq!(app.get("/agent/contacts").await.status, 200, "this one goes on");
    assert_eq!(app.new_client().login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status, 422);
    assert_eq!(app.new_client().login(ADMIN_EMAIL, "new secret 123").await.status, 303);
}

#[tokio::test]
async fn an_administrator_sets_an_agents_password_and_logs_it_out() {
    let app = spawn_app().await;
    app.set_up_admin().await;
    let agent = app.client_as("Agent", "temp@example.com").await;
    let list = app.get("/agent/settings/agents").await;
    let href = list
        .doc()
        .select(&scraper::Selector::parse("tbody a").expect("sel"))
        .find(|a| a.text().collect::<String>() == "Agent Agent")
        .and_then(|a| a.value().attr("href"))
        .expect("agent link")
        .to_owned();
    let page = app.submit(&href, &href, &[("password", "reset by admin 1")]).await;
    assert_eq!(page.status, 303);
    assert_eq!(agent.get("/agent/contacts").await.status, 303);
    assert_eq!(agent.login("temp@example.com", "reset by admin 1").await.status, 303);
    assert!(app.get("/agent/password-reset").await.text().contains("administrator"));
}

#[tokio::test]
async fn viewing_pages_does_not_write_the_session() {
    let app = spawn_app().await;
    app.set_up_admin().await;
    app.get("/agent/contacts").await; // shows the welcome message once
    app.exec("UPDATE sessions SET state = state || ' ' WHERE agent_id IS NOT NULL").await;
    for _ in 0..3 {
        assert_eq!(app.get("/agent/contacts").await.status, 200);
    }
    assert_eq!(
        app.count("sessions WHERE agent_id IS NOT NULL AND state LIKE '% '").await,
        1,
        "the row was not rewritten"
    );
}

#[tokio::test]
async fn attempts_sent_at_once_cannot_slip_under_the_limit() {
    let app = spawn_app().await;
    app.set_up_admin().await;
    let mut attempts = Vec::new();
    for _ in 0..16 {
        let client = app.new_client();
        attempts.push(tokio::spawn(async move { client.login(ADMIN_EMAIL, "wrong password").await.status }));
    }
    let mut checked = 0;
    for attempt in attempts {
        let status = attempt.await.expect("join");
        assert!(status == 422 || status == 429, "{status}");
        if status == 422 {
            checked += 1;
        }
    }
    assert!(checked <= 6, "{checked} passwords were checked");
    assert_eq!(app.new_client().login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status, 429);
}

#[tokio::test]
async fn control_characters_get_a_clear_answer_on_every_database() {
    let app = spawn_app().await;
    app.set_up_admin().await;
    assert_eq!(app.new_client().login("a\u{0}@example.com", "x").await.status, 422);
    let account = app.submit("/agent/accounts/new", "/agent/accounts", &[("name", "Acme\u{0}")]).await;
    assert_eq!(account.status, 422);
    let contact =
        app.submit("/agent/contacts/new", "/agent/contacts", &[("last_name", "Nul"), ("description", "a\u{0}b")]).await;
    assert_eq!(contact.status, 422);
    assert!(contact.field_error("description").is_some());
    assert_eq!(app.count("contacts").await + app.count("accounts").await, 0);
}

#[tokio::test]
async fn a_session_ended_elsewhere_is_not_revived_with_its_login() {
    use actix_session::storage::{SessionKey, SessionStore};
    let app = spawn_app().await;
    let store = frontdesk::auth::DbSessionStore::new(app.state.db.conn.clone());
    let gone = SessionKey::try_from("k".repeat(64)).expect("key");
    let mut state = std::collections::HashMap::new();
    state.insert("agent_id".to_owned(), "1".to_owned());
    state.insert("flash".to_owned(), "\"hi\"".to_owned());
    let ttl = actix_web::cookie::time::Duration::hours(1);
    let key = store.update(gone, state, &ttl).await.expect("update");
    let loaded = store.load(&key).await.expect("load").expect("a new session");
    assert!(!loaded.contains_key("agent_id"));
    assert_eq!(loaded.get("flash").map(String::as_str), Some("\"hi\""));
}

/// Asks `client` for `path` until it answers `status`, for at most two seconds: another
/// instance hears of a change when the database's notification reaches it.
async fn soon_answers(client: &TestApp, path: &str, status: u16) -> bool {
    for _ in 0..40 {
        if client.get(path).await.status == status {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn logout_and_permission_changes_on_one_instance_hold_on_another_at_once() {
    let app = spawn_app().await;
    app.set_up_admin().await;
    app.create_profile("Viewers", &["contacts.view"], &[]).await;
    let agent = app.client_as("Viewers", "viewer@example.com").await;
    let elsewhere = agent.second_instance().await;
    // Served by the other instance, twice: what it keeps of the session is in use.
    for _ in 0..2 {
        assert_eq!(elsewhere.get("/agent/contacts").await.status, 200);
    }

    // The profile loses the Contacts view permission on the first instance.
    let profile = app.link_to("/agent/settings/profiles", crate::helpers::PROFILE_LINKS, "Viewers").await;
    assert_eq!(app.submit_unchecking(&profile, "contacts.view").await.status, 303);
    assert!(soon_answers(&elsewhere, "/agent/contacts", 403).await, "the permission change holds elsewhere");

    // Logging out on the first instance ends the session on the other.
    assert_eq!(elsewhere.get("/agent/settings/profiles").await.status, 403);
    assert_eq!(elsewhere.get("/agent/password").await.status, 200);
    let out = agent.submit("/agent/password", "/agent/logout", &[]).await;
    assert_eq!(out.status, 303);
    assert!(soon_answers(&elsewhere, "/agent/password", 303).await, "the logout holds elsewhere");
}
