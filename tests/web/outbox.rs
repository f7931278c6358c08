use chrono::{Duration, Utc};
use frontdesk::channels::email::{self, OutgoingMail};
use frontdesk::domain::Email;
use frontdesk::entities::outbox::DeliveryChannel;
use frontdesk::services::deliveries;

use crate::helpers::spawn_app_with;
use crate::smtp_sink::{free_port, SmtpSink};

fn mail() -> OutgoingMail {
    let mut mail = OutgoingMail::new(
        Email::parse("melissa@example.com").expect("address"),
        Some("Melissa Ortiz".into()),
        "Your request #1042".into(),
        "We have received your request.\n.\nA line with a lone dot above.".into(),
    );
    mail.in_reply_to = Some("abc@customer.example".into());
    mail.references = Some("<abc@customer.example>".into());
    mail
}

#[tokio::test]
async fn mail_queued_while_the_smtp_server_is_down_is_sent_once_it_is_back_exactly_once() {
    let port = free_port();
    let app = spawn_app_with(|s| {
        s.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        s.mail_from = Some("support@frontdesk.test".into());
        s.outbox_interval = 3600; // the test drives the rounds itself
    })
    .await;
    let state = &app.state;
    let now = Utc::now();
    let message_id = email::enqueue(&state.db.conn, mail(), &state.mailer.domain, now).await.expect("queue");
    assert!(message_id.ends_with("@frontdesk.test"));

    // The server is down: the message stays queued, to be retried later.
    let report = deliveries::send_due(&state.db, &state.mailer, now).await.expect("round");
    assert_eq!(report.retried, 1);
    assert_eq!(app.count("outbox WHERE status = 'pending' AND attempts = 1").await, 1);

    let sink = SmtpSink::start(port).await;
    // Not yet due: nothing is sent before the back-off has passed.
    assert_eq!(
        deliveries::send_due(&state.db, &state.mailer, now + Duration::seconds(5)).await.expect("round").sent,
        0
    );
    assert!(sink.messages().is_empty());
    let later = now + Duration::seconds(31);
    assert_eq!(deliveries::send_due(&state.db, &state.mailer, later).await.expect("round").sent, 1);
    assert_eq!(
        deliveries::send_due(&state.db, &state.mailer, later + Duration::hours(2)).await.expect("round").sent,
        0
    );

    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "sent exactly once");
    let raw = &messages[0];
    assert!(raw.contains(&format!("Message-ID: <{message_id}>")), "{raw}");
    assert!(raw.contains("In-Reply-To: <abc@customer.example>"), "{raw}");
    assert!(raw.contains("Subject: Your request #1042"), "{raw}");
    assert!(raw.contains("From: support@frontdesk.test"), "{raw}");
    assert!(raw.contains("\r\n.\r\n") || raw.contains("\n.\n"), "the lone dot survives dot-stuffing: {raw}");
    assert_eq!(app.count("outbox WHERE status = 'sent'").await, 1);
}

#[tokio::test]
async fn without_an_smtp_server_mail_stays_queued() {
    let app = spawn_app_with(|s| s.smtp_url = None).await;
    let state = &app.state;
    email::enqueue(&state.db.conn, mail(), &state.mailer.domain, Utc::now()).await.expect("queue");
    let report = deliveries::send_due(&state.db, &state.mailer, Utc::now() + Duration::days(1)).await.expect("round");
    assert_eq!(report, deliveries::SendReport::default());
    assert_eq!(deliveries::pending(&state.db, DeliveryChannel::Email).await.expect("count"), 1);
}
