//! `spawn_app()` and helpers that speak the domain and read forms like a browser.

use std::path::PathBuf;

use frontdesk::config::Settings;
use frontdesk::startup::{AppState, Application};
use reqwest::{redirect, Response, StatusCode};
use scraper::{Html, Selector};
use sea_orm::{ConnectionTrait, Database, Statement};

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "correct horse battery";

/// A running application and a cookie-keeping client that does not follow redirects.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: actix_web::web::Data<AppState>,
    pub database_url: String,
    /// The files this app made (its SQLite database, its mail socket), removed with it.
    files: Vec<PathBuf>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        remove_files(&self.files);
    }
}

fn remove_files(files: &[PathBuf]) {
    for path in files {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}

/// Where test databases and sockets go.
pub fn test_dir() -> PathBuf {
    let dir = std::env::temp_dir().join("frontdesk-tests");
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Makes a fresh, empty database and returns its URL (and the SQLite file to remove).
pub async fn fresh_database() -> (String, Option<PathBuf>) {
    let name = format!("fdt_{}", uuid::Uuid::new_v4().simple());
    match std::env::var("TEST_DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => {
            let admin = Database::connect(&base).await.expect("connect to TEST_DATABASE_URL");
            admin
                .execute(Statement::from_string(admin.get_database_backend(), format!("CREATE DATABASE {name}")))
                .await
                .expect("create test database");
            admin.close().await.ok();
            let (prefix, _) = base.rsplit_once('/').expect("database URL with a path");
            (format!("{prefix}/{name}"), None)
        }
        _ => {
            let path = test_dir().join(format!("{name}.db"));
            (format!("sqlite://{}", path.display()), Some(path))
        }
    }
}

/// The links to each profile on Settings → Profiles.
pub const PROFILE_LINKS: &str = "a[href^=\"/agent/settings/profiles/\"]";

/// Starts the real application on port 0 with a fresh database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], with settings changed by `tweak`.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    try_spawn_app_with(tweak).await.expect("build app")
}

/// Like [`spawn_app_with`], or why the application refused to start.
pub async fn try_spawn_app_with(tweak: impl FnOnce(&mut Settings)) -> anyhow::Result<TestApp> {
    frontdesk::telemetry::init("warn");
    let (database_url, sqlite_file) = fresh_database().await;
    let mut settings = Settings::defaults();
    settings.database_url = database_url;
    settings.listen = "127.0.0.1:0".into();
    settings.db_pool = 5;
    // Slowed-down logins answer at once: the waits are unit-tested (services::throttle).
    settings.login_backoff_max_ms = 0;
    if sqlite_file.is_none() {
        // PostgreSQL has no file to put the mail socket beside: each app gets its own.
        let socket = test_dir().join(format!("{}-mail.sock", uuid::Uuid::new_v4().simple()));
        settings.mail_socket = Some(socket.display().to_string());
    }
    tweak(&mut settings);
    let database_url = settings.database_url.clone();
    // What the fresh database leaves beside it when the start fails; files the test pointed the
    // settings at are the test's own.
    let made: Vec<PathBuf> = sqlite_file
        .iter()
        .flat_map(|file| ["", "-secret.key"].map(|suffix| PathBuf::from(format!("{}{suffix}", file.display()))))
        .collect();
    let files: Vec<PathBuf> =
        sqlite_file.into_iter().chain(settings.mail_socket_path()).chain(settings.secret_key_file()).collect();
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(e) => {
            remove_files(&made);
            return Err(e);
        }
    };
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    tokio::spawn(app.run());
    Ok(TestApp { address, client: client(), state, database_url, files })
}

/// A new browser-like client: keeps cookies, does not follow redirects.
pub fn client() -> reqwest::Client {
    browser().build().expect("client")
}

fn browser() -> reqwest::ClientBuilder {
    reqwest::Client::builder().redirect(redirect::Policy::none()).cookie_store(true)
}

/// A fetched page.
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub html: String,
}

