//! The WhatsApp sender's benchmark: template messages queued in the outbox (as Send WhatsApp
//! Message queues them) sent through the Cloud API stand-in of the tests (a local HTTP server
//! answering as Meta does), by several workers at once as several instances' outbox workers
//! would. It prints messages/s and checks that each went out exactly once.
//!
//! ```sh
//! cargo bench --bench whatsapp_send                      # a fresh SQLite file
//! WHATSAPP_BENCH_DATABASE_URL='postgres://postgres@127.0.0.1:5432/wabench?sslmode=disable' \
//!     cargo bench --bench whatsapp_send                  # an existing, migrated database
//! ```

// A benchmark, like a test, stops at the first thing that goes wrong.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "../tests/web/whatsapp/standin.rs"]
mod standin;

use std::time::Instant;

use chrono::Utc;
use frontdesk::channels::whatsapp::api::Api;
use frontdesk::channels::whatsapp::outgoing::{self, Content, Outgoing, Recipient};
use frontdesk::channels::whatsapp::sender::WhatsAppSender;
use frontdesk::db::{execute_all, Db};
use frontdesk::domain::phone::Phone;
use frontdesk::entities::whatsapp_number;
use frontdesk::secrets::Sealer;
use frontdesk::services::deliveries;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};
use serde_json::json;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const MESSAGES: usize = 10_000;
const WORKERS: usize = 4;

#[tokio::main]
async fn main() {
    let meta = standin::Standin::start().await;
    let file = std::env::temp_dir().join(format!("frontdesk-wabench-{}.db", std::process::id()));
    let url = std::env::var("WHATSAPP_BENCH_DATABASE_URL").unwrap_or_else(|_| format!("sqlite://{}", file.display()));
    let db = Db::connect(&url, 16).await.expect("database");
    let sealer = Sealer::new("a benchmark's secret key of at least thirty-two characters");
    let now = Utc::now();
    let number = whatsapp_number::ActiveModel {
        name: Set("Bench".into()),
        phone_number_id: Set(format!("{}{}", standin::PHONE_NUMBER_ID, now.timestamp() % 1000)),
        waba_id: Set(standin::WABA_ID.into()),
        access_token: Set(sealer.seal(standin::TOKEN)),
        app_secret: Set(sealer.seal(standin::APP_SECRET)),
        graph_version: Set("v23.0".into()),
        webhook_key: Set(format!("bench{}", now.timestamp_micros())),
        verify_token: Set("bench".into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&db.conn)
    .await
    .expect("a number");

    let backend = db.conn.get_database_backend();
    let started = Instant::now();
    for chunk in (0..MESSAGES).collect::<Vec<_>>().chunks(500) {
        let txn = db.begin_write().await.expect("begin");
        let mut statements = Vec::new();
        for n in chunk {
            let to = Phone::from_e164(&format!("+4477009{:05}", n % 100_000)).expect("a number");
            let template = json!({"name": "ticket_update", "language": {"code": "en_US"},
                "components": [{"type": "body", "parameters": [{"type": "text", "text": "Melissa"}, {"type": "text", "text": format!("#{n}")}]}]});
            let message = Outgoing {
                number_id: number.id,
                to: Recipient::Number(to),
                content: Content::Template { template, preview: format!("Hi Melissa, your ticket #{n} was updated.") },
                ticket_id: None,
                message_id: None,
            };
            statements.extend(outgoing::enqueue_statements(backend, &outgoing::new_id(), message, now));
        }
        execute_all(&txn, statements).await.expect("queue");
        txn.commit().await.expect("commit");
    }
    println!("queued {MESSAGES} template messages in {:.2?}", started.elapsed());

    let api = Api::new(&meta.url).expect("client");
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..WORKERS {
        let (db, api, sealer) = (db.clone(), api.clone(), sealer.clone());
        workers.push(tokio::spawn(async move {
            let sender = WhatsAppSender { db: &db, api: &api, sealer: &sealer };
            let mut total = deliveries::SendReport::default();
            loop {
                let round = deliveries::send_due(&db, &sender, Utc::now()).await.expect("round");
                if round == deliveries::SendReport::default() {
                    break total;
                }
                total.sent += round.sent;
                total.retried += round.retried;
                total.given_up += round.given_up;
            }
        }));
    }
    let (mut sent, mut retried) = (0, 0);
    for w in workers {
        let report = w.await.expect("worker");
        sent += report.sent;
        retried += report.retried + report.given_up;
    }
    let elapsed = started.elapsed();
    let received = meta.sent().len();
    println!(
        "sent {sent} through the stand-in with {WORKERS} workers in {elapsed:.2?}: {:.0} messages/s; the stand-in \
         received {received}; {retried} attempts failed",
        sent as f64 / elapsed.as_secs_f64()
    );
    assert_eq!(received, MESSAGES, "each message exactly once");
    let _ = std::fs::remove_file(&file);
}
