//! What a message template says and takes, read from the components Meta gave for it: the
//! parameters each component takes (`{{1}}`..`{{n}}` positional, or `{{first_name}}` named: in
//! the header's text, the body, and a URL button's address), the other values a send gives
//! (a media header's file, a location header's place, a copy-code button's code: `slots`), the
//! message as the customer will read it with given values (the send form's preview), and the
//! Cloud API's `template` object that sends it. Pure code: the send form and the sender both
//! build on it.
//!
//! Meta's components are read leniently: what is not understood is left out rather than
//! failing, and text that merely looks like a placeholder (`{{` never closed, `{{ hi there }}`)
//! stays text. What a send would need and this model cannot give (a GIF header, a carousel, a
//! limited-time offer's expiry, catalog and product buttons) makes the template
//! [`Content::unsendable`]: the send form leaves it out rather than have Meta refuse it.
//! Quick-reply buttons take nothing: without a payload WhatsApp reports the button's text.

mod slots;

use std::collections::BTreeMap;

use serde_json::{json, Value};

pub use slots::{is_link, FileKind, HeaderMedia, Slot, CODE_MAX, LINK_MAX};

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
    /// The header when it is a file or a place.
    pub header_media: Option<HeaderMedia>,
    pub body: String,
    pub footer: Option<String>,
    pub buttons: Vec<Button>,
    /// Why it cannot be sent from Frontdesk (`a GIF header`), when it cannot.
    pub unsendable: Option<String>,
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
                    match (format.as_str(), FileKind::from_format(&format)) {
                        ("TEXT", _) => content.header = text_of(component, "text"),
                        ("LOCATION", _) => content.header_media = Some(HeaderMedia::Location),
                        (_, Some(kind)) => {
                            let example = component.pointer("/example/header_handle/0").and_then(Value::as_str);
                            let example = example.map(str::trim).filter(|e| is_link(e)).map(str::to_owned);
                            content.header_media = Some(HeaderMedia::File { kind, example });
                        }
                        (other, None) => content.unsendable = Some(format!("a {other} header")),
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
                    // These need products or a flow of their own that this form does not ask for.
                    if let Some(b) =
                        content.buttons.iter().find(|b| ["CATALOG", "MPM", "SPM"].contains(&b.kind.as_str()))
                    {
                        content.unsendable = Some(format!("{} buttons", b.kind));
                    }
                }
                "CAROUSEL" => content.unsendable = Some("a carousel".into()),
                "LIMITED_TIME_OFFER" => content.unsendable = Some("a limited-time offer".into()),
                _ => {}
            }
        }
        content
    }

    /// The values besides text placeholders a send must or may give: the header's file or
    /// place, then each copy-code button's code.
    #[must_use]
    pub fn slots(&self) -> Vec<Slot> {
        let mut all = match &self.header_media {
            Some(HeaderMedia::File { kind: FileKind::Document, .. }) => {
                vec![Slot::Link(FileKind::Document), Slot::Filename]
            }
            Some(HeaderMedia::File { kind, .. }) => vec![Slot::Link(*kind)],
            Some(HeaderMedia::Location) => {
                vec![Slot::Latitude, Slot::Longitude, Slot::PlaceName, Slot::PlaceAddress]
            }
            None => Vec::new(),
        };
        all.extend(self.buttons.iter().enumerate().filter(|(_, b)| b.kind == "COPY_CODE").map(|(i, _)| Slot::Code(i)));
        all
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

    /// The message as the customer will read it: the header's file or place (`[Image: link]`),
    /// then [`Self::preview_text`].
    #[must_use]
    pub fn preview(&self, values: &Values) -> String {
        let text = self.preview_text(values);
        match self.header_line(values) {
            Some(line) if text.is_empty() => line,
            Some(line) => format!("{line}\n\n{text}"),
            None => text,
        }
    }

    /// `[Image: https://…]`: what the media header carries, with `values`.
    #[must_use]
    pub fn header_line(&self, values: &Values) -> Option<String> {
        self.header_media.as_ref().map(|media| slots::header_line(media, |slot| slot_value(values, slot)))
    }

    /// A location header's place in words, with `values`.
    #[must_use]
    pub fn place(&self, values: &Values) -> Option<String> {
        (self.header_media == Some(HeaderMedia::Location)).then(|| slots::place(|slot| slot_value(values, slot)))
    }

    /// The message's text: header, body and footer with `values` filled in (a placeholder
    /// without a value stays as written).
    #[must_use]
    pub fn preview_text(&self, values: &Values) -> String {
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
    /// refuses in one (a line break, a tab, more than four spaces in a row); a slot missing or
    /// not what it must be (a link that is not `https://`, a code too long).
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
        for slot in self.slots() {
            let value = slot_value(values, slot);
            let problem = if value.is_empty() {
                slot.required().then(|| format!("Enter the {}.", slot.label().to_lowercase()))
            } else {
                slot.problem(&value)
            };
            if let Some(problem) = problem {
                errors.insert(slot.field(), problem);
            }
        }
        errors
    }

    /// The Cloud API's `template` object sending template `name` in `language` with `values`
    /// (each trimmed; a named placeholder's value carries its `parameter_name`): the header's
    /// file or place, the header's and the body's text, then each URL button's parameter and each
    /// copy-code button's code by the button's index.
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
        if let Some(media) = &self.header_media {
            components.push(slots::header_component(media, |slot| slot_value(values, slot)));
        }
        for (kind, part) in [("header", Part::Header), ("body", Part::Body)] {
            let given = of(part);
            if !given.is_empty() {
                components.push(json!({"type": kind, "parameters": given}));
            }
        }
        for (i, button) in self.buttons.iter().enumerate() {
            let given = of(Part::Button(i));
            if !given.is_empty() {
                components
                    .push(json!({"type": "button", "sub_type": "url", "index": i.to_string(), "parameters": given}));
            } else if button.kind == "COPY_CODE" {
                components.push(slots::code_component(i, &slot_value(values, Slot::Code(i))));
            }
        }
        let mut template = json!({"name": name, "language": {"code": language}});
        if !components.is_empty() {
            template["components"] = Value::Array(components);
        }
        template
    }
}

/// The trimmed value of `slot` in `values` ("" when it has none).
fn slot_value(values: &Values, slot: Slot) -> String {
    values.get(&slot.field()).map(|v| v.trim().to_owned()).unwrap_or_default()
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
