//! Who may do what is checked where the work is done: a use-case called directly, as an
//! import, an API call or a channel would call it, refuses what the actor's profile does not
//! allow and writes nothing; through the console the same refusals answer 403. And a value
//! another writer took first is a field error, not a 500.

use chrono::Utc;
use frontdesk::domain::article::{ArticleForm, CategoryForm};
use frontdesk::domain::{
    AccountForm, BrandColor, ContactForm, Email, Permissions, Priority, TicketInput, TicketStatus,
};
use frontdesk::services::help_center::{access, MailContext};
use frontdesk::services::tickets::{self, thread, Author, Opening};
use frontdesk::services::{accounts, agents, articles, branding, contacts, profiles, recycle_bin, throttle};
use frontdesk::services::{Actor, ServiceError};
use reqwest::StatusCode;

use crate::helpers::{spawn_app, TestApp};

async fn admin_app() -> TestApp {
    let app = spawn_app().await;
    app.set_up_admin().await;
    app
}

/// A new agent with `profile`, as a service takes it (the way an import or an API token would
/// act as that agent: loaded from the database, not from a session).
async fn actor_with(app: &TestApp, profile: &str, email: &str) -> Actor {
    app.add_agent(&format!("Agent {profile}"), email, "agent password 1", profile).await;
    let id = app.texts(&format!("SELECT CAST(id AS TEXT) AS v FROM agents WHERE email = '{email}'")).await;
    let id: i64 = id.first().expect("the agent").parse().expect("id");
    Actor::load(&app.state.db.conn, id).await.expect("load").expect("an active agent")
}

/// Asserts a refusal that names the missing permission, as the console's 403 page does.
#[track_caller]
fn assert_forbidden<T: std::fmt::Debug>(result: Result<T, ServiceError>, words: &str) {
    match result {
        Err(ServiceError::Forbidden(why)) => assert!(why.contains(words), "{why}"),
        other => panic!("expected Forbidden ({words}), got {other:?}"),
    }
}

fn contact_form(fields: &[(&str, &str)]) -> ContactForm {
    let mut form = ContactForm::default();
    for (field, value) in fields {
        let value = Some((*value).to_owned());
        match *field {
            "first_name" => form.first_name = value,
            "last_name" => form.last_name = value,
            "email" => form.email = value,
            "phone" => form.phone = value,
            "title" => form.title = value,
            other => panic!("no field {other} here"),
        }
    }
    form
}

fn mail(app: &TestApp) -> MailContext<'_> {
    MailContext { base_url: &app.state.public_url, domain: &app.state.mailer.domain, company: "Initech" }
}

#[tokio::test]
async fn a_light_agent_calling_the_contact_services_directly_is_refused_and_nothing_is_written() {
    let app = admin_app().await;
    let id = app.add_contact(&[("last_name", "Keeper"), ("email", "keeper@example.com")]).await;
    let light = actor_with(&app, "Light Agent", "light@example.com").await;
    let (db, phones) = (&app.state.db, &app.state.phones);

    let created = contacts::create(db, &light, contact_form(&[("last_name", "Sneaky")]), phones).await;
    assert_forbidden(created, "does not have the Create permission for Contacts");
    let edited = contacts::update(db, &light, id, contact_form(&[("last_name", "Changed")]), phones).await;
    assert_forbidden(edited, "does not have the Edit permission for Contacts");
    assert_forbidden(contacts::edit_form(&db.conn, &light, id).await, "Edit permission for Contacts");
    assert_forbidden(recycle_bin::delete_contact(db, &light, id).await, "Delete permission for Contacts");
    assert_forbidden(access::invite(db, mail(&app), &light, id, Utc::now()).await, "Edit permission for Contacts");
    assert_forbidden(access::remove(db, &light, id, Utc::now()).await, "Edit permission for Contacts");

    assert_eq!(app.count("contacts").await, 1);
    assert_eq!(app.column("contacts", "last_name", id).await.as_deref(), Some("Keeper"));
    assert_eq!(app.column("contacts", "help_center_status", id).await.as_deref(), Some("not_invited"));
    assert_eq!(app.count("contacts WHERE trashed = true").await, 0);
    assert_eq!(app.count("recycle_bin").await, 0);
    assert_eq!(app.count("outbox").await, 0, "no invitation mailed");

    // Reading needs the view permission, which a profile for accounts only lacks.
    app.create_profile("Accounts Desk", &["accounts.view"], &[]).await;
    let accounts_only = actor_with(&app, "Accounts Desk", "accounts@example.com").await;
    let query = contacts::ListQuery::default();
    assert_forbidden(
        contacts::list(&db.conn, &accounts_only, &query, Utc::now()).await,
        "View permission for Contacts",
    );
    assert_forbidden(contacts::detail(&db.conn, &accounts_only, id).await, "View permission for Contacts");
}

