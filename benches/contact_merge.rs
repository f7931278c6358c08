//! Merging two contacts with 1,000 tickets each (issue 23: "under 1 s"): a running instance
//! (`Application::build`, as `frontdesk serve` builds it) on a fresh database, an administrator
//! set up and logged in over HTTP as a browser would, two contacts with their tickets (and the
//! tickets' events) seeded through the services, then the **Merge** POST timed, and **Undo
//! merge** after it, for a few rounds. It prints each round's times and checks that every
//! ticket moved to the master and back.
//!
//! ```sh
//! cargo bench --bench contact_merge                       # a fresh SQLite file
//! CONTACT_MERGE_BENCH_DATABASE_URL='postgres://postgres@127.0.0.1:5432/mergebench' \
//!     cargo bench --bench contact_merge                   # an empty PostgreSQL database
//! ```
//!
//! `TICKETS` (per contact, default 1,000) and `ROUNDS` (default 5) change the sizes.

// A benchmark, like a test, stops at the first thing that goes wrong.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use frontdesk::config::Settings;
use frontdesk::services::tickets::{self, NewTicket};
use frontdesk::startup::Application;
use reqwest::{redirect, Client, StatusCode};
use sea_orm::{ConnectionTrait, Statement};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PASSWORD: &str = "a benchmark's password";

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The CSRF token of the first form on `html`.
fn csrf(html: &str) -> String {
    let start = html.find("name=\"csrf_token\" value=\"").expect("a form with a CSRF token") + 25;
    html[start..].split('"').next().expect("the token").to_owned()
}

/// Posts `fields` with the CSRF token of `page` to `path`; the answer, which must be a redirect.
async fn post(client: &Client, base: &str, page: &str, path: &str, fields: &[(&str, String)]) -> String {
    let html = client.get(format!("{base}{page}")).send().await.expect("GET").text().await.expect("body");
    let mut form = vec![("csrf_token", csrf(&html))];
    form.extend(fields.iter().cloned());
    let answer = client.post(format!("{base}{path}")).form(&form).send().await.expect("POST");
    assert_eq!(answer.status(), StatusCode::SEE_OTHER, "POST {path}: {}", answer.text().await.unwrap_or_default());
    answer.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or_default().to_owned()
}

async fn count(db: &sea_orm::DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one(Statement::from_string(db.get_database_backend(), format!("SELECT COUNT(*) AS n FROM {sql}")))
        .await
        .expect("count")
        .expect("a row");
    row.try_get::<i64>("", "n").expect("n")
}

#[tokio::main]
async fn main() {
    let tickets_each = env_or("TICKETS", 1_000);
    let rounds = env_or("ROUNDS", 5);
    let file = std::env::temp_dir().join(format!("frontdesk-mergebench-{}.db", std::process::id()));
    let mut settings = Settings::defaults();
    settings.database_url =
        std::env::var("CONTACT_MERGE_BENCH_DATABASE_URL").unwrap_or_else(|_| format!("sqlite://{}", file.display()));
    settings.listen = "127.0.0.1:0".into();
    settings.outbox_interval = 3600;
    let app = Application::build(settings).await.expect("build the instance");
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    tokio::spawn(app.run());
    let client = Client::builder().redirect(redirect::Policy::none()).cookie_store(true).build().expect("client");
    let admin = [
        ("name", "Bench Admin".to_owned()),
        ("email", "bench@example.com".to_owned()),
        ("password", PASSWORD.to_owned()),
        ("confirm_password", PASSWORD.to_owned()),
    ];
    post(&client, &base, "/setup", "/setup", &admin).await;

    let (mut merges, mut undos) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let mut ids = Vec::new();
        for who in ["a", "b"] {
            let fields = [
                ("first_name", format!("Round{round}")),
                ("last_name", format!("Customer {who}")),
                ("email", format!("{who}{round}@bench.example")),
            ];
            let location = post(&client, &base, "/agent/contacts/new", "/agent/contacts", &fields).await;
            let id: i64 = location.rsplit('/').next().and_then(|id| id.parse().ok()).expect("the contact's id");
            for n in 0..tickets_each {
                let new = NewTicket {
                    contact_id: id,
                    subject: format!("Question {n} from {who}"),
                    status: "Open",
                    channel: "email",
                    priority: "Medium",
                };
                tickets::create(&state.db, new).await.expect("a ticket");
            }
            ids.push(id);
        }
        let page = format!("/agent/contacts/merge?ids={}&ids={}", ids[0], ids[1]);
        let html = client.get(format!("{base}{page}")).send().await.expect("GET").text().await.expect("body");
        let form = [
            ("csrf_token", csrf(&html)),
            ("ids", ids[0].to_string()),
            ("ids", ids[1].to_string()),
            ("master", ids[0].to_string()),
        ];
        let started = Instant::now();
        let answer = client.post(format!("{base}/agent/contacts/merge")).form(&form).send().await.expect("POST");
        let merged = started.elapsed();
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{}", answer.text().await.unwrap_or_default());
        let expected = i64::try_from(2 * tickets_each).expect("a count");
        assert_eq!(count(&state.db.conn, &format!("tickets WHERE contact_id = {}", ids[0])).await, expected);

        let undo = [("csrf_token", csrf(&html))];
        let started = Instant::now();
        let answer =
            client.post(format!("{base}/agent/contacts/{}/undo-merge", ids[0])).form(&undo).send().await.expect("POST");
        let undone = started.elapsed();
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{}", answer.text().await.unwrap_or_default());
        assert_eq!(count(&state.db.conn, &format!("tickets WHERE contact_id = {}", ids[1])).await, expected / 2);
        println!("round {round}: merged 2 × {tickets_each} tickets in {merged:.2?}, undone in {undone:.2?}");
        merges.push(merged);
        undos.push(undone);
    }
    let median = |mut times: Vec<Duration>| {
        times.sort();
        times.get(times.len() / 2).copied().unwrap_or_default()
    };
    println!(
        "contact merge, 2 × {tickets_each} tickets, {rounds} rounds: merge median {:.2?}, undo median {:.2?}",
        median(merges),
        median(undos)
    );
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
}
