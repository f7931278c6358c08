//! A template's body parameters as the Send WhatsApp Message form asks for them: which there
//! are (`{{1}}`, `{{2}}`... or `{{first_name}}`), which are obviously the contact's first name
//! or the new ticket's number (filled in by the form), the text as the customer will read it,
//! and the Cloud API `template` object that sends it.

use serde_json::{json, Value};

/// The most characters of one parameter's value (Meta refuses longer body parameters).
pub const MAX_PARAM: usize = 1024;

/// One parameter of a template's body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    /// `1`, `2`... for positional templates, the name for named ones.
    pub key: String,
    /// What the form fills in by itself.
    pub auto: Option<Auto>,
}

/// A parameter whose value the form knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auto {
    /// The contact's first name (a default the agent may change).
    FirstName,
    /// The number of the ticket the message opens (filled in when it is opened).
    TicketNumber,
}

/// A template's body as sent: its text and parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Body {
    pub text: String,
    pub params: Vec<Param>,
    pub named: bool,
}

/// The body of a template's `components` (Meta's JSON); `None` when it has parameters outside
/// its body (a header or buttons to fill), which the form does not offer yet.
#[must_use]
pub fn body(components: &str, parameter_format: &str) -> Option<Body> {
    let components: Value = serde_json::from_str(components).ok()?;
    let mut text = None;
    for component in components.as_array()? {
        let kind = component["type"].as_str().unwrap_or_default().to_ascii_uppercase();
        let own = component["text"].as_str().unwrap_or_default();
        if kind == "BODY" {
            text = Some(own.to_owned());
        } else if !placeholders(own).is_empty() || component["buttons"].to_string().contains("{{") {
            return None;
        }
    }
    let text = text?;
    let named = parameter_format.eq_ignore_ascii_case("NAMED");
    let mut params: Vec<Param> = Vec::new();
    for (key, before) in placeholders(&text) {
        if !params.iter().any(|p| p.key == key) {
            params.push(Param { auto: auto(&key, before), key });
        }
    }
    if !named {
        params.sort_by_key(|p| p.key.parse::<u32>().unwrap_or(u32::MAX));
    }
    Some(Body { text, params, named })
}

/// Every `{{key}}` in `text` with the text before it.
fn placeholders(text: &str) -> Vec<(String, &str)> {
    let mut found = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open + 2..].find("}}") else { break };
        let key = rest[open + 2..open + 2 + close].trim();
        let valid = !key.is_empty() && key.len() <= 64 && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if valid {
            found.push((key.to_owned(), &text[..offset + open]));
        }
        let step = open + 2 + close + 2;
        offset += step;
        rest = &rest[step..];
    }
    found
}

/// What a parameter obviously is, from its name or the words just before it.
fn auto(key: &str, before: &str) -> Option<Auto> {
    let key = key.to_ascii_lowercase();
    let before = before.trim_end().to_ascii_lowercase();
    if ["first_name", "firstname", "name", "customer_name"].contains(&key.as_str())
        || ["hi", "hello", "dear", "hey"].iter().any(|w| before == *w || before.ends_with(&format!(" {w}")))
    {
        return Some(Auto::FirstName);
    }
    if ["ticket", "ticket_number", "ticket_id"].contains(&key.as_str())
        || before.ends_with("ticket")
        || before.ends_with("ticket #")
        || before.ends_with("ticket no.")
    {
        return Some(Auto::TicketNumber);
    }
    None
}

impl Body {
    /// The text with `values` (one per parameter, in order) in place of the placeholders.
    #[must_use]
    pub fn render(&self, values: &[String]) -> String {
        let mut out = String::with_capacity(self.text.len());
        let mut rest = self.text.as_str();
        while let Some(open) = rest.find("{{") {
            let Some(close) = rest[open + 2..].find("}}") else { break };
            let key = rest[open + 2..open + 2 + close].trim();
            out.push_str(&rest[..open]);
            match self.params.iter().position(|p| p.key == key) {
                Some(i) => out.push_str(values.get(i).map_or("", String::as_str)),
                None => out.push_str(&rest[open..open + 2 + close + 2]),
            }
            rest = &rest[open + 2 + close + 2..];
        }
        out.push_str(rest);
        out
    }

    /// The Cloud API's `template` object for template `name` in `language` with `values`.
    #[must_use]
    pub fn object(&self, name: &str, language: &str, values: &[String]) -> Value {
        let parameters: Vec<Value> = self
            .params
            .iter()
            .zip(values)
            .map(|(p, v)| {
                if self.named {
                    json!({"type": "text", "parameter_name": p.key, "text": v})
                } else {
                    json!({"type": "text", "text": v})
                }
            })
            .collect();
        let mut template = json!({"name": name, "language": {"code": language}});
        if !parameters.is_empty() {
            template["components"] = json!([{"type": "body", "parameters": parameters}]);
        }
        template
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn components(body: &str) -> String {
        json!([{"type": "BODY", "text": body}]).to_string()
    }

    #[test]
    fn positional_parameters_are_found_in_order_with_what_is_obvious() {
        let b = body(&components("Hi {{1}}, your ticket {{2}} was updated. {{3}} {{1}}"), "POSITIONAL").unwrap();
        let keys: Vec<_> = b.params.iter().map(|p| (p.key.as_str(), p.auto)).collect();
        assert_eq!(keys, [("1", Some(Auto::FirstName)), ("2", Some(Auto::TicketNumber)), ("3", None)]);
        let values = ["Sheena".to_owned(), "#1042".to_owned(), "Thanks".to_owned()];
        assert_eq!(b.render(&values), "Hi Sheena, your ticket #1042 was updated. Thanks Sheena");
        let object = b.object("ticket_update", "en_US", &values);
        assert_eq!(object["components"][0]["parameters"][1]["text"], "#1042");
        assert_eq!(object["language"]["code"], "en_US");
    }

    #[test]
    fn named_parameters_carry_their_names_and_odd_braces_are_left_alone() {
        let b = body(&components("Dear {{ first_name }}, {{order}} {{ }} {{unclosed"), "NAMED").unwrap();
        assert_eq!(b.params.len(), 2);
        let object = b.object("t", "de", &["Ana".into(), "A-7".into()]);
        assert_eq!(object["components"][0]["parameters"][0]["parameter_name"], "first_name");
        assert_eq!(b.render(&["Ana".into(), "A-7".into()]), "Dear Ana, A-7 {{ }} {{unclosed");
        let none = body(&components("Hello from our support team."), "POSITIONAL").unwrap();
        assert!(none.params.is_empty());
        assert!(none.object("hello_world", "en_US", &[]).get("components").is_none());
    }

    #[test]
    fn a_template_with_header_parameters_is_not_offered() {
        let c = json!([{"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"}, {"type": "BODY", "text": "x"}]);
        assert!(body(&c.to_string(), "POSITIONAL").is_none());
        assert!(body("not json", "POSITIONAL").is_none());
    }
}
