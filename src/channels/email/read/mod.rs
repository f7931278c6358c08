//! Reading one inbound mail: who sent it, what it answers, its text, HTML and files, and
//! whether it is an automatic message that must never be answered. Parsing is mail-parser's,
//! which reads whatever a real client sends (encoded words, any charset, broken MIME); what
//! comes out is checked here into types the rest of Frontdesk can trust.

mod names;
mod noise;
pub mod structure;

pub use names::sender_name;
pub use noise::Noise;

use mail_parser::{MessageParser, MimeHeaders};
use sha2::{Digest, Sha256};

use crate::domain::upload::clean_filename;
use crate::domain::{Email, FileUpload, MAX_SUBJECT};

/// Longest Message-ID kept as it is; longer ones are replaced by a digest.
const MAX_MESSAGE_ID: usize = 200;
/// Most Message-IDs of In-Reply-To and References looked at for threading.
const MAX_THREAD_IDS: usize = 50;
/// Longest display name kept (it is stored with the message and shown beside it).
const MAX_DISPLAY_NAME: usize = 200;

/// An inbound mail, read.
#[derive(Clone, Debug)]
pub struct InboundMail {
    /// Its Message-ID without angle brackets; made from a digest of the raw bytes when the
    /// mail has none, so that the same bytes delivered twice are still one message.
    pub message_id: String,
    pub from: Email,
    /// The display name of the From address, if any: one line, at most 200 characters.
    pub from_name: Option<String>,
    /// Every address in To, Cc, Delivered-To and X-Original-To.
    pub recipients: Vec<Email>,
    /// The addresses in Cc (people to keep in the loop).
    pub cc: Vec<Email>,
    /// One line, at most [`MAX_SUBJECT`] characters; empty when there was none.
    pub subject: String,
    /// In-Reply-To then References, newest first, without angle brackets.
    pub thread_ids: Vec<String>,
    pub text: String,
    /// The HTML part, when there is one: as received from [`read`], sanitised by
    /// `services::inbound::screen`.
    pub html: Option<String>,
    pub files: Vec<FileUpload>,
    pub noise: Option<Noise>,
}

/// Why a mail cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    #[error("It is not an email message: no header could be read.")]
    NotMail,
    #[error("It has no sender: the From header is missing or holds no valid address.")]
    NoSender,
    #[error("Its MIME structure could not be read: the mail parser gave up on it.")]
    Garbled,
    #[error(transparent)]
    TooComplex(#[from] structure::TooComplex),
}

/// Reads `raw`, an RFC 5322 message.
///
/// # Errors
/// When there is nothing that can become a ticket: no headers, or no sender address, or a
/// structure the parser cannot follow.
pub fn read(raw: &[u8]) -> Result<InboundMail, Unreadable> {
    // Before the parser builds anything: it has no limit of its own on parts.
    structure::check(raw)?;
    // mail-parser asserts on some malformed multipart nesting (a `debug_assert!` the fuzzer
    // found, in builds with debug assertions); whatever it does on hostile bytes, the mail is
    // quarantined, and neither the poller nor `ingest-mail` goes down with it.
    std::panic::catch_unwind(|| read_unguarded(raw)).unwrap_or(Err(Unreadable::Garbled))
}

