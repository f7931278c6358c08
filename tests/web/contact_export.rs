//! Export Contacts (issue 23): the CSV download of a Contacts Home view, search and sort, the
//! Import and Export permissions on the profile page, and Export History.

use frontdesk::config::{SeedArgs, Settings};
use reqwest::StatusCode;

use crate::helpers::{spawn_app, TestApp, ADMIN_EMAIL};

const HEADER: [&str; 10] = [
    "First Name",
    "Last Name",
    "Email",
    "Secondary Email",
    "Phone",
    "Mobile",
    "Account Name",
    "Contact Owner",
    "Title",
    "Description",
];

/// A downloaded file, as a browser gets it.
struct Download {
    status: StatusCode,
    content_type: String,
    disposition: String,
    bytes: Vec<u8>,
}

impl Download {
    /// The records of the file, header first, read after its byte order mark.
    fn records(&self) -> Vec<Vec<String>> {
        let text = self.bytes.strip_prefix("\u{feff}".as_bytes()).expect("a byte order mark");
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text)
            .records()
            .map(|r| r.expect("a CSV record").iter().map(str::to_owned).collect())
            .collect()
    }

    /// The values of the column headed `header`, one per contact.
    fn column(&self, header: &str) -> Vec<String> {
        let records = self.records();
        let at = records[0].iter().position(|h| h == header).unwrap_or_else(|| panic!("no column {header}"));
        records[1..].iter().map(|r| r[at].clone()).collect()
    }
}

async fn download(app: &TestApp, path: &str) -> Download {
    let response = app.client.get(app.url(path)).send().await.expect("GET");
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (status, content_type, disposition) =
        (response.status(), header("content-type"), header("content-disposition"));
    let bytes = response.bytes().await.expect("the body").to_vec();
    Download { status, content_type, disposition, bytes }
}

/// The administrator with an account, a second agent and three contacts: one with everything
/// (secondary addresses, account, another owner, text to quote), one with a formula for a title,
/// one with a last name alone.
async fn admin_with_contacts() -> TestApp {
    let app = spawn_app().await;
    app.set_up_admin().await;
    app.add_account("Acme, Inc.").await;
    app.add_agent("Bob Owner", "bob@example.com", "bob password 1", "Agent").await;
    let bob = app.texts("SELECT CAST(id AS TEXT) AS v FROM agents WHERE email = 'bob@example.com'").await;
    app.add_contact(&[
        ("first_name", "Ada"),
        ("last_name", "Lovelace"),
        ("email", "ada@example.com"),
        ("secondary_emails", "countess@example.com\nada.l@example.org"),
        ("phone", "+1 415 555 2671"),
        ("mobile", "+44 7700 900123"),
        ("account", "Acme, Inc."),
        ("owner", &bob[0]),
        ("title", "Analyst"),
        ("description", "Wrote \"Note G\",\nthe first program."),
    ])
    .await;
    app.add_contact(&[("first_name", "Charles"), ("last_name", "Babbage"), ("title", "=HYPERLINK(\"x\")")]).await;
    app.add_contact(&[("last_name", "Menabrea")]).await;
    app
}

#[tokio::test]
async fn an_export_is_a_csv_file_with_a_bom_the_import_headers_and_every_field_of_the_listed_contacts() {
    let app = admin_with_contacts().await;
    let file = download(&app, "/agent/contacts/export").await;
    assert_eq!(file.status, 200);
    assert_eq!(file.content_type, "text/csv; charset=utf-8");
    let today = chrono::Utc::now().format("%Y-%m-%d");
    assert_eq!(file.disposition, format!("attachment; filename=\"contacts-{today}.csv\""));
    assert!(file.bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "UTF-8 byte order mark");
    let text = String::from_utf8(file.bytes[3..].to_vec()).expect("UTF-8");
    let expected = [
        HEADER.join(","),
        "Charles,Babbage,,,,,,admin@example.com,\"'=HYPERLINK(\"\"x\"\")\",".to_owned(),
        "Ada,Lovelace,ada@example.com,countess@example.com; ada.l@example.org,+14155552671,+447700900123,\"Acme, Inc.\",bob@example.com,Analyst,\"Wrote \"\"Note G\"\",\nthe first program.\"".to_owned(),
        ",Menabrea,,,,,,admin@example.com,,".to_owned(),
    ];
    assert_eq!(text, expected.map(|line| line + "\r\n").concat(), "sorted by name (last name first)");
    assert_eq!(file.records()[2][9], "Wrote \"Note G\",\nthe first program.", "read back as written");
}

