//! Every kind of inbound WhatsApp message as readable text for the ticket's thread: what the
//! customer wrote, captioned and named media (the file itself is fetched later, see
//! `super::super::media`), places, shared contacts, reactions, the button or list item tapped,
//! what a reply quotes, and a plain word for a type WhatsApp could not show us. Pure: the
//! quoted text is looked up by the caller.

use serde_json::Value;

use crate::channels::whatsapp::webhook::payload::Message;
use crate::domain::upload::clean_filename;

/// Types whose object carries a media id to fetch.
pub const MEDIA: [&str; 5] = ["image", "document", "audio", "video", "sticker"];

/// `m` as the thread shows it. `quoted` is the text of the message it replies or reacts to,
/// when we have it.
#[must_use]
pub fn text(m: &Message, quoted: Option<&str>) -> String {
    let o = m.object();
    let body = match m.kind.as_str() {
        "text" => str_of(o, "body").unwrap_or_default().to_owned(),
        "image" | "video" | "sticker" | "audio" | "document" => media(&m.kind, o),
        "location" => location(o),
        "contacts" => shared_contacts(o),
        "reaction" => {
            let emoji = str_of(o, "emoji").filter(|e| !e.is_empty());
            let what = quoted.map_or_else(|| "an earlier message".to_owned(), |q| format!("“{}”", snippet(q)));
            return match emoji {
                Some(emoji) => format!("Reacted {emoji} to {what}"),
                None => format!("Removed a reaction from {what}"),
            };
        }
        "button" => format!("Tapped “{}”", str_of(o, "text").or(str_of(o, "payload")).unwrap_or_default()),
        "interactive" => interactive(o),
        "unsupported" => "Unsupported message type: WhatsApp could not show this message here.".to_owned(),
        other => format!("Unsupported message type ({other}): WhatsApp could not show this message here."),
    };
    match (m.context.as_ref().and_then(|c| c.id.as_deref()), quoted) {
        (Some(_), Some(q)) => format!("In reply to “{}”\n\n{body}", snippet(q)),
        (Some(_), None) => format!("In reply to an earlier message\n\n{body}"),
        _ => body,
    }
}

/// The subject of a ticket `m` opens: the first words of its text, or who sent it.
#[must_use]
pub fn subject(m: &Message, name: &str) -> String {
    let text = if m.kind == "text" { str_of(m.object(), "body").unwrap_or_default() } else { "" };
    let words = snippet(text);
    if words.is_empty() {
        format!("WhatsApp message from {name}")
    } else {
        words
    }
}

/// The file name of a document as [`text`] wrote it into the thread (`Document “name”`), read
/// back by the media worker.
#[must_use]
pub fn document_name(body: &str) -> Option<&str> {
    let rest = body.lines().find_map(|l| l.strip_prefix("Document “"))?;
    rest.split_once('”').map(|(name, _)| name).filter(|n| !n.is_empty())
}

/// The file name of media of `kind` with no name of its own: the kind and the type's extension.
#[must_use]
pub fn default_filename(kind: &str, mime: &str) -> String {
    let ext = mime.split(';').next().unwrap_or_default().rsplit('/').next().unwrap_or_default().trim();
    let ext = match ext {
        "jpeg" => "jpg",
        "mpeg" => "mp3",
        other if !other.is_empty() && other.len() <= 5 && other.chars().all(|c| c.is_ascii_alphanumeric()) => other,
        _ => "bin",
    };
    format!("{kind}.{ext}")
}

fn media(kind: &str, o: &Value) -> String {
    let label = match kind {
        "image" => "Image",
        "video" => "Video",
        "sticker" => "Sticker",
        "audio" if o.get("voice").and_then(Value::as_bool) == Some(true) => "Voice message",
        "audio" => "Audio",
        _ => "Document",
    };
    let mut text = label.to_owned();
    if let Some(name) = str_of(o, "filename").map(|n| clean_filename(n, "")).filter(|n| !n.is_empty()) {
        text = format!("{text} “{name}”");
    }
    match str_of(o, "caption").filter(|c| !c.is_empty()) {
        Some(caption) => format!("{text}: {caption}"),
        None => text,
    }
}

