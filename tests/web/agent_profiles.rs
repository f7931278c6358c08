use crate::helpers::{spawn_app, TestApp};
use crate::inbound_mail::{message, pipe, ticket_no};
use crate::mail::spawn_app_with_mail;

async fn admin_with_contact() -> (TestApp, i64) {
    let app = spawn_app().await;
    app.set_up_admin().await;
    let id = app
        .add_contact(&[
            ("first_name", "Secret"),
            ("last_name", "Keeper"),
            ("email", "keeper@example.com"),
            ("phone", "+1 415 555 2671"),
        ])
        .await;
    (app, id)
}

#[tokio::test]
async fn a_light_agent_cannot_create_edit_or_delete() {
    let (app, id) = admin_with_contact().await;
    let light = app.client_as("Light Agent", "light@example.com").await;
    let home = light.get("/agent/contacts").await;
    assert_eq!(home.status, 200);
    assert!(!home.has("a[aria-label=\"Add contact\"]"));
    assert!(!home.has("a.row-edit"));
    let new = light.get("/agent/contacts/new").await;
    assert_eq!(new.status, 403);
    assert!(new.text().contains("does not have the Create permission for Contacts"), "{}", new.text());
    assert_eq!(light.get(&format!("/agent/contacts/{id}/edit")).await.status, 403);
    assert_eq!(light.get(&format!("/agent/contacts/{id}/delete")).await.status, 403);

    let csrf = home.value_of("csrf_token").expect("token");
    let created = light.post_raw("/agent/contacts", &[("csrf_token", &csrf), ("last_name", "Sneaky")]).await;
    assert_eq!(created.status, 403);
    let edited =
        light.post_raw(&format!("/agent/contacts/{id}"), &[("csrf_token", &csrf), ("last_name", "Changed")]).await;
    assert_eq!(edited.status, 403);
    let deleted = light.post_raw(&format!("/agent/contacts/{id}/delete"), &[("csrf_token", &csrf)]).await;
    assert_eq!(deleted.status, 403);
    assert_eq!(app.count("contacts").await, 1);
    assert_eq!(app.column("contacts", "last_name", id).await.as_deref(), Some("Keeper"));
    assert_eq!(app.count("contacts WHERE trashed = true").await, 0);
    assert_eq!(light.get("/agent/settings/agents").await.status, 403, "settings are for administrators");
}

#[tokio::test]
async fn a_hidden_field_never_leaves_the_server_and_is_ignored_in_a_post() {
    let (app, id) = admin_with_contact().await;
    app.create_profile(
        "No Email",
        &["contacts.view", "contacts.create", "contacts.edit"],
        &[("contact.email", "hidden")],
    )
    .await;
    let agent = app.client_as("No Email", "noemail@example.com").await;

    let list = agent.get("/agent/contacts").await;
    assert!(list.text().contains("Secret Keeper"));
    assert!(!list.html.contains("keeper@example.com"), "list");
    assert!(!list.texts("th").iter().any(|t| t == "Email"));
    let by_email = agent.get("/agent/contacts?q=keeper%40example").await;
    assert!(!by_email.text().contains("Secret Keeper"), "search must not match a hidden field");
    assert!(agent.get("/agent/contacts?sort=email").await.status == 200);
    let detail = agent.get(&format!("/agent/contacts/{id}")).await;
    assert!(!detail.html.contains("keeper@example.com"), "detail");
    let edit = agent.get(&format!("/agent/contacts/{id}/edit")).await;
    assert!(!edit.html.contains("keeper@example.com"), "edit form");
    assert!(!edit.has("input[name=email]"));

    let saved = agent
        .submit(
            &format!("/agent/contacts/{id}/edit"),
            &format!("/agent/contacts/{id}"),
            &[("email", "stolen@evil.example"), ("title", "CTO")],
        )
        .await;
    assert_eq!(saved.status, 303);
    assert_eq!(app.column("contacts", "email", id).await.as_deref(), Some("keeper@example.com"));
    assert_eq!(app.column("contacts", "title", id).await.as_deref(), Some("CTO"));
    let created = agent
        .submit("/agent/contacts/new", "/agent/contacts", &[("last_name", "New"), ("email", "sneak@example.com")])
        .await;
    assert_eq!(created.status, 303);
    assert_eq!(app.count("contacts WHERE email = 'sneak@example.com'").await, 0);
    // The administrator still sees everything, including the history of the title change.
    let admin_view = app.get(&format!("/agent/contacts/{id}")).await;
    assert!(admin_view.text().contains("keeper@example.com"));
}

