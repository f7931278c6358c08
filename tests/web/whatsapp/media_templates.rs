//! Templates whose header is a file (sent by link) or a place, and copy-code buttons: offered
//! on Send WhatsApp Message and on a ticket whose window closed, checked on the form, and sent
//! as the Cloud API takes them (the exact JSON the stand-in received).

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::send::{app_with_templates, post, template_id, FORM};
use super::sending::whatsapp_ticket;
use super::standin::Standin;
use crate::helpers::TestApp;

/// The example Meta keeps with an image header: a link to its copy of the reviewed file.
const EXAMPLE: &str = "https://scontent.whatsapp.net/v/t61.29466-34/banner.jpg?ccb=1-7&oe=6A1B2C3D";

/// Stores an approved template `name` (en_US) with `components` for the connected number.
async fn add_template(app: &TestApp, name: &str, components: &Value) {
    let number = app.texts("SELECT CAST(id AS TEXT) AS v FROM whatsapp_numbers").await.remove(0);
    let components = components.to_string().replace('\'', "''");
    let now = chrono::Utc::now().to_rfc3339();
    app.exec(&format!(
        "INSERT INTO whatsapp_templates (number_id, name, language, category, status, parameter_format, \
         components, synced_at) VALUES ({number}, '{name}', 'en_US', 'MARKETING', 'APPROVED', 'POSITIONAL', \
         '{components}', '{now}')"
    ))
    .await;
}

/// An app with the usual templates, an image-header one, a document-header one and a coupon
/// one, and the id of a contact with a Mobile.
async fn app_with_media(meta: &Standin) -> (TestApp, i64) {
    let app = app_with_templates(meta).await;
    let image = json!([
        {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": [EXAMPLE]}},
        {"type": "BODY", "text": "Hi {{1}}, our new opening hours are above."},
    ]);
    add_template(&app, "opening_hours", &image).await;
    let document = json!([
        {"type": "HEADER", "format": "DOCUMENT", "example": {"header_handle": ["4::YXBwbGljYXRpb24vcGRm:ARZ"]}},
        {"type": "BODY", "text": "Your invoice is attached."},
        {"type": "FOOTER", "text": "Frontdesk Shop"},
    ]);
    add_template(&app, "invoice", &document).await;
    let coupon = json!([
        {"type": "BODY", "text": "Use code {{1}} for {{2}} off."},
        {"type": "BUTTONS", "buttons": [
            {"type": "QUICK_REPLY", "text": "Not interested"},
            {"type": "COPY_CODE", "text": "Copy offer code", "example": ["SAVE10"]},
        ]},
    ]);
    add_template(&app, "coupon", &coupon).await;
    let id = app.add_contact(&[("first_name", "Melissa"), ("last_name", "Ortiz"), ("mobile", "+44 7700 900123")]).await;
    (app, id)
}

async fn form_for(app: &TestApp, contact: i64, name: &str) -> String {
    format!("{FORM}?contact_id={contact}&template_id={}", template_id(app, name).await)
}

#[tokio::test]
async fn an_image_header_template_is_offered_prefilled_with_its_example_and_sent_with_the_link_given() {
    let meta = Standin::start().await;
    let (app, contact) = app_with_media(&meta).await;
    let page = form_for(&app, contact, "opening_hours").await;
    let form = app.get(&page).await;
    assert!(form.texts("#template_id option").contains(&"Support — opening_hours (en_US)".to_owned()));
    assert_eq!(form.value_of("header_link").as_deref(), Some(EXAMPLE));
    assert!(form.texts("#header_link-hint")[0].contains("example Meta stored"), "{}", form.text());
    // The preview names the file by a link and loads nothing from elsewhere.
    assert_eq!(form.texts(".preview-header a"), [EXAMPLE]);
    assert!(!form.has("img") && !form.html.contains("src=\"https://"), "{}", form.html);

    let link = "https://cdn.example.com/hours.png?v=2";
    let fields = [("header_link", link), ("opt_in", "on"), ("action", "send")];
    let sent = post(&app, &page, &fields).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text());
    let out = meta.sent();
    assert_eq!(out.len(), 1);
    assert_eq!(
        out[0].body["template"],
        json!({"name": "opening_hours", "language": {"code": "en_US"}, "components": [
            {"type": "header", "parameters": [{"type": "image", "image": {"link": link}}]},
            {"type": "body", "parameters": [{"type": "text", "text": "Melissa"}]},
        ]})
    );
    let ticket = app.get(&sent.location.clone().unwrap()).await;
    assert!(ticket.text().contains(&format!("[Image: {link}]")), "{}", ticket.text());
    assert!(!ticket.html.contains("src=\"https://cdn.example.com"), "never embedded");
}

