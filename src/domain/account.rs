//! An account's editable fields: the form as posted and the validated input.

use serde::Deserialize;

use super::field_rules::ScreenedForm;
use super::form::{optional, optional_text};
use super::{FieldErrors, Phone, PhoneParser};

/// The Add/Edit Account form as posted; `None` means the field was not in the post.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct AccountForm {
    pub name: Option<String>,
    pub website: Option<String>,
    pub phone: Option<String>,
    pub owner: Option<String>,
    pub description: Option<String>,
}

impl AccountForm {
    /// The submitted text of `field` ("" when absent).
    #[must_use]
    pub fn value(&self, field: &str) -> &str {
        ScreenedForm::value(self, field)
    }

    fn slot(&mut self, field: &str) -> Option<&mut Option<String>> {
        Some(match field {
            "name" => &mut self.name,
            "website" => &mut self.website,
            "phone" => &mut self.phone,
            "owner" => &mut self.owner,
            "description" => &mut self.description,
            _ => return None,
        })
    }

    fn get(&self, field: &str) -> Option<&Option<String>> {
        Some(match field {
            "name" => &self.name,
            "website" => &self.website,
            "phone" => &self.phone,
            "owner" => &self.owner,
            "description" => &self.description,
            _ => return None,
        })
    }

    /// Validates the fields that were posted.
    ///
    /// # Errors
    /// Messages per field.
    pub fn parse(&self, phones: &PhoneParser) -> Result<AccountInput, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = match optional(self.name.as_deref().unwrap_or("")) {
            None => {
                errors.add("name", "Account Name is required.");
                None
            }
            Some(n) if n.chars().count() > 200 || n.chars().any(char::is_control) => {
                errors.add("name", "Use at most 200 ordinary characters.");
                None
            }
            Some(n) => Some(n),
        };
        let website = self.website.as_deref().map(|v| match optional(v) {
            Some(w)
                if w.len() > 200 || w.contains(|c: char| c.is_whitespace() || c.is_control()) || !w.contains('.') =>
            {
                errors.add("website", "Enter a web address, like example.com.");
                None
            }
            other => other,
        });
        let phone = self.phone.as_deref().map(|v| match optional(v) {
            None => None,
            Some(v) => errors.check("phone", phones.parse(&v)),
        });
        let owner = self.owner.as_deref().map(|v| match optional(v) {
            None => None,
            Some(v) => errors.check("owner", v.parse::<i64>().map_err(|_| "Choose an agent.")),
        });
        let description =
            self.description.as_deref().map(|v| errors.check("description", optional_text(v, 5000)).flatten());
        match name {
            Some(name) if errors.is_empty() => Ok(AccountInput { name, website, phone, owner_id: owner, description }),
            _ => Err(errors),
        }
    }
}

impl ScreenedForm for AccountForm {
    fn value(&self, field: &str) -> &str {
        self.get(field).and_then(Option::as_deref).unwrap_or("")
    }

    fn posted(&self, field: &str) -> bool {
        self.get(field).is_some_and(Option::is_some)
    }

    fn drop_field(&mut self, field: &str) {
        if let Some(slot) = self.slot(field) {
            *slot = None;
        }
    }
}

/// Validated account fields; an outer `None` means "not posted: keep".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountInput {
    pub name: String,
    pub website: Option<Option<String>>,
    pub phone: Option<Option<Phone>>,
    pub owner_id: Option<Option<i64>>,
    pub description: Option<Option<String>>,
}