impl Page {
    pub async fn from(response: Response) -> Self {
        let status = response.status();
        let location = response.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let html = response.text().await.unwrap_or_default();
        Self { status, location, html }
    }

    pub fn doc(&self) -> Html {
        Html::parse_document(&self.html)
    }

    /// Texts of all elements matching `selector`, whitespace folded.
    pub fn texts(&self, selector: &str) -> Vec<String> {
        let sel = Selector::parse(selector).expect("selector");
        self.doc()
            .select(&sel)
            .map(|e| e.text().collect::<Vec<_>>().join(" ").split_whitespace().collect::<Vec<_>>().join(" "))
            .collect()
    }

    /// Whether an element matches `selector`.
    pub fn has(&self, selector: &str) -> bool {
        let sel = Selector::parse(selector).expect("selector");
        self.doc().select(&sel).next().is_some()
    }

    /// The value attribute of the input named `name`, or the text of the textarea.
    pub fn value_of(&self, name: &str) -> Option<String> {
        let doc = self.doc();
        let input = Selector::parse(&format!("input[name=\"{name}\"]")).expect("selector");
        if let Some(e) = doc.select(&input).next() {
            return e.value().attr("value").map(str::to_owned);
        }
        let area = Selector::parse(&format!("textarea[name=\"{name}\"]")).expect("selector");
        doc.select(&area).next().map(|e| e.text().collect())
    }

    /// The message shown next to field `name`, if any.
    pub fn field_error(&self, name: &str) -> Option<String> {
        self.texts(&format!("#{name}-error")).into_iter().next()
    }

    /// The visible text of the page.
    pub fn text(&self) -> String {
        self.texts("body").join(" ")
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> Page {
        Page::from(self.client.get(self.url(path)).send().await.expect("GET")).await
    }

    /// Posts raw form fields, exactly as given (no CSRF token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        Page::from(self.client.post(self.url(path)).form(fields).send().await.expect("POST")).await
    }

    /// Fills and submits the form on `page_path` whose action is `action`, like a browser: every
    /// field the form carries (hidden CSRF token, pre-filled values, selected options) is sent,
    /// with `fields` typed over them.
    pub async fn submit(&self, page_path: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        let page = self.get(page_path).await;
        assert!(page.status.is_success(), "GET {page_path}: {}", page.status);
        let mut values = form_values(&page.html, action);
        for (k, v) in fields {
            values.retain(|(name, _)| name != k);
            values.push(((*k).to_owned(), (*v).to_owned()));
        }
        Page::from(self.client.post(self.url(action)).form(&values).send().await.expect("POST")).await
    }

