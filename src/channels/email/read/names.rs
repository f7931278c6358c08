//! The name a contact created from a mail gets.

use crate::domain::Email;

/// Longest first or last name kept (the contact form's limit).
const MAX_NAME: usize = 100;

/// First and last name from the display name of the From address: `"Melissa Ortiz"` gives
/// Melissa / Ortiz, `"Ortiz, Melissa"` the same, a single word a last name only. Without a
/// display name the last name is the address's local part, as Zoho Desk does.
#[must_use]
pub fn sender_name(display: Option<&str>, email: &Email) -> (Option<String>, String) {
    let named = display.filter(|d| !d.contains('@')).and_then(crate::domain::names::split_display_name);
    named.unwrap_or_else(|| {
        let local = email.as_str().split('@').next().unwrap_or_default();
        (None, local.chars().filter(|c| !c.is_control()).take(MAX_NAME).collect())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(s: &str) -> Email {
        Email::parse(s).unwrap()
    }

    #[test]
    fn splits_display_names() {
        let e = email("m@x.com");
        assert_eq!(sender_name(Some("Melissa Ortiz"), &e), (Some("Melissa".into()), "Ortiz".into()));
        assert_eq!(sender_name(Some("Ortiz, Melissa"), &e), (Some("Melissa".into()), "Ortiz".into()));
        assert_eq!(sender_name(Some("Mary Ann de Vries"), &e), (Some("Mary Ann de".into()), "Vries".into()));
        assert_eq!(sender_name(Some("Melissa"), &e), (None, "Melissa".into()));
    }

    #[test]
    fn without_a_display_name_the_local_part_is_the_last_name() {
        assert_eq!(sender_name(None, &email("m.ortiz@x.com")), (None, "m.ortiz".into()));
        assert_eq!(sender_name(Some("  "), &email("m@x.com")), (None, "m".into()));
        assert_eq!(sender_name(Some("m@x.com"), &email("m@x.com")), (None, "m".into()));
    }
}
