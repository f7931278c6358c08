//! Reading an imported file: a CSV (UTF-8 with or without a byte order mark; comma, semicolon
//! or tab sniffed from the header line; quoted fields; Windows line ends) or the first sheet of
//! an Excel workbook (.xlsx, read cell by cell with calamine rather than as a whole sheet, so
//! memory follows the rows being imported, not the file). The first row is the header row.
//!
//! Costs are bounded before anything is kept: the upload's size is capped by the caller, a
//! workbook's declared unpacked size by [`MAX_UNPACKED_FACTOR`], and a row takes at most
//! [`MAX_COLUMNS`] cells of at most [`MAX_CELL`] characters.

use std::io::Cursor;
use std::ops::ControlFlow;

use calamine::{Reader, Xlsx};

/// Columns read per row; more are refused.
pub const MAX_COLUMNS: usize = 200;
/// Characters kept per cell (a Description holds at most 5,000; longer cells are refused by
/// the field's own check, so this only bounds memory).
pub const MAX_CELL: usize = 10_000;

/// What kind of file an upload is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Csv,
    Xlsx,
}

impl FileKind {
    /// The stored key.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
        }
    }

    /// Parses a stored key.
    #[must_use]
    pub fn from_key(key: &str) -> Self {
        if key == "xlsx" {
            Self::Xlsx
        } else {
            Self::Csv
        }
    }
}

/// A data row: its line in the file (as a spreadsheet numbers it, the header being line 1) and
/// its cells.
#[derive(Clone, Debug)]
pub struct Row {
    pub line: u64,
    pub cells: Vec<String>,
}

/// What an upload holds, read once when it arrives.
#[derive(Clone, Debug)]
pub struct Sheet {
    pub kind: FileKind,
    pub headers: Vec<String>,
    pub rows: u64,
}

/// Why a file cannot be imported, in words for the agent.
pub type FileError = String;

/// The kind of `bytes`: a workbook is a zip archive; anything else is read as CSV.
#[must_use]
pub fn kind_of(bytes: &[u8]) -> FileKind {
    if bytes.starts_with(b"PK\x03\x04") {
        FileKind::Xlsx
    } else {
        FileKind::Csv
    }
}

/// Reads the whole file once: its header row and how many data rows follow.
///
/// # Errors
/// A message when the file is not a readable CSV or workbook, or has no header row.
pub fn inspect(bytes: &[u8]) -> Result<Sheet, FileError> {
    let kind = kind_of(bytes);
    let mut headers = None;
    let mut rows = 0u64;
    read(kind, bytes, |row| {
        if headers.is_none() {
            headers = Some(row.cells);
        } else {
            rows += 1;
        }
        ControlFlow::Continue(())
    })?;
    let headers = headers.filter(|h| h.iter().any(|c| !c.is_empty()));
    let Some(headers) = headers else {
        return Err("The file is empty: its first row must name the columns.".into());
    };
    Ok(Sheet { kind, headers, rows })
}

/// Calls `each` with every row of the file, the header row first, until it breaks.
///
/// # Errors
/// A message when the file cannot be read.
pub fn read(kind: FileKind, bytes: &[u8], each: impl FnMut(Row) -> ControlFlow<()>) -> Result<(), FileError> {
    match kind {
        FileKind::Csv => read_csv(bytes, each),
        FileKind::Xlsx => read_xlsx(bytes, each),
    }
}

/// A cell as imported: without the apostrophe a spreadsheet export (Frontdesk's own among
/// them) puts before a value that would otherwise be taken for a formula, trimmed, at most
/// [`MAX_CELL`] characters.
fn cell(raw: &str) -> String {
    crate::domain::csv_cell::unescape(raw).trim().chars().take(MAX_CELL).collect()
}

fn too_wide(line: u64) -> FileError {
    format!("Line {line} has more than {MAX_COLUMNS} columns; a contacts file has a few dozen at most.")
}

