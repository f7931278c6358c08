use frontdesk::services::{activities, tickets};

use crate::helpers::{spawn_app, TestApp};

async fn admin_app() -> TestApp {
    let app = spawn_app().await;
    app.set_up_admin().await;
    app
}

async fn arrange_related(app: &TestApp, contact_id: i64) {
    let db = &app.state.db;
    for (subject, status) in [("Printer on fire", "Open"), ("Refund please", "Closed")] {
        let new =
            tickets::NewTicket { contact_id, subject: subject.into(), status, channel: "email", priority: "Medium" };
        tickets::create(db, new).await.expect("ticket");
    }
    activities::log_activity(db, contact_id, None, "call", "Called about the printer").await.expect("activity");
    activities::log_time(db, contact_id, None, None, 25, "Diagnosis").await.expect("time entry");
}

#[tokio::test]
async fn the_journey_from_the_docs_add_edit_delete_restore() {
    let app = admin_app().await;
    // Customers → Contacts → Add contact.
    let home = app.get("/agent/contacts").await;
    assert_eq!(home.status, 200);
    assert!(home.has("nav a[href=\"/agent/contacts\"]"));
    assert_eq!(home.texts("h1"), ["Contacts"]);
    assert!(home.has("a[aria-label=\"Add contact\"][href=\"/agent/contacts/new\"]"));
    assert!(home.texts("details.dropdown a").contains(&"Send WhatsApp Message".to_owned()));
    let form = app.get("/agent/contacts/new").await;
    for label in
        ["First Name", "Last Name", "Email", "Phone", "Mobile", "Account Name", "Contact Owner", "Title", "Description"]
    {
        assert!(form.texts("label").iter().any(|l| l.trim_end_matches(" *") == label), "no label {label}");
    }
    assert!(form.texts("button[type=submit]").contains(&"Submit".to_owned()));

    let id = app
        .add_contact(&[
            ("first_name", "Melissa"),
            ("last_name", "Ortiz"),
            ("email", "Melissa@Example.com"),
            ("phone", "(415) 555-2671"),
        ])
        .await;
    let home = app.get("/agent/contacts").await;
    assert!(home.texts("tbody td a").contains(&"Melissa Ortiz".to_owned()));
    assert!(home.text().contains("melissa@example.com"));
    assert!(home.has("a.row-edit[aria-label=\"Edit Melissa Ortiz\"]"));

    // Open it → More Actions → Edit → Save.
    let detail = app.get(&format!("/agent/contacts/{id}")).await;
    assert_eq!(detail.texts("details.dropdown summary"), ["More Actions"]);
    assert_eq!(detail.texts("details.dropdown a"), ["Edit", "Delete", "Send message via WhatsApp"]);
    assert!(detail.text().contains("+14155552671"));
    let edit_path = format!("/agent/contacts/{id}/edit");
    assert!(app.get(&edit_path).await.texts("button[type=submit]").contains(&"Save".to_owned()));
    let saved = app.submit(&edit_path, &format!("/agent/contacts/{id}"), &[("title", "Head of IT")]).await;
    assert_eq!(saved.status, 303);
    let detail = app.get(&format!("/agent/contacts/{id}")).await;
    assert!(detail.text().contains("Head of IT"));
    assert!(detail.text().contains("changed Title from “” to “Head of IT”"), "history: {}", detail.text());

    // Delete it → confirm → it and its tickets, activities and time entries are in the bin.
    arrange_related(&app, id).await;
    let confirm = app.get(&format!("/agent/contacts/{id}/delete")).await;
    assert_eq!(confirm.texts("main form button[type=submit]"), ["Delete"]);
    let deleted =
        app.submit(&format!("/agent/contacts/{id}/delete"), &format!("/agent/contacts/{id}/delete"), &[]).await;
    assert_eq!(deleted.status, 303);
    assert_eq!(app.get(&format!("/agent/contacts/{id}")).await.status, 404);
    assert!(!app.get("/agent/contacts").await.text().contains("Melissa Ortiz"));
    assert_eq!(app.count("tickets WHERE trashed = false").await, 0);
    assert_eq!(app.count("activities WHERE trashed = false").await, 0);
    assert_eq!(app.count("time_entries WHERE trashed = false").await, 0);
    let bin = app.get("/agent/recycle-bin").await;
    let row = bin.texts("tbody tr").join(" ");
    assert!(row.contains("Melissa Ortiz") && row.contains("Contact") && row.contains("Ada Admin"), "{row}");
    assert!(row.contains("2 tickets, 1 activity, 1 time entry"), "{row}");

    // Restore → all back.
    let restore_action = bin
        .doc()
        .select(&scraper::Selector::parse("form[action$=\"/restore\"]").expect("sel"))
        .next()
        .and_then(|f| f.value().attr("action"))
        .expect("restore form")
        .to_owned();
    let restored = app.submit("/agent/recycle-bin", &restore_action, &[]).await;
    assert_eq!(restored.status, 303);
    assert_eq!(restored.location.as_deref(), Some(format!("/agent/contacts/{id}").as_str()));
    let detail = app.get(&format!("/agent/contacts/{id}")).await;
    assert_eq!(detail.status, 200);
    assert!(detail.text().contains("Printer on fire") && detail.text().contains("Refund please"));
    assert!(detail.text().contains("Called about the printer") && detail.text().contains("25 min"));
    assert_eq!(app.count("tickets WHERE trashed = false").await, 2);
    assert_eq!(app.count("recycle_bin").await, 0);
    assert!(app.get("/agent/contacts").await.text().contains("Melissa Ortiz"));
}

