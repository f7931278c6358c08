//! Merging contacts refused: without the Delete permission, with one or four contacts, without
//! the form's CSRF token; and a field the profile hides, neither shown nor chosen.

use reqwest::StatusCode;

use super::{console, merge_page};

#[tokio::test]
async fn an_agent_without_delete_on_contacts_cannot_merge_and_nothing_changes() {
    let (app, _sink) = console().await;
    let a = app.add_contact(&[("last_name", "Ortiz"), ("email", "a@example.com")]).await;
    let b = app.add_contact(&[("last_name", "Ortiz"), ("email", "b@example.com")]).await;
    app.create_profile("No Delete", &["contacts.view", "contacts.create", "contacts.edit"], &[]).await;
    let agent = app.client_as("No Delete", "nodelete@example.com").await;
    let list = agent.get("/agent/contacts").await;
    assert!(!list.texts("button").contains(&"Merge".to_owned()), "no Merge without Delete");
    let page = agent.get(&merge_page(&[a, b])).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.text().contains("Delete"), "{}", page.text());
    let csrf = list.value_of("csrf_token").expect("token");
    let refused = agent
        .post_raw("/agent/contacts/merge", &[("csrf_token", &csrf), ("ids", &a.to_string()), ("ids", &b.to_string())])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("contacts WHERE trashed = true").await, 0);
    assert_eq!(app.count("contact_merges").await, 0);
    assert_eq!(app.column("contacts", "email", b).await.as_deref(), Some("b@example.com"));
}

#[tokio::test]
async fn a_hidden_field_is_neither_shown_nor_chosen_and_the_master_keeps_its_value() {
    let (app, _sink) = console().await;
    let a = app.add_contact(&[("last_name", "Ortiz"), ("title", "CTO")]).await;
    let b = app.add_contact(&[("last_name", "Ortiz"), ("title", "Intern")]).await;
    app.create_profile(
        "No Title",
        &["contacts.view", "contacts.create", "contacts.edit", "contacts.delete"],
        &[("contact.title", "hidden")],
    )
    .await;
    let agent = app.client_as("No Title", "notitle@example.com").await;
    let page = agent.get(&merge_page(&[a, b])).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(page.texts("th[scope=row]").iter().all(|t| !t.starts_with("Title")), "{}", page.text());
    assert!(!page.text().contains("Intern") && !page.text().contains("CTO"), "{}", page.text());
    let merged = agent.submit(&merge_page(&[a, b]), "/agent/contacts/merge", &[("keep_title", &b.to_string())]).await;
    assert_eq!(merged.status, StatusCode::SEE_OTHER, "{}", merged.text());
    assert_eq!(app.column("contacts", "title", a).await.as_deref(), Some("CTO"));
}

#[tokio::test]
async fn one_or_four_ticked_contacts_are_refused_with_a_message_and_nothing_changes() {
    let (app, _sink) = console().await;
    let mut ids = Vec::new();
    for n in 0..4 {
        ids.push(app.add_contact(&[("last_name", &format!("Ortiz{n}"))]).await);
    }
    let list = app.get("/agent/contacts").await;
    assert!(list.has("button[formaction=\"/agent/contacts/merge\"][formmethod=get]"), "{}", list.html);
    // The list's form sends its token along: it leaves the address.
    let csrf = list.value_of("csrf_token").expect("token");
    let sent = app.get(&format!("/agent/contacts/merge?csrf_token={csrf}&ids={}&ids={}", ids[0], ids[1])).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    assert_eq!(sent.location, Some(format!("/agent/contacts/merge?ids={}&ids={}", ids[0], ids[1])));

    let one = app.get(&merge_page(&ids[..1])).await;
    assert_eq!(one.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(one.text().contains("Tick two or three contacts to merge; 1 was ticked."), "{}", one.text());
    let four = app.get(&merge_page(&ids)).await;
    assert_eq!(four.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(four.text().contains("4 were ticked"), "{}", four.text());
    let mut fields = vec![("csrf_token".to_owned(), csrf)];
    fields.extend(ids.iter().map(|id| ("ids".to_owned(), id.to_string())));
    let posted = app.client.post(app.url("/agent/contacts/merge")).form(&fields).send().await.expect("POST");
    assert_eq!(posted.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("contacts WHERE trashed = true").await, 0);
    assert_eq!(app.count("contact_merges").await, 0);
}

#[tokio::test]
async fn merging_needs_the_forms_csrf_token() {
    let (app, _sink) = console().await;
    let a = app.add_contact(&[("last_name", "Ortiz")]).await;
    let b = app.add_contact(&[("last_name", "Ortiz")]).await;
    let forged = app.post_raw("/agent/contacts/merge", &[("ids", &a.to_string()), ("ids", &b.to_string())]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let wrong = app
        .post_raw(
            "/agent/contacts/merge",
            &[("csrf_token", "forged"), ("ids", &a.to_string()), ("ids", &b.to_string())],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("contacts WHERE trashed = true").await, 0);
    let undo = app.post_raw(&format!("/agent/contacts/{a}/undo-merge"), &[]).await;
    assert_eq!(undo.status, StatusCode::FORBIDDEN);
}
