//! A contact's identities: secondary addresses added on the form, mail from any of them
//! reaching the contact, one address to one contact, making a secondary address primary (the
//! Help Center login follows it), the history of each change, a hidden Email hiding every
//! address, and existing contacts' addresses and numbers becoming identities on upgrade.

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, Statement};

use crate::helpers::{fresh_database, TestApp};
use crate::inbound_mail::{message, pipe};
use crate::mail::{last_mail_to, spawn_app_with_mail};

async fn console() -> (TestApp, crate::smtp_sink::SmtpSink) {
    let (app, sink) = spawn_app_with_mail().await;
    app.set_up_admin().await;
    (app, sink)
}

/// The identities of contact `id` as `kind:value[*]` (`*` marks the primary), in id order.
async fn identities(app: &TestApp, id: i64) -> Vec<String> {
    let db = &app.state.db.conn;
    let rows = db
        .query_all(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT kind, value, is_primary FROM contact_identities WHERE contact_id = {id} ORDER BY id"),
        ))
        .await
        .expect("identities");
    rows.iter()
        .map(|r| {
            let kind: String = r.try_get("", "kind").expect("kind");
            let value: String = r.try_get("", "value").expect("value");
            let primary: bool = r.try_get("", "is_primary").expect("is_primary");
            format!("{kind}:{value}{}", if primary { "*" } else { "" })
        })
        .collect()
}

