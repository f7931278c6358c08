//! Merging contacts (issue 23): three contacts with tickets, activities, time entries,
//! identities and a Help Center user merged into a master, then undone with everything back as
//! it was; mail to a merged contact's old address reaching the master; the old page leading to
//! the master; Find Duplicates; an undo after a purge or after an address went elsewhere. What
//! is refused is in `refused`.

use chrono::Utc;
use frontdesk::entities::contact_identity::{self, IdentityKind};
use frontdesk::entities::{activity, time_entry, whatsapp_opt_in};
use frontdesk::services::tickets;
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ActiveValue::Set};

use crate::help_center::{invite_and_join, CONTACT_PASSWORD};
use crate::helpers::TestApp;
use crate::inbound_mail::{message, pipe};
use crate::mail::{last_mail_to, spawn_app_with_mail};
use crate::smtp_sink::SmtpSink;

mod refused;

async fn console() -> (TestApp, SmtpSink) {
    let (app, sink) = spawn_app_with_mail().await;
    app.set_up_admin().await;
    (app, sink)
}

async fn ticket_for(app: &TestApp, contact_id: i64, subject: &str) -> i64 {
    let new =
        tickets::NewTicket { contact_id, subject: subject.into(), status: "Open", channel: "web", priority: "Medium" };
    tickets::create(&app.state.db, new).await.expect("ticket").id
}

async fn activity_and_time_for(app: &TestApp, contact_id: i64) {
    let now = Utc::now();
    activity::ActiveModel {
        contact_id: Set(contact_id),
        kind: Set("Call".into()),
        subject: Set("Called back".into()),
        done: Set(true),
        created_at: Set(now),
        trashed: Set(false),
        ..Default::default()
    }
    .insert(&app.state.db.conn)
    .await
    .expect("activity");
    time_entry::ActiveModel {
        contact_id: Set(contact_id),
        minutes: Set(15),
        created_at: Set(now),
        trashed: Set(false),
        ..Default::default()
    }
    .insert(&app.state.db.conn)
    .await
    .expect("time entry");
}

/// A WhatsApp account of contact `contact_id` with the customer's opt-in, as the channel
/// records them.
async fn whatsapp_for(app: &TestApp, contact_id: i64, number: &str) {
    let now = Utc::now();
    contact_identity::ActiveModel {
        contact_id: Set(contact_id),
        kind: Set(IdentityKind::WhatsApp),
        value: Set(number.into()),
        is_primary: Set(false),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&app.state.db.conn)
    .await
    .expect("identity");
    whatsapp_opt_in::ActiveModel {
        contact_id: Set(contact_id),
        customer: Set(number.into()),
        given_at: Set(now),
        how: Set("Asked on the phone".into()),
        ..Default::default()
    }
    .insert(&app.state.db.conn)
    .await
    .expect("opt-in");
}

fn merge_page(ids: &[i64]) -> String {
    let query: Vec<String> = ids.iter().map(|id| format!("ids={id}")).collect();
    format!("/agent/contacts/merge?{}", query.join("&"))
}

/// What a merge and its undo touch, one line a row, to compare before and after.
async fn snapshot(app: &TestApp, events_up_to: i64) -> Vec<Vec<String>> {
    let t = |column: &str| format!("COALESCE(CAST({column} AS TEXT), '-')");
    vec![
        app.texts(&format!(
            "SELECT {} || ' ' || {} || ' ' || last_name || ' ' || {} || ' ' || {} || ' ' || {} || ' ' || {} || ' ' || {} \
             || ' ' || {} || ' ' || help_center_status || ' ' || {} || ' ' || name_sort || ' ' || email_sort || ' ' \
             || account_sort || ' ' || {} AS v FROM contacts ORDER BY id",
            t("id"), t("first_name"), t("email"), t("phone"), t("mobile"), t("account_id"), t("owner_id"),
            t("title"), t("trashed"), t("password_hash"),
        ))
        .await,
        app.texts(&format!(
            "SELECT {} || ' ' || {} || ' ' || kind || ' ' || value || ' ' || {} AS v FROM contact_identities ORDER BY id",
            t("id"), t("contact_id"), t("is_primary")
        ))
        .await,
        app.texts(&format!("SELECT {} || ' ' || {} AS v FROM tickets ORDER BY id", t("id"), t("contact_id"))).await,
        app.texts(&format!("SELECT {} || ' ' || {} AS v FROM activities ORDER BY id", t("id"), t("contact_id"))).await,
        app.texts(&format!("SELECT {} || ' ' || {} AS v FROM time_entries ORDER BY id", t("id"), t("contact_id"))).await,
        app.texts(&format!("SELECT {} || ' ' || {} AS v FROM whatsapp_opt_ins ORDER BY id", t("id"), t("contact_id")))
            .await,
        app.texts(&format!(
            "SELECT {} || ' ' || {} AS v FROM events WHERE id <= {events_up_to} ORDER BY id",
            t("id"),
            t("contact_id")
        ))
        .await,
        app.texts(&format!(
            "SELECT term || ' ' || field || ' ' || {} AS v FROM contact_search_terms ORDER BY term, field, contact_id",
            t("contact_id")
        ))
        .await,
    ]
}