/// The separator of the header line: the most frequent of comma, semicolon and tab outside
/// quotes (Excel writes semicolons where the comma is the decimal mark).
fn sniff_delimiter(text: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in text {
        if !quoted && (b == b'\n' || b == b'\r') {
            break;
        }
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|&i| (counts[i], usize::from(i == 0))).unwrap_or(0);
    [b',', b';', b'\t'][best]
}

fn read_csv(bytes: &[u8], mut each: impl FnMut(Row) -> ControlFlow<()>) -> Result<(), FileError> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader =
        csv::ReaderBuilder::new().delimiter(sniff_delimiter(text)).has_headers(false).flexible(true).from_reader(text);
    let mut record = csv::StringRecord::new();
    // The reader numbers records, not the file's lines (it skips blank lines uncounted): a
    // record's line is counted from its byte offset instead, as a spreadsheet shows it.
    let (mut counted_to, mut newlines) = (0usize, 0u64);
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                return Err(match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => format!(
                        "Line {line} is not UTF-8 text. Save the file as \"CSV UTF-8\" (Excel: File → Save As) and upload it again."
                    ),
                    _ => format!("Line {line} cannot be read as CSV: {e}"),
                });
            }
        }
        let start = record.position().map_or(counted_to, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX));
        let mut start = start.clamp(counted_to, text.len());
        // Where reading began: blank lines before the record come first.
        while matches!(text.get(start), Some(b'\n' | b'\r')) {
            start += 1;
        }
        newlines += memchr::memchr_iter(b'\n', &text[counted_to..start]).count() as u64;
        counted_to = start;
        let line = newlines + 1;
        if record.len() > MAX_COLUMNS {
            return Err(too_wide(line));
        }
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if each(Row { line, cells: record.iter().map(cell).collect() }).is_break() {
            return Ok(());
        }
    }
}

/// A workbook unpacks to at most this many times the upload's size, and never more than
/// [`MAX_UNPACKED`] (ordinary workbooks unpack to less than ten times their size).
pub const MAX_UNPACKED_FACTOR: u64 = 40;
/// The most a workbook may unpack to, whatever its size.
pub const MAX_UNPACKED: u64 = 512 << 20;

fn read_xlsx(bytes: &[u8], mut each: impl FnMut(Row) -> ControlFlow<()>) -> Result<(), FileError> {
    let unreadable = |e: calamine::XlsxError| format!("The workbook cannot be read: {e}");
    check_unpacked_size(bytes)?;
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(unreadable)?;
    let Some(first) = workbook.sheet_names().first().cloned() else {
        return Err("The workbook has no sheet.".into());
    };
    let mut cells = workbook.worksheet_cells_reader(&first).map_err(unreadable)?;
    let mut current: Option<Row> = None;
    while let Some(c) = cells.next_cell().map_err(unreadable)? {
        let (r, col) = c.get_position();
        let line = u64::from(r) + 1;
        let col = col as usize;
        if col >= MAX_COLUMNS {
            return Err(too_wide(line));
        }
        if current.as_ref().is_some_and(|row| row.line != line) {
            if let Some(done) = current.take().filter(|row| row.cells.iter().any(|c| !c.is_empty())) {
                if each(done).is_break() {
                    return Ok(());
                }
            }
        }
        let row = current.get_or_insert_with(|| Row { line, cells: Vec::new() });
        if row.cells.len() <= col {
            row.cells.resize(col + 1, String::new());
        }
        row.cells[col] = cell(&calamine::Data::from(c.get_value().clone()).to_string());
    }
    if let Some(done) = current.filter(|row| row.cells.iter().any(|c| !c.is_empty())) {
        let _ = each(done);
    }
    Ok(())
}

