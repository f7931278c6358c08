//! The batch path against a real SQLite file.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, PaginatorTrait};

use super::{write_batch, write_or_each, Job};
use crate::channels::whatsapp::inbound::{Taken, Who};
use crate::channels::whatsapp::numbers::Number;
use crate::channels::whatsapp::webhook::payload::Message;
use crate::db::Db;
use crate::entities::{ticket, whatsapp_message};
use crate::services::intake::Received;

fn message(from: &str, wamid: &str) -> (Message, serde_json::Value) {
    let raw = serde_json::json!({"from": from, "id": wamid, "timestamp": "1765000000",
        "type": "text", "text": {"body": "Where is my order?"}});
    (serde_json::from_value(raw.clone()).expect("a message"), raw)
}

/// A batch with a message for a number deleted meanwhile fails as a whole (its rows name
/// the number); taken again one by one, only that message fails.
#[tokio::test]
async fn a_batch_that_fails_is_taken_again_a_message_at_a_time() {
    let file = std::env::temp_dir().join(format!("frontdesk-batch-{}.db", uuid::Uuid::new_v4().simple()));
    let db = Db::connect(&format!("sqlite://{}", file.display()), 2).await.expect("a database");
    let sealer = crate::secrets::Sealer::new("a test key of enough length for the sealer");
    let now = Utc::now();
    let number = crate::entities::whatsapp_number::ActiveModel {
        name: Set("Support".into()),
        phone_number_id: Set("1001".into()),
        waba_id: Set("1".into()),
        access_token: Set(sealer.seal("token")),
        app_secret: Set(sealer.seal("secret")),
        graph_version: Set("v23.0".into()),
        webhook_key: Set("key".into()),
        verify_token: Set("verify".into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&db.conn)
    .await
    .expect("a number");
    let gone = Number { id: number.id + 1, ..number.clone() };
    let job = |number: &Number, from: &str, wamid: &str| {
        let (message, raw) = message(from, wamid);
        let who = Who::of(&message, &[]);
        Job { number: number.clone(), who, message, raw, text: "Where is my order?".into(), now }
    };
    let jobs = [
        job(&number, "14155550100", "wamid.A"),
        job(&gone, "14155550101", "wamid.B"),
        job(&number, "14155550102", "wamid.C"),
    ];
    let taken = write_or_each(&db, 7, &jobs).await;
    assert!(matches!(taken[0], Ok(Taken::Stored(_))), "{:?}", taken[0]);
    assert!(taken[1].is_err(), "{:?}", taken[1]);
    assert!(matches!(taken[2], Ok(Taken::Stored(_))), "{:?}", taken[2]);
    let tickets = ticket::Entity::find().count(&db.conn).await.expect("count");
    let stored = whatsapp_message::Entity::find().count(&db.conn).await.expect("count");
    assert_eq!((tickets, stored), (2, 2));
    // A batch that can be written is written as one: the second message from a new number
    // joins the ticket the first one opened, for the contact it made.
    let jobs = [job(&number, "14155550103", "wamid.D"), job(&number, "14155550103", "wamid.E")];
    let taken = write_batch(&db, 7, &jobs).await.expect("the batch").expect("written together");
    assert!(
        matches!(
            (&taken[0], &taken[1]),
            (Taken::Stored(Received::Opened { contact_created: true, .. }), Taken::Stored(Received::Added { .. }))
        ),
        "{taken:?}"
    );
    let tickets = ticket::Entity::find().count(&db.conn).await.expect("count");
    assert_eq!(tickets, 3);
    drop(db);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
}