async fn last_event(app: &TestApp) -> i64 {
    app.texts("SELECT CAST(MAX(id) AS TEXT) AS v FROM events").await[0].parse().expect("an event id")
}

#[tokio::test]
async fn three_contacts_merge_into_the_master_with_everything_they_have_and_undo_puts_it_all_back() {
    let (app, sink) = console().await;
    app.add_account("Acme").await;
    let master = app
        .add_contact(&[
            ("first_name", "Melissa"),
            ("last_name", "Ortiz"),
            ("email", "melissa@example.com"),
            ("phone", "+1 415 555 2671"),
            ("title", "CTO"),
        ])
        .await;
    let mel = app
        .add_contact(&[
            ("first_name", "Mel"),
            ("last_name", "Ortiz"),
            ("email", "mel@home.example"),
            ("secondary_emails", "m.ortiz@work.example"),
            ("mobile", "+1 415 555 0134"),
            ("account", "Acme"),
        ])
        .await;
    let old =
        app.add_contact(&[("last_name", "Ortiz"), ("email", "ortiz@old.example"), ("phone", "+1 415 555 2671")]).await;
    let customer = invite_and_join(&app, &sink, old, "ortiz@old.example").await;
    ticket_for(&app, master, "Printer on fire").await;
    ticket_for(&app, mel, "Invoice missing").await;
    ticket_for(&app, mel, "Password reset").await;
    ticket_for(&app, old, "Old order").await;
    activity_and_time_for(&app, mel).await;
    whatsapp_for(&app, mel, "+14155550134").await;
    let events_before = last_event(&app).await;
    let before = snapshot(&app, events_before).await;

    // The contacts side by side, and what would move.
    let page = app.get(&merge_page(&[master, mel, old])).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(page.texts("button").contains(&"Merge".to_owned()));
    assert!(page.text().contains("Master record"));
    for label in ["First Name", "Last Name", "Email", "Phone", "Mobile", "Account Name", "Contact Owner", "Title"] {
        assert!(page.texts("th[scope=row]").iter().any(|t| t.starts_with(label)), "{label}: {}", page.text());
    }
    assert!(
        page.text()
            .contains("3 tickets, 1 activity, 1 time entry, 3 email addresses, 1 phone number, Help Center access"),
        "{}",
        page.text()
    );

    let merged = app
        .submit(
            &merge_page(&[master, mel, old]),
            "/agent/contacts/merge",
            &[
                ("master", &master.to_string()),
                ("keep_first_name", &mel.to_string()),
                ("keep_email", &mel.to_string()),
                ("keep_account", &mel.to_string()),
                ("keep_title", &master.to_string()),
            ],
        )
        .await;
    assert_eq!(merged.status, StatusCode::SEE_OTHER, "{}", merged.text());
    assert_eq!(merged.location.as_deref(), Some(format!("/agent/contacts/{master}").as_str()));

    // Every ticket, activity and time entry is the master's; the others are in the bin.
    assert_eq!(app.count(&format!("tickets WHERE contact_id = {master}")).await, 4);
    assert_eq!(app.count(&format!("activities WHERE contact_id = {master}")).await, 1);
    assert_eq!(app.count(&format!("time_entries WHERE contact_id = {master}")).await, 1);
    assert_eq!(app.count(&format!("whatsapp_opt_ins WHERE contact_id = {master}")).await, 1);
    assert_eq!(app.count("contacts WHERE trashed = true").await, 2);
    assert_eq!(app.count("recycle_bin").await, 2);
    // The chosen values, and every address and number, none dropped (the shared phone once).
    assert_eq!(app.column("contacts", "first_name", master).await.as_deref(), Some("Mel"));
    assert_eq!(app.column("contacts", "email", master).await.as_deref(), Some("mel@home.example"));
    assert_eq!(app.column("contacts", "title", master).await.as_deref(), Some("CTO"));
    assert_eq!(app.column("contacts", "help_center_status", master).await.as_deref(), Some("active"));
    let mut identities = app
        .texts(&format!(
            "SELECT kind || ':' || value || CASE WHEN is_primary THEN '*' ELSE '' END AS v \
             FROM contact_identities WHERE contact_id = {master}"
        ))
        .await;
    identities.sort();
    assert_eq!(
        identities,
        [
            "email:m.ortiz@work.example",
            "email:mel@home.example*",
            "email:melissa@example.com",
            "email:ortiz@old.example",
            "mobile:+14155550134",
            "phone:+14155552671",
            "whatsapp:+14155550134",
        ]
    );
    let shown = app.get(&format!("/agent/contacts/{master}")).await;
    assert!(shown.text().contains("Acme") && shown.text().contains("Secondary Email"), "{}", shown.text());
    assert!(shown.text().contains("merged contacts into this one"), "{}", shown.text());
    assert!(shown.texts("button").contains(&"Undo merge".to_owned()));
    // The search finds the master by a merged contact's address.
    assert!(app.get("/agent/contacts?q=ortiz%40old.example").await.text().contains("Mel Ortiz"));
    // The bin says where they went; its Restore is Undo merge's.
    let bin = app.get("/agent/recycle-bin").await;
    assert_eq!(bin.text().matches("Merged into").count(), 2, "{}", bin.text());
    assert!(!bin.texts("button").contains(&"Restore".to_owned()));
    // Their old pages lead to the master.
    for gone in [mel, old] {
        let page = app.get(&format!("/agent/contacts/{gone}")).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(page.location.as_deref(), Some(format!("/agent/contacts/{master}").as_str()));
    }
    // The Help Center user keeps its login, now the master's, and was told.
    let told = last_mail_to(&app, &sink, "ortiz@old.example", "Help Center account").await;
    assert!(told.body().contains("ortiz@old.example"), "{}", told.body());
    let again = customer
        .submit("/help/login", "/help/login", &[("email", "ortiz@old.example"), ("password", CONTACT_PASSWORD)])
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.text());
    assert!(customer.get("/help/tickets").await.text().contains("Invoice missing"));

    // Undo merge: everything back as it was, the bin empty.
    let undone =
        app.submit(&format!("/agent/contacts/{master}"), &format!("/agent/contacts/{master}/undo-merge"), &[]).await;
    assert_eq!(undone.status, StatusCode::SEE_OTHER, "{}", undone.text());
    assert_eq!(snapshot(&app, events_before).await, before);
    assert_eq!(app.count("recycle_bin").await, 0);
    assert_eq!(app.get(&format!("/agent/contacts/{mel}")).await.status, StatusCode::OK);
    let shown = app.get(&format!("/agent/contacts/{master}")).await;
    assert!(!shown.texts("button").contains(&"Undo merge".to_owned()));
    assert!(shown.text().contains("undid a merge"), "{}", shown.text());
    assert_eq!(app.count("contact_merges WHERE undone_at IS NOT NULL").await, 1);
    assert_eq!(app.count("contact_merge_rows").await, 0);
}

