//! The Help Center's sign-up form: a name (last name required), an email, a password twice.

use serde::Deserialize;

use super::form::{optional_text, FieldErrors};
use super::{Email, LastName};
use crate::auth::password;

/// The form as typed.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub confirm_password: String,
}

/// A valid sign-up (the password still in clear, to be hashed by the caller).
#[derive(Clone, Debug)]
pub struct SignupInput {
    pub first_name: Option<String>,
    pub last_name: LastName,
    pub email: Email,
    pub password: String,
}

impl SignupForm {
    /// The input, or a message per field.
    ///
    /// # Errors
    /// The fields that are not valid.
    pub fn parse(&self) -> Result<SignupInput, FieldErrors> {
        let mut errors = FieldErrors::default();
        let first_name = errors.check("first_name", optional_text(&self.first_name, 100));
        let last_name = errors.check("last_name", LastName::parse(&self.last_name));
        let email = errors.check("email", Email::parse(&self.email));
        if let Err((field, message)) = password::check_new(&self.password, &self.confirm_password) {
            errors.add(field, message);
        }
        match (first_name, last_name, email) {
            (Some(first_name), Some(last_name), Some(email)) if errors.is_empty() => {
                Ok(SignupInput { first_name, last_name, email, password: self.password.clone() })
            }
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> SignupForm {
        SignupForm {
            first_name: "Melissa".into(),
            last_name: "Ortiz".into(),
            email: "Melissa@Example.com".into(),
            password: "long enough".into(),
            confirm_password: "long enough".into(),
        }
    }

    #[test]
    fn a_good_sign_up_parses_with_a_lowercase_email() {
        let input = form().parse().unwrap();
        assert_eq!(input.email.as_str(), "melissa@example.com");
        assert_eq!(input.last_name.as_str(), "Ortiz");
    }

    #[test]
    fn each_bad_field_gets_its_message() {
        let bad =
            SignupForm { last_name: " ".into(), email: "nope".into(), confirm_password: "other".into(), ..form() };
        let errors = bad.parse().unwrap_err();
        assert!(!errors.get("last_name").is_empty());
        assert!(!errors.get("email").is_empty());
        assert_eq!(errors.get("confirm_password"), "The passwords do not match.");
    }
}
