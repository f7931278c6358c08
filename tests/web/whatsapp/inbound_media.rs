//! Inbound media, fetched from the stand-in by the worker (two steps, with the token) and
//! shown as attachments; statuses of a reply posted out of order; when a closed ticket reopens.

use chrono::{Duration, Utc};
use frontdesk::channels::whatsapp::media::{self, Fetcher, Round};
use serde_json::json;

use super::inbound::{message, Connected, FROM};
use super::send_whatsapp;
use super::standin::{statuses_webhook, text_from};

fn fetcher(wa: &Connected) -> Fetcher<'_> {
    let state = &wa.app.state;
    Fetcher { db: &state.db, api: &state.whatsapp, sealer: &state.sealer, max_bytes: 1024 * 1024 }
}

#[tokio::test]
async fn an_image_is_fetched_and_shown_as_an_attachment_of_its_message() {
    let wa = Connected::start().await;
    wa.meta.add_media("media-1", b"\xff\xd8\xff\xe0 a jpeg", "image/jpeg");
    let image = json!({"id": "media-1", "mime_type": "image/jpeg", "sha256": "x", "caption": "The blinking light"});
    assert_eq!(wa.post(&message("wamid.M1", "image", image)).await, 200);
    assert_eq!(wa.app.count("attachments").await, 0, "not fetched in Meta's request");
    let round = media::fetch_due(fetcher(&wa), Utc::now()).await.unwrap();
    assert_eq!(round, Round { stored: 1, ..Round::default() });
    assert_eq!(wa.app.texts("SELECT media_state AS v FROM whatsapp_messages").await, ["stored"]);
    let page = wa.ticket_page().await;
    assert_eq!(page.texts(".files a"), ["image.jpg"]);
    assert!(page.text().contains("Image: The blinking light"));
    let file = wa.app.texts("SELECT CAST(size_bytes AS TEXT) || ' ' || content_type AS v FROM attachments").await;
    assert_eq!(file, ["11 image/jpeg"]);
    // Nothing is fetched twice.
    assert_eq!(media::fetch_due(fetcher(&wa), Utc::now() + Duration::hours(1)).await.unwrap(), Round::default());
}

#[tokio::test]
async fn a_download_that_failed_is_retried_later_and_stored_and_the_message_is_kept_meanwhile() {
    let wa = Connected::start().await;
    wa.meta.add_media("media-2", b"%PDF-1.7 bill", "application/pdf");
    wa.meta.inner.lock().unwrap().media_failures = 1;
    let document = json!({"id": "media-2", "mime_type": "application/pdf", "filename": "bill-march.pdf"});
    assert_eq!(wa.post(&message("wamid.M2", "document", document)).await, 200);
    assert_eq!(media::fetch_due(fetcher(&wa), Utc::now()).await.unwrap().retried, 1);
    assert!(wa.ticket_page().await.text().contains("Document “bill-march.pdf”"), "the message is kept");
    assert_eq!(media::fetch_due(fetcher(&wa), Utc::now()).await.unwrap(), Round::default(), "not before its back-off");
    let round = media::fetch_due(fetcher(&wa), Utc::now() + Duration::minutes(2)).await.unwrap();
    assert_eq!(round.stored, 1);
    assert_eq!(wa.ticket_page().await.texts(".files a"), ["bill-march.pdf"]);
}

#[tokio::test]
async fn a_file_that_never_comes_is_given_up_after_the_last_attempt_and_the_message_stays() {
    let wa = Connected::start().await;
    let video = json!({"id": "media-gone", "mime_type": "video/mp4"});
    assert_eq!(wa.post(&message("wamid.M3", "video", video)).await, 200);
    let mut at = Utc::now();
    let mut failed = 0;
    for _ in 0..media::ATTEMPTS {
        failed += media::fetch_due(fetcher(&wa), at).await.unwrap().failed;
        at += Duration::hours(2);
    }
    assert_eq!(failed, 1);
    assert_eq!(wa.app.texts("SELECT media_state AS v FROM whatsapp_messages").await, ["failed"]);
    assert_eq!(wa.app.count("messages").await, 1);
}