#[tokio::test]
async fn an_export_keeps_the_view_search_and_sort_that_contacts_home_shows() {
    let app = admin_with_contacts().await;
    app.add_contact(&[("first_name", "Augusta"), ("last_name", "King"), ("email", "augusta@example.com")]).await;
    let home = app.get("/agent/contacts?view=all&q=a&sort=email&dir=desc").await;
    let link = home
        .doc()
        .select(&scraper::Selector::parse("details.dropdown a").expect("selector"))
        .find(|a| a.text().collect::<String>() == "Export Contacts")
        .and_then(|a| a.value().attr("href"))
        .expect("an Export Contacts link")
        .to_owned();
    assert_eq!(link, "/agent/contacts/export?view=all&sort=email&dir=desc&q=a");
    let listed: Vec<String> = home.texts("tbody td.name a");
    let file = download(&app, &link).await;
    let first = file.column("First Name");
    let last = file.column("Last Name");
    let names: Vec<String> = first.iter().zip(&last).map(|(f, l)| format!("{f} {l}").trim().to_owned()).collect();
    assert_eq!(names, listed, "the same contacts in the same order");
    assert_eq!(names, ["Augusta King", "Ada Lovelace"], "by email, descending; only those matching “a”");

    // My Contacts: the administrator owns Charles and Menabrea, Bob owns Ada.
    let mine = download(&app, "/agent/contacts/export?view=mine&sort=name&dir=desc").await;
    assert_eq!(mine.column("Last Name"), ["Menabrea", "King", "Babbage"]);
    let nothing = download(&app, "/agent/contacts/export?q=nobodyatall").await;
    assert_eq!(nothing.records(), [HEADER.map(str::to_owned)], "the header alone");
}

#[tokio::test]
async fn a_field_hidden_by_the_profile_leaves_its_column_out_of_the_file() {
    let app = admin_with_contacts().await;
    app.create_profile(
        "Exporter",
        &["contacts.view", "export_contacts"],
        &[("contact.email", "hidden"), ("contact.title", "hidden"), ("contact.owner", "read_only")],
    )
    .await;
    let agent = app.client_as("Exporter", "exporter@example.com").await;
    let file = download(&agent, "/agent/contacts/export").await;
    assert_eq!(file.status, 200);
    let headers = file.records()[0].clone();
    assert_eq!(
        headers,
        ["First Name", "Last Name", "Phone", "Mobile", "Account Name", "Contact Owner", "Description"],
        "no Email, Secondary Email nor Title"
    );
    let text = String::from_utf8_lossy(&file.bytes).to_string();
    for secret in ["ada@example.com", "countess@example.com", "Analyst", "HYPERLINK"] {
        assert!(!text.contains(secret), "{secret} leaked");
    }
    assert_eq!(file.column("Contact Owner"), ["admin@example.com", "bob@example.com", "admin@example.com"]);
    // A sort by a hidden field falls back to the name, as on Contacts Home.
    let by_email = download(&agent, "/agent/contacts/export?sort=email&dir=desc").await;
    assert_eq!(by_email.column("Last Name"), ["Menabrea", "Lovelace", "Babbage"]);
    let listed = agent.get("/agent/contacts?sort=email&dir=desc").await.texts("tbody td.name a");
    assert_eq!(listed, ["Menabrea", "Ada Lovelace", "Charles Babbage"]);
}

#[tokio::test]
async fn without_the_export_permission_there_is_no_link_and_no_file_and_nothing_is_recorded() {
    let app = admin_with_contacts().await;
    let agent = app.client_as("Agent", "worker@example.com").await;
    let home = agent.get("/agent/contacts").await;
    assert!(!home.texts("details.dropdown a").contains(&"Export Contacts".to_owned()));
    let refused = download(&agent, "/agent/contacts/export").await;
    assert_eq!(refused.status, 403);
    let page = String::from_utf8_lossy(&refused.bytes).to_string();
    assert!(page.contains("does not have the Export permission for Contacts"), "{page}");
    assert!(!page.contains("Lovelace"));
    assert_eq!(agent.get("/agent/contacts/exports").await.status, 403);
    assert_eq!(app.count("contact_exports").await, 0);

    // Export without View on contacts is refused too.
    app.create_profile("Export Only", &["export_contacts"], &[]).await;
    let blind = app.client_as("Export Only", "blind@example.com").await;
    assert_eq!(download(&blind, "/agent/contacts/export").await.status, 403);
    assert_eq!(app.count("contact_exports").await, 0);
}