fn read_unguarded(raw: &[u8]) -> Result<InboundMail, Unreadable> {
    let msg = MessageParser::default().parse(raw).ok_or(Unreadable::NotMail)?;
    if msg.headers().is_empty() {
        return Err(Unreadable::NotMail);
    }
    let sender = msg.from().and_then(|a| a.iter().find_map(|addr| Some((addr, Email::parse(addr.address()?).ok()?))));
    let (addr, from) = sender.ok_or(Unreadable::NoSender)?;
    let from_name = addr
        .name()
        .map(|n| clean_line(n).chars().take(MAX_DISPLAY_NAME).collect::<String>())
        .filter(|n| !n.is_empty() && !n.eq_ignore_ascii_case(from.as_str()));
    let cc: Vec<Email> = msg.cc().map(addresses).unwrap_or_default();
    let mut recipients: Vec<Email> = msg.to().map(addresses).unwrap_or_default();
    recipients.extend(cc.iter().cloned());
    for name in ["Delivered-To", "X-Original-To"] {
        for value in msg.header_values(name) {
            if let Some(e) = value.as_text().and_then(|t| Email::parse(t.trim_matches(['<', '>', ' '])).ok()) {
                recipients.push(e);
            }
        }
    }
    let message_id = id_of(msg.message_id(), raw);
    let mut thread_ids: Vec<String> = Vec::new();
    for header in [msg.in_reply_to(), msg.references()] {
        let mut ids: Vec<String> = match (header.as_text_list(), header.as_text()) {
            (Some(list), _) => list.iter().map(ToString::to_string).collect(),
            (None, Some(one)) => vec![one.to_owned()],
            _ => Vec::new(),
        };
        // References lists the oldest first; the newest is the best guess.
        ids.reverse();
        for id in ids {
            let id = bounded_id(id.trim().trim_matches(['<', '>']));
            if !id.is_empty() && !thread_ids.contains(&id) && thread_ids.len() < MAX_THREAD_IDS {
                thread_ids.push(id);
            }
        }
    }
    let subject: String = clean_line(msg.subject().unwrap_or_default()).chars().take(MAX_SUBJECT).collect();
    // NUL characters are dropped: PostgreSQL cannot store them in text.
    let html =
        msg.html_part(0).filter(|p| p.is_text_html()).and_then(|p| p.text_contents()).map(|h| h.replace('\0', ""));
    let text = msg.body_text(0).map(|t| t.replace("\r\n", "\n").replace('\0', "")).unwrap_or_default();
    let files = msg
        .attachments()
        .enumerate()
        .map(|(i, part)| {
            let content_type = part.content_type().map_or_else(
                || "application/octet-stream".to_owned(),
                |ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub),
                    None => ct.ctype().to_owned(),
                },
            );
            let content_type: String = content_type.chars().filter(|c| !c.is_control()).take(100).collect();
            let fallback = format!("attachment-{}{}", i + 1, if part.is_message() { ".eml" } else { "" });
            let filename = clean_filename(part.attachment_name().unwrap_or_default(), &fallback);
            FileUpload { filename, content_type: content_type.to_lowercase(), data: part.contents().to_vec() }
        })
        .collect();
    let noise = noise::classify(&msg, &from);
    Ok(InboundMail { message_id, from, from_name, recipients, cc, subject, thread_ids, text, html, files, noise })
}

/// The Message-ID [`read`] gives `raw`, from its headers alone: so that a mail stored already
/// is known before anything costly is done with its body.
#[must_use]
pub fn message_id(raw: &[u8]) -> String {
    std::panic::catch_unwind(|| {
        let headers = MessageParser::default().parse_headers(raw);
        id_of(headers.as_ref().and_then(|m| m.message_id()), raw)
    })
    .unwrap_or_else(|_| id_of(None, raw))
}

/// `id` without angle brackets, or a digest of `raw` when there is none.
fn id_of(id: Option<&str>, raw: &[u8]) -> String {
    id.map(|id| id.trim().trim_matches(['<', '>']))
        .filter(|id| !id.is_empty())
        .map_or_else(|| format!("{}@frontdesk.invalid", hex(&Sha256::digest(raw))), bounded_id)
}

fn addresses(list: &mail_parser::Address<'_>) -> Vec<Email> {
    list.iter().filter_map(|a| Email::parse(a.address()?).ok()).collect()
}

