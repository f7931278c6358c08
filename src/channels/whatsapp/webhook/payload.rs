//! The webhook bodies Meta posts, as serde types. Lenient on purpose: Meta adds fields and
//! message types over time, and one odd event must not make Meta retry a whole POST for seven
//! days. Every field is optional or defaulted; an unknown message type keeps its name and
//! becomes an unsupported message; an entry, change or message that does not have the shape
//! expected is skipped (and logged by the caller) rather than failing the rest.

use serde::Deserialize;
use serde_json::Value;

/// The whole POST body.
#[derive(Debug, Default, Deserialize)]
pub struct Body {
    #[serde(default)]
    pub object: String,
    #[serde(default)]
    pub entry: Vec<Value>,
}

/// One entry: the business account's changes.
#[derive(Debug, Default, Deserialize)]
pub struct Entry {
    #[serde(default)]
    pub changes: Vec<Value>,
}

/// One change: `field` says what it is about (`messages`, `message_template_status_update`...).
#[derive(Debug, Default, Deserialize)]
pub struct Change {
    #[serde(default)]
    pub field: String,
    #[serde(default)]
    pub value: Value,
}

/// The value of a `messages` change: messages in, statuses of messages out, or both.
#[derive(Debug, Default, Deserialize)]
pub struct MessagesValue {
    #[serde(default)]
    pub metadata: Metadata,
    #[serde(default)]
    pub contacts: Vec<Value>,
    #[serde(default)]
    pub messages: Vec<Value>,
    #[serde(default)]
    pub statuses: Vec<Value>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Metadata {
    #[serde(default)]
    pub phone_number_id: String,
}

/// A sender, as the `contacts` of a change name them.
#[derive(Debug, Default, Deserialize)]
pub struct Sender {
    #[serde(default)]
    pub profile: Profile,
    pub wa_id: Option<String>,
    pub user_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Profile {
    pub name: Option<String>,
}

/// One inbound message. Its own object (`text`, `image`, `location`...) is kept as JSON and
/// read by type (see `super::super::inbound::render`).
#[derive(Debug, Default, Deserialize)]
pub struct Message {
    pub from: Option<String>,
    pub from_user_id: Option<String>,
    #[serde(default)]
    pub id: String,
    pub timestamp: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: String,
    pub context: Option<Context>,
    #[serde(flatten)]
    pub rest: serde_json::Map<String, Value>,
}

impl Message {
    /// The object of the message's own type (`text`, `image`...), or null.
    #[must_use]
    pub fn object(&self) -> &Value {
        self.rest.get(&self.kind).unwrap_or(&Value::Null)
    }

    /// Meta's timestamp (seconds since the epoch), if it is one.
    #[must_use]
    pub fn at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        seconds(self.timestamp.as_deref())
    }
}

/// What a reply quotes.
#[derive(Debug, Default, Deserialize)]
pub struct Context {
    pub id: Option<String>,
}

/// One status of an outgoing message.
#[derive(Debug, Default, Deserialize)]
pub struct Status {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub status: String,
    pub timestamp: Option<String>,
    pub biz_opaque_callback_data: Option<String>,
    #[serde(default)]
    pub errors: Vec<StatusError>,
}

#[derive(Debug, Default, Deserialize)]
pub struct StatusError {
    pub code: Option<i64>,
    pub title: Option<String>,
    pub message: Option<String>,
    pub error_data: Option<ErrorData>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ErrorData {
    pub details: Option<String>,
}

impl From<Status> for super::super::statuses::Status {
    fn from(s: Status) -> Self {
        let first = s.errors.into_iter().next().unwrap_or_default();
        let details = first.error_data.and_then(|d| d.details).filter(|d| !d.is_empty());
        Self {
            timestamp: seconds(s.timestamp.as_deref()),
            wamid: s.id,
            status: s.status,
            callback_data: s.biz_opaque_callback_data,
            error_code: first.code,
            error_message: details.or(first.message).or(first.title),
        }
    }
}

/// Seconds since the epoch, as Meta writes them (a string of digits).
fn seconds(raw: Option<&str>) -> Option<chrono::DateTime<chrono::Utc>> {
    raw.and_then(|t| t.trim().parse::<i64>().ok()).and_then(|s| chrono::DateTime::from_timestamp(s, 0))
}

/// `value` with every NUL character (U+0000) taken out of its strings and keys, the rest kept:
/// PostgreSQL cannot store a NUL in text, and no text a customer means has one.
#[must_use]
pub fn without_nul(mut value: Value) -> Value {
    strip_nul(&mut value);
    value
}

fn strip_nul(value: &mut Value) {
    match value {
        Value::String(s) if s.contains('\0') => s.retain(|c| c != '\0'),
        Value::Array(items) => items.iter_mut().for_each(strip_nul),
        Value::Object(fields) => {
            if fields.keys().any(|k| k.contains('\0')) {
                *fields = std::mem::take(fields).into_iter().map(|(k, v)| (k.replace('\0', ""), v)).collect();
            }
            fields.values_mut().for_each(strip_nul);
        }
        _ => {}
    }
}

/// `value` read as `T`; `None` (the caller logs it) when it does not have the shape.
#[must_use]
pub fn read<T: for<'de> Deserialize<'de>>(value: &Value) -> Option<T> {
    T::deserialize(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_type_and_missing_fields_still_read() {
        let m: Message = read(&serde_json::json!({"id": "wamid.X", "type": "hologram", "hologram": {"x": 1}})).unwrap();
        assert_eq!(m.kind, "hologram");
        assert_eq!(m.object()["x"], 1);
        assert!(m.from.is_none() && m.at().is_none());
        let s: super::super::super::statuses::Status =
            read::<Status>(&serde_json::json!({"id": "w", "status": "failed",
            "timestamp": "1765000000", "errors": [{"code": 131047, "title": "Re-engagement message"}]}))
            .unwrap()
            .into();
        assert_eq!((s.error_code, s.error_message.as_deref()), (Some(131_047), Some("Re-engagement message")));
        assert!(s.timestamp.is_some());
    }

    #[test]
    fn nul_characters_leave_every_string_and_nothing_else_does() {
        let body: Value = serde_json::from_str(
            r#"{"a\u0000b": ["x\u0000y", {"name": "\u0000Ann\u0000 Lee"}], "n": 1, "t": "\\u0000 é\n"}"#,
        )
        .unwrap();
        let clean = without_nul(body);
        assert_eq!(clean, serde_json::json!({"ab": ["xy", {"name": "Ann Lee"}], "n": 1, "t": "\\u0000 é\n"}));
    }
}
