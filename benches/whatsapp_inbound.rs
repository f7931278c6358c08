//! The WhatsApp channel's inbound benchmark (issue 22): signed `messages` webhooks posted to a
//! running instance at 64 connections, half from numbers the database knows and half from new
//! ones (each a new contact and ticket), as Meta posts them: one message per POST, signed with
//! the App Secret. It prints messages/s and the contacts and tickets created. The instance is
//! this process's (`Application::build`, as `frontdesk serve` builds it), so the benchmark's
//! build profile is the server's. Run by `benches/whatsapp.sh`, which seeds the database:
//!
//! ```sh
//! WA_BENCH_DATABASE_URL=sqlite:///path/seeded.db cargo bench --bench whatsapp_inbound
//! ```

// A benchmark, like a test, stops at the first thing that goes wrong.
#![allow(clippy::expect_used, clippy::unwrap_used)]

// Signs as Meta does, like the tests' stand-in.
#[path = "../tests/web/whatsapp/standin.rs"]
mod standin;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use frontdesk::config::Settings;
use frontdesk::entities::whatsapp_number;
use frontdesk::startup::Application;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, Statement};
use serde_json::json;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const APP_SECRET: &str = "bench-app-secret";
const PHONE_NUMBER_ID: &str = "900000000000001";

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// One signed text message from `from` (digits), as Meta posts it.
fn webhook(phone_number_id: &str, run: &str, n: usize, from: &str) -> (Vec<u8>, String) {
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages",
        "value": {"messaging_product": "whatsapp",
                  "metadata": {"display_phone_number": "15550001111", "phone_number_id": phone_number_id},
                  "contacts": [{"profile": {"name": format!("Bench Sender{n}")}, "wa_id": from}],
                  "messages": [{"from": from, "id": format!("wamid.{run}.{n}"), "timestamp": "1765000000",
                                "type": "text", "text": {"body": format!("Question {n} about my order")}}]}}]}]});
    let bytes = serde_json::to_vec(&body).expect("json");
    let signature = standin::signature(APP_SECRET, &bytes);
    (bytes, signature)
}

/// Posts `bodies` to `url` over `connections` connections; the seconds it took.
async fn post_all(url: &str, bodies: Vec<(Vec<u8>, String)>, connections: usize) -> f64 {
    let client = reqwest::Client::builder().pool_max_idle_per_host(connections).build().expect("client");
    let bodies = Arc::new(bodies);
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let (client, bodies, next, url) = (client.clone(), bodies.clone(), next.clone(), url.to_owned());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((body, signature)) = bodies.get(i) else { break };
                    let answer = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .header("x-hub-signature-256", signature)
                        .body(body.clone())
                        .send()
                        .await
                        .expect("post");
                    assert_eq!(answer.status(), 200, "message {i}");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("worker");
    }
    start.elapsed().as_secs_f64()
}

async fn count(db: &sea_orm::DatabaseConnection, table: &str) -> i64 {
    let row = db
        .query_one(Statement::from_string(db.get_database_backend(), format!("SELECT COUNT(*) AS n FROM {table}")))
        .await
        .expect("count")
        .expect("a row");
    row.try_get::<i64>("", "n").expect("n")
}

#[tokio::main]
async fn main() {
    let messages = env_or("MESSAGES", 10_000);
    let connections = env_or("CONNECTIONS", 64);
    let known_pool = env_or("KNOWN", 1_000);
    let mut settings = Settings::defaults();
    settings.database_url =
        std::env::var("WA_BENCH_DATABASE_URL").expect("WA_BENCH_DATABASE_URL: the seeded database to run against");
    settings.listen = "127.0.0.1:0".into();
    settings.outbox_interval = 3600;
    let app = Application::build(settings).await.expect("build the instance");
    let url_base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    tokio::spawn(app.run());
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let key = format!("bench{run}");
    let phone_number_id = format!("{PHONE_NUMBER_ID}{run}");
    whatsapp_number::ActiveModel {
        name: Set(format!("Bench {run}")),
        phone_number_id: Set(phone_number_id.clone()),
        waba_id: Set("1".into()),
        access_token: Set(state.sealer.seal("token")),
        app_secret: Set(state.sealer.seal(APP_SECRET)),
        graph_version: Set("v23.0".into()),
        webhook_key: Set(key.clone()),
        verify_token: Set("verify".into()),
        created_at: Set(chrono::Utc::now()),
        updated_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(&state.db.conn)
    .await
    .expect("connect the number");
    let url = format!("{url_base}/webhooks/whatsapp/{key}");
    // Numbers of this run: real US area codes (the phone parser refuses impossible ones), and an
    // offset per run, so that a run on a database used before still writes from new numbers.
    const AREAS: [u32; 10] = [212, 213, 312, 415, 617, 702, 206, 303, 404, 512];
    let seed = usize::from_str_radix(&run[..6], 16).expect("hex");
    let area = AREAS[seed % AREAS.len()];
    let offset = (seed / AREAS.len()) % 400 * 10_000;
    let number = |i: usize| format!("1{area}{}", 2_000_000 + (offset + i) % 8_000_000);
    // The known half: contacts made first, not timed.
    let priming = (0..known_pool).map(|i| webhook(&phone_number_id, &format!("{run}p"), i, &number(i))).collect();
    post_all(&url, priming, connections).await;
    let (contacts, tickets) = (count(&state.db.conn, "contacts").await, count(&state.db.conn, "tickets").await);
    let bodies: Vec<_> = (0..messages)
        .map(|n| {
            let from = if n % 2 == 0 { number((n / 2) % known_pool) } else { number(known_pool + n) };
            webhook(&phone_number_id, &run, n, &from)
        })
        .collect();
    let seconds = post_all(&url, bodies, connections).await;
    let made = count(&state.db.conn, "contacts").await - contacts;
    if usize::try_from(made).unwrap_or_default() != messages / 2 {
        println!(
            "note: {made} contacts were made for {} new numbers: the others matched a seeded Phone or an earlier run's number",
            messages / 2
        );
    }
    let opened = count(&state.db.conn, "tickets").await - tickets;
    println!(
        "whatsapp inbound: {messages} messages at {connections} connections in {seconds:.2} s: {:.0} messages/s \
         ({made} contacts and {opened} tickets created; {contacts} contacts before)",
        messages as f64 / seconds
    );
}
