use crate::helpers::{spawn_app, ADMIN_EMAIL, ADMIN_PASSWORD};

#[tokio::test]
async fn with_no_agent_every_console_url_leads_to_setup() {
    let app = spawn_app().await;
    for path in ["/agent", "/agent/contacts", "/agent/login", "/agent/settings/agents"] {
        let mut page = app.get(path).await;
        if page.location.as_deref() == Some("/agent/contacts") {
            page = app.get("/agent/contacts").await;
        }
        assert_eq!(page.status, 303, "{path}");
        assert_eq!(page.location.as_deref(), Some("/setup"), "{path}");
    }
    let setup = app.get("/setup").await;
    assert_eq!(setup.status, 200);
    assert!(setup.has("button[type=submit]"));
    assert_eq!(setup.texts("button[type=submit]"), ["Create administrator"]);
}

#[tokio::test]
async fn setup_creates_the_first_administrator_then_is_gone() {
    let app = spawn_app().await;
    app.set_up_admin().await;
    assert_eq!(app.count("agents").await, 1);

    let contacts = app.get("/agent/contacts").await;
    assert_ne!(contacts.location.as_deref(), Some("/setup"));
    assert_eq!(app.get("/setup").await.status, 404);
    let again = app.post_raw("/setup", &[("name", "Eve"), ("email", "eve@example.com")]).await;
    assert!(again.status == 404 || again.status == 403, "{}", again.status);
    assert_eq!(app.count("agents").await, 1);

    let other = app.new_client();
    let login = other.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(login.status, 303);
}

#[tokio::test]
async fn setup_with_bad_input_shows_the_form_again_and_stores_nothing() {
    let app = spawn_app().await;
    let page = app
        .submit(
            "/setup",
            "/setup",
            &[
                ("name", "Ada <b>Admin</b>"),
                ("email", "not-an-email"),
                ("password", "short"),
                ("confirm_password", "other"),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert_eq!(page.value_of("name").as_deref(), Some("Ada <b>Admin</b>"));
    assert_eq!(page.value_of("email").as_deref(), Some("not-an-email"));
    assert!(page.field_error("email").is_some());
    assert!(page.field_error("password").is_some());
    assert!(!page.html.contains("<b>Admin</b>"), "HTML in input must be escaped");
    assert_eq!(app.count("agents").await, 0);

    let mismatch = app
        .submit(
            "/setup",
            "/setup",
            &[
                ("name", "Ada"),
                ("email", "ada@example.com"),
                ("password", "long enough 1"),
                ("confirm_password", "long enough 2"),
            ],
        )
        .await;
    assert_eq!(mismatch.status, 422);
    assert_eq!(mismatch.field_error("confirm_password").as_deref(), Some("The passwords do not match."));
    assert_eq!(app.count("agents").await, 0);
}