#[tokio::test]
async fn the_contact_owner_is_the_adding_agent_unless_changed() {
    let app = admin_app().await;
    app.add_agent("Bob Agent", "bob@example.com", "bob password 1", "Agent").await;
    let mine = app.add_contact(&[("last_name", "Mine")]).await;
    let form = app.get("/agent/contacts/new").await;
    let bob_id = form
        .doc()
        .select(&scraper::Selector::parse("select[name=owner] option").expect("sel"))
        .find(|o| o.text().collect::<String>() == "Bob Agent")
        .and_then(|o| o.value().attr("value"))
        .expect("Bob is offered as owner")
        .to_owned();
    let bobs = app.add_contact(&[("last_name", "Bobs"), ("owner", &bob_id)]).await;
    assert!(app.get(&format!("/agent/contacts/{mine}")).await.text().contains("Contact Owner Ada Admin"));
    assert!(app.get(&format!("/agent/contacts/{bobs}")).await.text().contains("Contact Owner Bob Agent"));
    let my_view = app.get("/agent/contacts?view=mine").await.text();
    assert!(my_view.contains("Mine") && !my_view.contains("Bobs"));
}

#[tokio::test]
async fn bad_input_is_shown_again_with_messages_and_nothing_is_stored() {
    let app = admin_app().await;
    app.add_contact(&[("last_name", "Existing"), ("email", "taken@example.com")]).await;
    let before = app.count("contacts").await;
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[("first_name", "No"), ("last_name", "  "), ("email", "ok@example.com")], "last_name"),
        (&[("last_name", "Bad"), ("email", "not an email")], "email"),
        (&[("last_name", "Dup"), ("email", "TAKEN@example.COM")], "email"),
        (&[("last_name", "Phone"), ("phone", "call me maybe")], "phone"),
    ];
    for (fields, field) in cases {
        let page = app.submit("/agent/contacts/new", "/agent/contacts", fields).await;
        assert_eq!(page.status, 422, "{fields:?}");
        assert!(page.field_error(field).is_some(), "no message next to {field}: {}", page.text());
        for (name, value) in fields {
            assert_eq!(page.value_of(name).as_deref(), Some(*value), "{name} not kept");
        }
    }
    let dup = app
        .submit("/agent/contacts/new", "/agent/contacts", &[("last_name", "Dup"), ("email", "Taken@Example.com")])
        .await;
    assert!(dup.has("a[href^=\"/agent/contacts/\"]"), "the duplicate message links to the existing contact");
    assert_eq!(app.count("contacts").await, before);

    let id = app.add_contact(&[("last_name", "Edited"), ("email", "edited@example.com")]).await;
    let page = app
        .submit(
            &format!("/agent/contacts/{id}/edit"),
            &format!("/agent/contacts/{id}"),
            &[("email", "taken@EXAMPLE.com")],
        )
        .await;
    assert_eq!(page.status, 422);
    assert_eq!(app.column("contacts", "email", id).await.as_deref(), Some("edited@example.com"));
}

#[tokio::test]
async fn a_help_center_user_cannot_be_deleted() {
    let app = admin_app().await;
    let id = app.add_contact(&[("last_name", "Portal"), ("email", "portal@example.com")]).await;
    app.exec(&format!("UPDATE contacts SET help_center_status = 'active' WHERE id = {id}")).await;
    let confirm = app.get(&format!("/agent/contacts/{id}/delete")).await;
    assert!(confirm.text().contains("Remove Help Center access"));
    assert!(!confirm.has("form button.danger"));
    let csrf = app.get("/agent/contacts").await.value_of("csrf_token").expect("token");
    let refused = app.post_raw(&format!("/agent/contacts/{id}/delete"), &[("csrf_token", &csrf)]).await;
    assert_eq!(refused.status, 409);
    assert!(refused.text().contains("Help Center user"));
    assert_eq!(app.count("contacts WHERE trashed = false").await, 1);
    assert_eq!(app.count("recycle_bin").await, 0);
}