#[tokio::test]
async fn field_rules_hold_when_a_contact_or_account_service_is_called_directly() {
    let app = admin_app().await;
    let id = app
        .add_contact(&[("last_name", "Keeper"), ("email", "keeper@example.com"), ("phone", "+1 415 555 2671")])
        .await;
    let account = app.add_account("Initech").await;
    app.create_profile(
        "Restricted",
        &["contacts.view", "contacts.create", "contacts.edit", "accounts.view", "accounts.edit"],
        &[("contact.email", "hidden"), ("contact.phone", "read_only"), ("account.website", "read_only")],
    )
    .await;
    let actor = actor_with(&app, "Restricted", "restricted@example.com").await;
    let (db, phones) = (&app.state.db, &app.state.phones);

    // A read-only field: a change is refused with a message next to it, and nothing is stored.
    let form = contact_form(&[("last_name", "Keeper"), ("phone", "+1 212 555 0199"), ("title", "Boss")]);
    match contacts::update(db, &actor, id, form, phones).await {
        Err(ServiceError::Invalid(errors)) => {
            assert_eq!(errors.get("phone"), "Phone is read-only for your profile and cannot be changed.");
        }
        other => panic!("expected the read-only phone refused, got {other:?}"),
    }
    assert_eq!(app.column("contacts", "phone", id).await.as_deref(), Some("+14155552671"));
    assert_eq!(app.column("contacts", "title", id).await, None);

    // A hidden field: ignored, as if not sent; the rest is saved.
    let form = contact_form(&[("last_name", "Keeper"), ("email", "stolen@evil.example"), ("title", "CTO")]);
    contacts::update(db, &actor, id, form, phones).await.expect("saved without the hidden field");
    assert_eq!(app.column("contacts", "email", id).await.as_deref(), Some("keeper@example.com"));
    assert_eq!(app.column("contacts", "title", id).await.as_deref(), Some("CTO"));
    let form = contact_form(&[("last_name", "New"), ("email", "sneak@example.com")]);
    let new = contacts::create(db, &actor, form, phones).await.expect("created without the hidden field");
    assert_eq!(app.column("contacts", "email", new).await, None);
    // And what it reads has no hidden field in it.
    assert_eq!(contacts::detail(&db.conn, &actor, id).await.expect("detail").contact.email, None);

    let form = AccountForm {
        name: Some("Initech".into()),
        website: Some("https://evil.example".into()),
        ..Default::default()
    };
    match accounts::update(db, &actor, account, form, phones).await {
        Err(ServiceError::Invalid(errors)) => assert!(errors.get("website").contains("read-only"), "{errors:?}"),
        other => panic!("expected the read-only website refused, got {other:?}"),
    }
    assert_eq!(app.column("accounts", "website", account).await, None);
}

#[tokio::test]
async fn a_light_agent_calling_the_account_services_directly_is_refused_and_nothing_is_written() {
    let app = admin_app().await;
    let id = app.add_account("Initech").await;
    let light = actor_with(&app, "Light Agent", "light@example.com").await;
    let (db, phones) = (&app.state.db, &app.state.phones);
    let form = |name: &str| AccountForm { name: Some(name.into()), ..AccountForm::default() };

    assert_forbidden(accounts::create(db, &light, form("Initrode"), phones).await, "Create permission for Accounts");
    assert_forbidden(accounts::update(db, &light, id, form("Renamed"), phones).await, "Edit permission for Accounts");
    assert_forbidden(accounts::edit_form(&db.conn, &light, id).await, "Edit permission for Accounts");
    assert_forbidden(recycle_bin::delete_account(db, &light, id).await, "Delete permission for Accounts");

    assert_eq!(app.count("accounts").await, 1);
    assert_eq!(app.column("accounts", "name", id).await.as_deref(), Some("Initech"));
    assert_eq!(app.count("recycle_bin").await, 0);
}