#[tokio::test]
async fn mail_to_a_merged_contacts_old_address_reaches_the_master() {
    let (app, _sink) = console().await;
    let master = app.add_contact(&[("last_name", "Ortiz"), ("email", "melissa@example.com")]).await;
    let other = app.add_contact(&[("last_name", "Ortiz"), ("email", "mel@home.example")]).await;
    let merged = app.submit(&merge_page(&[master, other]), "/agent/contacts/merge", &[]).await;
    assert_eq!(merged.status, StatusCode::SEE_OTHER, "{}", merged.text());

    let said = pipe(&app, &message("Mel <MEL@Home.Example>", "Still here", Some("m1@home.example"), "", "Hi.\n")).await;
    assert!(said.contains("opened ticket") && !said.contains("new contact"), "{said}");
    assert_eq!(app.count("contacts").await, 2);
    assert_eq!(app.count(&format!("tickets WHERE contact_id = {master}")).await, 1);
}

#[tokio::test]
async fn find_duplicates_lists_a_contact_sharing_a_phone_number_and_merges_it() {
    let (app, _sink) = console().await;
    let a = app.add_contact(&[("first_name", "Ann"), ("last_name", "Lee"), ("phone", "+1 415 555 2671")]).await;
    let b = app.add_contact(&[("first_name", "Annie"), ("last_name", "Li"), ("mobile", "(415) 555-2671")]).await;
    app.add_contact(&[("first_name", "Bob"), ("last_name", "Stranger"), ("phone", "+1 212 555 0100")]).await;
    let shown = app.get(&format!("/agent/contacts/{a}")).await;
    let link = app.link_to(&format!("/agent/contacts/{a}"), ".pane-top a.button", "Find Duplicates").await;
    assert!(shown.status.is_success());
    let page = app.get(&link).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("Annie Li") && page.text().contains("Same phone number"), "{}", page.text());
    assert!(!page.text().contains("Stranger"));
    // Tick and Merge: the merge page of both.
    let form = crate::helpers::form_values(&page.html, "/agent/contacts/merge");
    assert_eq!(form, [("ids".to_owned(), a.to_string())]);
    let merge = app.get(&merge_page(&[a, b])).await;
    assert!(merge.text().contains("Annie") && merge.text().contains("Ann"));
}