#[tokio::test]
async fn html_in_names_is_escaped_and_sql_looking_search_is_just_text() {
    let app = admin_app().await;
    app.add_contact(&[("first_name", "<script>alert(1)</script>"), ("last_name", "O'Brien\"><b>x</b>")]).await;
    let home = app.get("/agent/contacts").await;
    assert!(!home.html.contains("<script>alert(1)</script>"));
    assert!(!home.html.contains("<b>x</b>"));
    assert!(home.text().contains("<script>alert(1)</script>"), "shown as text");
    for q in ["'; DROP TABLE contacts; --", "\" OR 1=1 --", "zz%", "zz_q"] {
        let page = app.get(&format!("/agent/contacts?q={}", urlencode(q))).await;
        assert_eq!(page.status, 200, "{q}");
        assert!(page.text().contains("No contacts match"), "{q}");
    }
    assert_eq!(app.count("contacts").await, 1);
    let found = app.get(&format!("/agent/contacts?q={}", urlencode("o'brien"))).await;
    assert!(found.text().contains("O'Brien"));
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)]).expect("encode").trim_start_matches('=').to_owned()
}

#[tokio::test]
async fn search_matches_name_email_phone_and_account() {
    let app = admin_app().await;
    app.add_account("Globex Corporation").await;
    app.add_contact(&[("first_name", "Hank"), ("last_name", "Scorpio"), ("account", "globex corporation")]).await;
    app.add_contact(&[
        ("first_name", "Homer"),
        ("last_name", "Simpson"),
        ("email", "homer@springfield.example"),
        ("mobile", "+1 (415) 555-0100"),
    ])
    .await;
    let names = |page: crate::helpers::Page| page.texts("tbody td.name a");
    assert_eq!(names(app.get("/agent/contacts?q=hom").await), ["Homer Simpson"]);
    assert_eq!(names(app.get("/agent/contacts?q=homer%20sim").await), ["Homer Simpson"]);
    assert_eq!(names(app.get("/agent/contacts?q=springfield").await), ["Homer Simpson"], "the domain alone");
    assert_eq!(names(app.get("/agent/contacts?q=homer%40spring").await), ["Homer Simpson"]);
    assert_eq!(names(app.get("/agent/contacts?q=415%20555%2001").await), ["Homer Simpson"]);
    assert_eq!(names(app.get("/agent/contacts?q=globex").await), ["Hank Scorpio"]);
    assert_eq!(names(app.get("/agent/contacts?q=SCOR").await), ["Hank Scorpio"]);
}

#[tokio::test]
async fn pages_follow_each_other_without_gaps_or_repeats_in_every_sort() {
    let app = admin_app().await;
    for i in 0..57 {
        app.add_contact(&[("last_name", &format!("Person{:02}", 56 - i)), ("email", &format!("p{i:02}@example.com"))])
            .await;
    }
    for (sort, dir) in [("name", "asc"), ("email", "desc"), ("created", "desc"), ("owner", "asc")] {
        let mut seen: Vec<String> = Vec::new();
        let mut path = format!("/agent/contacts?sort={sort}&dir={dir}");
        let mut pages = Vec::new();
        loop {
            let page = app.get(&path).await;
            assert_eq!(page.status, 200);
            seen.extend(page.texts("tbody td.name a"));
            pages.push(path.clone());
            match page.doc().select(&scraper::Selector::parse("a[rel=next]").expect("sel")).next() {
                Some(a) => path = a.value().attr("href").expect("href").replace("&amp;", "&"),
                None => break,
            }
        }
        assert_eq!(pages.len(), 3, "{sort}");
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 57, "{sort}: every contact exactly once");
        assert_eq!(seen.len(), 57, "{sort}");
        if sort == "name" {
            assert_eq!(seen.first().map(String::as_str), Some("Person00"));
            assert_eq!(seen.last().map(String::as_str), Some("Person56"));
        }
        // Previous from the last page gives the middle page again.
        let last = app.get(pages.last().expect("a page")).await;
        let prev = last
            .doc()
            .select(&scraper::Selector::parse("a[rel=prev]").expect("sel"))
            .next()
            .and_then(|a| a.value().attr("href"))
            .expect("previous link")
            .to_owned();
        let middle = app.get(&pages[1]).await.texts("tbody td.name a");
        assert_eq!(app.get(&prev).await.texts("tbody td.name a"), middle, "{sort}");
    }
}

