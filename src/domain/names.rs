//! Names of people: a last name is never empty.

use std::fmt;

const MAX_NAME: usize = 100;

/// A contact's last name: trimmed, never empty, at most 100 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastName(String);

impl LastName {
    /// Parses what someone typed.
    ///
    /// # Errors
    /// A message for the form.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let value = raw.trim();
        if value.is_empty() {
            return Err("Last Name is required.".into());
        }
        if value.chars().count() > MAX_NAME {
            return Err(format!("Use at most {MAX_NAME} characters."));
        }
        if value.chars().any(char::is_control) {
            return Err("Remove the control characters.".into());
        }
        Ok(Self(value.to_owned()))
    }

    /// The name as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LastName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person's full name for display: "First Last", or just the last name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonName<'a> {
    pub first: Option<&'a str>,
    pub last: &'a str,
}

impl PersonName<'_> {
    /// The key the contact list sorts by: "last first", lowercased.
    #[must_use]
    pub fn sort_key(&self) -> String {
        match self.first {
            Some(first) => format!("{} {}", self.last, first).to_lowercase(),
            None => self.last.to_lowercase(),
        }
    }
}

impl fmt::Display for PersonName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.first {
            Some(first) => write!(f, "{first} {}", self.last),
            None => f.write_str(self.last),
        }
    }
}

/// First and last name from a display name as a channel gives it (a mail's From, a WhatsApp
/// profile, a name an agent typed): `"Melissa Ortiz"` gives Melissa / Ortiz, `"Ortiz, Melissa"`
/// the same, a single word a last name only; `None` when there is no name in it.
#[must_use]
pub fn split_display_name(display: &str) -> Option<(Option<String>, String)> {
    let bounded = |name: &str| -> String { name.chars().filter(|c| !c.is_control()).take(MAX_NAME).collect() };
    let display = display.trim().trim_matches(['"', '\'']).trim();
    if display.is_empty() || display.chars().all(|c| c.is_control()) {
        return None;
    }
    if let Some((last, first)) = display.split_once(',') {
        let (first, last) = (first.trim(), last.trim());
        if !first.is_empty() && !last.is_empty() {
            return Some((Some(bounded(first)), bounded(last)));
        }
    }
    Some(match display.rsplit_once(' ') {
        Some((first, last)) => (Some(bounded(first.trim())), bounded(last)),
        None => (None, bounded(display)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blank_last_name_is_refused() {
        assert!(LastName::parse("   ").is_err());
        assert_eq!(LastName::parse(" Ortiz ").map(|n| n.0), Ok("Ortiz".into()));
    }

    #[test]
    fn the_sort_key_puts_the_last_name_first() {
        let name = PersonName { first: Some("Melissa"), last: "Ortiz" };
        assert_eq!(name.sort_key(), "ortiz melissa");
        assert_eq!(name.to_string(), "Melissa Ortiz");
    }
}