#[tokio::test]
async fn a_light_agent_calling_the_ticket_services_directly_is_refused_and_nothing_is_written() {
    let app = admin_app().await;
    let contact = app.add_contact(&[("last_name", "Gibbons"), ("email", "peter@example.com")]).await;
    let new = tickets::NewTicket {
        contact_id: contact,
        subject: "TPS reports".into(),
        status: "Open",
        channel: "web",
        priority: "Low",
    };
    let number = tickets::create(&app.state.db, new).await.expect("ticket").number;
    let light = actor_with(&app, "Light Agent", "light@example.com").await;
    let db = &app.state.db;
    let now = Utc::now();

    let replied = thread::agent_reply(db, mail(&app), &light, number, "Hello", now).await;
    assert_forbidden(replied, "does not have the Edit permission for Tickets");
    assert_forbidden(thread::add_note(db, &light, number, "Psst", now).await, "Edit permission for Tickets");
    let props = thread::Properties { status: TicketStatus::Closed, assignee_id: Some(1), priority: Priority::High };
    assert_forbidden(thread::update_properties(db, &light, number, props, now).await, "Edit permission for Tickets");
    let opening = Opening {
        contact_id: contact,
        input: TicketInput { subject: "Sneaky".into(), description: "Hi".into(), priority: Priority::Low },
        channel: frontdesk::domain::Channel::Phone,
        by: Author::Agent(light.id()),
        now,
        base_url: app.state.public_url.clone(),
        domain: app.state.mailer.domain.clone(),
        company: "Initech".into(),
        files: Vec::new(),
    };
    assert_forbidden(app.state.tickets.open_as(&light, opening).await, "Create permission for Tickets");

    assert_eq!(app.count("tickets").await, 1);
    assert_eq!(app.count("messages").await, 0);
    assert_eq!(app.count("outbox").await, 0);
    let t = tickets::view::ticket(db, &light, number).await.expect("a light agent reads tickets").ticket;
    assert_eq!((t.status.as_str(), t.priority.as_str(), t.assignee_id), ("Open", "Low", None));

    app.create_profile("Contacts Desk", &["contacts.view"], &[]).await;
    let contacts_only = actor_with(&app, "Contacts Desk", "desk@example.com").await;
    assert_forbidden(tickets::view::ticket(db, &contacts_only, number).await, "View permission for Tickets");
    let listed = tickets::list::list(db, &contacts_only, tickets::list::View::All, "", None, None).await;
    assert_forbidden(listed, "View permission for Tickets");
}

#[tokio::test]
async fn a_light_agent_calling_the_article_services_directly_is_refused_and_nothing_is_written() {
    let app = admin_app().await;
    let db = &app.state.db;
    let admin = Actor::load(&db.conn, 1).await.expect("load").expect("the administrator");
    let form = |title: &str| ArticleForm { title: title.into(), body: "Body".into(), ..ArticleForm::default() };
    let id = articles::create(db, &admin, &form("Resetting a password")).await.expect("article");
    let category = CategoryForm { name: "Billing".into(), description: String::new() };
    let category_id = articles::create_category(db, &admin, &category).await.expect("category");
    let light = actor_with(&app, "Light Agent", "light@example.com").await;

    assert_forbidden(articles::create(db, &light, &form("Sneaky")).await, "Create permission for Articles");
    assert_forbidden(articles::update(db, &light, id, &form("Changed")).await, "Edit permission for Articles");
    assert_forbidden(articles::delete(db, &light, id).await, "Delete permission for Articles");
    let other = CategoryForm { name: "Other".into(), description: String::new() };
    assert_forbidden(articles::create_category(db, &light, &other).await, "Create permission for Articles");
    assert_forbidden(articles::update_category(db, &light, category_id, &other).await, "Edit permission for Articles");
    assert_forbidden(articles::delete_category(db, &light, category_id).await, "Delete permission for Articles");

    assert_eq!(app.count("articles").await, 1);
    assert_eq!(app.column("articles", "title", id).await.as_deref(), Some("Resetting a password"));
    assert_eq!(app.count("article_categories").await, 1);
    assert_eq!(app.column("article_categories", "name", category_id).await.as_deref(), Some("Billing"));
}