#[tokio::test]
async fn a_document_header_goes_with_the_file_name_the_agent_gives() {
    let meta = Standin::start().await;
    let (app, contact) = app_with_media(&meta).await;
    let page = form_for(&app, contact, "invoice").await;
    let form = app.get(&page).await;
    // Meta's upload handle is no link: nothing is prefilled.
    assert_eq!(form.value_of("header_link").as_deref(), Some(""));
    assert!(form.value_of("header_filename").is_some());
    let fields = [
        ("header_link", "https://shop.example/invoices/7.pdf"),
        ("header_filename", "Invoice 7.pdf"),
        ("opt_in", "on"),
        ("action", "send"),
    ];
    let sent = post(&app, &page, &fields).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text());
    assert_eq!(
        meta.sent()[0].body["template"],
        json!({"name": "invoice", "language": {"code": "en_US"}, "components": [
            {"type": "header", "parameters": [{"type": "document",
             "document": {"link": "https://shop.example/invoices/7.pdf", "filename": "Invoice 7.pdf"}}]},
        ]})
    );
    let body = app.texts("SELECT body AS v FROM messages").await;
    assert_eq!(
        body,
        ["[Document: Invoice 7.pdf, https://shop.example/invoices/7.pdf]\n\nYour invoice is attached.\n\nFrontdesk Shop"]
    );
}

#[tokio::test]
async fn a_bad_link_is_answered_next_to_its_field_with_the_input_kept_and_nothing_sent() {
    let meta = Standin::start().await;
    let (app, contact) = app_with_media(&meta).await;
    let page = form_for(&app, contact, "opening_hours").await;
    let long = format!("https://cdn.example.com/{}", "a".repeat(2048));
    for (link, words) in [
        ("", "Enter the image link"),
        ("http://cdn.example.com/hours.png", "https://"),
        ("javascript:alert(1)", "https://"),
        (long.as_str(), "at most 2048"),
    ] {
        let answered = post(&app, &page, &[("header_link", link), ("opt_in", "on"), ("action", "send")]).await;
        assert_eq!(answered.status, StatusCode::UNPROCESSABLE_ENTITY, "{link}");
        let error = answered.field_error("header_link").unwrap_or_default();
        assert!(error.contains(words), "{link}: {error:?}");
        assert_eq!(answered.value_of("header_link").as_deref(), Some(link));
        // A link refused is shown as text, never as a link.
        assert!(!answered.has(".preview-header a"), "{link}");
    }
    assert!(meta.sent().is_empty());
    assert_eq!(app.count("outbox").await + app.count("tickets").await, 0);
}

#[tokio::test]
async fn a_copy_code_button_sends_its_code_and_a_code_too_long_is_refused() {
    let meta = Standin::start().await;
    let (app, contact) = app_with_media(&meta).await;
    let page = form_for(&app, contact, "coupon").await;
    let fields =
        |code| [("body_1", "SAVE10"), ("body_2", "10%"), ("button1_code", code), ("opt_in", "on"), ("action", "send")];
    let refused = post(&app, &page, &fields("SAVE10-AUTUMN-26")).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.field_error("button1_code").as_deref(), Some("Use at most 15 characters."));
    assert_eq!(refused.value_of("button1_code").as_deref(), Some("SAVE10-AUTUMN-26"));
    assert!(meta.sent().is_empty());

    let sent = post(&app, &page, &fields("SAVE10")).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text());
    // The quick-reply button takes nothing: only the copy-code button, by its index.
    assert_eq!(
        meta.sent()[0].body["template"]["components"],
        json!([
            {"type": "body", "parameters": [{"type": "text", "text": "SAVE10"}, {"type": "text", "text": "10%"}]},
            {"type": "button", "sub_type": "copy_code", "index": "1",
             "parameters": [{"type": "coupon_code", "coupon_code": "SAVE10"}]},
        ])
    );
}

