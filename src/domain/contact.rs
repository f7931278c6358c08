//! A contact's editable fields: the form as posted (raw text, a field absent when the browser
//! did not send it) and the validated input it parses into.

use serde::Deserialize;

use super::field_rules::ScreenedForm;
use super::form::{optional, optional_text};
use super::{Email, FieldErrors, LastName, Phone, PhoneParser};

/// The Add/Edit Contact form as posted. `None` means the field was not in the post: for a field
/// the profile hides or makes read-only the page does not send it, and it is kept as it is.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ContactForm {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    /// More addresses (**Secondary Email**), one a line (commas and spaces separate too). The
    /// Email field's permission covers them.
    pub secondary_emails: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    /// The account's name, as typed; it must name an existing account.
    pub account: Option<String>,
    /// The owner agent's id.
    pub owner: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
}

impl ContactForm {
    /// The submitted text of `field` ("" when absent), for showing the form again.
    #[must_use]
    pub fn value(&self, field: &str) -> &str {
        ScreenedForm::value(self, field)
    }

    fn field(&self, field: &str) -> Option<&Option<String>> {
        Some(match field {
            "first_name" => &self.first_name,
            "last_name" => &self.last_name,
            "email" => &self.email,
            "secondary_emails" => &self.secondary_emails,
            "phone" => &self.phone,
            "mobile" => &self.mobile,
            "account" => &self.account,
            "owner" => &self.owner,
            "title" => &self.title,
            "description" => &self.description,
            _ => return None,
        })
    }

    fn forget(&mut self, field: &str) {
        let slot = match field {
            "first_name" => &mut self.first_name,
            "email" => {
                // A profile's Email permission covers every address.
                self.secondary_emails = None;
                &mut self.email
            }
            "phone" => &mut self.phone,
            "mobile" => &mut self.mobile,
            "account" => &mut self.account,
            "owner" => &mut self.owner,
            "title" => &mut self.title,
            "description" => &mut self.description,
            _ => return,
        };
        *slot = None;
    }

    /// Validates the fields that were posted. `Keep` stands for a field not posted.
    ///
    /// # Errors
    /// Messages per field.
    pub fn parse(&self, phones: &PhoneParser) -> Result<ContactInput, FieldErrors> {
        let mut errors = FieldErrors::default();
        let last_name = errors.check("last_name", LastName::parse(self.last_name.as_deref().unwrap_or("")));
        let first_name = self.first_name.as_deref().map(|v| errors.check("first_name", optional_text(v, 100)));
        let email = self.email.as_deref().map(|v| match optional(v) {
            None => Some(None),
            Some(v) => errors.check("email", Email::parse(&v)).map(Some),
        });
        let secondary_emails = self.secondary_emails.as_deref().map(|v| errors.check("secondary_emails", secondary(v)));
        if matches!(email, Some(Some(None)))
            && secondary_emails.as_ref().is_some_and(|s| s.as_ref().is_some_and(|s| !s.is_empty()))
        {
            errors.add("email", "A contact with secondary addresses needs a primary Email.");
        }
        let phone_of = |field: &'static str, raw: &Option<String>, errors: &mut FieldErrors| {
            raw.as_deref().map(|v| match optional(v) {
                None => Some(None),
                Some(v) => errors.check(field, phones.parse(&v)).map(Some),
            })
        };
        let phone = phone_of("phone", &self.phone, &mut errors);
        let mobile = phone_of("mobile", &self.mobile, &mut errors);
        let account = self.account.as_deref().map(|v| errors.check("account", optional_text(v, 200)));
        let owner = self.owner.as_deref().map(|v| match optional(v) {
            None => Some(None),
            Some(v) => errors.check("owner", v.parse::<i64>().map_err(|_| "Choose an agent.")).map(Some),
        });
        let title = self.title.as_deref().map(|v| errors.check("title", optional_text(v, 100)));
        let description = self.description.as_deref().map(|v| errors.check("description", optional_text(v, 5000)));
        let Some(last_name) = last_name else { return Err(errors) };
        if !errors.is_empty() {
            return Err(errors);
        }
        // Every `Some(None)` above is an error already reported, so flattening is safe here.
        let keep = |v: Option<Option<Option<String>>>| v.map(Option::unwrap_or_default);
        Ok(ContactInput {
            first_name: keep(first_name),
            last_name,
            email: email.map(Option::unwrap_or_default),
            secondary_emails: secondary_emails.map(Option::unwrap_or_default),
            phone: phone.map(Option::unwrap_or_default),
            mobile: mobile.map(Option::unwrap_or_default),
            account_name: keep(account),
            owner_id: owner.map(Option::unwrap_or_default),
            title: keep(title),
            description: keep(description),
        })
    }
}