#[tokio::test]
async fn undo_merge_is_not_offered_once_a_merged_contact_was_purged() {
    let (app, _sink) = console().await;
    let a = app.add_contact(&[("last_name", "Ortiz"), ("email", "a@example.com")]).await;
    let b = app.add_contact(&[("last_name", "Ortiz"), ("email", "b@example.com")]).await;
    let merged = app.submit(&merge_page(&[a, b]), "/agent/contacts/merge", &[]).await;
    assert_eq!(merged.status, StatusCode::SEE_OTHER, "{}", merged.text());
    let entry: i64 = app.texts("SELECT CAST(id AS TEXT) AS v FROM recycle_bin").await[0].parse().expect("id");
    let restore = app.submit("/agent/recycle-bin", &format!("/agent/recycle-bin/{entry}/purge"), &[]).await;
    assert_eq!(restore.status, StatusCode::SEE_OTHER);
    let page = app.get(&format!("/agent/contacts/{a}")).await;
    assert!(!page.texts("button").contains(&"Undo merge".to_owned()));
    let csrf = page.value_of("csrf_token").expect("token");
    let refused = app.post_raw(&format!("/agent/contacts/{a}/undo-merge"), &[("csrf_token", &csrf)]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    // What moved stays with the master.
    assert_eq!(app.count(&format!("contact_identities WHERE contact_id = {a}")).await, 2);
    assert_eq!(app.get(&format!("/agent/contacts/{b}")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn undo_after_a_merged_address_went_to_another_contact_brings_the_contact_back_without_it() {
    let (app, _sink) = console().await;
    let a = app.add_contact(&[("last_name", "Ortiz"), ("email", "a@example.com")]).await;
    let b = app.add_contact(&[("last_name", "Ortiz"), ("email", "b@example.com")]).await;
    let merged = app.submit(&merge_page(&[a, b]), "/agent/contacts/merge", &[]).await;
    assert_eq!(merged.status, StatusCode::SEE_OTHER, "{}", merged.text());
    // The agent drops the merged address from the master, and another contact takes it.
    let edit = format!("/agent/contacts/{a}/edit");
    let saved = app.submit(&edit, &format!("/agent/contacts/{a}"), &[("secondary_emails", "")]).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let c = app.add_contact(&[("last_name", "Newcomer"), ("email", "b@example.com")]).await;

    let undone = app.submit(&format!("/agent/contacts/{a}"), &format!("/agent/contacts/{a}/undo-merge"), &[]).await;
    assert_eq!(undone.status, StatusCode::SEE_OTHER, "{}", undone.text());
    assert_eq!(app.column("contacts", "trashed", b).await.as_deref().map(|t| t == "0" || t == "false"), Some(true));
    assert_eq!(app.column("contacts", "email", b).await, None);
    assert_eq!(app.column("contacts", "email", a).await.as_deref(), Some("a@example.com"));
    assert_eq!(app.column("contacts", "email", c).await.as_deref(), Some("b@example.com"));
}