#[tokio::test]
async fn an_agent_calling_the_administrators_services_directly_is_refused_and_nothing_is_written() {
    let app = admin_app().await;
    let contact = app.add_contact(&[("last_name", "Gone")]).await;
    let page = app
        .submit(&format!("/agent/contacts/{contact}/delete"), &format!("/agent/contacts/{contact}/delete"), &[])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let entry: i64 = app.column("recycle_bin", "id", 1).await.expect("entry").parse().expect("id");
    let agent = actor_with(&app, "Agent", "agent@example.com").await;
    let (conn, db) = (&app.state.db.conn, &app.state.db);
    let admin_only = "Only administrators can do this.";

    let new = agents::NewAgent {
        name: "Mallory".into(),
        email: Email::parse("mallory@example.com").expect("email"),
        password: "a long password 1".into(),
        profile_id: profiles::built_in(conn, profiles::ADMINISTRATOR).await.expect("profile").id,
    };
    assert_forbidden(agents::create(conn, &agent, new).await, admin_only);
    assert_forbidden(agents::update(conn, &agent, 1, 1, false).await, admin_only);
    assert_forbidden(agents::set_password(conn, &agent, 1, "a long password 2".into()).await, admin_only);
    assert_forbidden(profiles::save(conn, &agent, None, "Everything", Permissions::agent()).await, admin_only);
    let look =
        branding::Branding { company_name: "Pwned".into(), brand_color: BrandColor::default(), signup_enabled: false };
    assert_forbidden(branding::save(conn, &agent, &look).await, admin_only);
    assert_forbidden(throttle::lift_agent_lock(db, &agent, 1).await, admin_only);
    assert_forbidden(recycle_bin::purge(db, &agent, entry).await, admin_only);

    assert_eq!(app.count("agents").await, 2);
    assert_eq!(app.count("agents WHERE active = true").await, 2);
    assert_eq!(app.count("profiles").await, 3);
    assert_eq!(branding::load(conn).await.expect("branding").company_name, "Help Center");
    assert_eq!(app.count("contacts").await, 1, "still in the Recycle Bin");
    assert_eq!(app.count("recycle_bin").await, 1);

    // Restoring needs the delete permission of the item's module, which a Light Agent lacks.
    let light = actor_with(&app, "Light Agent", "light@example.com").await;
    assert_forbidden(recycle_bin::restore(db, &light, entry).await, "Delete permission for Contacts");
    assert_eq!(app.count("contacts WHERE trashed = true").await, 1);
    assert_eq!(app.count("recycle_bin").await, 1);
}

#[tokio::test]
async fn a_light_agent_gets_403_for_every_change_to_an_account() {
    let app = admin_app().await;
    let id = app.add_account("Initech").await;
    let light = app.client_as("Light Agent", "light@example.com").await;
    let list = light.get("/agent/accounts").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(light.get("/agent/accounts/new").await.status, StatusCode::FORBIDDEN);
    assert_eq!(light.get(&format!("/agent/accounts/{id}/edit")).await.status, StatusCode::FORBIDDEN);
    assert_eq!(light.get(&format!("/agent/accounts/{id}/delete")).await.status, StatusCode::FORBIDDEN);
    let csrf = list.value_of("csrf_token").expect("token");
    let created = light.post_raw("/agent/accounts", &[("csrf_token", &csrf), ("name", "Initrode")]).await;
    assert_eq!(created.status, StatusCode::FORBIDDEN);
    assert!(created.text().contains("does not have the Create permission for Accounts"), "{}", created.text());
    let edited = light.post_raw(&format!("/agent/accounts/{id}"), &[("csrf_token", &csrf), ("name", "Renamed")]).await;
    assert_eq!(edited.status, StatusCode::FORBIDDEN);
    let deleted = light.post_raw(&format!("/agent/accounts/{id}/delete"), &[("csrf_token", &csrf)]).await;
    assert_eq!(deleted.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("accounts").await, 1);
    assert_eq!(app.column("accounts", "name", id).await.as_deref(), Some("Initech"));
    assert_eq!(app.count("accounts WHERE trashed = true").await, 0);
}

