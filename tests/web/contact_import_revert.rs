//! Import Contacts, after the import: Revert, and an import that resumes after its instance
//! was killed.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;

use crate::contact_import::{counts, finished, run, submit, uploaded};
use crate::helpers::{spawn_app, spawn_app_with, TestApp};

#[tokio::test]
async fn revert_bins_what_the_import_added_and_puts_back_what_it_changed_unless_edited_since() {
    let app = spawn_app().await;
    app.set_up_admin().await;
    let one = app.add_contact(&[("last_name", "One"), ("email", "one@example.com"), ("title", "Old one")]).await;
    let two = app.add_contact(&[("last_name", "Two"), ("email", "two@example.com"), ("title", "Old two")]).await;
    let file = "Email,Last Name,Title,Secondary Email\n\
                one@example.com,,New one,one.more@example.com\n\
                two@example.com,,New two,\n\
                fresh@example.com,Fresh,,\n";
    let id = uploaded(&app, "changes.csv", file.as_bytes().to_vec()).await;
    run(&app, id, "add_update", "import", &[]).await;
    assert_eq!(counts(&app, id).await, [1, 2, 0, 0]);
    assert_eq!(app.column("contacts", "title", one).await.as_deref(), Some("New one"));

    // An agent edits the second contact's title after the import.
    let edit = format!("/agent/contacts/{two}/edit");
    let saved = app.submit(&edit, &format!("/agent/contacts/{two}"), &[("title", "Edited by hand")]).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());

    let path = format!("/agent/contacts/import/{id}");
    let reverted = app.submit(&path, &format!("{path}/revert"), &[]).await;
    assert_eq!(reverted.status, StatusCode::SEE_OTHER, "{}", reverted.text());
    let page = app.get(&path).await;
    let text = page.text();
    assert!(text.contains("1 contact moved to the Recycle Bin, 2 contacts put back"), "{text}");
    assert!(text.contains("Two: Title edited since the import, left as it is."), "{text}");
    assert!(!page.html.contains("/revert\""), "no second revert");

    assert_eq!(app.count("contacts WHERE last_name = 'Fresh' AND trashed = true").await, 1, "in the bin");
    assert_eq!(app.count("recycle_bin").await, 1, "so the revert can be undone from there");
    assert_eq!(app.column("contacts", "title", one).await.as_deref(), Some("Old one"));
    assert_eq!(
        app.count("contact_identities WHERE value = 'one.more@example.com'").await,
        0,
        "the added address removed"
    );
    assert_eq!(app.column("contacts", "title", two).await.as_deref(), Some("Edited by hand"), "not overwritten");
    assert_eq!(app.column("contact_imports", "status", id).await.as_deref(), Some("reverted"));

    // The same file again: the reverted contact's address is still its own, in the bin.
    let again = uploaded(&app, "changes.csv", file.as_bytes().to_vec()).await;
    let page = run(&app, again, "add", "import", &[]).await;
    assert_eq!(counts(&app, again).await, [0, 0, 2, 1], "{}", page.text());
    assert!(page.text().contains("A contact in the Recycle Bin has this address"), "{}", page.text());
}

/// A second instance of `app`'s database as its own process, which runs imports (`app` does
/// not); killed with SIGKILL when dropped.
struct Worker(Child);

impl Worker {
    fn start(app: &TestApp) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_frontdesk"))
            .env("DATABASE_URL", &app.database_url)
            .env("FRONTDESK_LISTEN", "127.0.0.1:0")
            .env("FRONTDESK_MAIL_SOCKET", "off")
            .env("FRONTDESK_IMPORT_LEASE_SECONDS", "1")
            .env("FRONTDESK_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("start a worker instance");
        Self(child)
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // SIGKILL: no chance to finish the chunk it is writing.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn done_rows(app: &TestApp, id: i64) -> i64 {
    app.column("contact_imports", "done_rows", id).await.and_then(|v| v.parse().ok()).unwrap_or(0)
}

#[tokio::test]
async fn an_import_killed_midway_resumes_where_it_stopped_and_imports_no_row_twice() {
    const ROWS: i64 = 30_000;
    let app = spawn_app_with(|s| s.run_imports = false).await;
    app.set_up_admin().await;
    let mut file = String::from("First Name,Last Name,Email\n");
    for i in 0..ROWS {
        file.push_str(&format!("Resumed,Number {i},resume{i}@example.com\n"));
    }
    let id = uploaded(&app, "big.csv", file.into_bytes()).await;
    let started = submit(&app, id, &[("mode", "add"), ("action", "import")]).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.text());

    let first = Worker::start(&app);
    let mut waited = 0;
    // Killed once its first chunk is in, before the last.
    while done_rows(&app, id).await < 1 {
        waited += 1;
        assert!(waited < 6_000, "the worker never started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(first);
    let at_kill = done_rows(&app, id).await;
    assert!(at_kill < ROWS, "killed in the middle ({at_kill} rows done)");
    let imported = app.count(&format!("contacts WHERE import_id = {id}")).await;
    assert_eq!(imported, at_kill, "every row counted done is in, and no other");

    let _second = Worker::start(&app);
    assert_eq!(finished(&app, id).await, "imported");
    assert_eq!(counts(&app, id).await, [ROWS, 0, 0, 0]);
    assert_eq!(app.count(&format!("contacts WHERE import_id = {id}")).await, ROWS, "no row imported twice");
    assert_eq!(app.count("contact_identities WHERE value LIKE 'resume%@example.com'").await, ROWS);
}

async fn export_bytes(app: &TestApp) -> Vec<u8> {
    let response = app.client.get(app.url("/agent/contacts/export?sort=email")).send().await.expect("GET export");
    assert_eq!(response.status(), 200);
    response.bytes().await.expect("body").to_vec()
}

#[tokio::test]
async fn an_export_imported_into_a_new_help_desk_exports_the_same_file() {
    let from = spawn_app().await;
    from.set_up_admin().await;
    from.add_account("Acme, Inc.").await;
    from.add_contact(&[
        ("first_name", "Ana"),
        ("last_name", "Ortiz"),
        ("email", "ana@example.com"),
        ("secondary_emails", "ana.o@home.example\nao@work.example"),
        ("phone", "+1 415 555 2671"),
        ("mobile", "+44 7700 900123"),
        ("account", "Acme, Inc."),
        ("title", "=cmd|' /C calc'!A0"),
        ("description", "Two lines,\n\"quoted\"; and more"),
    ])
    .await;
    from.add_contact(&[("last_name", "Solo"), ("email", "solo@example.com"), ("title", "-minus")]).await;
    let exported = export_bytes(&from).await;

    let to = spawn_app().await;
    to.set_up_admin().await;
    let id = uploaded(&to, "contacts.csv", exported.clone()).await;
    run(&to, id, "add", "import", &[("create_accounts", "on")]).await;
    assert_eq!(counts(&to, id).await, [2, 0, 0, 0]);
    let again = export_bytes(&to).await;
    assert_eq!(String::from_utf8_lossy(&again), String::from_utf8_lossy(&exported));

    // And imported again into the help desk it came from, it changes nothing.
    let id = uploaded(&from, "contacts.csv", exported.clone()).await;
    run(&from, id, "add_update", "import", &[]).await;
    assert_eq!(counts(&from, id).await, [0, 0, 2, 0]);
}