#[tokio::test]
async fn secondary_addresses_are_added_on_the_form_and_mail_from_any_reaches_the_contact() {
    let (app, _sink) = console().await;
    let id = app
        .add_contact(&[
            ("first_name", "Melissa"),
            ("last_name", "Ortiz"),
            ("email", "melissa@example.com"),
            ("secondary_emails", "M.Ortiz@Work.Example\nmel@home.example"),
            ("phone", "+1 415 555 2671"),
        ])
        .await;
    assert_eq!(
        identities(&app, id).await,
        ["email:melissa@example.com*", "email:m.ortiz@work.example", "email:mel@home.example", "phone:+14155552671"]
    );
    let page = app.get(&format!("/agent/contacts/{id}")).await;
    assert!(page.text().contains("Secondary Email"), "{}", page.text());
    assert!(page.text().contains("m.ortiz@work.example") && page.text().contains("mel@home.example"));

    // Mail from a secondary address, in any case, is the same contact's.
    let said = pipe(&app, &message("M.ORTIZ@work.example", "From work", Some("w1@x"), "", "Hi.\n")).await;
    assert!(said.contains("opened ticket") && !said.contains("new contact"), "{said}");
    assert_eq!(app.count("contacts").await, 1);
    assert_eq!(app.count(&format!("tickets WHERE contact_id = {id}")).await, 1);
    // And the contact is found by it.
    let found = app.get("/agent/contacts?q=mel%40home.example").await;
    assert!(found.text().contains("Ortiz"), "{}", found.text());

    // The edit form shows them, one a line; removing one and adding another is recorded.
    let edit = app.get(&format!("/agent/contacts/{id}/edit")).await;
    assert_eq!(edit.value_of("secondary_emails").as_deref(), Some("m.ortiz@work.example\nmel@home.example"));
    let saved = app
        .submit(
            &format!("/agent/contacts/{id}/edit"),
            &format!("/agent/contacts/{id}"),
            &[("secondary_emails", "mel@home.example\nortiz@new.example")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    assert_eq!(
        identities(&app, id).await,
        ["email:melissa@example.com*", "email:mel@home.example", "phone:+14155552671", "email:ortiz@new.example"]
    );
    // The removed address is still named, in the history.
    let page = app.get(&format!("/agent/contacts/{id}")).await.text();
    assert!(page.contains("m.ortiz@work.example") && page.contains("Secondary Email"), "{page}");
    // Mail from the removed address makes a contact of its own.
    let said = pipe(&app, &message("m.ortiz@work.example", "Again", Some("w2@x"), "", "Hi.\n")).await;
    assert!(said.contains("new contact"), "{said}");
}

#[tokio::test]
async fn an_address_belongs_to_one_contact_whichever_field_it_is_in() {
    let (app, _sink) = console().await;
    let first = app
        .add_contact(&[("last_name", "First"), ("email", "one@example.com"), ("secondary_emails", "two@example.com")])
        .await;
    for (field, value) in [("email", "TWO@example.com"), ("secondary_emails", "x@example.com\none@example.com")] {
        let fields = [("last_name", "Second"), ("email", "fresh@example.com"), (field, value)];
        let page = app.submit("/agent/contacts/new", "/agent/contacts", &fields).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {}", page.text());
        assert!(page.field_error(field).is_some(), "{field}: {}", page.text());
        assert_eq!(page.value_of(field).as_deref(), Some(value), "the input is kept");
    }
    assert_eq!(app.count("contacts").await, 1);
    assert_eq!(app.count("contact_identities").await, 2);
    // Nor can an edit take another contact's address.
    let second = app.add_contact(&[("last_name", "Second"), ("email", "three@example.com")]).await;
    let page = app
        .submit(
            &format!("/agent/contacts/{second}/edit"),
            &format!("/agent/contacts/{second}"),
            &[("secondary_emails", "two@example.com")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(identities(&app, first).await, ["email:one@example.com*", "email:two@example.com"]);
    assert_eq!(identities(&app, second).await, ["email:three@example.com*"]);
}

#[tokio::test]
async fn a_sign_up_with_a_secondary_address_finds_the_contact_and_making_it_primary_moves_the_login() {
    let (app, sink) = console().await;
    let id = app
        .add_contact(&[("last_name", "Ortiz"), ("email", "old@example.com"), ("secondary_emails", "new@example.com")])
        .await;
    let visitor = app.new_client();
    let password = "a long enough secret";
    let fields = [
        ("first_name", "Mel"),
        ("last_name", "Ortiz"),
        ("email", "new@example.com"),
        ("password", password),
        ("confirm_password", password),
    ];
    assert_eq!(visitor.submit("/help/signup", "/help/signup", &fields).await.status, StatusCode::OK);
    let link = last_mail_to(&app, &sink, "new@example.com", "Confirm your email").await.link("/help/activate/");
    let page = visitor.submit(&link, &link, &[("password", password)]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    assert_eq!(app.count("contacts").await, 1, "no second contact");
    assert_eq!(app.column("contacts", "help_center_status", id).await.as_deref(), Some("active"));

    // The agent makes the secondary address the primary one.
    let page = app.get(&format!("/agent/contacts/{id}")).await;
    let action = format!("/agent/contacts/{id}/emails/");
    let form = page.doc();
    let selector = scraper::Selector::parse(&format!("form[action^=\"{action}\"]")).expect("selector");
    let target = form.select(&selector).next().expect("a Make primary form").value().attr("action").expect("action");
    let made = app.submit(&format!("/agent/contacts/{id}"), target, &[]).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.text());
    assert_eq!(app.column("contacts", "email", id).await.as_deref(), Some("new@example.com"));
    assert_eq!(identities(&app, id).await, ["email:old@example.com", "email:new@example.com*"]);
    let shown = app.get(&format!("/agent/contacts/{id}")).await.text();
    assert!(shown.contains("new@example.com is now the primary email"), "{shown}");

    // The Help Center login follows: the sessions begun before end, the new primary logs in.
    assert_ne!(visitor.get("/help/tickets").await.status, StatusCode::OK, "the old session ended");
    let fresh = app.new_client();
    let login =
        fresh.submit("/help/login", "/help/login", &[("email", "new@example.com"), ("password", password)]).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.text());
}

#[tokio::test]
async fn a_hidden_email_hides_every_address_and_a_read_only_one_cannot_be_made_primary() {
    let (app, _sink) = console().await;
    let id = app
        .add_contact(&[
            ("last_name", "Keeper"),
            ("email", "keeper@example.com"),
            ("secondary_emails", "vault@example.com"),
        ])
        .await;
    // A change of the secondary addresses is in the history, which the hidden profile reads too.
    app.submit(
        &format!("/agent/contacts/{id}/edit"),
        &format!("/agent/contacts/{id}"),
        &[("secondary_emails", "vault@example.com\nsafe@example.com")],
    )
    .await;
    app.create_profile("No Email", &["contacts.view", "contacts.edit"], &[("contact.email", "hidden")]).await;
    let agent = app.client_as("No Email", "noemail@example.com").await;
    for path in [format!("/agent/contacts/{id}"), format!("/agent/contacts/{id}/edit")] {
        let page = agent.get(&path).await;
        assert_eq!(page.status, StatusCode::OK);
        for address in ["vault@example.com", "safe@example.com"] {
            assert!(!page.html.contains(address), "{path} shows {address}");
        }
    }
    let found = agent.get("/agent/contacts?q=vault%40example").await;
    assert!(!found.text().contains("Keeper"), "a hidden field is not searched");
    // A crafted post changes nothing.
    let saved = agent
        .submit(
            &format!("/agent/contacts/{id}/edit"),
            &format!("/agent/contacts/{id}"),
            &[("secondary_emails", "stolen@evil.example"), ("title", "CTO")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(
        identities(&app, id).await,
        ["email:keeper@example.com*", "email:vault@example.com", "email:safe@example.com"]
    );
    // Neither may it make an address primary, even knowing the form's address.
    let identity: i64 = {
        let db = &app.state.db.conn;
        let row = db
            .query_one(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT id FROM contact_identities WHERE value = 'vault@example.com' AND contact_id = {id}"),
            ))
            .await
            .expect("q")
            .expect("row");
        row.try_get("", "id").expect("id")
    };
    let token = agent.get(&format!("/agent/contacts/{id}/edit")).await.value_of("csrf_token").expect("a token");
    let refused =
        agent.post_raw(&format!("/agent/contacts/{id}/emails/{identity}/primary"), &[("csrf_token", &token)]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(app.column("contacts", "email", id).await.as_deref(), Some("keeper@example.com"));
}

#[tokio::test]
async fn existing_addresses_and_numbers_become_identities_on_upgrade() {
    let (url, file) = fresh_database().await;
    let url = if url.starts_with("sqlite") { format!("{url}?mode=rwc") } else { url };
    let db = Database::connect(&url).await.expect("connect");
    use migration::MigratorTrait;
    let before = migration::Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m0026_contact_identities")
        .expect("the identities migration");
    migration::Migrator::up(&db, Some(u32::try_from(before).expect("count"))).await.expect("older migrations");
    let backend = db.get_database_backend();
    for (id, email, phone, mobile) in [
        (1, "'a@example.com'", "'+14155552671'", "NULL"),
        (2, "NULL", "NULL", "'+447700900123'"),
        (3, "'c@example.com'", "'+14155552671'", "'+14155550000'"),
        (4, "NULL", "NULL", "NULL"),
    ] {
        db.execute(Statement::from_string(
            backend,
            format!(
                "INSERT INTO contacts (id, last_name, email, phone, mobile, source, created_at, updated_at) \
                 VALUES ({id}, 'L{id}', {email}, {phone}, {mobile}, 'agent', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
        ))
        .await
        .expect("an old contact");
    }
    migration::Migrator::up(&db, None).await.expect("the identities migration");
    let rows = db
        .query_all(Statement::from_string(
            backend,
            "SELECT contact_id, kind, value, is_primary FROM contact_identities ORDER BY contact_id, kind".to_owned(),
        ))
        .await
        .expect("identities");
    let got: Vec<String> = rows
        .iter()
        .map(|r| {
            let id: i64 = r.try_get("", "contact_id").expect("id");
            let kind: String = r.try_get("", "kind").expect("kind");
            let value: String = r.try_get("", "value").expect("value");
            let primary: bool = r.try_get("", "is_primary").expect("primary");
            format!("{id} {kind} {value}{}", if primary { " primary" } else { "" })
        })
        .collect();
    assert_eq!(
        got,
        [
            "1 email a@example.com primary",
            "1 phone +14155552671",
            "2 mobile +447700900123",
            "3 email c@example.com primary",
            "3 mobile +14155550000",
            "3 phone +14155552671",
        ]
    );
    db.close().await.ok();
    if let Some(file) = file {
        std::fs::remove_file(file).ok();
    }
}
