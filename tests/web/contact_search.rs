//! Finding contacts by what agents remember: any fragment of three characters or more of a
//! name, any of the addresses, a number or the account, on both databases, sorted as the list
//! is, in the fields the agent's profile shows, and kept in step with every change.

use crate::helpers::{Page, TestApp};

async fn admin_app() -> TestApp {
    let app = crate::helpers::spawn_app().await;
    app.set_up_admin().await;
    app
}

fn names(page: Page) -> Vec<String> {
    page.texts("tbody td.name a")
}

async fn search(app: &TestApp, q: &str) -> Vec<String> {
    names(app.get(&format!("/agent/contacts?q={}", q.replace('@', "%40").replace(' ', "%20"))).await)
}

#[tokio::test]
async fn any_fragment_of_an_address_a_number_a_name_or_an_account_finds_the_contact() {
    let app = admin_app().await;
    app.add_account("Initech Holdings").await;
    app.add_contact(&[
        ("first_name", "Melissa"),
        ("last_name", "Ortiz"),
        ("email", "m.ortiz@findme.example.net"),
        ("secondary_emails", "melissa@oldjob.example"),
        ("phone", "+1 415 555 0134"),
        ("account", "Initech Holdings"),
    ])
    .await;
    app.add_contact(&[("first_name", "Peter"), ("last_name", "Gibbons"), ("email", "peter@example.org")]).await;
    for q in ["findme", "example.net", "ortiz@", "0134", "oldjob", "liss", "rtiz", "initech", "holdi", "mel ort"] {
        assert_eq!(search(&app, q).await, ["Melissa Ortiz"], "{q}");
    }
    // Two-letter words still find the start of a word, alone or beside a fragment.
    assert_eq!(search(&app, "gi").await, ["Peter Gibbons"]);
    assert_eq!(search(&app, "me or").await, ["Melissa Ortiz"]);
    assert_eq!(search(&app, "example.org findme").await, Vec::<String>::new(), "every word must match");
    // Nothing wild in a fragment: a LIKE wildcard is text.
    for q in ["ex%le", "o_tiz"] {
        assert_eq!(search(&app, q).await, Vec::<String>::new(), "{q}");
    }
}

#[tokio::test]
async fn matches_are_sorted_as_the_list_is_and_follow_every_change() {
    let app = admin_app().await;
    let account = app.add_account("Umbrella Corp").await;
    let zed = app.add_contact(&[("first_name", "Zed"), ("last_name", "Alpha"), ("email", "zed@umbrella.test")]).await;
    app.add_contact(&[("first_name", "Amy"), ("last_name", "Beta"), ("email", "amy@umbrella.test")]).await;
    app.add_contact(&[("first_name", "Bob"), ("last_name", "Alpha"), ("email", "bob@umbrella.test")]).await;
    assert_eq!(search(&app, "umbrella").await, ["Bob Alpha", "Zed Alpha", "Amy Beta"]);
    let by_created = names(app.get("/agent/contacts?q=umbrella&sort=created&dir=asc").await);
    assert_eq!(by_created, ["Zed Alpha", "Amy Beta", "Bob Alpha"]);

    // An edit: the old address is forgotten, the new one found.
    app.submit(
        &format!("/agent/contacts/{zed}/edit"),
        &format!("/agent/contacts/{zed}"),
        &[("email", "zed@wayne.test")],
    )
    .await;
    assert_eq!(search(&app, "umbrella").await, ["Bob Alpha", "Amy Beta"]);
    assert_eq!(search(&app, "wayne").await, ["Zed Alpha"]);
    // The account's new name is found once the account is renamed.
    app.submit(
        &format!("/agent/contacts/{zed}/edit"),
        &format!("/agent/contacts/{zed}"),
        &[("account", "Umbrella Corp")],
    )
    .await;
    app.submit(
        &format!("/agent/accounts/{account}/edit"),
        &format!("/agent/accounts/{account}"),
        &[("name", "Raccoon Industries")],
    )
    .await;
    assert_eq!(search(&app, "raccoon").await, ["Zed Alpha"]);
    assert_eq!(search(&app, "umbrella corp").await, Vec::<String>::new());
    // A contact in the Recycle Bin is not listed; purged, it leaves nothing behind.
    app.submit(&format!("/agent/contacts/{zed}/delete"), &format!("/agent/contacts/{zed}/delete"), &[]).await;
    assert_eq!(search(&app, "wayne").await, Vec::<String>::new());
    assert_eq!(app.count("contact_fragments").await, 3, "kept while it can be restored");
}

#[tokio::test]
async fn a_contact_created_from_a_first_mail_is_found_by_a_fragment() {
    let (app, _sink) = crate::mail::spawn_app_with_mail().await;
    app.set_up_admin().await;
    let raw =
        crate::inbound_mail::message("\"Rosa Diaz\" <rosa.diaz@nine-nine.example>", "Hi", Some("r@x"), "", "Hello\n");
    crate::inbound_mail::pipe(&app, &raw).await;
    assert_eq!(search(&app, "nine-nine").await, ["Rosa Diaz"]);
    assert_eq!(search(&app, "sa.di").await, ["Rosa Diaz"]);
}

#[tokio::test]
async fn the_index_merged_by_housekeeping_finds_what_it_found_before() {
    let app = admin_app().await;
    let ann = app.add_contact(&[("first_name", "Ann"), ("last_name", "Lee"), ("email", "ann@first.example")]).await;
    app.add_contact(&[("first_name", "Bob"), ("last_name", "Lee"), ("email", "bob@second.example")]).await;
    app.submit(
        &format!("/agent/contacts/{ann}/edit"),
        &format!("/agent/contacts/{ann}"),
        &[("email", "ann@third.example")],
    )
    .await;
    // On SQLite each write left a segment of the FTS5 index; housekeeping merges them into one.
    let sqlite = app.state.db.backend() == sea_orm::DbBackend::Sqlite;
    let segments = "(SELECT DISTINCT segid FROM contact_fragments_idx)";
    if sqlite {
        assert!(app.count(segments).await > 1);
    }
    for _ in 0..2 {
        frontdesk::startup::housekeeping_round(&app.state, chrono::Utc::now()).await;
        if sqlite {
            assert_eq!(app.count(segments).await, 1);
        }
        assert_eq!(search(&app, "lee").await, ["Ann Lee", "Bob Lee"]);
        assert_eq!(search(&app, "third").await, ["Ann Lee"]);
        assert_eq!(search(&app, "first").await, Vec::<String>::new(), "an edit's old address stays forgotten");
    }
}
