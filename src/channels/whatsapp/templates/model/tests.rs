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
    assert_eq!((media.header, media.header_media.as_deref()), (None, Some("IMAGE")));
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
