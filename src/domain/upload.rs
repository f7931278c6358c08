//! A file that comes with a message: attached to an inbound mail, or uploaded with a ticket in
//! the Help Center.

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// Most files one message or form may carry.
pub const MAX_FILES: usize = 10;

/// A file, as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileUpload {
    /// A bare name (no path, no quotes or control characters), at most 150 characters.
    pub filename: String,
    /// What the sender said it is; served back only as a download.
    pub content_type: String,
    pub data: Vec<u8>,
}

/// A file name safe to store and to put in a `Content-Disposition` header: no directory part,
/// no control characters or quotes, at most 150 characters; `fallback` when nothing is left.
///
/// Invisible format characters (Unicode category Cf: bidirectional overrides and isolates,
/// zero-width spaces and joiners, the byte-order mark, the soft hyphen) are dropped: a
/// right-to-left override makes `invoice\u{202E}gnp.exe` read as `invoiceexe.png`, and a
/// zero-width space makes two names that look alike differ.
#[must_use]
pub fn clean_filename(raw: &str, fallback: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = base
        .chars()
        .filter(|c| c.general_category() != GeneralCategory::Format)
        .map(|c| if c.is_control() { ' ' } else { c })
        .filter(|c| !matches!(c, '"' | '\'' | ';'))
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(150)
        .collect();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        fallback.to_owned()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::clean_filename;

    #[test]
    fn file_names_lose_paths_quotes_and_control_characters() {
        assert_eq!(clean_filename("C:\\Users\\me\\report.pdf", "x"), "report.pdf");
        assert_eq!(clean_filename("../../etc/passwd", "x"), "passwd");
        assert_eq!(clean_filename("a\"b;\r\nc.txt", "x"), "ab c.txt");
        assert_eq!(clean_filename("..", "file"), "file");
        assert_eq!(clean_filename("", "file"), "file");
    }

    #[test]
    fn file_names_lose_invisible_format_characters() {
        assert_eq!(clean_filename("invoice\u{202E}gnp.exe", "x"), "invoicegnp.exe");
        let hidden = [
            '\u{200B}', '\u{200C}', '\u{200D}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}',
            '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{FEFF}', '\u{061C}', '\u{180E}', '\u{00AD}', '\u{2060}',
        ];
        for c in hidden {
            assert_eq!(clean_filename(&format!("re{c}port.pdf"), "x"), "report.pdf", "U+{:04X}", u32::from(c));
        }
        assert_eq!(clean_filename("\u{202E}\u{200B}", "file"), "file");
        // Visible letters of any script stay.
        assert_eq!(clean_filename("Überweisung – été 日本.pdf", "x"), "Überweisung – été 日本.pdf");
    }
}