/// Refuses a workbook that unpacks to more than its bound, read part by part through a budget
/// (a zip can declare smaller sizes than it holds), and one whose shared strings announce more
/// strings than their part could hold: calamine reserves room for the announced number before
/// reading any, so a tiny file could otherwise ask for any amount of memory.
fn check_unpacked_size(bytes: &[u8]) -> Result<(), FileError> {
    use std::io::Read;
    let unreadable = |e: zip::result::ZipError| format!("The workbook cannot be read: {e}");
    let too_big =
        || "The workbook unpacks to far more than its size; save it again from Excel and upload that.".to_owned();
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(unreadable)?;
    let mut budget = (bytes.len() as u64).saturating_mul(MAX_UNPACKED_FACTOR).min(MAX_UNPACKED);
    for i in 0..archive.len() {
        let mut part = archive.by_index(i).map_err(unreadable)?;
        let name = part.name().map_err(unreadable)?.into_owned();
        let mut head = Vec::new();
        let mut limited = (&mut part).take(budget.saturating_add(1));
        if name.ends_with("sharedStrings.xml") {
            (&mut limited)
                .take(4096)
                .read_to_end(&mut head)
                .map_err(|e| format!("The workbook cannot be read: {e}"))?;
        }
        let rest = std::io::copy(&mut limited, &mut std::io::sink())
            .map_err(|e| format!("The workbook cannot be read: {e}"))?;
        let size = head.len() as u64 + rest;
        if size > budget {
            return Err(too_big());
        }
        budget -= size;
        // Each string takes at least `<si><t/></si>` (12 bytes) in its part.
        if announced_strings(&head).is_some_and(|n| n > size / 12 + 1) {
            return Err(too_big());
        }
    }
    Ok(())
}

/// The `uniqueCount` a shared strings part announces.
fn announced_strings(head: &[u8]) -> Option<u64> {
    let text = String::from_utf8_lossy(head);
    let at = text.find("uniqueCount=")? + "uniqueCount=".len();
    let digits: String = text[at..].chars().skip(1).take_while(char::is_ascii_digit).collect();
    // A number too long to parse announces too much.
    Some(digits.parse().unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(bytes: &[u8]) -> Vec<Vec<String>> {
        let mut all = Vec::new();
        read(kind_of(bytes), bytes, |r| {
            all.push(r.cells);
            ControlFlow::Continue(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
        all
    }

    #[test]
    fn excel_csv_with_bom_semicolons_and_windows_line_ends_reads() {
        let file = "\u{feff}First Name;Last Name;Notes\r\nAna;\"Ortiz; Jr\";\"two\r\nlines\"\r\n\r\nBo;Li;\r\n";
        let all = rows(file.as_bytes());
        assert_eq!(all[0], ["First Name", "Last Name", "Notes"]);
        assert_eq!(all[1], ["Ana", "Ortiz; Jr", "two\r\nlines"]);
        assert_eq!(all[2], ["Bo", "Li", ""]);
        assert_eq!(all.len(), 3);
    }

    #[test]
    fn tabs_are_sniffed_and_lines_numbered_as_in_the_file() {
        let file = b"a\tb\n1\t2\n\n3\t4\n";
        let mut lines = Vec::new();
        read(FileKind::Csv, file, |r| {
            lines.push((r.line, r.cells));
            ControlFlow::Continue(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(lines.iter().map(|(l, _)| *l).collect::<Vec<_>>(), [1, 2, 4]);
        assert_eq!(lines[2].1, ["3", "4"]);
    }

    #[test]
    fn text_that_is_not_utf8_is_refused_with_its_line() {
        let err = inspect(b"Last Name\nM\xfcller\n").err().unwrap_or_default();
        assert!(err.contains("Line 2") && err.contains("UTF-8"), "{err}");
    }

    #[test]
    fn a_quoted_formula_guard_is_taken_off() {
        assert_eq!(cell("'+15551234567"), "+15551234567");
        assert_eq!(cell("'quoted"), "'quoted");
    }

    #[test]
    fn a_file_without_a_header_is_refused() {
        assert!(inspect(b"").is_err());
        assert!(inspect(b"PK\x03\x04garbage").is_err());
    }
}