#[tokio::test]
async fn a_cursor_to_a_contact_that_no_longer_exists_starts_from_the_first_page() {
    let app = admin_app().await;
    for i in 0..30 {
        app.add_contact(&[("last_name", &format!("Person{i:02}"))]).await;
    }
    let first = app.get("/agent/contacts?sort=name&dir=asc").await.texts("tbody td.name a");
    for cursor in ["after=999999", "before=999999"] {
        let page = app.get(&format!("/agent/contacts?sort=name&dir=asc&{cursor}")).await;
        assert_eq!(page.status, 200);
        assert_eq!(page.texts("tbody td.name a"), first, "{cursor}");
        assert!(page.doc().select(&scraper::Selector::parse("a[rel=prev]").expect("sel")).next().is_none());
    }
}

#[tokio::test]
async fn a_search_reads_a_bounded_number_of_matches_per_word() {
    use frontdesk::services::contacts::{self, ListQuery};
    use frontdesk::services::Actor;
    let app = admin_app().await;
    for (first, last) in [("Ann", "Lee"), ("Ann", "Long"), ("Anna", "Lim"), ("Bob", "Lee"), ("Ann", "Moss")] {
        app.add_contact(&[("first_name", first), ("last_name", last)]).await;
    }
    let search = |q: &str| ListQuery { search: q.into(), search_cap: 2, ..ListQuery::default() };
    let names = |list: contacts::ContactList| list.rows.iter().map(|r| r.name()).collect::<Vec<_>>();
    let now = chrono::Utc::now();
    let conn = &app.state.db.conn;
    let admin = &Actor::load(conn, 1).await.expect("load").expect("the administrator");
    // "ann" matches 4 contacts and "l" 4 (more than the cap of 2 each): too broad to list.
    let broad = contacts::list(conn, admin, &search("ann l"), now).await.expect("list");
    assert!(broad.too_broad && broad.rows.is_empty());
    // One word alone: "ann" matches more contacts than the cap, "lee" does not.
    assert!(contacts::list(conn, admin, &search("ann"), now).await.expect("list").too_broad);
    // Too broad whatever the view keeps of it (none of them is a Help Center user).
    let in_view = ListQuery { view: contacts::View::HelpCenter, ..search("ann") };
    assert!(contacts::list(conn, admin, &in_view, now).await.expect("list").too_broad);
    assert_eq!(names(contacts::list(conn, admin, &search("lee"), now).await.expect("list")), ["Ann Lee", "Bob Lee"]);
    // "lee" matches 2: it drives, and the broad "ann" is checked against those two only.
    assert_eq!(names(contacts::list(conn, admin, &search("ann lee"), now).await.expect("list")), ["Ann Lee"]);
    assert_eq!(names(contacts::list(conn, admin, &search("lim anna"), now).await.expect("list")), ["Anna Lim"]);
    let page = app.get("/agent/contacts?q=a").await;
    assert_eq!(page.status, 200);
}

#[tokio::test]
async fn a_number_in_a_range_not_known_to_be_in_use_is_saved_with_a_note_and_text_is_refused() {
    let app = admin_app().await;
    // The UK keeps 07700 900xxx for drama: possible, but in no range known to be in use.
    let id = app.add_contact(&[("last_name", "Drama"), ("phone", "+44 7700 900123")]).await;
    assert_eq!(app.column("contacts", "phone", id).await.as_deref(), Some("+447700900123"));
    let notes = app.get(&format!("/agent/contacts/{id}")).await.texts("dd [role=note]");
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].starts_with("This number is not in a range known to be in use in United Kingdom"), "{notes:?}");
    let known = app.add_contact(&[("last_name", "Known"), ("mobile", "+44 7400 123456")]).await;
    assert!(app.get(&format!("/agent/contacts/{known}")).await.texts("[role=note]").is_empty());

    let account = app.add_account("Drama Ltd").await;
    let saved = app
        .submit(
            &format!("/agent/accounts/{account}/edit"),
            &format!("/agent/accounts/{account}"),
            &[("phone", "+44 7700 900 123")],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.text());
    assert_eq!(app.column("accounts", "phone", account).await.as_deref(), Some("+447700900123"));
    assert_eq!(app.get(&format!("/agent/accounts/{account}")).await.texts("dd [role=note]").len(), 1);

    let before = app.count("contacts").await;
    let refused =
        app.submit("/agent/contacts/new", "/agent/contacts", &[("last_name", "Hello"), ("phone", "hello")]).await;
    assert_eq!(refused.status, 422);
    assert_eq!(refused.field_error("phone").as_deref(), Some("Enter a valid phone number."));
    assert_eq!(app.count("contacts").await, before);
}
