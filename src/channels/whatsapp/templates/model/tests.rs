//! The template model on Meta's shapes and on odd text.

use serde_json::json;

use super::*;

fn values(pairs: &[(&str, &str)]) -> Values {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn body(text: &str) -> Content {
    Content { body: text.to_owned(), ..Content::default() }
}

#[test]
fn positional_placeholders_are_counted_once_each_in_number_order() {
    assert_eq!(placeholders("Hi {{1}}, your ticket {{2}} was updated."), [Key::Position(1), Key::Position(2)]);
    assert_eq!(placeholders("{{2}} then {{1}} then {{1}} again"), [Key::Position(1), Key::Position(2)]);
    assert_eq!(placeholders("Hello from our support team."), []);
    assert_eq!(placeholders(""), []);
}

#[test]
fn odd_braces_stay_text_and_spaces_inside_a_placeholder_are_allowed() {
    assert_eq!(placeholders("Hi {{ 1 }}"), [Key::Position(1)]);
    assert_eq!(placeholders("Hi {{1"), []);
    assert_eq!(placeholders("Hi {{1}"), []);
    assert_eq!(placeholders("Hi }}1{{"), []);
    assert_eq!(placeholders("{{0}} {{1000}} {{hi there}} {{}} {{Name}}"), []);
    assert_eq!(placeholders("{{{1}}}"), [Key::Position(1)]);
    assert_eq!(placeholders("{{ {{2}}"), [Key::Position(2)]);
    let values = values(&[("body_1", "Sheena")]);
    assert_eq!(body("a {{1 b {{ 1 }} c {{1}}}").body_text(&values), "a {{1 b Sheena c Sheena}");
    assert_eq!(body("{{{1}}}").body_text(&values), "{Sheena}");
    assert_eq!(body("ends with {{").body_text(&values), "ends with {{");
}

#[test]
fn named_placeholders_keep_their_order_and_names() {
    let content = body("Hi {{first_name}}, ticket {{ticket_number}} for {{first_name}}");
    let keys: Vec<_> = content.parameters().into_iter().map(|p| p.field()).collect();
    assert_eq!(keys, ["body_first_name", "body_ticket_number"]);
}

#[test]
fn the_preview_fills_in_values_and_keeps_a_missing_one_as_written() {
    let content = Content {
        header: Some("Ticket {{1}}".into()),
        body: "Hi {{1}}, your ticket {{2}} was updated. Thanks, {{1}}!".into(),
        footer: Some("Frontdesk".into()),
        ..Content::default()
    };
    let filled = values(&[("header_1", "#1042"), ("body_1", " Sheena "), ("body_2", "#1042")]);
    assert_eq!(
        content.preview(&filled),
        "Ticket #1042\n\nHi Sheena, your ticket #1042 was updated. Thanks, Sheena!\n\nFrontdesk"
    );
    let partly = values(&[("body_1", "Sheena"), ("body_2", "  ")]);
    assert_eq!(content.body_text(&partly), "Hi Sheena, your ticket {{2}} was updated. Thanks, Sheena!");
    assert_eq!(body("No parameters.").preview(&Values::new()), "No parameters.");
}

#[test]
fn metas_components_give_header_body_and_url_button_parameters() {
    let components = json!([
        {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"},
        {"type": "BODY", "text": "Hi {{1}}, it ships on {{2}}.", "example": {"body_text": [["Ann", "Monday"]]}},
        {"type": "FOOTER", "text": "Reply STOP to stop"},
        {"type": "BUTTONS", "buttons": [
            {"type": "QUICK_REPLY", "text": "Thanks"},
            {"type": "URL", "text": "Track", "url": "https://shop.example/track/{{1}}"},
        ]},
        {"type": "SOMETHING_NEW", "text": "{{9}}"},
    ])
    .to_string();
    let content = Content::parse(&components);
    let labels: Vec<_> = content.parameters().iter().map(Parameter::label).collect();
    assert_eq!(labels, ["Header {{1}}", "Body {{1}}", "Body {{2}}", "Button 2 {{1}}"]);
    assert_eq!(content.footer.as_deref(), Some("Reply STOP to stop"));

    let media =
        Content::parse(&json!([{"type": "HEADER", "format": "IMAGE"}, {"type": "BODY", "text": "x"}]).to_string());
    assert_eq!(media.header, None);
    assert_eq!(media.header_media, Some(HeaderMedia::File { kind: FileKind::Image, example: None }));
    for odd in ["", "null", "{}", "[1, \"a\", null]", "[{\"type\": 5}]", "not json"] {
        assert_eq!(Content::parse(odd), Content::default(), "{odd}");
    }
}

#[test]
fn the_send_object_is_the_cloud_apis_template() {
    let content = Content::parse(
        &json!([
            {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"},
            {"type": "BODY", "text": "Hi {{1}}, your ticket {{2}}."},
            {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Track", "url": "https://x.example/{{1}}"}]},
        ])
        .to_string(),
    );
    let given = values(&[("header_1", "A1"), ("body_1", "Sheena"), ("body_2", "#1042"), ("button0_1", "A1")]);
    assert_eq!(
        content.send_object("ticket_update", "en_US", &given),
        json!({"name": "ticket_update", "language": {"code": "en_US"}, "components": [
            {"type": "header", "parameters": [{"type": "text", "text": "A1"}]},
            {"type": "body", "parameters": [{"type": "text", "text": "Sheena"}, {"type": "text", "text": "#1042"}]},
            {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "A1"}]},
        ]})
    );
    let named = body("Hi {{first_name}}");
    assert_eq!(
        named.send_object("greeting", "de", &values(&[("body_first_name", "Jo")])),
        json!({"name": "greeting", "language": {"code": "de"}, "components": [
            {"type": "body", "parameters": [{"type": "text", "parameter_name": "first_name", "text": "Jo"}]}]})
    );
    assert_eq!(
        body("Hello.").send_object("hello_world", "en_US", &Values::new()),
        json!({"name": "hello_world", "language": {"code": "en_US"}})
    );
}

#[test]
fn a_missing_or_too_long_parameter_is_named_by_its_field() {
    let content = Content { header: Some("{{1}}".into()), body: "Hi {{1}} {{2}} {{3}}".into(), ..Content::default() };
    let long = "x".repeat(61);
    let errors = content.check(&values(&[("header_1", &long), ("body_1", "Ann"), ("body_2", " "), ("body_3", "a\nb")]));
    assert_eq!(errors.get("header_1").map(String::as_str), Some("Use at most 60 characters."));
    assert_eq!(errors.get("body_2").map(String::as_str), Some("Enter Body {{2}}."));
    assert!(errors.contains_key("body_3"));
    assert!(!errors.contains_key("body_1"));
    assert!(body("No parameters.").check(&Values::new()).is_empty());
}

fn image_template(example: &str) -> Content {
    Content::parse(
        &json!([
            {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": [example]}},
            {"type": "BODY", "text": "Hi {{1}}, here is your order."},
            {"type": "BUTTONS", "buttons": [
                {"type": "QUICK_REPLY", "text": "Thanks"},
                {"type": "COPY_CODE", "text": "Copy offer code", "example": ["SAVE10"]},
            ]},
        ])
        .to_string(),
    )
}

#[test]
fn a_media_header_keeps_an_https_example_and_asks_for_a_link_and_a_copy_code_for_its_code() {
    let content = image_template("https://scontent.whatsapp.net/v/t61/banner.jpg?oe=1");
    let example = Some("https://scontent.whatsapp.net/v/t61/banner.jpg?oe=1".to_owned());
    assert_eq!(content.header_media, Some(HeaderMedia::File { kind: FileKind::Image, example }));
    assert_eq!(content.slots(), [Slot::Link(FileKind::Image), Slot::Code(1)]);
    let fields: Vec<_> = content.slots().into_iter().map(Slot::field).collect();
    assert_eq!(fields, ["header_link", "button1_code"]);
    assert_eq!(content.unsendable, None);
    // An upload handle is no link to prefill.
    let handle = image_template("4::aW1hZ2UvanBlZw==:ARa1ZDhwbLZM3EENeeg");
    assert_eq!(handle.header_media, Some(HeaderMedia::File { kind: FileKind::Image, example: None }));
}

#[test]
fn the_send_object_carries_the_header_file_and_the_coupon_code_by_button_index() {
    let content = image_template("");
    let given =
        values(&[("header_link", " https://shop.example/a.jpg "), ("body_1", "Ann"), ("button1_code", "SAVE10")]);
    assert!(content.check(&given).is_empty(), "{:?}", content.check(&given));
    assert_eq!(
        content.send_object("offer", "en_US", &given),
        json!({"name": "offer", "language": {"code": "en_US"}, "components": [
            {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://shop.example/a.jpg"}}]},
            {"type": "body", "parameters": [{"type": "text", "text": "Ann"}]},
            {"type": "button", "sub_type": "copy_code", "index": "1",
             "parameters": [{"type": "coupon_code", "coupon_code": "SAVE10"}]},
        ]})
    );
    assert_eq!(content.preview(&given), "[Image: https://shop.example/a.jpg]\n\nHi Ann, here is your order.");

    let document =
        Content::parse(&json!([{"type": "HEADER", "format": "DOCUMENT"}, {"type": "BODY", "text": "x"}]).to_string());
    let with_name = values(&[("header_link", "https://x.example/i.pdf"), ("header_filename", "Invoice 7.pdf")]);
    assert_eq!(
        document.send_object("invoice", "en", &with_name)["components"][0],
        json!({"type": "header", "parameters": [{"type": "document",
               "document": {"link": "https://x.example/i.pdf", "filename": "Invoice 7.pdf"}}]})
    );
    let without = values(&[("header_link", "https://x.example/i.pdf"), ("header_filename", " ")]);
    assert!(document.check(&without).is_empty());
    assert_eq!(
        document.send_object("invoice", "en", &without)["components"][0]["parameters"][0]["document"],
        json!({"link": "https://x.example/i.pdf"})
    );
}

#[test]
fn a_location_header_takes_a_place() {
    let content =
        Content::parse(&json!([{"type": "HEADER", "format": "LOCATION"}, {"type": "BODY", "text": "x"}]).to_string());
    assert_eq!(content.slots(), [Slot::Latitude, Slot::Longitude, Slot::PlaceName, Slot::PlaceAddress]);
    let given =
        values(&[("header_latitude", "51.5072"), ("header_longitude", "-0.1276"), ("header_place_name", "Office")]);
    assert!(content.check(&given).is_empty());
    assert_eq!(
        content.send_object("visit", "en", &given)["components"][0],
        json!({"type": "header", "parameters": [{"type": "location",
               "location": {"latitude": "51.5072", "longitude": "-0.1276", "name": "Office"}}]})
    );
    assert_eq!(content.place(&given).as_deref(), Some("Office (51.5072, -0.1276)"));
    let wrong = values(&[("header_latitude", "91"), ("header_longitude", "1e2")]);
    let errors = content.check(&wrong);
    assert!(errors.get("header_latitude").is_some_and(|e| e.contains("-90 to 90")), "{errors:?}");
    assert!(errors.get("header_longitude").is_some_and(|e| e.contains("-180 to 180")), "{errors:?}");
}

#[test]
fn links_must_be_https_with_a_host_and_codes_short() {
    let content = image_template("");
    for (link, words) in [
        ("", "Enter the image link"),
        ("http://shop.example/a.jpg", "https://"),
        ("javascript:alert(1)", "https://"),
        ("https://", "https://"),
        ("shop.example/a.jpg", "https://"),
        ("https://shop.example/a b.jpg", "no spaces"),
        ("https://me:secret@shop.example/a.jpg", "user name"),
    ] {
        let errors = content.check(&values(&[("header_link", link), ("body_1", "A"), ("button1_code", "X")]));
        assert!(errors.get("header_link").is_some_and(|e| e.contains(words)), "{link}: {errors:?}");
    }
    let long = format!("https://shop.example/{}", "a".repeat(LINK_MAX));
    let errors = content.check(&values(&[("header_link", &long), ("body_1", "A"), ("button1_code", "X")]));
    assert_eq!(errors.get("header_link").map(String::as_str), Some("Use at most 2048 characters."));
    let errors = content.check(&values(&[
        ("header_link", "https://a.example/x"),
        ("body_1", "A"),
        ("button1_code", "SIXTEEN-CHARS-XX"),
    ]));
    assert_eq!(errors.get("button1_code").map(String::as_str), Some("Use at most 15 characters."));
    assert_eq!(errors.len(), 1);
}

#[test]
fn what_needs_more_than_the_form_asks_is_unsendable() {
    for (components, why) in [
        (json!([{"type": "HEADER", "format": "GIF"}]), "a GIF header"),
        (json!([{"type": "BODY", "text": "x"}, {"type": "CAROUSEL", "cards": []}]), "a carousel"),
        (json!([{"type": "BUTTONS", "buttons": [{"type": "MPM", "text": "View"}]}]), "MPM buttons"),
    ] {
        assert_eq!(Content::parse(&components.to_string()).unsendable.as_deref(), Some(why));
    }
}