    /// Runs `/setup` and leaves this client logged in as the administrator.
    pub async fn set_up_admin(&self) {
        let page = self
            .submit(
                "/setup",
                "/setup",
                &[
                    ("name", "Ada Admin"),
                    ("email", ADMIN_EMAIL),
                    ("password", ADMIN_PASSWORD),
                    ("confirm_password", ADMIN_PASSWORD),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "setup failed: {}", page.text());
    }

    /// Logs this client in.
    pub async fn login(&self, email: &str, password: &str) -> Page {
        self.submit("/agent/login", "/agent/login", &[("email", email), ("password", password)]).await
    }

    /// The number of rows in `table`.
    pub async fn count(&self, table: &str) -> i64 {
        let conn = &self.state.db.conn;
        let row = conn
            .query_one(Statement::from_string(
                conn.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .expect("count query")
            .expect("a row");
        row.try_get::<i64>("", "n").expect("n")
    }

    /// Where the link reading `text` among the `selector` links of `page_path` leads.
    pub async fn link_to(&self, page_path: &str, selector: &str, text: &str) -> String {
        let page = self.get(page_path).await;
        let doc = page.doc();
        let sel = Selector::parse(selector).expect("selector");
        doc.select(&sel)
            .find(|a| a.text().collect::<String>() == text)
            .and_then(|a| a.value().attr("href"))
            .unwrap_or_else(|| panic!("no link {text:?} on {page_path}"))
            .to_owned()
    }

    /// Sends the form of `path` back to it as it stands, but with the checkbox `unchecked`
    /// cleared.
    pub async fn submit_unchecking(&self, path: &str, unchecked: &str) -> Page {
        let page = self.get(path).await;
        let mut values = form_values(&page.html, path);
        values.retain(|(k, _)| k != unchecked);
        Page::from(self.client.post(self.url(path)).form(&values).send().await.expect("POST")).await
    }

    /// A second instance of the app on the same database, reached by this client with its
    /// cookies, as behind a load balancer. It finds the first one's generated secret key
    /// itself, as a second server would.
    pub async fn second_instance(&self) -> TestApp {
        self.second_instance_with(|_| {}).await
    }

    /// [`TestApp::second_instance`] with settings changed by `tweak`.
    pub async fn second_instance_with(&self, tweak: impl FnOnce(&mut Settings)) -> TestApp {
        let mut settings = self.state.settings.clone();
        tweak(&mut settings);
        settings.listen = "127.0.0.1:0".into();
        let other = Application::build(settings).await.expect("second instance");
        let address = format!("http://127.0.0.1:{}", other.port());
        let state = other.state();
        tokio::spawn(other.run());
        TestApp {
            address,
            client: self.client.clone(),
            state,
            database_url: self.database_url.clone(),
            files: Vec::new(),
        }
    }

    /// Another client on the same app, with no cookies.
    pub fn new_client(&self) -> TestApp {
        self.client_with(client())
    }

    /// Another client on the same app, with no cookies, coming from `ip` as a proxy says
    /// (`X-Forwarded-For`; the app must trust it: `trust_proxy`).
    pub fn new_client_from(&self, ip: &str) -> TestApp {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-forwarded-for", ip.parse().expect("an address"));
        self.client_with(browser().default_headers(headers).build().expect("client"))
    }

    fn client_with(&self, client: reqwest::Client) -> TestApp {
        TestApp {
            address: self.address.clone(),
            client,
            state: self.state.clone(),
            database_url: self.database_url.clone(),
            files: Vec::new(),
        }
    }
}

/// The fields a browser would send for the form whose action is `action`.
pub fn form_values(html: &str, action: &str) -> Vec<(String, String)> {
    let doc = Html::parse_document(html);
    let form_sel = Selector::parse(&format!("form[action=\"{action}\"]")).expect("selector");
    let form = doc.select(&form_sel).next().unwrap_or_else(|| panic!("no form with action {action}"));
    let mut values = Vec::new();
    let inputs = Selector::parse("input[name], textarea[name], select[name]").expect("selector");
    for e in form.select(&inputs) {
        let name = e.value().attr("name").unwrap_or_default().to_owned();
        match e.value().name() {
            "textarea" => values.push((name, e.text().collect())),
            "select" => {
                let opt = Selector::parse("option[selected]").expect("selector");
                let chosen = e.select(&opt).next().or_else(|| {
                    let any = Selector::parse("option").expect("selector");
                    e.select(&any).next()
                });
                if let Some(o) = chosen {
                    values.push((name, o.value().attr("value").unwrap_or_default().to_owned()));
                }
            }
            _ => {
                let kind = e.value().attr("type").unwrap_or("text");
                if (kind == "checkbox" || kind == "radio") && e.value().attr("checked").is_none() {
                    continue;
                }
                if kind == "submit" {
                    continue;
                }
                values.push((name, e.value().attr("value").unwrap_or_default().to_owned()));
            }
        }
    }
    values
}

/// The id at the end of a `Location` like `/agent/contacts/42`.
pub fn id_from_location(page: &Page) -> i64 {
    let location = page.location.as_deref().unwrap_or_else(|| panic!("no redirect: {} {}", page.status, page.text()));
    location.rsplit('/').next().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no id in {location}"))
}

impl TestApp {
    /// Adds a contact through the Add Contact form; returns its id.
    pub async fn add_contact(&self, fields: &[(&str, &str)]) -> i64 {
        let page = self.submit("/agent/contacts/new", "/agent/contacts", fields).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "add contact failed: {}", page.text());
        id_from_location(&page)
    }

    /// Adds an account through the Add account form; returns its id.
    pub async fn add_account(&self, name: &str) -> i64 {
        let page = self.submit("/agent/accounts/new", "/agent/accounts", &[("name", name)]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "add account failed: {}", page.text());
        id_from_location(&page)
    }

    /// Creates a profile through Settings → Profiles from checked module rights and field
    /// levels; returns its id.
    pub async fn create_profile(&self, name: &str, rights: &[&str], fields: &[(&str, &str)]) -> i64 {
        let page = self.get("/agent/settings/profiles/new").await;
        let mut values: Vec<(String, String)> = form_values(&page.html, "/agent/settings/profiles")
            .into_iter()
            .filter(|(k, _)| !k.contains('.') || k.starts_with("contact.") || k.starts_with("account."))
            .collect();
        values.retain(|(k, _)| k != "name" && !fields.iter().any(|(f, _)| f == k));
        values.push(("name".into(), name.into()));
        for right in rights {
            values.push(((*right).into(), "on".into()));
        }
        for (f, level) in fields {
            values.push(((*f).into(), (*level).into()));
        }
        let response = self.client.post(self.url("/agent/settings/profiles")).form(&values).send().await.expect("POST");
        let page = Page::from(response).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "create profile failed: {}", page.text());
        self.link_to("/agent/settings/profiles", PROFILE_LINKS, name)
            .await
            .rsplit('/')
            .next()
            .and_then(|id| id.parse().ok())
            .expect("profile id in its link")
    }

    /// Adds an agent with the profile named `profile` through Settings → Agents.
    pub async fn add_agent(&self, name: &str, email: &str, password: &str, profile: &str) {
        let page = self.get("/agent/settings/agents/new").await;
        let doc = page.doc();
        let sel = Selector::parse("select[name=profile] option").expect("selector");
        let profile_id = doc
            .select(&sel)
            .find(|o| o.text().collect::<String>() == profile)
            .and_then(|o| o.value().attr("value"))
            .unwrap_or_else(|| panic!("no profile {profile}"))
            .to_owned();
        let page = self
            .submit(
                "/agent/settings/agents/new",
                "/agent/settings/agents",
                &[("name", name), ("email", email), ("password", password), ("profile", &profile_id)],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "add agent failed: {}", page.text());
    }

    /// A second client logged in as a new agent with `profile`.
    pub async fn client_as(&self, profile: &str, email: &str) -> TestApp {
        self.add_agent(&format!("Agent {profile}"), email, "agent password 1", profile).await;
        let other = self.new_client();
        let page = other.login(email, "agent password 1").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "login as {email} failed: {}", page.text());
        other
    }

    /// Runs `sql` on the app's database (arranging states no page makes yet).
    pub async fn exec(&self, sql: &str) {
        let conn = &self.state.db.conn;
        conn.execute(Statement::from_string(conn.get_database_backend(), sql.to_owned())).await.expect("exec");
    }

    /// The texts `sql` selects, one a row, as column `v`.
    pub async fn texts(&self, sql: &str) -> Vec<String> {
        let conn = &self.state.db.conn;
        let rows =
            conn.query_all(Statement::from_string(conn.get_database_backend(), sql.to_owned())).await.expect("query");
        rows.iter().map(|row| row.try_get::<String>("", "v").expect("v")).collect()
    }

    /// The first text of `column` in the row of `table` with `id`.
    pub async fn column(&self, table: &str, column: &str, id: i64) -> Option<String> {
        let conn = &self.state.db.conn;
        let sql = format!("SELECT CAST({column} AS TEXT) AS v FROM {table} WHERE id = {id}");
        let row = conn.query_one(Statement::from_string(conn.get_database_backend(), sql)).await.expect("query")?;
        row.try_get::<Option<String>>("", "v").expect("v")
    }
}
