//! The quarantine of inbound mail keeps what nobody deals with for the retention period
//! (`FRONTDESK_QUARANTINE_RETENTION_DAYS`, 30 days by default), then housekeeping deletes it.

use chrono::{DateTime, Duration, Utc};
use frontdesk::channels::email::ingest::quarantine;
use frontdesk::startup::housekeeping_round;

use crate::helpers::{spawn_app, TestApp};

const QUARANTINE: &str = "/agent/settings/channels/email/quarantine";

async fn quarantine_mail(app: &TestApp, subject: &str, received_at: DateTime<Utc>) {
    let raw = format!("From: someone@example.com\r\nSubject: {subject}\r\n\r\nx");
    quarantine::store(&app.state.db, raw.as_bytes(), "Test", "pipe", true, received_at).await.expect("store");
}

async fn subjects_listed(app: &TestApp) -> Vec<String> {
    app.get(QUARANTINE).await.texts("table.quarantine tbody tr td:nth-child(3)")
}

#[tokio::test]
async fn quarantined_mail_older_than_the_retention_period_is_deleted_by_housekeeping() {
    let app = spawn_app().await;
    app.set_up_admin().await;
    let now = Utc::now();
    // More than one purge batch of old mail, so that none is left behind by the batching.
    for n in 0..230 {
        quarantine_mail(&app, &format!("Old {n}"), now - Duration::days(31) - Duration::minutes(n)).await;
    }
    quarantine_mail(&app, "Four weeks old", now - Duration::days(29)).await;
    quarantine_mail(&app, "Just arrived", now).await;
    assert!(app.get(QUARANTINE).await.text().contains("Mail is kept here for 30 days, then deleted."));

    housekeeping_round(&app.state, now).await;
    assert_eq!(subjects_listed(&app).await, ["Just arrived", "Four weeks old"]);
    assert_eq!(app.count("quarantine").await, 2);

    // A shorter retention, on an instance configured so.
    let strict = app.second_instance_with(|s| s.quarantine_retention_days = 7).await;
    assert!(strict.get(QUARANTINE).await.text().contains("kept here for 7 days"));
    housekeeping_round(&strict.state, now).await;
    assert_eq!(subjects_listed(&app).await, ["Just arrived"]);
}
