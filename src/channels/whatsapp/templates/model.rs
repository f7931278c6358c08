//! What a message template says and takes, read from the components Meta gave for it: the
//! parameters each component takes (`{{1}}`..`{{n}}` positional, or `{{first_name}}` named: in
//! the header's text, the body, and a URL button's address), the message as the customer will
//! read it with given values (the send form's preview), and the Cloud API's `template` object
//! that sends it. Pure code: the send form and the sender both build on it.
//!
//! Meta's components are read leniently: what is not understood is left out rather than
//! failing, and text that merely looks like a placeholder (`{{` never closed, `{{ hi there }}`)
//! stays text.

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// Parameter values by [`Parameter::field`].
pub type Values = BTreeMap<String, String>;

/// The most characters of a header's text parameter (Meta's limit for a header's text).
const HEADER_MAX: usize = 60;
/// The most characters of a body parameter (Meta's limit for a body's text).
const BODY_MAX: usize = 1024;
/// The most characters of the part of a button's URL a parameter fills.
const BUTTON_MAX: usize = 2000;

/// Where a parameter goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Header,
    Body,
    /// A URL button, by its position among the template's buttons.
    Button(usize),
}

/// A placeholder: `{{1}}` or `{{first_name}}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Key {
    Position(u32),
    Name(String),
}

impl Key {
    /// `{{1}}`, as the template writes it.
    #[must_use]
    pub fn placeholder(&self) -> String {
        match self {
            Self::Position(n) => format!("{{{{{n}}}}}"),
            Self::Name(name) => format!("{{{{{name}}}}}"),
        }
    }
}

/// One value a send must give.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parameter {
    pub part: Part,
    pub key: Key,
}

impl Parameter {
    /// Its form field's name: `body_1`, `header_first_name`, `button0_1`.
    #[must_use]
    pub fn field(&self) -> String {
        let key = match &self.key {
            Key::Position(n) => n.to_string(),
            Key::Name(name) => name.clone(),
        };
        match self.part {
            Part::Header => format!("header_{key}"),
            Part::Body => format!("body_{key}"),
            Part::Button(i) => format!("button{i}_{key}"),
        }
    }

    /// Its label: `Body {{1}}`, `Button 1 {{1}}`.
    #[must_use]
    pub fn label(&self) -> String {
        match self.part {
            Part::Header => format!("Header {}", self.key.placeholder()),
            Part::Body => format!("Body {}", self.key.placeholder()),
            Part::Button(i) => format!("Button {} {}", i + 1, self.key.placeholder()),
        }
    }

    /// The most characters it may have.
    #[must_use]
    pub fn max_chars(&self) -> usize {
        match self.part {
            Part::Header => HEADER_MAX,
            Part::Body => BODY_MAX,
            Part::Button(_) => BUTTON_MAX,
        }
    }
}

/// A button of the template.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Button {
    /// `QUICK_REPLY`, `URL`, `PHONE_NUMBER`...
    pub kind: String,
    pub text: String,
    /// A URL button's address, with its placeholder if it takes one.
    pub url: Option<String>,
}

/// A template's components, as read from Meta's description.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Content {
    /// The header's text, when it is text.
    pub header: Option<String>,
    /// The header's media format (`IMAGE`, `VIDEO`, `DOCUMENT`) when it is media: such a
    /// template also needs a file to send, which this model does not give.
    pub header_media: Option<String>,
    pub body: String,
    pub footer: Option<String>,
    pub buttons: Vec<Button>,
}

fn text_of(component: &Value, field: &str) -> Option<String> {
    component.get(field).and_then(Value::as_str).map(str::to_owned)
}

impl Content {
    /// Reads Meta's `components` (JSON text); anything else reads as an empty template.
    #[must_use]
    pub fn parse(components: &str) -> Self {
        let mut content = Self::default();
        let Ok(Value::Array(list)) = serde_json::from_str::<Value>(components) else { return content };
        for component in &list {
            let kind = component.get("type").and_then(Value::as_str).unwrap_or_default().to_ascii_uppercase();
            match kind.as_str() {
                "HEADER" => {
                    let format = text_of(component, "format").unwrap_or_else(|| "TEXT".into()).to_ascii_uppercase();
                    if format == "TEXT" {
                        content.header = text_of(component, "text");
                    } else {
                        content.header_media = Some(format);
                    }
                }
                "BODY" => content.body = text_of(component, "text").unwrap_or_default(),
                "FOOTER" => content.footer = text_of(component, "text"),
                "BUTTONS" => {
                    let buttons = component.get("buttons").and_then(Value::as_array).map(Vec::as_slice);
                    content.buttons = buttons
                        .unwrap_or_default()
                        .iter()
                        .map(|b| Button {
                            kind: text_of(b, "type").unwrap_or_default().to_ascii_uppercase(),
                            text: text_of(b, "text").unwrap_or_default(),
                            url: text_of(b, "url"),
                        })
                        .collect();
                }
                _ => {}
            }
        }
        content
    }

    /// Every parameter a send must give: the header's, the body's, then each URL button's.
    #[must_use]
    pub fn parameters(&self) -> Vec<Parameter> {
        let mut all = Vec::new();
        let mut add = |part: Part, text: &str| {
            all.extend(placeholders(text).into_iter().map(|key| Parameter { part, key }));
        };
        if let Some(header) = &self.header {
            add(Part::Header, header);
        }
        add(Part::Body, &self.body);
        for (i, button) in self.buttons.iter().enumerate() {
            if let (Some(url), "URL") = (&button.url, button.kind.as_str()) {
                add(Part::Button(i), url);
            }
        }
        all
    }