/// Most secondary addresses a contact may have.
pub const MAX_SECONDARY_EMAILS: usize = 50;

/// The addresses of the Secondary Email field, each once.
fn secondary(text: &str) -> Result<Vec<Email>, String> {
    let mut emails: Vec<Email> = Vec::new();
    for word in text.split(|c: char| c.is_whitespace() || c == ',' || c == ';').filter(|w| !w.is_empty()) {
        let email = Email::parse(word).map_err(|_| format!("\u{201c}{word}\u{201d} is not an email address."))?;
        if !emails.contains(&email) {
            emails.push(email);
        }
    }
    if emails.len() > MAX_SECONDARY_EMAILS {
        return Err(format!("A contact can have at most {MAX_SECONDARY_EMAILS} secondary addresses."));
    }
    Ok(emails)
}

impl ScreenedForm for ContactForm {
    fn value(&self, field: &str) -> &str {
        self.field(field).and_then(Option::as_deref).unwrap_or("")
    }

    fn posted(&self, field: &str) -> bool {
        self.field(field).is_some_and(Option::is_some)
    }

    fn drop_field(&mut self, field: &str) {
        self.forget(field);
    }
}

/// Validated contact fields. For every optional field, the outer `None` means "not posted:
/// keep what is stored" and `Some(None)` means "posted empty: clear it".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactInput {
    pub first_name: Option<Option<String>>,
    pub last_name: LastName,
    pub email: Option<Option<Email>>,
    /// `None`: not posted, keep them.
    pub secondary_emails: Option<Vec<Email>>,
    pub phone: Option<Option<Phone>>,
    pub mobile: Option<Option<Phone>>,
    pub account_name: Option<Option<String>>,
    pub owner_id: Option<Option<i64>>,
    pub title: Option<Option<String>>,
    pub description: Option<Option<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phones() -> PhoneParser {
        PhoneParser::new("US").unwrap_or_else(|e| panic!("{e}"))
    }

    fn form(pairs: &[(&str, &str)]) -> ContactForm {
        let body = serde_urlencoded::to_string(pairs).unwrap_or_default();
        serde_urlencoded::from_str(&body).unwrap_or_default()
    }

    #[test]
    fn a_full_form_parses_and_normalises() {
        let input = form(&[
            ("first_name", " Melissa "),
            ("last_name", "Ortiz"),
            ("email", "M.Ortiz@Example.com"),
            ("phone", "(415) 555-2671"),
            ("mobile", ""),
            ("owner", "3"),
        ])
        .parse(&phones());
        let input = input.unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(input.first_name, Some(Some("Melissa".into())));
        assert_eq!(input.email.flatten().map(|e| e.to_string()), Some("m.ortiz@example.com".into()));
        assert_eq!(input.phone.flatten().map(|p| p.to_string()), Some("+14155552671".into()));
        assert_eq!(input.mobile, Some(None));
        assert_eq!(input.owner_id, Some(Some(3)));
        assert_eq!(input.title, None, "not posted means keep");
    }

    #[test]
    fn secondary_addresses_are_one_a_line_lowercase_and_each_once() {
        let input = form(&[("last_name", "Ortiz"), ("secondary_emails", "A@x.com\r\nb@y.org, a@X.com\n\n")])
            .parse(&phones())
            .unwrap_or_else(|e| panic!("{e:?}"));
        let emails: Vec<String> = input.secondary_emails.unwrap_or_default().iter().map(ToString::to_string).collect();
        assert_eq!(emails, ["a@x.com", "b@y.org"]);
        let errors = form(&[("last_name", "Ortiz"), ("secondary_emails", "a@x.com\nnot-an-address")])
            .parse(&phones())
            .err()
            .unwrap_or_default();
        assert!(errors.get("secondary_emails").contains("not-an-address"), "{errors:?}");
    }

    #[test]
    fn every_bad_field_gets_its_own_message() {
        let errors = form(&[("last_name", " "), ("email", "nope"), ("phone", "abc"), ("owner", "x")])
            .parse(&phones())
            .err()
            .unwrap_or_default();
        for field in ["last_name", "email", "phone", "owner"] {
            assert!(!errors.get(field).is_empty(), "{field} has no message");
        }
    }
}
