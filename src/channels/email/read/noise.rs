//! Mail that no one typed: bounces, auto-replies and bulk mail. None of it is ever answered
//! with an acknowledgement, which is what keeps two robots from mailing each other forever.

use mail_parser::{Message, MimeHeaders};

use crate::domain::Email;

/// What kind of automatic mail a message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Noise {
    /// A delivery failure report.
    Bounce,
    /// An out-of-office or other automatic answer.
    AutoReply,
    /// Newsletters, mailing lists, no-reply senders.
    Bulk,
}

impl Noise {
    /// How the console names it.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Bounce => "a delivery failure report (bounce)",
            Self::AutoReply => "an automatic reply",
            Self::Bulk => "bulk mail",
        }
    }
}

pub(super) fn classify(msg: &Message<'_>, from: &Email) -> Option<Noise> {
    let local = from.as_str().split('@').next().unwrap_or_default();
    let header = |name: &str| msg.header_raw(name).map(|v| v.trim().to_ascii_lowercase());
    let report = msg
        .content_type()
        .is_some_and(|ct| ct.ctype().eq_ignore_ascii_case("multipart") && ct.subtype() == Some("report"));
    if report || matches!(local, "mailer-daemon" | "postmaster") {
        return Some(Noise::Bounce);
    }
    let auto_submitted = header("Auto-Submitted").is_some_and(|v| !v.starts_with("no"));
    let precedence = header("Precedence").unwrap_or_default();
    // An empty envelope sender (`Return-Path: <>`) is what RFC 3834 asks of automatic
    // answers, so that nothing answers them in turn.
    let null_sender = header("Return-Path").is_some_and(|v| v == "<>");
    if auto_submitted
        || null_sender
        || precedence.starts_with("auto_reply")
        || header("X-Autoreply").is_some()
        || header("X-Autorespond").is_some()
    {
        return Some(Noise::AutoReply);
    }
    let no_reply = ["noreply", "no-reply", "donotreply", "do-not-reply"].iter().any(|p| local.starts_with(p));
    if matches!(precedence.as_str(), "bulk" | "junk" | "list") || header("List-Id").is_some() || no_reply {
        return Some(Noise::Bulk);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::read;
    use super::*;

    fn noise(headers: &str) -> Option<Noise> {
        let raw = format!("{headers}\r\nSubject: x\r\n\r\nbody\r\n");
        read(raw.as_bytes()).unwrap().noise
    }

    #[test]
    fn recognises_automatic_mail() {
        assert_eq!(noise("From: MAILER-DAEMON@mx.example.com"), Some(Noise::Bounce));
        assert_eq!(
            noise("From: a@example.com\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b"),
            Some(Noise::Bounce)
        );
        assert_eq!(noise("From: a@example.com\r\nAuto-Submitted: auto-replied"), Some(Noise::AutoReply));
        assert_eq!(noise("From: a@example.com\r\nX-Autoreply: yes"), Some(Noise::AutoReply));
        assert_eq!(noise("Return-Path: <>\r\nFrom: a@example.com"), Some(Noise::AutoReply));
        assert_eq!(noise("Return-Path: <a@example.com>\r\nFrom: a@example.com"), None);
        assert_eq!(noise("From: a@example.com\r\nPrecedence: bulk"), Some(Noise::Bulk));
        assert_eq!(noise("From: a@example.com\r\nList-Id: <news.example.com>"), Some(Noise::Bulk));
        assert_eq!(noise("From: no-reply@example.com"), Some(Noise::Bulk));
        assert_eq!(noise("From: a@example.com\r\nAuto-Submitted: no"), None);
        assert_eq!(noise("From: a@example.com"), None);
    }
}
