//! Spreadsheet-safe CSV cells. A spreadsheet opening a CSV file runs a cell that starts with
//! `=`, `+`, `-` or `@` as a formula (and tab or carriage return lead some of them to do the
//! same), so a contact named `=HYPERLINK(...)` could make the agent who opens an export call
//! out or run something. An exported cell starting with one of those gets a leading `'`, which
//! spreadsheets show as text (OWASP's advice for CSV injection).
//!
//! Two exceptions keep the file faithful:
//! - a phone number in E.164 form (`+` and digits only, as numbers are stored) is left as it
//!   is: digits are no formula, and the import reads the number back unchanged;
//! - a cell that already starts with `'` followed by one of those characters (or by another
//!   `'`) gets one more `'`, so that [`unescape`], which the import applies, takes exactly one
//!   off: every value survives an export and an import unchanged, and a `'` at the start of
//!   any other value is left alone both ways.

use std::borrow::Cow;

/// Characters that make a spreadsheet read a cell as a formula.
const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether a cell needs the `'` in front.
fn needs_quote(cell: &str) -> bool {
    let mut chars = cell.chars();
    match (chars.next(), chars.next()) {
        (Some(first), _) if TRIGGERS.contains(&first) => true,
        (Some('\''), Some(second)) => second == '\'' || TRIGGERS.contains(&second),
        _ => false,
    }
}

/// `cell` as it is safe to write in a CSV file that a spreadsheet may open.
#[must_use]
pub fn escape(cell: &str) -> Cow<'_, str> {
    if needs_quote(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Whether `cell` has the shape of a stored phone number: `+` and one to fifteen digits.
#[must_use]
pub fn is_e164_shape(cell: &str) -> bool {
    cell.strip_prefix('+')
        .is_some_and(|digits| (1..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// [`escape`] for a phone number column: a number as stored (E.164) is left as it is.
#[must_use]
pub fn escape_phone(cell: &str) -> Cow<'_, str> {
    if is_e164_shape(cell) {
        Cow::Borrowed(cell)
    } else {
        escape(cell)
    }
}

/// A cell read from a file as the value it stands for: the `'` that [`escape`] put in front is
/// taken off again. A `'` before anything else is part of the value.
#[must_use]
pub fn unescape(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with('\'') || rest.starts_with(TRIGGERS) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_formula_is_written_as_text() {
        for (cell, written) in [
            ("=HYPERLINK(\"http://evil.example\")", "'=HYPERLINK(\"http://evil.example\")"),
            ("+1+1", "'+1+1"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tcmd", "'\tcmd"),
            ("\rcmd", "'\rcmd"),
        ] {
            assert_eq!(escape(cell), written, "{cell:?}");
        }
    }

    #[test]
    fn ordinary_text_and_stored_numbers_are_left_alone() {
        for cell in ["Ortiz", "", "O'Brien", "'quoted'", "a=b", "ceo@example.com"] {
            assert_eq!(escape(cell), cell);
        }
        assert_eq!(escape_phone("+14155552671"), "+14155552671");
        assert_eq!(escape_phone("+1 415 555"), "'+1 415 555", "not a stored number");
        assert_eq!(escape_phone("=1+1"), "'=1+1");
        assert!(!is_e164_shape("+") && !is_e164_shape("+1234567890123456") && !is_e164_shape("14155552671"));
    }

    #[test]
    fn every_value_survives_an_escape_and_an_unescape() {
        for cell in ["=1", "'=1", "''=1", "'", "''", "'x", "x", "", "+14155552671", "-", "'-", "@a", "\t", "'\r"] {
            assert_eq!(unescape(&escape(cell)), cell, "{cell:?}");
            assert_eq!(unescape(&escape_phone(cell)), cell, "{cell:?}");
        }
    }
}