#[tokio::test]
async fn a_light_agent_gets_403_for_every_change_to_a_ticket() {
    let app = admin_app().await;
    let contact = app.add_contact(&[("last_name", "Gibbons")]).await;
    let new = tickets::NewTicket {
        contact_id: contact,
        subject: "TPS".into(),
        status: "Open",
        channel: "web",
        priority: "Low",
    };
    let number = tickets::create(&app.state.db, new).await.expect("ticket").number;
    let light = app.client_as("Light Agent", "light@example.com").await;
    let page = light.get(&format!("/agent/tickets/{number}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(light.get(&format!("/agent/tickets/new?contact_id={contact}")).await.status, StatusCode::FORBIDDEN);
    let csrf = page.value_of("csrf_token").expect("token");
    for (path, field, value) in [
        (format!("/agent/tickets/{number}/replies"), "reply", "Hello"),
        (format!("/agent/tickets/{number}/notes"), "note", "Psst"),
        (format!("/agent/tickets/{number}/properties"), "status", "closed"),
    ] {
        let refused = light.post_raw(&path, &[("csrf_token", &csrf), (field, value), ("priority", "high")]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
        assert!(refused.text().contains("does not have the Edit permission for Tickets"), "{}", refused.text());
    }
    let contact = contact.to_string();
    let fields = [("csrf_token", csrf.as_str()), ("contact_id", &contact), ("channel", "phone"), ("subject", "Sneaky")];
    assert_eq!(light.post_raw("/agent/tickets", &fields).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("tickets").await, 1);
    assert_eq!(app.count("messages").await, 0);
    assert_eq!(app.column("tickets", "status", 1).await.as_deref(), Some("Open"));
}

#[tokio::test]
async fn the_same_new_email_sent_by_many_forms_at_once_makes_one_contact_and_field_errors() {
    let app = admin_app().await;
    let form = app.get("/agent/contacts/new").await;
    let csrf = form.value_of("csrf_token").expect("token");
    let post = |n: usize| {
        let (app, csrf) = (&app, csrf.clone());
        async move {
            let last = format!("Racer {n}");
            let fields = [("csrf_token", csrf.as_str()), ("last_name", &last), ("email", "race@example.com")];
            app.post_raw("/agent/contacts", &fields).await
        }
    };
    let pages = futures_util::future::join_all((0..12).map(post)).await;
    let statuses: Vec<StatusCode> = pages.iter().map(|p| p.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::SEE_OTHER).count(), 1, "{statuses:?}");
    for page in pages.iter().filter(|p| p.status != StatusCode::SEE_OTHER) {
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.text());
        assert_eq!(page.field_error("email").as_deref(), Some("A contact with this email exists already."));
    }
    assert_eq!(app.count("contacts WHERE email = 'race@example.com'").await, 1);
    assert_eq!(app.count("contact_identities WHERE value = 'race@example.com'").await, 1);
}

#[tokio::test]
async fn a_name_or_address_taken_already_is_a_field_error_for_agents_profiles_categories_and_mailboxes() {
    let app = admin_app().await;
    app.add_agent("Bob", "bob@example.com", "agent password 1", "Agent").await;
    let page = app
        .submit(
            "/agent/settings/agents/new",
            "/agent/settings/agents",
            &[("name", "Bob again"), ("email", "BOB@example.com"), ("password", "agent password 2")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.text());
    assert_eq!(page.field_error("email").as_deref(), Some("An agent with this email exists already."));
    assert_eq!(app.count("agents").await, 2);

    app.create_profile("Support", &["contacts.view"], &[]).await;
    let page = app.submit("/agent/settings/profiles/new", "/agent/settings/profiles", &[("name", "Support")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.text());
    assert_eq!(page.field_error("name").as_deref(), Some("A profile with this name exists already."));
    assert_eq!(app.count("profiles").await, 4);

    for _ in 0..2 {
        app.submit("/agent/articles/categories", "/agent/articles/categories", &[("name", "Billing")]).await;
    }
    let page = app.submit("/agent/articles/categories", "/agent/articles/categories", &[("name", "billing")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.text());
    assert!(page.text().contains("A category with this name exists already."), "{}", page.text());
    assert_eq!(app.count("article_categories").await, 1);

    let mailbox = [
        ("address", "help@acme.example"),
        ("imap_host", "imap.acme.example"),
        ("imap_port", "993"),
        ("imap_security", "tls"),
        ("imap_user", "help"),
        ("imap_password", "hunter2"),
        ("folder", "INBOX"),
        ("poll_seconds", "60"),
        ("active", "on"),
        ("action", "save"),
    ];
    let new = "/agent/settings/channels/email/new";
    let first = app.submit(new, "/agent/settings/channels/email", &mailbox).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.text());
    let second = app.submit(new, "/agent/settings/channels/email", &mailbox).await;
    assert_eq!(second.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", second.text());
    assert_eq!(second.field_error("address").as_deref(), Some("This address is set up already."));
    assert_eq!(app.count("mailboxes").await, 1);
}
