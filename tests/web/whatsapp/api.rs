//! Frontdesk's client of the Cloud API against the stand-in: what each answer becomes.

use frontdesk::channels::whatsapp::api::{Api, Credentials, ErrorKind};
use serde_json::json;

use super::standin::{Failure, Standin, PHONE_NUMBER_ID, TOKEN, WABA_ID};

fn credentials(token: &str) -> Credentials<'_> {
    Credentials { version: "v23.0", phone_number_id: PHONE_NUMBER_ID, waba_id: WABA_ID, token }
}

fn text(to: &str) -> serde_json::Value {
    json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "text",
           "text": {"preview_url": false, "body": "Hello"}})
}

#[tokio::test]
async fn every_page_of_templates_is_read_and_a_send_is_accepted_with_its_wamid() {
    let meta = Standin::start().await;
    let api = Api::new(&meta.url).unwrap();
    let templates = api.templates(&credentials(TOKEN)).await.unwrap();
    let names: Vec<_> = templates.iter().map(|t| format!("{} {} {}", t.name, t.language, t.status)).collect();
    assert_eq!(
        names,
        [
            "ticket_update en_US APPROVED",
            "hello_world en_US APPROVED",
            "ticket_update de APPROVED",
            "promo en_US REJECTED"
        ]
    );
    let info = api.number(&credentials(TOKEN)).await.unwrap();
    assert_eq!(info.verified_name.as_deref(), Some("Frontdesk Support"));

    let accepted = api.send(&credentials(TOKEN), &text("+16505551234")).await.unwrap();
    let sent = meta.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(accepted.wamid, sent[0].wamid);
    assert_eq!(sent[0].body["to"], "+16505551234");
}

#[tokio::test]
async fn metas_errors_become_what_the_help_desk_does_about_them() {
    let meta = Standin::start().await;
    let api = Api::new(&meta.url).unwrap();
    for (status, code, kind) in [
        (400, 131_047, ErrorKind::WindowClosed),
        (400, 131_026, ErrorKind::Undeliverable),
        (400, 132_001, ErrorKind::Template),
        (400, 131_053, ErrorKind::Media),
        (429, 130_429, ErrorKind::RateLimited),
        (400, 131_056, ErrorKind::RecipientThrottled),
        (503, 1, ErrorKind::Unavailable),
    ] {
        meta.fail_next(Failure::new(status, code, "refused by the stand-in"));
        let e = api.send(&credentials(TOKEN), &text("+16505551234")).await.unwrap_err();
        assert_eq!(e.kind, kind, "code {code}");
        assert!(e.message.contains("refused by the stand-in"), "{}", e.message);
    }
    assert!(meta.sent().is_empty());

    meta.expire_token();
    let e = api.number(&credentials(TOKEN)).await.unwrap_err();
    assert_eq!((e.kind, e.code), (ErrorKind::Token, Some(190)));

    let nobody = Api::new(&format!("http://127.0.0.1:{}", super::super::smtp_sink::free_port())).unwrap();
    assert_eq!(nobody.number(&credentials(TOKEN)).await.unwrap_err().kind, ErrorKind::Unavailable);
}

#[tokio::test]
async fn media_is_fetched_in_two_steps_with_the_token_and_capped() {
    let meta = Standin::start().await;
    let api = Api::new(&meta.url).unwrap();
    meta.add_media("1013859600285441", b"%PDF-1.4 invoice", "application/pdf");
    let media = api.media(&credentials(TOKEN), "1013859600285441", 1024).await.unwrap();
    assert_eq!(media.bytes, b"%PDF-1.4 invoice");
    assert_eq!(media.mime_type, "application/pdf");
    let too_big = api.media(&credentials(TOKEN), "1013859600285441", 8).await.unwrap_err();
    assert_eq!(too_big.kind, ErrorKind::Media);
    meta.inner.lock().unwrap().media_failures = 1;
    let e = api.media(&credentials(TOKEN), "1013859600285441", 1024).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unavailable, "a failed download is retried later");
}
