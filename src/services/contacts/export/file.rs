//! The export's CSV file: its columns, only those the agent's profile shows, headed with the
//! labels the import maps without help, and its rows, every cell made safe for spreadsheets
//! (see `domain::csv_cell`). UTF-8 with a byte order mark, so that spreadsheets read accents
//! right; CRLF line ends (RFC 4180, what spreadsheets write).

use std::borrow::Cow;
use std::collections::HashMap;

use crate::domain::csv_cell::{escape, escape_phone};
use crate::domain::FieldRules;
use crate::services::contacts::ContactRow;

/// The UTF-8 byte order mark.
pub const BOM: &str = "\u{feff}";

/// A column of the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    FirstName,
    LastName,
    Email,
    SecondaryEmail,
    Phone,
    Mobile,
    Account,
    Owner,
    Title,
    Description,
}

impl Column {
    /// Every column, in the file's order.
    pub const ALL: [Self; 10] = [
        Self::FirstName,
        Self::LastName,
        Self::Email,
        Self::SecondaryEmail,
        Self::Phone,
        Self::Mobile,
        Self::Account,
        Self::Owner,
        Self::Title,
        Self::Description,
    ];

    /// The header, as the console labels the field.
    #[must_use]
    pub fn header(self) -> &'static str {
        match self {
            Self::FirstName => "First Name",
            Self::LastName => "Last Name",
            Self::Email => "Email",
            Self::SecondaryEmail => "Secondary Email",
            Self::Phone => "Phone",
            Self::Mobile => "Mobile",
            Self::Account => "Account Name",
            Self::Owner => "Contact Owner",
            Self::Title => "Title",
            Self::Description => "Description",
        }
    }

    /// The field permission that shows the column; the last name is always shown, and the
    /// secondary addresses go with the Email field.
    fn field(self) -> Option<&'static str> {
        match self {
            Self::FirstName => Some("first_name"),
            Self::LastName => None,
            Self::Email | Self::SecondaryEmail => Some("email"),
            Self::Phone => Some("phone"),
            Self::Mobile => Some("mobile"),
            Self::Account => Some("account"),
            Self::Owner => Some("owner"),
            Self::Title => Some("title"),
            Self::Description => Some("description"),
        }
    }
}

/// The columns `rules` show.
#[must_use]
pub fn columns(rules: &FieldRules) -> Vec<Column> {
    Column::ALL.into_iter().filter(|c| c.field().is_none_or(|f| rules.shows(f))).collect()
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
    out.extend(csv_text(std::iter::once(columns.iter().map(|c| Cow::Borrowed(c.header())).collect()), 256)?);
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
        let headers: Vec<&str> = columns(&FieldRules::contacts(&p)).into_iter().map(Column::header).collect();
        assert_eq!(
            headers,
            ["First Name", "Last Name", "Phone", "Mobile", "Account Name", "Contact Owner", "Title", "Description"]
        );
    }

    #[test]
    fn the_header_starts_with_the_byte_order_mark() {
        let text = header(&Column::ALL).unwrap_or_default();
        assert_eq!(
            String::from_utf8(text).unwrap_or_default(),
            "\u{feff}First Name,Last Name,Email,Secondary Email,Phone,Mobile,Account Name,Contact Owner,Title,Description\r\n"
        );
    }
}