#[tokio::test]
async fn every_export_is_recorded_with_its_row_count_and_listed_in_export_history() {
    let app = admin_with_contacts().await;
    let home = app.get("/agent/contacts").await;
    assert!(home.texts("details.dropdown a").contains(&"Export History".to_owned()));
    assert_eq!(download(&app, "/agent/contacts/export").await.status, 200);
    assert_eq!(download(&app, "/agent/contacts/export?view=mine&q=babbage").await.status, 200);
    assert_eq!(
        app.texts(
            "SELECT view || ' ' || search || ' ' || CAST(row_count AS TEXT) || ' ' || status AS v \
             FROM contact_exports ORDER BY id"
        )
        .await,
        ["all  3 finished", "mine babbage 1 finished"]
    );
    let history = app.get("/agent/contacts/exports").await;
    assert_eq!(history.status, 200);
    assert_eq!(history.texts("h1"), ["Export History"]);
    let rows = history.texts("tbody tr");
    assert_eq!(rows.len(), 2);
    assert!(
        rows[0].contains("Ada Admin") && rows[0].contains("My Contacts") && rows[0].contains("babbage"),
        "{rows:?}"
    );
    assert!(rows[1].contains("Ada Admin") && rows[1].contains("All Contacts") && rows[1].contains('3'), "{rows:?}");
    assert!(rows.iter().all(|r| r.contains("Finished")));

    // An agent with the permission sees its own exports, not the administrator's.
    app.create_profile("Exporter", &["contacts.view", "export_contacts"], &[]).await;
    let agent = app.client_as("Exporter", "exporter@example.com").await;
    assert!(agent.get("/agent/contacts/exports").await.text().contains("No contacts have been exported yet."));
    assert_eq!(download(&agent, "/agent/contacts/export").await.status, 200);
    let own = agent.get("/agent/contacts/exports").await.texts("tbody tr");
    assert_eq!(own.len(), 1);
    assert!(own[0].contains("Agent Exporter"), "{own:?}");
    assert_eq!(app.get("/agent/contacts/exports").await.texts("tbody tr").len(), 3);
}

#[tokio::test]
async fn the_profile_page_saves_the_import_and_export_permissions() {
    let app = spawn_app().await;
    app.set_up_admin().await;
    let id = app.create_profile("Exporter", &["contacts.view", "export_contacts"], &[]).await;
    let path = format!("/agent/settings/profiles/{id}");
    let page = app.get(&path).await;
    for label in ["Import Contacts", "Export Contacts"] {
        assert!(page.texts("label").contains(&label.to_owned()), "no checkbox {label}");
    }
    assert!(page.has("input#export_contacts[type=checkbox][checked]"));
    assert!(page.has("input#import_contacts[type=checkbox]:not([checked])"));
    let stored = app.column("profiles", "permissions", id).await.expect("permissions");
    assert!(stored.contains("\"export_contacts\":true") && stored.contains("\"import_contacts\":false"), "{stored}");

    let saved = app.submit(&path, &path, &[("import_contacts", "on")]).await;
    assert_eq!(saved.status, 303);
    let stored = app.column("profiles", "permissions", id).await.expect("permissions");
    assert!(stored.contains("\"export_contacts\":true") && stored.contains("\"import_contacts\":true"), "{stored}");
    assert_eq!(app.submit_unchecking(&path, "export_contacts").await.status, 303);
    let stored = app.column("profiles", "permissions", id).await.expect("permissions");
    assert!(stored.contains("\"export_contacts\":false") && stored.contains("\"import_contacts\":true"), "{stored}");
}

#[tokio::test]
async fn an_export_of_more_contacts_than_one_chunk_has_every_contact_once_in_the_lists_order() {
    let app = spawn_app().await;
    let mut settings = Settings::defaults();
    settings.database_url.clone_from(&app.database_url);
    let args = SeedArgs { contacts: 2_500, accounts: 10, tickets: 0, articles: 0, admin_email: ADMIN_EMAIL.into() };
    frontdesk::seed::run(&settings, &args).await.expect("seed");
    assert_eq!(app.login(ADMIN_EMAIL, "password123").await.status, 303);

    let file = download(&app, "/agent/contacts/export").await;
    assert_eq!(file.status, 200);
    let emails = file.column("Email");
    let listed = app.texts("SELECT email AS v FROM contacts WHERE trashed = false ORDER BY name_sort, id").await;
    assert_eq!(emails.len(), 2_500);
    assert_eq!(emails, listed, "every contact once, by name then id, across chunks");
    let home = app.get("/agent/contacts").await;
    let page_one: Vec<String> = home.texts("tbody tr td:nth-child(3)");
    assert_eq!(page_one, emails[..25], "page 1 of Contacts Home begins the file");
    let recorded = app.texts("SELECT CAST(row_count AS TEXT) AS v FROM contact_exports").await;
    assert_eq!(recorded, ["2500"]);
}