    /// The message as the customer will read it: header, body and footer with `values` filled
    /// in (a placeholder without a value stays as written).
    #[must_use]
    pub fn preview(&self, values: &Values) -> String {
        let header = self.header.as_deref().map(|h| fill(h, Part::Header, values));
        let body = Some(fill(&self.body, Part::Body, values));
        [header, body, self.footer.clone()]
            .into_iter()
            .flatten()
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    /// The body alone with `values` filled in.
    #[must_use]
    pub fn body_text(&self, values: &Values) -> String {
        fill(&self.body, Part::Body, values)
    }

    /// What is wrong with `values`, by field: a parameter missing, too long, or with what Meta
    /// refuses in one (a line break, a tab, more than four spaces in a row).
    #[must_use]
    pub fn check(&self, values: &Values) -> BTreeMap<String, String> {
        let mut errors = BTreeMap::new();
        for p in self.parameters() {
            let value = values.get(&p.field()).map(|v| v.trim()).unwrap_or_default();
            let problem = if value.is_empty() {
                Some(format!("Enter {}.", p.label()))
            } else if value.chars().count() > p.max_chars() {
                Some(format!("Use at most {} characters.", p.max_chars()))
            } else if value.contains(['\n', '\r', '\t']) || value.contains("     ") {
                Some("WhatsApp takes no line breaks, tabs or more than four spaces in a row here.".to_owned())
            } else {
                None
            };
            if let Some(problem) = problem {
                errors.insert(p.field(), problem);
            }
        }
        errors
    }

    /// The Cloud API's `template` object sending template `name` in `language` with `values`
    /// (each trimmed; a named placeholder's value carries its `parameter_name`).
    #[must_use]
    pub fn send_object(&self, name: &str, language: &str, values: &Values) -> Value {
        let parameters = self.parameters();
        let of = |part: Part| -> Vec<Value> {
            parameters
                .iter()
                .filter(|p| p.part == part)
                .map(|p| {
                    let text = values.get(&p.field()).map(|v| v.trim()).unwrap_or_default();
                    match &p.key {
                        Key::Position(_) => json!({"type": "text", "text": text}),
                        Key::Name(name) => json!({"type": "text", "parameter_name": name, "text": text}),
                    }
                })
                .collect()
        };
        let mut components = Vec::new();
        for (kind, part) in [("header", Part::Header), ("body", Part::Body)] {
            let given = of(part);
            if !given.is_empty() {
                components.push(json!({"type": kind, "parameters": given}));
            }
        }
        for i in 0..self.buttons.len() {
            let given = of(Part::Button(i));
            if !given.is_empty() {
                components
                    .push(json!({"type": "button", "sub_type": "url", "index": i.to_string(), "parameters": given}));
            }
        }
        let mut template = json!({"name": name, "language": {"code": language}});
        if !components.is_empty() {
            template["components"] = Value::Array(components);
        }
        template
    }
}

/// A piece of a template's text.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Placeholder(Key, &'a str),
}

/// `{{1}}` → 1, `{{ first_name }}` → `first_name`; anything else is no placeholder.
fn key(inner: &str) -> Option<Key> {
    let inner = inner.trim();
    if !inner.is_empty() && inner.len() <= 3 && inner.bytes().all(|b| b.is_ascii_digit()) {
        return inner.parse().ok().filter(|n| *n > 0).map(Key::Position);
    }
    let mut bytes = inner.bytes();
    let first = bytes.next()?;
    let valid = inner.len() <= 64
        && (first.is_ascii_lowercase() || first == b'_')
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    valid.then(|| Key::Name(inner.to_owned()))
}

/// `text` cut into plain text and placeholders.
fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let (mut from, mut at) = (0, 0);
    while let Some(open) = text[at..].find("{{").map(|i| at + i) {
        let Some(close) = text[open + 2..].find("}}").map(|i| open + 2 + i) else { break };
        let inner = &text[open + 2..close];
        match key(inner).filter(|_| !inner.contains(['{', '}'])) {
            Some(k) => {
                if open > from {
                    pieces.push(Piece::Text(&text[from..open]));
                }
                pieces.push(Piece::Placeholder(k, &text[open..close + 2]));
                from = close + 2;
                at = from;
            }
            None => at = open + 1,
        }
    }
    if from < text.len() {
        pieces.push(Piece::Text(&text[from..]));
    }
    pieces
}

/// The distinct placeholders of `text`: positional ones by number, named ones in order.
#[must_use]
pub fn placeholders(text: &str) -> Vec<Key> {
    let mut keys: Vec<Key> = Vec::new();
    for piece in pieces(text) {
        if let Piece::Placeholder(k, _) = piece {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    keys.sort_by_key(|k| match k {
        Key::Position(n) => *n,
        Key::Name(_) => 0,
    });
    keys
}

/// `text` of `part` with `values` filled in; a placeholder without a value stays as written.
fn fill(text: &str, part: Part, values: &Values) -> String {
    pieces(text)
        .into_iter()
        .map(|piece| match piece {
            Piece::Text(t) => t.to_owned(),
            Piece::Placeholder(key, written) => {
                let field = Parameter { part, key }.field();
                values.get(&field).map(|v| v.trim()).filter(|v| !v.is_empty()).unwrap_or(written).to_owned()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
