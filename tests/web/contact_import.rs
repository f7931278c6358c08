//! Import Contacts: real-world files (Excel's CSV, an XLSX, Zoho Desk and Zendesk exports),
//! the Test run, each Import Mode, rejected rows, permissions.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::{form_values, spawn_app, Page, TestApp};

/// Uploads `bytes` as file `name` through the Import Contacts form; the import's id.
pub async fn upload(app: &TestApp, name: &str, bytes: Vec<u8>) -> Page {
    let page = app.get("/agent/contacts/import").await;
    assert_eq!(page.status, 200, "{}", page.text());
    let csrf = page.value_of("csrf_token").expect("token");
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", csrf)
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()));
    let response =
        app.client.post(app.url("/agent/contacts/import")).multipart(form).send().await.expect("POST upload");
    Page::from(response).await
}

/// Uploads and returns the new import's id.
pub async fn uploaded(app: &TestApp, name: &str, bytes: Vec<u8>) -> i64 {
    let page = upload(app, name, bytes).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    page.location.as_deref().and_then(|l| l.rsplit('/').next()).and_then(|id| id.parse().ok()).expect("import id")
}

/// Submits the mapping page of import `id` as suggested, with `fields` over it.
pub async fn submit(app: &TestApp, id: i64, fields: &[(&str, &str)]) -> Page {
    let path = format!("/agent/contacts/import/{id}");
    app.submit(&path, &path, fields).await
}

