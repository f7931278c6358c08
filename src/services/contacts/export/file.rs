//! The export's CSV file: its columns, only those the agent's profile shows, headed with the
//! labels the import maps without help, and its rows, every cell made safe for spreadsheets
//! (see `domain::csv_cell`). UTF-8 with a byte order mark, so that spreadsheets read accents
//! right; CRLF line ends (RFC 4180, what spreadsheets write).

use std::borrow::Cow;
use std::collections::HashMap;

use crate::domain::csv_cell::{escape, escape_phone};
use crate::domain::import_fields::ImportField;
use crate::domain::FieldRules;
use crate::services::contacts::ContactRow;

/// The UTF-8 byte order mark.
pub const BOM: &str = "\u{feff}";

/// A column of the file: a field the import maps, headed with its label, so that the file
/// imports without mapping by hand.
pub type Column = ImportField;

/// Every column, in the file's order (an import's Full Name and External ID are not written:
/// the first and last name are, and a contact's External ID stays its own).
pub const ALL: [Column; 10] = [
    Column::FirstName,
    Column::LastName,
    Column::Email,
    Column::SecondaryEmail,
    Column::Phone,
    Column::Mobile,
    Column::Account,
    Column::Owner,
    Column::Title,
    Column::Description,
];

/// The columns `rules` show.
#[must_use]
pub fn columns(rules: &FieldRules) -> Vec<Column> {
    ALL.into_iter().filter(|c| c.permission_key().is_none_or(|f| rules.shows(f))).collect()
}

/// What a chunk of rows needs besides the rows: each contact's secondary addresses (in the order
/// they were added) and each owner's email address.
#[derive(Debug, Default)]
pub struct Related {
    pub secondary: HashMap<i64, Vec<String>>,
    pub owner_emails: HashMap<i64, String>,
}

/// CSV text of `records`.
fn csv_text<'a>(records: impl Iterator<Item = Vec<Cow<'a, str>>>, capacity: usize) -> Result<Vec<u8>, anyhow::Error> {
    let mut writer =
        csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::with_capacity(capacity));
    for record in records {
        writer.write_record(record.iter().map(|cell| cell.as_bytes()))?;
    }
    writer.into_inner().map_err(|e| anyhow::anyhow!("writing CSV: {}", e.error()))
}

/// The byte order mark and the header row.
///
/// # Errors
/// None in practice: the CSV goes to memory.
pub fn header(columns: &[Column]) -> Result<Vec<u8>, anyhow::Error> {
    let mut out = BOM.as_bytes().to_vec();
    out.extend(csv_text(std::iter::once(columns.iter().map(|c| Cow::Borrowed(c.label())).collect()), 256)?);
    Ok(out)
}

/// The rows of `contacts` (already redacted by the field rules), one cell per column.
///
/// # Errors
/// None in practice: the CSV goes to memory.
pub fn rows(columns: &[Column], contacts: &[ContactRow], related: &Related) -> Result<Vec<u8>, anyhow::Error> {
    let records = contacts.iter().map(|c| columns.iter().map(|column| cell(*column, c, related)).collect());
    csv_text(records, contacts.len() * 160)
}

fn cell<'a>(column: Column, c: &'a ContactRow, related: &'a Related) -> Cow<'a, str> {
    let text = |value: &'a Option<String>| escape(value.as_deref().unwrap_or_default());
    match column {
        Column::FirstName => text(&c.first_name),
        Column::LastName => escape(&c.last_name),
        Column::Email => text(&c.email),
        Column::SecondaryEmail => match related.secondary.get(&c.id) {
            Some(addresses) => Cow::Owned(escape(&addresses.join("; ")).into_owned()),
            None => Cow::Borrowed(""),
        },
        Column::Phone => escape_phone(c.phone.as_deref().unwrap_or_default()),
        Column::Mobile => escape_phone(c.mobile.as_deref().unwrap_or_default()),
        Column::Account => text(&c.account_name),
        Column::Owner => match c.owner_id.and_then(|id| related.owner_emails.get(&id)) {
            Some(email) => escape(email),
            None => Cow::Borrowed(""),
        },
        Column::Title => text(&c.title),
        Column::Description => text(&c.description),
        // Not among the file's columns (`ALL`): the name is written as First and Last Name.
        Column::FullName | Column::ExternalId => Cow::Borrowed(""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Permissions;

    #[test]
    fn a_hidden_email_takes_both_address_columns_away() {
        let mut p = Permissions::agent();
        p.contact_fields.insert("email".into(), crate::domain::FieldAccess::Hidden);
        let headers: Vec<&str> = columns(&FieldRules::contacts(&p)).into_iter().map(Column::label).collect();
        assert_eq!(
            headers,
            ["First Name", "Last Name", "Phone", "Mobile", "Account Name", "Contact Owner", "Title", "Description"]
        );
    }

    #[test]
    fn the_header_starts_with_the_byte_order_mark() {
        let text = header(&ALL).unwrap_or_default();
        assert_eq!(
            String::from_utf8(text).unwrap_or_default(),
            "\u{feff}First Name,Last Name,Email,Secondary Email,Phone,Mobile,Account Name,Contact Owner,Title,Description\r\n"
        );
    }
}
