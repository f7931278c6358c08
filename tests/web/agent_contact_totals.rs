//! Pages that list the first of a contact's or an account's records say how many there are in
//! all, and link to the whole list where there is one.

use frontdesk::services::{activities, tickets};

use crate::helpers::{spawn_app, Page, TestApp};

/// Copies the one row of `table` that belongs to contact `from` `n` times (quicker than
/// posting forms), with `changed` (a column and the SQL for its new value, `seq.n` counting
/// from 1) set on each copy.
async fn copy_rows(app: &TestApp, table: &str, columns: &str, changed: (&str, &str), from: i64, n: u32) {
    let (column, value) = changed;
    let source_columns = columns.split(", ").map(|c| format!("t.{c}")).collect::<Vec<_>>().join(", ");
    app.exec(&format!(
        "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {n}) \
         INSERT INTO {table} ({column}, {columns}) SELECT {value}, {source_columns} \
         FROM {table} t, seq WHERE t.contact_id = {from}"
    ))
    .await;
}

fn ticket_numbers(page: &Page) -> Vec<String> {
    page.texts("tbody tr td:first-child a")
}

fn next_link(page: &Page) -> Option<String> {
    let selector = scraper::Selector::parse("a[rel=next]").expect("selector");
    page.doc().select(&selector).next().and_then(|a| a.value().attr("href")).map(|h| h.replace("&amp;", "&"))
}

#[tokio::test]
async fn a_contact_with_more_tickets_than_its_page_lists_shows_the_true_totals_and_links_to_all() {
    let app = spawn_app().await;
    app.set_up_admin().await;
    app.add_account("Initech").await;
    let id = app.add_contact(&[("last_name", "Lumbergh"), ("account", "Initech")]).await;
    let other = app.add_contact(&[("last_name", "Gibbons"), ("account", "Initech")]).await;
    let db = &app.state.db;
    for contact_id in [id, other] {
        let new = tickets::NewTicket {
            contact_id,
            subject: "TPS reports".into(),
            status: "Open",
            channel: "email",
            priority: "Medium",
        };
        tickets::create(db, new).await.expect("ticket");
    }
    activities::log_activity(db, id, None, "call", "About the TPS reports").await.expect("activity");
    activities::log_time(db, id, None, None, 5, "Cover sheet").await.expect("time entry");
    // 301 tickets, 60 activities and 55 time entries: more than the page lists of each.
    let ticket_columns = "contact_id, account_id, subject, status, channel, priority, created_at, updated_at";
    copy_rows(&app, "tickets", ticket_columns, ("number", "100000 + seq.n"), id, 300).await;
    copy_rows(&app, "activities", "contact_id, kind, subject, created_at", ("done", "false"), id, 59).await;
    copy_rows(&app, "time_entries", "contact_id, minutes, created_at", ("note", "'More'"), id, 54).await;
    // One in the Recycle Bin does not count.
    app.exec(&format!("UPDATE tickets SET trashed = true WHERE number = 100300 AND contact_id = {id}")).await;

    let page = app.get(&format!("/agent/contacts/{id}")).await;
    assert_eq!(page.texts("h2#tickets"), ["Tickets (300)"]);
    assert_eq!(page.texts("h2#activities"), ["Activities (60)"]);
    assert_eq!(page.texts("h2#time"), ["Time Entries (55)"]);
    assert_eq!(page.doc().select(&scraper::Selector::parse("section table.list tbody tr").expect("s")).count(), 50);
    let all = format!("/agent/tickets?contact={id}");
    assert_eq!(page.texts(&format!("a[href=\"{all}\"]")), ["View all 300 tickets"]);

    let confirm = app.get(&format!("/agent/contacts/{id}/delete")).await;
    assert!(confirm.text().contains("its 300 tickets, 60 activities and 55 time entries"), "{}", confirm.text());

    // The link lists every one of the contact's live tickets, page by page, and no other's.
    let mut seen = Vec::new();
    let mut path = Some(all);
    while let Some(p) = path {
        let page = app.get(&p).await;
        assert_eq!(page.status, 200, "{p}");
        assert!(page.texts("tbody td a[href^=\"/agent/contacts/\"]").iter().all(|name| name == "Lumbergh"));
        seen.extend(ticket_numbers(&page));
        path = next_link(&page);
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (300, 300));
    assert!(!seen.contains(&"#100300".to_owned()), "the trashed ticket is not listed");
}

#[tokio::test]
async fn an_account_with_more_contacts_than_its_page_lists_shows_the_true_totals() {
    let app = spawn_app().await;
    app.set_up_admin().await;
    let account = app.add_account("Initech").await;
    let id = app.add_contact(&[("last_name", "Lumbergh"), ("account", "Initech")]).await;
    let new =
        tickets::NewTicket { contact_id: id, subject: "TPS".into(), status: "Open", channel: "email", priority: "Low" };
    tickets::create(&app.state.db, new).await.expect("ticket");
    let contact_columns =
        "last_name, account_id, owner_id, source, help_center_status, created_at, updated_at, name_sort, account_sort";
    copy_rows_of_contact(&app, contact_columns, id, 119).await;
    let ticket_columns = "contact_id, account_id, subject, status, channel, priority, created_at, updated_at";
    copy_rows(&app, "tickets", ticket_columns, ("number", "100000 + seq.n"), id, 149).await;

    let page = app.get(&format!("/agent/accounts/{account}")).await;
    assert_eq!(page.texts("h2#contacts"), ["Contacts (120)"]);
    assert_eq!(page.texts("h2#tickets"), ["Tickets (150)"]);
    let rows = scraper::Selector::parse("section[aria-labelledby=tickets] tbody tr").expect("selector");
    assert_eq!(page.doc().select(&rows).count(), 100, "the newest 100 are listed");
    let confirm = app.get(&format!("/agent/accounts/{account}/delete")).await;
    assert!(confirm.text().contains("Its 120 contacts are kept"), "{}", confirm.text());
}

/// Copies contact `from` `n` times, without its email (which is unique).
async fn copy_rows_of_contact(app: &TestApp, columns: &str, from: i64, n: u32) {
    app.exec(&format!(
        "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {n}) \
         INSERT INTO contacts ({columns}) SELECT {columns} FROM contacts, seq WHERE id = {from}"
    ))
    .await;
}
