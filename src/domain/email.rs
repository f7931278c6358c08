//! `Email`: always a valid address, always lowercase.

use std::fmt;

/// A valid email address, trimmed and lowercased, so that equality is case-insensitive.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Parses what someone typed.
    ///
    /// # Errors
    /// A message for the form when the text is not an email address.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let value = raw.trim().to_lowercase();
        if value.is_empty() {
            return Err("Enter an email address.");
        }
        if value.len() > 254 || value.chars().any(char::is_control) || !email_address::EmailAddress::is_valid(&value) {
            return Err("Enter a valid email address, like name@example.com.");
        }
        // The crate accepts addresses without a dot in the domain ("a@localhost"); a contact's
        // address must be reachable from the internet.
        match value.rsplit_once('@') {
            Some((_, domain)) if domain.contains('.') && !domain.starts_with('[') => Ok(Self(value)),
            _ => Err("Enter a valid email address, like name@example.com."),
        }
    }

    /// The address as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_trimmed_and_lowercased() {
        assert_eq!(Email::parse("  Melissa@Example.COM ").map(|e| e.0), Ok("melissa@example.com".into()));
    }

    #[test]
    fn text_that_is_not_an_address_is_refused() {
        for bad in
            ["", "melissa", "melissa@", "@example.com", "a b@example.com", "m@localhost", "m@@x.com", "m\0@x.com"]
        {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
