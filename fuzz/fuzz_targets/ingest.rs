//! Arbitrary bytes through the part of mail ingestion that reads the message: the checks and
//! the MIME reading (`screen`), then what the stored message goes through before a page shows
//! it (HTML sanitising, quoted-history folding, names, the ticket token). None may panic, no
//! script, frame, form or remote image may come out of the sanitiser, and every sender gets a
//! last name. Run: `cargo fuzz run ingest` (see `.ci/run`).
#![no_main]

use frontdesk::channels::email::ingest::{screen, Limits};
use frontdesk::channels::email::read::{sender_name, ticket_token};
use frontdesk::domain::mail_html::{sanitise, split_quoted};
use libfuzzer_sys::fuzz_target;

#[path = "hook.rs"]
mod hook;

fuzz_target!(|raw: &[u8]| {
    hook::one_line_panics();
    let limits = Limits { max_mail_bytes: 1 << 20, max_file_bytes: 1 << 19, acks_per_hour: 5 };
    let Ok(mail) = screen(raw, &limits) else { return };
    // Nothing PostgreSQL would refuse to store.
    assert!(!mail.text.contains('\0') && !mail.subject.contains('\0'));
    assert!(mail.html.as_deref().is_none_or(|h| !h.contains('\0')));
    assert!(mail.files.iter().all(|f| !f.filename.contains('\0') && !f.content_type.contains('\0')));
    if let Some(html) = &mail.html {
        // `screen` sanitised it; sanitising again changes nothing that matters, and nothing
        // that runs survives either pass.
        // Text `<` is escaped, so these can only be tags: none may be left.
        for out in [html.clone(), sanitise(html)] {
            let lower = out.to_ascii_lowercase();
            for tag in ["<script", "<iframe", "<style", "<object", "<embed", "<form", "<img"] {
                assert!(!lower.contains(tag), "{tag} survived: {out}");
            }
        }
    }
    // A contact's last name is never empty, nor longer than the form allows.
    let (first, last) = sender_name(mail.from_name.as_deref(), &mail.from);
    assert!(!last.trim().is_empty() && last.chars().count() <= 100, "last name {last:?}");
    assert!(first.is_none_or(|f| !f.trim().is_empty() && f.chars().count() <= 100));
    let _ = ticket_token(&mail.subject);
    let _ = split_quoted(&mail.text);
});
