use crate::helpers::{spawn_app, TestApp};

async fn admin_app() -> TestApp {
    let app = spawn_app().await;
    app.set_up_admin().await;
    app
}

#[tokio::test]
async fn an_account_lists_its_contacts_and_their_tickets() {
    let app = admin_app().await;
    let page = app.get("/agent/accounts").await;
    assert!(page.texts("a.button").contains(&"Add account".to_owned()));
    let form = app.get("/agent/accounts/new").await;
    for label in ["Account Name", "Website", "Phone", "Account Owner", "Description"] {
        assert!(form.texts("label").iter().any(|l| l.trim_end_matches(" *") == label), "no label {label}");
    }
    let account = app.add_account("Initech").await;
    let contact = app.add_contact(&[("first_name", "Peter"), ("last_name", "Gibbons"), ("account", "initech")]).await;
    let new = frontdesk::services::tickets::NewTicket {
        contact_id: contact,
        subject: "TPS reports".into(),
        status: "Open",
        channel: "phone",
        priority: "High",
    };
    frontdesk::services::tickets::create(&app.state.db, new).await.expect("ticket");
    let detail = app.get(&format!("/agent/accounts/{account}")).await;
    assert!(detail.text().contains("Peter Gibbons"));
    assert!(detail.text().contains("TPS reports"));
    assert!(app.get("/agent/accounts").await.text().contains("Initech"));
    assert!(app.get(&format!("/agent/contacts/{contact}")).await.text().contains("Account Name Initech"));
}

#[tokio::test]
async fn an_unknown_account_name_is_refused_with_the_input_kept() {
    let app = admin_app().await;
    let page = app
        .submit("/agent/contacts/new", "/agent/contacts", &[("last_name", "Lonely"), ("account", "Nowhere Inc")])
        .await;
    assert_eq!(page.status, 422);
    assert!(page.field_error("account").is_some());
    assert_eq!(page.value_of("account").as_deref(), Some("Nowhere Inc"));
    assert_eq!(app.count("contacts").await, 0);
    let empty = app.submit("/agent/accounts/new", "/agent/accounts", &[("name", " "), ("website", "not a site")]).await;
    assert_eq!(empty.status, 422);
    assert!(empty.field_error("name").is_some() && empty.field_error("website").is_some());
    assert_eq!(app.count("accounts").await, 0);
}

#[tokio::test]
async fn renaming_an_account_carries_to_contact_search_and_sorting() {
    let app = admin_app().await;
    let account = app.add_account("Old Name").await;
    app.add_contact(&[("last_name", "Worker"), ("account", "Old Name")]).await;
    let saved = app
        .submit(
            &format!("/agent/accounts/{account}/edit"),
            &format!("/agent/accounts/{account}"),
            &[("name", "Brand New")],
        )
        .await;
    assert_eq!(saved.status, 303);
    assert!(app.get("/agent/contacts?q=brand").await.text().contains("Worker"));
    assert!(!app.get("/agent/contacts?q=old").await.text().contains("Worker"));
}

#[tokio::test]
async fn deleting_an_account_keeps_and_unlinks_its_contacts_and_restore_relinks_them() {
    let app = admin_app().await;
    let account = app.add_account("Umbrella").await;
    let contact = app.add_contact(&[("last_name", "Wesker"), ("account", "Umbrella")]).await;
    let confirm = app.get(&format!("/agent/accounts/{account}/delete")).await;
    assert!(confirm.text().contains("1 contact is kept"), "{}", confirm.text());
    let done = app
        .submit(&format!("/agent/accounts/{account}/delete"), &format!("/agent/accounts/{account}/delete"), &[])
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(app.get(&format!("/agent/accounts/{account}")).await.status, 404);
    assert_eq!(app.column("contacts", "account_id", contact).await, None);
    assert!(app.get(&format!("/agent/contacts/{contact}")).await.status == 200);
    assert!(!app.get("/agent/contacts?q=umbrella").await.text().contains("Wesker"));
    let bin = app.get("/agent/recycle-bin").await;
    assert!(bin.text().contains("Umbrella") && bin.text().contains("1 contact unlinked"));

    let entry = app.column("recycle_bin", "id", 1).await.expect("entry");
    let restored = app.submit("/agent/recycle-bin", &format!("/agent/recycle-bin/{entry}/restore"), &[]).await;
    assert_eq!(restored.status, 303);
    assert_eq!(app.column("contacts", "account_id", contact).await, Some(account.to_string()));
    assert!(app.get("/agent/contacts?q=umbrella").await.text().contains("Wesker"));
}