#[tokio::test]
async fn a_file_over_the_attachment_limit_is_given_up_at_once_and_the_message_stays() {
    let wa = Connected::start().await;
    wa.meta.add_media("media-big", &[7; 4096], "video/mp4");
    assert_eq!(wa.post(&message("wamid.M4", "video", json!({"id": "media-big", "mime_type": "video/mp4"}))).await, 200);
    let small = Fetcher { max_bytes: 1024, ..fetcher(&wa) };
    assert_eq!(media::fetch_due(small, Utc::now()).await.unwrap().failed, 1);
    assert_eq!(wa.app.texts("SELECT media_state AS v FROM whatsapp_messages").await, ["failed"]);
    assert_eq!(wa.app.count("attachments").await, 0);
    assert!(wa.ticket_page().await.text().contains("Video"));
}

#[tokio::test]
async fn statuses_out_of_order_leave_each_reply_in_its_latest_state_on_the_ticket_page() {
    let wa = Connected::start().await;
    assert_eq!(wa.post(&text_from(FROM, "Melissa Ortiz", "wamid.T1", "Hi", Utc::now().timestamp())).await, 200);
    let page = wa.ticket_page().await;
    let path = format!("/agent/tickets/{}", wa.app.texts("SELECT CAST(number AS TEXT) AS v FROM tickets").await[0]);
    for text in ["Unplug it.", "Then plug it in again."] {
        assert_eq!(wa.app.submit(&path, &format!("{path}/replies"), &[("reply", text)]).await.status, 303);
    }
    drop(page);
    assert_eq!(send_whatsapp(&wa.app).await.sent, 2);
    // The two go out side by side: each is known by its text.
    let wamid_of = |text: &str| {
        wa.meta.sent().into_iter().find(|s| s.body["text"]["body"] == text).map(|s| s.wamid).expect("sent")
    };
    let (first, second) = (wamid_of("Unplug it."), wamid_of("Then plug it in again."));
    let status = |wamid: &str, status: &str| json!({"id": wamid, "status": status, "timestamp": "1765000000", "recipient_id": FROM});
    let failed = json!({"id": second, "status": "failed", "timestamp": "1765000100", "recipient_id": FROM,
                        "errors": [{"code": 131026, "title": "Message undeliverable"}]});
    for batch in [
        json!([status(&first, "read")]),
        json!([status(&first, "delivered"), status(&first, "sent"), status(&first, "sent")]),
        json!([status(&second, "sent"), failed, status(&first, "failed")]),
        json!([status(&second, "delivered")]),
    ] {
        assert_eq!(wa.post(&statuses_webhook(batch)).await, 200);
    }
    let page = wa.app.get(&path).await;
    assert_eq!(page.texts(".delivery-state"), ["Read", "Failed"]);
    assert!(page.text().contains("not on WhatsApp"), "the reason is shown");
}

#[tokio::test]
async fn a_closed_ticket_takes_a_message_within_the_reopen_days_and_not_after() {
    let wa = Connected::start().await;
    assert_eq!(wa.post(&text_from(FROM, "Melissa Ortiz", "wamid.C1", "Hi", 1_765_000_000)).await, 200);
    let closed = (Utc::now() - Duration::days(2)).to_rfc3339();
    wa.app.exec(&format!("UPDATE tickets SET status = 'Closed', updated_at = '{closed}'")).await;
    assert_eq!(wa.post(&text_from(FROM, "Melissa Ortiz", "wamid.C2", "Again", 1_765_000_100)).await, 200);
    assert_eq!(wa.app.texts("SELECT status AS v FROM tickets").await, ["Open"], "reopened");
    let long_ago = (Utc::now() - Duration::days(30)).to_rfc3339();
    wa.app.exec(&format!("UPDATE tickets SET status = 'Closed', updated_at = '{long_ago}'")).await;
    assert_eq!(wa.post(&text_from(FROM, "Melissa Ortiz", "wamid.C3", "Another problem", 1_765_000_200)).await, 200);
    assert_eq!(
        wa.app.texts("SELECT status || ' ' || subject AS v FROM tickets ORDER BY id").await,
        ["Closed Hi", "Open Another problem"]
    );
    assert_eq!(wa.app.count("contacts").await, 1);
}