/// Waits for the run of import `id` to end; its status.
pub async fn finished(app: &TestApp, id: i64) -> String {
    for _ in 0..2400 {
        let status = app.column("contact_imports", "status", id).await.unwrap_or_default();
        if status != "testing" && status != "importing" {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("import {id} did not finish");
}

/// Runs import `id` (`action` test or import) in `mode` and waits for its end.
pub async fn run(app: &TestApp, id: i64, mode: &str, action: &str, extra: &[(&str, &str)]) -> Page {
    let mut fields = vec![("mode", mode), ("action", action)];
    fields.extend_from_slice(extra);
    let started = submit(app, id, &fields).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.text());
    let status = finished(app, id).await;
    assert!(status == "tested" || status == "imported", "status {status}");
    app.get(&format!("/agent/contacts/import/{id}")).await
}

async fn admin() -> TestApp {
    let app = spawn_app().await;
    app.set_up_admin().await;
    app
}

pub async fn counts(app: &TestApp, id: i64) -> [i64; 4] {
    let mut out = [0; 4];
    for (i, c) in ["created", "updated", "skipped", "rejected"].iter().enumerate() {
        out[i] = app.column("contact_imports", c, id).await.and_then(|v| v.parse().ok()).unwrap_or(-1);
    }
    out
}

#[tokio::test]
async fn an_excel_csv_with_bom_semicolons_and_windows_line_ends_imports_with_source_import() {
    let app = admin().await;
    let file = "\u{feff}First Name;Last Name;Email;Phone;Account Name;Title\r\n\
                Ana;Ortiz;ana@example.com;+1 415 555 2671;Acme Corp;\"CTO; founder\"\r\n\
                Bo;Li;BO@Example.com;;Acme Corp;\r\n";
    let id = uploaded(&app, "contacts.csv", file.as_bytes().to_vec()).await;
    let map = app.get(&format!("/agent/contacts/import/{id}")).await;
    assert_eq!(map.status, 200);
    assert!(map.html.contains("<option value=\"last_name\" selected>"), "Last Name suggested");
    let done = run(&app, id, "add", "import", &[("create_accounts", "on")]).await;
    assert!(done.text().contains("Imported"), "{}", done.text());
    assert_eq!(counts(&app, id).await, [2, 0, 0, 0]);
    assert_eq!(app.count("contacts WHERE source = 'import'").await, 2);
    assert_eq!(app.count("accounts WHERE name = 'Acme Corp'").await, 1, "one account made for both rows");
    let list = app.get("/agent/contacts?q=bo%40example.com").await;
    assert!(list.text().contains("Bo Li"), "found by its address, stored lowercase: {}", list.text());
    let ana = app.count("contacts WHERE phone = '+14155552671' AND title = 'CTO; founder'").await;
    assert_eq!(ana, 1, "the phone stored E.164 and the quoted semicolon kept");
    assert_eq!(app.count("contact_identities WHERE value = 'bo@example.com'").await, 1);
}

#[tokio::test]
async fn the_test_run_writes_nothing_and_lists_every_rejected_row_with_line_field_and_reason() {
    let app = admin().await;
    app.add_contact(&[("last_name", "Known"), ("email", "known@example.com")]).await;
    let file = "First Name,Last Name,Email,Phone,Contact Owner\n\
                Ana,Ortiz,ana@example.com,,\n\
                No,,noname@example.com,,\n\
                Bad,Mail,not-an-address,,\n\
                Bad,Phone,phone@example.com,call me maybe,\n\
                Ana,Again,ANA@example.com,,\n\
                Who,Owns,owner@example.com,,nobody@example.com\n\
                Kno,Wn,known@example.com,,\n";
    let id = uploaded(&app, "people.csv", file.as_bytes().to_vec()).await;
    let before = app.count("contacts").await;
    let page = run(&app, id, "add", "test", &[]).await;
    assert_eq!(app.count("contacts").await, before, "a test run writes no contact");
    assert_eq!(app.count("events WHERE subject_kind = 'contact' AND action = 'created'").await, 1);
    assert_eq!(counts(&app, id).await, [1, 0, 1, 5]);
    let text = page.text();
    assert!(text.contains("Test run: nothing was written"), "{text}");
    for expected in [
        "3 Last Name",
        "4 Email",
        "5 Phone",
        "6 Email Duplicate of line 2.",
        "7 Contact Owner No active agent has the address or name",
    ] {
        assert!(text.contains(expected), "{expected:?} in {text}");
    }
    let csv = app.client.get(app.url(&format!("/agent/contacts/import/{id}/rejects.csv"))).send().await.expect("GET");
    assert_eq!(csv.status(), 200);
    let bytes = csv.bytes().await.expect("body");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a BOM for spreadsheets");
    let text = String::from_utf8_lossy(&bytes[3..]).into_owned();
    assert_eq!(text.lines().count(), 6, "a header and the five rejected rows: {text}");
    assert!(text.contains("5,Phone,"), "{text}");

    // The same file imported for real after the test run: the same counts.
    let page = run(&app, id, "add", "import", &[]).await;
    assert_eq!(counts(&app, id).await, [1, 0, 1, 5], "{}", page.text());
    assert_eq!(app.count("contacts").await, before + 1);
    // Once imported, the form is gone and a second start is refused.
    assert!(!page.html.contains("Start Import"));
    let csrf = page.value_of("csrf_token").expect("token");
    let again = app
        .post_raw(
            &format!("/agent/contacts/import/{id}"),
            &[("csrf_token", &csrf), ("mode", "add"), ("action", "import")],
        )
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(app.count("contacts").await, before + 1);
}

#[tokio::test]
async fn an_xlsx_sheet_imports_its_first_sheet() {
    let app = admin().await;
    let bytes =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/web/fixtures/contacts.xlsx")).expect("fixture");
    let id = uploaded(&app, "contacts.xlsx", bytes).await;
    run(&app, id, "add", "import", &[]).await;
    assert_eq!(counts(&app, id).await, [3, 0, 0, 0]);
    assert_eq!(app.count("contacts WHERE last_name = 'Hopper' AND mobile = '+14155552671'").await, 1);
    assert_eq!(app.count("contacts WHERE last_name = 'Turing' AND mobile = '+14155550123'").await, 1, "a number cell");
    assert_eq!(app.count("contacts WHERE last_name = 'Lovelace' AND first_name IS NULL").await, 1);
}

#[tokio::test]
async fn zendesk_and_zoho_desk_exports_import_without_mapping_by_hand() {
    let app = admin().await;
    let zendesk = "id,name,email,phone,organization,notes,role\n\
                   9001,Melissa Ortiz,melissa@zd.example,+44 20 7946 0958,,VIP,end-user\n";
    let id = uploaded(&app, "zendesk-users.csv", zendesk.as_bytes().to_vec()).await;
    run(&app, id, "add", "import", &[]).await;
    let melissa = app
        .count("contacts WHERE first_name = 'Melissa' AND last_name = 'Ortiz' AND external_id = '9001' AND description = 'VIP'")
        .await;
    assert_eq!(melissa, 1);

    let zoho = "Contact ID,First Name,Last Name,Email,Secondary Email,Mobile,Contact Owner,Created Time\n\
                Z-1,Priya,Patel,priya@zoho.example,p.patel@home.example,+91 98765 43210,admin@example.com,2024-01-02\n";
    let id = uploaded(&app, "Contacts.csv", zoho.as_bytes().to_vec()).await;
    run(&app, id, "add", "import", &[]).await;
    assert_eq!(counts(&app, id).await, [1, 0, 0, 0]);
    assert_eq!(app.count("contact_identities WHERE value = 'p.patel@home.example' AND is_primary = false").await, 1);
    let owned = app.count("contacts c JOIN agents a ON a.id = c.owner_id WHERE c.last_name = 'Patel' AND a.email = 'admin@example.com'").await;
    assert_eq!(owned, 1, "the owner found by address");
}

#[tokio::test]
async fn each_mode_adds_updates_or_both_and_an_empty_cell_never_erases() {
    let app = admin().await;
    let kept = app
        .add_contact(&[
            ("last_name", "Keep"),
            ("email", "keep@example.com"),
            ("title", "Chief"),
            ("phone", "+1 415 555 0100"),
        ])
        .await;
    let file = "Email,Last Name,Title,Phone\nkeep@example.com,,,+1 415 555 0199\nnew@example.com,New,,\n";
    let add = uploaded(&app, "a.csv", file.as_bytes().to_vec()).await;
    run(&app, add, "add", "import", &[]).await;
    assert_eq!(counts(&app, add).await, [1, 0, 1, 0], "add: the known row skipped");
    assert_eq!(app.column("contacts", "phone", kept).await.as_deref(), Some("+14155550100"));

    let update = uploaded(&app, "u.csv", file.replace("new@", "other@").into_bytes()).await;
    run(&app, update, "update", "import", &[]).await;
    assert_eq!(counts(&app, update).await, [0, 1, 1, 0], "update: the unknown row skipped");
    assert_eq!(app.column("contacts", "phone", kept).await.as_deref(), Some("+14155550199"));
    assert_eq!(app.column("contacts", "title", kept).await.as_deref(), Some("Chief"), "an empty cell erases nothing");
    assert_eq!(app.column("contacts", "last_name", kept).await.as_deref(), Some("Keep"));
    assert_eq!(app.count("contact_identities WHERE value = '+14155550199'").await, 1, "the identity follows");
    let history = app.get(&format!("/agent/contacts/{kept}")).await;
    assert!(history.text().contains("+14155550199") || history.text().contains("555"), "history shows the change");

    let both =
        uploaded(&app, "b.csv", "Email,Last Name,Title\nkeep@example.com,,Boss\nthird@example.com,Third,\n".into())
            .await;
    run(&app, both, "add_update", "import", &[]).await;
    assert_eq!(counts(&app, both).await, [1, 1, 0, 0]);
    assert_eq!(app.column("contacts", "title", kept).await.as_deref(), Some("Boss"));
}

#[tokio::test]
async fn ten_thousand_rows_with_one_percent_bad_rows_import_the_rest() {
    let app = admin().await;
    let mut file = String::from("First Name,Last Name,Email\n");
    for i in 0..10_000 {
        let email = if i % 100 == 7 { format!("broken{i}.example.com") } else { format!("person{i}@bulk.example") };
        file.push_str(&format!("Person,Number {i},{email}\n"));
    }
    let id = uploaded(&app, "bulk.csv", file.into_bytes()).await;
    let page = run(&app, id, "add", "import", &[]).await;
    assert_eq!(counts(&app, id).await, [9_900, 0, 0, 100]);
    assert_eq!(app.count("contacts WHERE source = 'import'").await, 9_900);
    assert_eq!(app.count("contact_identities WHERE value LIKE '%@bulk.example'").await, 9_900);
    assert!(page.text().contains("The first 100 of 100 rejected rows") || page.text().contains("Rejected rows"));
    let found = app.get("/agent/contacts?q=person4242").await;
    assert!(found.text().contains("Number 4242"), "imported contacts are searchable");
}

#[tokio::test]
async fn without_the_import_permission_nothing_is_uploaded() {
    let app = admin().await;
    let agent = app.client_as("Agent", "agent@example.com").await;
    assert_eq!(agent.get("/agent/contacts/import").await.status, 403);
    let home = agent.get("/agent/contacts").await;
    assert!(!home.html.contains("/agent/contacts/import"), "no menu entry");
    let csrf = home.value_of("csrf_token").expect("token");
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", csrf)
        .part("file", reqwest::multipart::Part::bytes(b"Last Name\nX\n".to_vec()).file_name("x.csv"));
    let response = agent.client.post(agent.url("/agent/contacts/import")).multipart(form).send().await.expect("POST");
    assert_eq!(response.status(), 403);
    assert_eq!(app.count("contact_imports").await, 0);
    assert_eq!(agent.get("/agent/contacts/import/history").await.status, 403);
}

#[tokio::test]
async fn a_file_that_cannot_be_read_is_refused_next_to_the_field_and_nothing_is_kept() {
    let app = admin().await;
    let page = upload(&app, "latin1.csv", b"Last Name\nM\xfcller\n".to_vec()).await;
    assert_eq!(page.status, 422);
    assert!(page.field_error("file").unwrap_or_default().contains("UTF-8"), "{}", page.text());
    let page = upload(&app, "empty.csv", b"Last Name\n".to_vec()).await;
    assert_eq!(page.status, 422);
    assert_eq!(app.count("contact_imports").await, 0);
}

#[tokio::test]
async fn a_mapping_without_a_last_name_or_with_a_field_twice_is_shown_again_with_its_messages() {
    let app = admin().await;
    let id = uploaded(&app, "x.csv", b"Surname,Mail,Other Mail\nOrtiz,a@x.example,b@x.example\n".to_vec()).await;
    let path = format!("/agent/contacts/import/{id}");
    let page = app.get(&path).await;
    let mut values = form_values(&page.html, &path);
    values.retain(|(k, _)| !k.starts_with("col_"));
    values.extend([
        ("col_0".into(), String::new()),
        ("col_1".into(), "email".into()),
        ("col_2".into(), "email".into()),
    ]);
    values.extend([("mode".into(), "add".into()), ("action".into(), "import".into())]);
    let response = app.client.post(app.url(&path)).form(&values).send().await.expect("POST");
    let page = Page::from(response).await;
    assert_eq!(page.status, 422);
    assert!(page.text().contains("Map a column to Last Name"), "{}", page.text());
    assert!(page.field_error("col_2").unwrap_or_default().contains("already mapped"), "{}", page.text());
    assert_eq!(app.column("contact_imports", "status", id).await.as_deref(), Some("uploaded"));
}

#[tokio::test]
async fn a_workbook_that_unpacks_to_far_more_than_its_size_is_refused_before_it_is_unpacked() {
    let app = admin().await;
    for name in ["bomb.xlsx", "huge_count.xlsx"] {
        let path = format!("{}/tests/web/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        let page = upload(&app, name, std::fs::read(path).expect("fixture")).await;
        assert_eq!(page.status, 422, "{name}");
        assert!(page.field_error("file").unwrap_or_default().contains("unpacks to far more"), "{}", page.text());
    }
    assert_eq!(app.count("contact_imports").await, 0);
}

#[tokio::test]
async fn a_field_the_profile_hides_cannot_be_mapped_and_the_page_says_why() {
    let app = admin().await;
    app.create_profile(
        "Importer",
        &["contacts.view", "contacts.create", "contacts.edit", "import_contacts"],
        &[("contact.email", "hidden"), ("contact.title", "read_only")],
    )
    .await;
    let importer = app.client_as("Importer", "importer@example.com").await;
    let id = uploaded(&importer, "x.csv", b"Last Name,Email,Title\nOrtiz,ortiz@x.example,Boss\n".to_vec()).await;
    let path = format!("/agent/contacts/import/{id}");
    let page = importer.get(&path).await;
    assert!(page.text().contains("Email cannot be imported: it is hidden from your profile."), "{}", page.text());
    assert!(page.text().contains("Title cannot be imported: it is read-only for your profile."));
    assert!(page.html.contains("<option value=\"email\" disabled>"), "offered, but disabled");

    // A post that maps it anyway is refused next to the column, and nothing runs.
    let posted = importer.submit(&path, &path, &[("col_1", "email"), ("mode", "add"), ("action", "import")]).await;
    assert_eq!(posted.status, 422);
    assert!(posted.field_error("col_1").unwrap_or_default().contains("hidden from your profile"), "{}", posted.text());
    assert_eq!(app.column("contact_imports", "status", id).await.as_deref(), Some("uploaded"));
    assert_eq!(app.count("contacts WHERE last_name = 'Ortiz'").await, 0);

    // Mapped to nothing, the rest imports.
    let done = run(&importer, id, "add", "import", &[("col_1", ""), ("col_2", "")]).await;
    assert_eq!(counts(&app, id).await, [1, 0, 0, 0], "{}", done.text());
    assert_eq!(app.count("contacts WHERE last_name = 'Ortiz' AND email IS NULL AND title IS NULL").await, 1);
}