fn location(o: &Value) -> String {
    let mut parts = Vec::new();
    parts.extend(str_of(o, "name").filter(|n| !n.is_empty()).map(str::to_owned));
    parts.extend(str_of(o, "address").filter(|a| !a.is_empty()).map(str::to_owned));
    let (lat, long) = (o.get("latitude").and_then(Value::as_f64), o.get("longitude").and_then(Value::as_f64));
    if let (Some(lat), Some(long)) = (lat, long) {
        parts.push(format!("{lat:.6}, {long:.6}"));
    }
    format!("Location: {}", parts.join(" · "))
}

fn shared_contacts(o: &Value) -> String {
    let people: Vec<String> = o
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let name = c.pointer("/name/formatted_name").and_then(Value::as_str).unwrap_or("(no name)");
            let phones: Vec<&str> = c
                .get("phones")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| str_of(p, "phone").or(str_of(p, "wa_id")))
                .collect();
            if phones.is_empty() {
                name.to_owned()
            } else {
                format!("{name} ({})", phones.join(", "))
            }
        })
        .collect();
    format!("Shared contact: {}", people.join("; "))
}

fn interactive(o: &Value) -> String {
    let reply = o.get("button_reply").or_else(|| o.get("list_reply")).or_else(|| o.get("nfm_reply"));
    let title = reply.and_then(|r| str_of(r, "title").or(str_of(r, "body"))).unwrap_or_default();
    match reply.and_then(|r| str_of(r, "description")).filter(|d| !d.is_empty()) {
        Some(description) => format!("Chose “{title}” ({description})"),
        None => format!("Chose “{title}”"),
    }
}

fn str_of<'a>(o: &'a Value, key: &str) -> Option<&'a str> {
    o.get(key).and_then(Value::as_str)
}

/// The first words of `text`, at most 60 characters, on one line.
#[must_use]
pub fn snippet(text: &str) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= 60 {
        return line;
    }
    let cut: String = line.chars().take(60).collect();
    let words = cut.rsplit_once(' ').map_or(cut.as_str(), |(start, _)| start);
    format!("{words}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(value: Value) -> Message {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn each_type_reads_as_words() {
        let m =
            message(json!({"type": "location", "location": {"latitude": 51.5, "longitude": -0.12, "name": "Office"}}));
        assert_eq!(text(&m, None), "Location: Office · 51.500000, -0.120000");
        let m = message(json!({"type": "reaction", "reaction": {"message_id": "w", "emoji": "👍"}}));
        assert_eq!(text(&m, Some("My router blinks")), "Reacted 👍 to “My router blinks”");
        let m = message(json!({"type": "interactive", "interactive": {"type": "button_reply",
            "button_reply": {"id": "yes", "title": "Yes, fixed"}}}));
        assert_eq!(text(&m, None), "Chose “Yes, fixed”");
        let m =
            message(json!({"type": "document", "document": {"id": "1", "filename": "bill.pdf", "caption": "Here"}}));
        assert_eq!(text(&m, None), "Document “bill.pdf”: Here");
        assert_eq!(document_name(&text(&m, Some("x"))), Some("bill.pdf"));
        let m = message(json!({"type": "image", "image": {"id": "1", "mime_type": "image/jpeg"},
            "context": {"id": "wamid.A"}}));
        assert_eq!(text(&m, Some("Look")), "In reply to “Look”\n\nImage");
        assert_eq!(default_filename("image", "image/jpeg"), "image.jpg");
        assert!(text(&message(json!({"type": "order"})), None).starts_with("Unsupported message type (order)"));
    }

    #[test]
    fn a_subject_is_the_first_words_or_who_wrote() {
        let m = message(
            json!({"type": "text", "text": {"body": "My router blinks red and green every few seconds since the storm last night"}}),
        );
        assert_eq!(subject(&m, "Ann"), "My router blinks red and green every few seconds since the…");
        assert_eq!(
            subject(&message(json!({"type": "image", "image": {}})), "Ann Lee"),
            "WhatsApp message from Ann Lee"
        );
    }
}
