use chrono::{Duration, Utc};
use frontdesk::services::{recycle_bin, tickets};

use crate::helpers::{spawn_app, TestApp};

async fn app_with_deleted_contact() -> (TestApp, i64, i64) {
    let app = spawn_app().await;
    app.set_up_admin().await;
    let id = app.add_contact(&[("last_name", "Gone"), ("email", "gone@example.com")]).await;
    let new = tickets::NewTicket {
        contact_id: id,
        subject: "Old issue".into(),
        status: "Closed",
        channel: "web",
        priority: "Low",
    };
    tickets::create(&app.state.db, new).await.expect("ticket");
    let page = app.submit(&format!("/agent/contacts/{id}/delete"), &format!("/agent/contacts/{id}/delete"), &[]).await;
    assert_eq!(page.status, 303);
    let entry: i64 = app.column("recycle_bin", "id", 1).await.expect("entry").parse().expect("id");
    (app, id, entry)
}

#[tokio::test]
async fn only_administrators_delete_permanently() {
    let (app, _, entry) = app_with_deleted_contact().await;
    let agent = app.client_as("Agent", "agent@example.com").await;
    let bin = agent.get("/agent/recycle-bin").await;
    assert!(bin.texts("button").contains(&"Restore".to_owned()));
    assert!(!bin.texts("button").contains(&"Delete Permanently".to_owned()));
    let csrf = bin.value_of("csrf_token").expect("token");
    let refused = agent.post_raw(&format!("/agent/recycle-bin/{entry}/purge"), &[("csrf_token", &csrf)]).await;
    assert_eq!(refused.status, 403);
    assert_eq!(app.count("contacts").await, 1);

    assert!(app.get("/agent/recycle-bin").await.texts("button").contains(&"Delete Permanently".to_owned()));
    let purged = app.submit("/agent/recycle-bin", &format!("/agent/recycle-bin/{entry}/purge"), &[]).await;
    assert_eq!(purged.status, 303);
    assert_eq!(app.count("contacts").await, 0);
    assert_eq!(app.count("tickets").await, 0);
    // Its events go too: what is left says that it was purged, by whom, and nothing of it.
    assert_eq!(
        app.texts("SELECT subject_kind || ' ' || action || ' ' || changes AS v FROM events").await,
        ["contact purged []"]
    );
    assert_eq!(app.count("contact_search_terms").await, 0);
    assert_eq!(app.count("recycle_bin").await, 0);
    // The address is free again.
    app.add_contact(&[("last_name", "Back"), ("email", "gone@example.com")]).await;
}

#[tokio::test]
async fn a_deleted_contact_keeps_its_email_until_purged() {
    let (app, _, _) = app_with_deleted_contact().await;
    let page = app
        .submit("/agent/contacts/new", "/agent/contacts", &[("last_name", "Again"), ("email", "GONE@example.com")])
        .await;
    assert_eq!(page.status, 422);
    assert!(page.field_error("email").unwrap_or_default().contains("Recycle Bin"));
}

#[tokio::test]
async fn items_older_than_the_retention_period_are_purged() {
    let (app, _, _) = app_with_deleted_contact().await;
    let db = &app.state.db;
    assert_eq!(recycle_bin::purge_older_than(db, Utc::now() - Duration::days(60)).await.expect("purge"), 0);
    assert_eq!(app.count("contacts").await, 1);
    assert_eq!(recycle_bin::purge_older_than(db, Utc::now() + Duration::seconds(1)).await.expect("purge"), 1);
    assert_eq!(app.count("contacts").await, 0);
    assert_eq!(app.count("tickets").await, 0);
}