#[tokio::test]
async fn a_location_header_is_sent_with_its_place_and_a_gif_header_is_not_offered() {
    let meta = Standin::start().await;
    let (app, contact) = app_with_media(&meta).await;
    add_template(
        &app,
        "visit_us",
        &json!([{"type": "HEADER", "format": "LOCATION"}, {"type": "BODY", "text": "See you!"}]),
    )
    .await;
    add_template(&app, "animated", &json!([{"type": "HEADER", "format": "GIF"}, {"type": "BODY", "text": "Hey"}]))
        .await;
    let page = form_for(&app, contact, "visit_us").await;
    let options = app.get(&page).await.texts("#template_id option");
    assert!(!options.iter().any(|o| o.contains("animated")), "{options:?}");
    // The administrator reads why, beside the template's status.
    let number = app.texts("SELECT CAST(id AS TEXT) AS v FROM whatsapp_numbers").await.remove(0);
    let rows = app.get(&format!("/agent/settings/channels/whatsapp/{number}")).await.texts("#templates tbody tr");
    assert!(
        rows.contains(&"animated en_US MARKETING APPROVED (not offered for sending: it has a GIF header) 0".to_owned()),
        "{rows:?}"
    );
    assert!(rows.contains(&"visit_us en_US MARKETING APPROVED 4".to_owned()), "{rows:?}");
    let wrong = post(
        &app,
        &page,
        &[("header_latitude", "95"), ("header_longitude", "-0.1276"), ("opt_in", "on"), ("action", "send")],
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.field_error("header_latitude").is_some_and(|e| e.contains("-90 to 90")));
    let fields = [
        ("header_latitude", "51.5072"),
        ("header_longitude", "-0.1276"),
        ("header_place_name", "Frontdesk HQ"),
        ("header_place_address", "1 Main Street, London"),
        ("opt_in", "on"),
        ("action", "send"),
    ];
    let sent = post(&app, &page, &fields).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text());
    assert_eq!(
        meta.sent()[0].body["template"]["components"],
        json!([{"type": "header", "parameters": [{"type": "location", "location": {
            "latitude": "51.5072", "longitude": "-0.1276", "name": "Frontdesk HQ", "address": "1 Main Street, London"}}]}])
    );
}

#[tokio::test]
async fn a_media_template_goes_into_a_ticket_whose_window_closed() {
    let meta = Standin::start().await;
    let (app, path) = whatsapp_ticket(&meta).await;
    let ids = "SELECT CAST(t.id AS TEXT) || ' ' || CAST(t.contact_id AS TEXT) || ' ' || CAST(n.id AS TEXT) AS v \
               FROM tickets t, whatsapp_numbers n";
    let ids = app.texts(ids).await.remove(0);
    let [ticket, contact, number]: [&str; 3] = ids.split(' ').collect::<Vec<_>>().try_into().unwrap();
    let wrote = (chrono::Utc::now() - Duration::hours(30)).to_rfc3339();
    app.exec(&format!(
        "INSERT INTO whatsapp_conversations (ticket_id, number_id, contact_id, customer, last_inbound_at) \
         VALUES ({ticket}, {number}, {contact}, '+447700900123', '{wrote}')"
    ))
    .await;
    let document = json!([{"type": "HEADER", "format": "DOCUMENT"}, {"type": "BODY", "text": "Your report."}]);
    add_template(&app, "report", &document).await;
    let link = app.link_to(&path, "a[href^=\"/agent/whatsapp/send?ticket=\"]", "Send a template").await;
    let form = format!("{link}&template_id={}", template_id(&app, "report").await);
    let refused = app
        .submit(&form, FORM, &[("header_link", "ftp://x.example/r.pdf"), ("opt_in", "on"), ("action", "send")])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.field_error("header_link").is_some());
    let fields = [
        ("header_link", "https://x.example/r.pdf"),
        ("header_filename", "report.pdf"),
        ("opt_in", "on"),
        ("action", "send"),
    ];
    let sent = app.submit(&form, FORM, &fields).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text());
    assert_eq!(sent.location.as_deref(), Some(path.as_str()));
    assert_eq!(app.count("tickets").await, 1, "no new ticket");
    let out = meta.sent();
    assert_eq!(out[0].body["to"], "+447700900123");
    assert_eq!(
        out[0].body["template"]["components"],
        json!([{"type": "header", "parameters": [{"type": "document",
               "document": {"link": "https://x.example/r.pdf", "filename": "report.pdf"}}]}])
    );
    assert!(app.get(&path).await.text().contains("[Document: report.pdf, https://x.example/r.pdf]"));
}
