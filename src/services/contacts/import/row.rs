//! One row of an imported file as a contact form: the cells of its mapped columns, the full
//! name split, the owner named by address or name turned into the agent's id. The form is then
//! checked as Add Contact and Edit Contact check theirs (`ContactForm::parse`), so an import
//! accepts exactly what the console accepts.

use std::collections::HashMap;

use crate::domain::import_fields::{split_full_name, ImportField};
use crate::domain::{ContactForm, FieldErrors};

/// The values of one row, by field (only mapped, non-empty cells).
#[derive(Clone, Debug, Default)]
pub struct Values(HashMap<ImportField, String>);

impl Values {
    /// The row's cells under `mapping`; a field mapped twice keeps its first non-empty cell.
    #[must_use]
    pub fn of(mapping: &[Option<ImportField>], cells: &[String]) -> Self {
        let mut values = HashMap::new();
        for (field, cell) in mapping.iter().zip(cells) {
            if let Some(field) = field {
                if !cell.is_empty() {
                    values.entry(*field).or_insert_with(|| cell.clone());
                }
            }
        }
        Self(values)
    }

    /// The value of `field`, if the row has one.
    #[must_use]
    pub fn get(&self, field: ImportField) -> Option<&str> {
        self.0.get(&field).map(String::as_str)
    }

    /// The row's addresses, primary first, lowercase (as stored), for matching.
    #[must_use]
    pub fn emails(&self) -> Vec<String> {
        let secondary = self.get(ImportField::SecondaryEmail).unwrap_or("");
        self.get(ImportField::Email)
            .into_iter()
            .chain(secondary.split(|c: char| c.is_whitespace() || c == ',' || c == ';'))
            .map(|e| e.trim().to_lowercase())
            .filter(|e| e.contains('@'))
            .collect()
    }

    /// The first and last name: their own columns, else the full name split.
    fn names(&self) -> (Option<String>, Option<String>) {
        let full = self.get(ImportField::FullName).map(split_full_name);
        let first = self.get(ImportField::FirstName).map(str::to_owned).or_else(|| full.clone().and_then(|f| f.0));
        let last = self.get(ImportField::LastName).map(str::to_owned).or_else(|| full.map(|f| f.1));
        (first, last)
    }

    /// The form of a new contact: the row's values, `owner` the resolved owner's id.
    #[must_use]
    pub fn new_contact(&self, owner: Option<i64>) -> ContactForm {
        let (first_name, last_name) = self.names();
        let text = |f| self.get(f).map(str::to_owned);
        ContactForm {
            first_name,
            last_name: Some(last_name.unwrap_or_default()),
            email: text(ImportField::Email),
            secondary_emails: text(ImportField::SecondaryEmail),
            phone: text(ImportField::Phone),
            mobile: text(ImportField::Mobile),
            account: text(ImportField::Account),
            owner: owner.map(|id| id.to_string()),
            title: text(ImportField::Title),
            description: text(ImportField::Description),
        }
    }

    /// The form of an existing contact, `current`, with the row's values over it: a field
    /// whose cell is empty or not mapped is not posted, so it keeps what is there (and is not
    /// checked again). The last name is always posted (it is required), and addresses are only
    /// ever added, as secondary ones.
    #[must_use]
    pub fn over(&self, current: &ContactForm, owner: Option<i64>) -> ContactForm {
        let (first_name, last_name) = self.names();
        let text = |f| self.get(f).map(str::to_owned);
        let mut secondary: Vec<String> =
            current.secondary_emails.as_deref().unwrap_or("").lines().map(str::to_owned).collect();
        let primary = current.email.clone().unwrap_or_default();
        let mut added = false;
        for email in self.emails() {
            if email != primary && !secondary.contains(&email) {
                secondary.push(email);
                added = true;
            }
        }
        ContactForm {
            first_name,
            last_name: last_name.or_else(|| current.last_name.clone()),
            email: added.then(|| current.email.clone()).flatten(),
            secondary_emails: added.then(|| secondary.join("\n")),
            phone: text(ImportField::Phone),
            mobile: text(ImportField::Mobile),
            account: text(ImportField::Account),
            owner: owner.map(|id| id.to_string()),
            title: text(ImportField::Title),
            description: text(ImportField::Description),
        }
    }
}

/// The fields of a contact form in the order of the file's usual columns, with their labels:
/// the order in which a row's first problem is reported.
const FORM_FIELDS: [(&str, &str); 10] = [
    ("first_name", "First Name"),
    ("last_name", "Last Name"),
    ("email", "Email"),
    ("secondary_emails", "Secondary Email"),
    ("phone", "Phone"),
    ("mobile", "Mobile"),
    ("account", "Account Name"),
    ("owner", "Contact Owner"),
    ("title", "Title"),
    ("description", "Description"),
];

/// The label of a form field's key.
#[must_use]
pub fn label_of(field: &str) -> &'static str {
    FORM_FIELDS.iter().find(|(k, _)| *k == field).map_or("Row", |(_, l)| l)
}

/// A row's first problem as (field label, reason), with how many more it has.
#[must_use]
pub fn first_problem(errors: &FieldErrors) -> (&'static str, String) {
    let all: Vec<(&str, &str)> = errors.iter().collect();
    let first = FORM_FIELDS
        .iter()
        .find_map(|(key, label)| all.iter().find(|(f, _)| f == key).map(|(_, m)| (*label, (*m).to_owned())))
        .or_else(|| all.first().map(|(f, m)| (label_of(f), (*m).to_owned())))
        .unwrap_or(("Row", "This row cannot be imported.".to_owned()));
    match all.len() {
        0 | 1 => first,
        n => (first.0, format!("{} (and {} more problem{})", first.1, n - 1, if n == 2 { "" } else { "s" })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(ImportField, &str)]) -> Values {
        let mapping: Vec<Option<ImportField>> = pairs.iter().map(|(f, _)| Some(*f)).collect();
        let cells: Vec<String> = pairs.iter().map(|(_, v)| (*v).to_owned()).collect();
        Values::of(&mapping, &cells)
    }

    #[test]
    fn an_empty_cell_keeps_the_value_in_update_mode() {
        let current = ContactForm {
            last_name: Some("Ortiz".into()),
            title: Some("CTO".into()),
            email: Some("m@x.com".into()),
            ..ContactForm::default()
        };
        let row = values(&[(ImportField::LastName, ""), (ImportField::Title, ""), (ImportField::Phone, "+1 555")]);
        let form = row.over(&current, None);
        assert_eq!(form.last_name.as_deref(), Some("Ortiz"));
        assert_eq!(form.title, None, "not posted: kept");
        assert_eq!(form.account, None, "not posted: kept, and not looked up again");
        assert_eq!(form.phone.as_deref(), Some("+1 555"));
    }

    #[test]
    fn a_full_name_fills_first_and_last_name() {
        let form = values(&[(ImportField::FullName, "Ana María López")]).new_contact(None);
        assert_eq!(form.first_name.as_deref(), Some("Ana María"));
        assert_eq!(form.last_name.as_deref(), Some("López"));
    }

    #[test]
    fn the_first_problem_follows_the_columns_order() {
        let mut errors = FieldErrors::default();
        errors.add("phone", "not a number");
        errors.add("last_name", "required");
        assert_eq!(first_problem(&errors), ("Last Name", "required (and 1 more problem)".to_owned()));
    }
}