/// One line of printable text: control characters (a folded header's line breaks among
/// them) become spaces, runs of spaces one.
fn clean_line(raw: &str) -> String {
    raw.split(|c: char| c.is_control() || c.is_whitespace()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

fn bounded_id(id: &str) -> String {
    if id.len() <= MAX_MESSAGE_ID && !id.chars().any(char::is_control) {
        id.to_owned()
    } else {
        format!("{}@frontdesk.invalid", hex(&Sha256::digest(id.as_bytes())))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The ticket number a subject carries as `[#1042]`, if any.
#[must_use]
pub fn ticket_token(subject: &str) -> Option<i64> {
    let mut rest = subject;
    while let Some(start) = rest.find("[#") {
        let after = &rest[start + 2..];
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && after[digits.len()..].starts_with(']') {
            return digits.parse().ok();
        }
        rest = after;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(headers: &str, body: &str) -> Vec<u8> {
        format!("{headers}\r\n\r\n{body}").replace("\r\n", "\n").replace('\n', "\r\n").into_bytes()
    }

    #[test]
    fn a_message_the_parser_chokes_on_is_garbled_not_a_panic() {
        // Found by the fuzzer: nested multiparts that trip an assertion inside mail-parser in
        // builds with debug assertions (such as this test's).
        let raw = include_bytes!("../../../../fuzz/seeds/mail-parser-debug-assert.eml");
        match read(raw) {
            Ok(mail) => assert_eq!(mail.from.as_str(), "files@example.com"),
            Err(e) => assert_eq!(e, Unreadable::Garbled),
        }
    }

    #[test]
    fn reads_sender_subject_and_text() {
        let m = read(&mail(
            "From: \"Melissa Ortiz\" <M.Ortiz@Example.com>\nTo: support@acme.test\nSubject: Printer\n on fire\nMessage-ID: <abc@mail.example.com>",
            "Help!\n",
        ))
        .unwrap();
        assert_eq!(m.from.as_str(), "m.ortiz@example.com");
        assert_eq!(m.from_name.as_deref(), Some("Melissa Ortiz"));
        assert_eq!(m.subject, "Printer on fire");
        assert_eq!(m.message_id, "abc@mail.example.com");
        assert_eq!(m.text.trim(), "Help!");
        assert!(m.noise.is_none());
    }

    #[test]
    fn a_mail_without_message_id_gets_one_from_its_bytes() {
        let raw = mail("From: a@example.com\nSubject: x", "y");
        let (one, two) = (read(&raw).unwrap(), read(&raw).unwrap());
        assert_eq!(one.message_id, two.message_id);
        assert!(one.message_id.ends_with("@frontdesk.invalid"));
        assert_eq!(message_id(&raw), one.message_id, "the headers alone give the same id");
        let with_id = mail("From: a@example.com\nMessage-ID: < x@y >\nSubject: x", "y");
        assert_eq!(message_id(&with_id), read(&with_id).unwrap().message_id);
        assert_ne!(one.message_id, read(&mail("From: a@example.com\nSubject: x", "z")).unwrap().message_id);
    }

    #[test]
    fn thread_ids_put_in_reply_to_first_and_newest_reference_next() {
        let m =
            read(&mail("From: a@example.com\nIn-Reply-To: <c@x>\nReferences: <a@x> <b@x> <c@x>\nSubject: Re: x", "y"))
                .unwrap();
        assert_eq!(m.thread_ids, ["c@x", "b@x", "a@x"]);
    }

    #[test]
    fn no_sender_and_no_headers_are_unreadable() {
        assert_eq!(read(&mail("Subject: x", "y")).unwrap_err(), Unreadable::NoSender);
        assert_eq!(read(&mail("From: not an address\nSubject: x", "y")).unwrap_err(), Unreadable::NoSender);
        assert!(read(b"").is_err());
    }

    #[test]
    fn encoded_subjects_in_other_charsets_are_decoded() {
        let latin = read(&mail("From: a@example.com\nSubject: =?ISO-8859-1?Q?Caf=E9_cr=E8me?=", "x")).unwrap();
        assert_eq!(latin.subject, "Café crème");
        let japanese = read(&mail("From: a@example.com\nSubject: =?Shift_JIS?B?k/qWe4zq?=", "x")).unwrap();
        assert_eq!(japanese.subject, "日本語");
    }

    #[test]
    fn finds_the_ticket_token() {
        assert_eq!(ticket_token("Re: [#1042] Printer"), Some(1042));
        assert_eq!(ticket_token("[#] [#12x] [#77]"), Some(77));
        assert_eq!(ticket_token("Order #1042"), None);
    }
}
