//! Taking a hidden field's values out of free text. A profile that hides a contact's Email must
//! not read its addresses in a mail's body either ("On Monday, Melissa <melissa@example.com>
//! wrote:", a signature): each of the contact's known addresses, in any case, becomes
//! [`HIDDEN_EMAIL`]. Only whole addresses are replaced, so that `bob@example.com` leaves
//! `jimbob@example.com` alone.

use std::borrow::Cow;

/// What stands in a text for an address the reader may not see.
pub const HIDDEN_EMAIL: &str = "[email hidden]";

/// `text` with every whole occurrence of `addresses` (lowercase, as stored) replaced by
/// [`HIDDEN_EMAIL`], whatever its case; `text` itself when there is none.
#[must_use]
pub fn hide_addresses<'a>(text: &'a str, addresses: &[String]) -> Cow<'a, str> {
    // ASCII lowercasing keeps every byte where it was, so offsets found in `lower` hold in `text`.
    let lower = text.to_ascii_lowercase();
    let mut found: Vec<(usize, usize)> = addresses
        .iter()
        .filter(|a| !a.is_empty())
        .flat_map(|a| lower.match_indices(a.as_str()).map(|(at, m)| (at, at + m.len())))
        .filter(|&(start, end)| whole(&lower, start, end))
        .collect();
    if found.is_empty() {
        return Cow::Borrowed(text);
    }
    found.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    for (start, end) in found {
        if start < done {
            continue;
        }
        out.push_str(&text[done..start]);
        out.push_str(HIDDEN_EMAIL);
        done = end;
    }
    out.push_str(&text[done..]);
    Cow::Owned(out)
}

/// Whether `text[start..end]` is a whole address, not part of a longer one.
fn whole(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    let local = |c: char| c.is_alphanumeric() || "._%+-'!#$&*/=?^`{|}~".contains(c);
    let domain = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    let longer_domain = after == Some('.') && text[end + 1..].chars().next().is_some_and(domain);
    !before.is_some_and(local) && !after.is_some_and(domain) && !longer_domain
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hide(text: &str) -> String {
        hide_addresses(text, &["melissa@example.com".to_owned(), "m.ortiz@work.example".to_owned()]).into_owned()
    }

    #[test]
    fn every_address_of_the_contact_is_hidden_whatever_its_case() {
        assert_eq!(
            hide("On Monday, Melissa <Melissa@Example.COM> wrote: mail m.ortiz@work.example."),
            "On Monday, Melissa <[email hidden]> wrote: mail [email hidden]."
        );
        assert_eq!(hide("<a href=\"mailto:melissa@example.com\">x</a>"), "<a href=\"mailto:[email hidden]\">x</a>");
    }

    #[test]
    fn longer_addresses_and_text_without_one_are_left_alone() {
        for text in ["jimmelissa@example.com", "melissa@example.com.au", "melissa@example.community", "no address"] {
            assert_eq!(hide(text), text);
            assert!(matches!(hide_addresses(text, &["melissa@example.com".to_owned()]), Cow::Borrowed(_)));
        }
    }

    #[test]
    fn text_in_any_script_keeps_its_characters() {
        assert_eq!(hide("Grüße — melissa@example.com — 你好"), "Grüße — [email hidden] — 你好");
    }
}
