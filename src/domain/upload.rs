//! A file that comes with a message: attached to an inbound mail, or uploaded with a ticket in
//! the Help Center.

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
#[must_use]
pub fn clean_filename(raw: &str, fallback: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = base
        .chars()
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
}