#[tokio::test]
async fn a_read_only_field_is_shown_but_cannot_be_changed() {
    let (app, id) = admin_with_contact().await;
    app.create_profile("Phone RO", &["contacts.view", "contacts.edit"], &[("contact.phone", "read_only")]).await;
    let agent = app.client_as("Phone RO", "ro@example.com").await;
    let edit = agent.get(&format!("/agent/contacts/{id}/edit")).await;
    assert!(edit.text().contains("+14155552671"));
    assert!(!edit.has("input[name=phone]"));

    let refused = agent
        .submit(
            &format!("/agent/contacts/{id}/edit"),
            &format!("/agent/contacts/{id}"),
            &[("phone", "+1 212 555 0199"), ("title", "Boss")],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert_eq!(
        refused.field_error("phone").as_deref(),
        Some("Phone is read-only for your profile and cannot be changed.")
    );
    assert_eq!(app.column("contacts", "phone", id).await.as_deref(), Some("+14155552671"));
    assert_eq!(app.column("contacts", "title", id).await, None, "nothing stored from a refused post");

    let ok = agent
        .submit(&format!("/agent/contacts/{id}/edit"), &format!("/agent/contacts/{id}"), &[("title", "Boss")])
        .await;
    assert_eq!(ok.status, 303);
    assert_eq!(app.column("contacts", "title", id).await.as_deref(), Some("Boss"));
}

#[tokio::test]
async fn the_administrator_profile_cannot_be_edited() {
    let app = spawn_app().await;
    app.set_up_admin().await;
    let list = app.get("/agent/settings/profiles").await;
    assert!(list.text().contains("Administrator"));
    assert!(list.text().contains("Light Agent"));
    let admin_id = app.column("profiles", "id", 1).await.expect("profile 1");
    assert_eq!(app.column("profiles", "built_in", 1).await.as_deref(), Some("administrator"));
    assert_eq!(app.get(&format!("/agent/settings/profiles/{admin_id}")).await.status, 403);
    let csrf = list.value_of("csrf_token").expect("token");
    let post = app
        .post_raw(&format!("/agent/settings/profiles/{admin_id}"), &[("csrf_token", &csrf), ("name", "Nobody")])
        .await;
    assert_eq!(post.status, 403);
    assert_eq!(app.column("profiles", "name", 1).await.as_deref(), Some("Administrator"));
}

#[tokio::test]
async fn deactivating_an_agent_ends_its_sessions() {
    let app = spawn_app().await;
    app.set_up_admin().await;
    let agent = app.client_as("Agent", "worker@example.com").await;
    assert_eq!(agent.get("/agent/contacts").await.status, 200);
    let id: i64 = app.count("agents WHERE email = 'worker@example.com'").await;
    assert_eq!(id, 1);
    let agent_path = app.link_to("/agent/settings/agents", "tbody a", "Agent Agent").await;
    assert_eq!(app.submit_unchecking(&agent_path, "active").await.status, 303);
    let after = agent.get("/agent/contacts").await;
    assert_eq!(after.status, 303, "the deactivated agent is logged out everywhere");
    assert_eq!(agent.login("worker@example.com", "agent password 1").await.status, 422);
}

#[tokio::test]
async fn a_hidden_first_name_leaks_through_neither_search_nor_paging_nor_the_bin() {
    let (app, id) = admin_with_contact().await;
    for i in 0..26 {
        app.add_contact(&[("first_name", "Zebulon"), ("last_name", &format!("Filler{i:02}"))]).await;
    }
    app.create_profile("No First", &["contacts.view", "contacts.delete"], &[("contact.first_name", "hidden")]).await;
    let agent = app.client_as("No First", "nofirst@example.com").await;
    let list = agent.get("/agent/contacts").await;
    assert!(!list.html.to_lowercase().contains("zebulon") && !list.html.to_lowercase().contains("secret"));
    assert!(list.has("a[rel=next]"));
    let next = list
        .doc()
        .select(&scraper::Selector::parse("a[rel=next]").expect("sel"))
        .next()
        .and_then(|a| a.value().attr("href"))
        .expect("next")
        .to_owned();
    assert!(!next.to_lowercase().contains("zebulon"));
    let page2 = agent.get(&next.replace("&amp;", "&")).await;
    assert!(!page2.html.to_lowercase().contains("secret"), "page 2");
    assert_eq!(agent.get("/agent/contacts?q=zebulon").await.texts("tbody tr").len(), 0);
    assert_eq!(agent.get("/agent/contacts?q=secret").await.texts("tbody tr").len(), 0);
    assert_eq!(app.get("/agent/contacts?q=secret").await.texts("tbody tr").len(), 1, "the admin still finds it");

    app.submit(&format!("/agent/contacts/{id}/delete"), &format!("/agent/contacts/{id}/delete"), &[]).await;
    let bin = agent.get("/agent/recycle-bin").await;
    assert!(bin.text().contains("Keeper"));
    assert!(!bin.text().contains("Secret"));
}

#[tokio::test]
async fn pages_leave_out_what_other_modules_would_show() {
    let (app, contact) = admin_with_contact().await;
    let account = app.add_account("Hidden Corp").await;
    app.submit(
        &format!("/agent/contacts/{contact}/edit"),
        &format!("/agent/contacts/{contact}"),
        &[("account", "Hidden Corp")],
    )
    .await;
    app.create_profile("Accounts Only", &["accounts.view"], &[]).await;
    let agent = app.client_as("Accounts Only", "acc@example.com").await;
    let page = agent.get(&format!("/agent/accounts/{account}")).await;
    assert_eq!(page.status, 200);
    assert!(!page.text().contains("Keeper"), "contacts are not this profile's to see");
    assert_eq!(agent.get("/agent/contacts").await.status, 403);
    let bin = agent.get("/agent/recycle-bin").await;
    assert_eq!(bin.status, 200);
    assert!(!bin.texts("button").contains(&"Restore".to_owned()));
}

#[tokio::test]
async fn saving_a_contact_keeps_a_deactivated_owner() {
    let (app, id) = admin_with_contact().await;
    app.add_agent("Bob Gone", "bob@example.com", "bob password 1", "Agent").await;
    let bob: i64 = app.column("agents", "id", 2).await.expect("bob").parse().expect("id");
    app.exec(&format!("UPDATE contacts SET owner_id = {bob} WHERE id = {id}")).await;
    app.exec(&format!("UPDATE agents SET active = false WHERE id = {bob}")).await;
    let edit = app.get(&format!("/agent/contacts/{id}/edit")).await;
    assert!(edit.text().contains("Bob Gone (deactivated)"));
    let saved = app
        .submit(&format!("/agent/contacts/{id}/edit"), &format!("/agent/contacts/{id}"), &[("title", "Still Bob's")])
        .await;
    assert_eq!(saved.status, 303);
    assert_eq!(app.column("contacts", "owner_id", id).await, Some(bob.to_string()));
}

#[tokio::test]
async fn a_profile_that_hides_email_and_numbers_reads_them_in_no_thread_list_history_or_search() {
    let (app, _sink) = spawn_app_with_mail().await;
    app.set_up_admin().await;
    let first = message(
        "Secret Keeper <keeper@example.com>",
        "Vault stuck",
        Some("k1@mail.example.com"),
        "Cc: Cory Baker <cory@other.example>",
        "The vault is stuck.\n-- \nSecret Keeper, KEEPER@example.com\n",
    );
    assert!(pipe(&app, &first).await.contains("opened ticket #1001"));
    let id = ticket_no(&app, 1001).await.contact_id.expect("a contact");
    let account = app.add_account("Vault Corp").await;
    let saved = app
        .submit(
            &format!("/agent/contacts/{id}/edit"),
            &format!("/agent/contacts/{id}"),
            &[("secondary_emails", "vault@example.com"), ("phone", "+1 415 555 2671"), ("account", "Vault Corp")],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.text());
    let from_second = message(
        "Secret Keeper <vault@example.com>",
        "Re: Vault stuck",
        Some("k2@mail.example.com"),
        "In-Reply-To: <k1@mail.example.com>",
        "Still stuck.\n\nOn Monday, Secret Keeper <keeper@example.com> wrote:\n> The vault is stuck.\n",
    );
    assert!(pipe(&app, &from_second).await.contains("added to ticket #1001"));
    let colleague = message(
        "Cory Baker <cory@other.example>",
        "Re: Vault stuck",
        Some("c1@other.example"),
        "In-Reply-To: <k1@mail.example.com>",
        "Tried the spare key.\n",
    );
    assert!(pipe(&app, &colleague).await.contains("added to ticket #1001"));

    app.create_profile(
        "No Email",
        &["contacts.view", "tickets.view", "accounts.view"],
        &[("contact.email", "hidden"), ("contact.phone", "hidden"), ("contact.mobile", "hidden")],
    )
    .await;
    let agent = app.client_as("No Email", "noemail@example.com").await;
    let addresses = ["keeper@example.com", "vault@example.com", "cory@other.example"];
    for path in [
        "/agent/tickets/1001".to_owned(),
        "/agent/tickets".to_owned(),
        format!("/agent/contacts/{id}"),
        format!("/agent/accounts/{account}"),
    ] {
        let page = agent.get(&path).await;
        assert_eq!(page.status, 200, "{path}");
        for address in addresses {
            assert!(!page.html.to_lowercase().contains(address), "{path} shows {address}");
        }
        assert!(!page.text().contains("2671"), "{path} shows the phone");
    }
    let thread = agent.get("/agent/tickets/1001").await;
    assert_eq!(thread.texts("li.message .sender"), ["Secret Keeper", "Secret Keeper", "Cory Baker"]);
    assert!(thread.text().contains("Secret Keeper, [email hidden]"), "{}", thread.text());
    let history = agent.get(&format!("/agent/contacts/{id}")).await.text();
    assert!(history.contains("Customer replied by email") && history.contains("Someone else replied by email"));
    for address in ["keeper%40example.com", "vault%40example.com"] {
        let found = agent.get(&format!("/agent/tickets?q={address}")).await;
        assert!(!found.text().contains("Vault stuck"), "a search by {address} finds the ticket");
    }

    // The administrator sees every address, and finds the ticket by any of the contact's.
    let thread = app.get("/agent/tickets/1001").await;
    assert_eq!(
        thread.texts("li.message .sender"),
        ["Secret Keeper <keeper@example.com>", "Secret Keeper <vault@example.com>", "Cory Baker <cory@other.example>"]
    );
    assert!(thread.text().contains("+14155552671"), "{}", thread.text());
    for address in ["keeper%40example.com", "vault%40example.com"] {
        assert!(app.get(&format!("/agent/tickets?q={address}")).await.text().contains("Vault stuck"), "{address}");
    }
}
