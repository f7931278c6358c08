//! Tickets: status, priority and channel as closed sets (stored as their keys), and the forms
//! that open a ticket or add to its thread.

use serde::Deserialize;

use super::form::{has_control, optional, FieldErrors};

/// Longest subject accepted.
pub const MAX_SUBJECT: usize = 200;
/// Longest message body accepted.
pub const MAX_BODY: usize = 20_000;

macro_rules! keyed_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => ($key:literal, $label:literal)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in the order forms offer them.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stored key.
            #[must_use]
            pub fn key(self) -> &'static str {
                match self { $(Self::$variant => $key),+ }
            }

            /// The label people read.
            #[must_use]
            pub fn label(self) -> &'static str {
                match self { $(Self::$variant => $label),+ }
            }

            /// The value for a stored key or a form value (key or label, any case).
            #[must_use]
            pub fn from_key(raw: &str) -> Option<Self> {
                let raw = raw.trim();
                Self::ALL.iter().copied().find(|v| v.key().eq_ignore_ascii_case(raw) || v.label().eq_ignore_ascii_case(raw))
            }
        }
    };
}

keyed_enum!(
    /// Where a ticket stands.
    TicketStatus { Open => ("Open", "Open"), OnHold => ("On Hold", "On Hold"), Closed => ("Closed", "Closed") }
);

keyed_enum!(
    /// How urgent a ticket is.
    Priority { Low => ("Low", "Low"), Medium => ("Medium", "Medium"), High => ("High", "High"), Urgent => ("Urgent", "Urgent") }
);

keyed_enum!(
    /// How a ticket came in.
    Channel {
        Email => ("email", "Email"),
        Web => ("web", "Web"),
        HelpCenter => ("help_center", "Help Center"),
        WhatsApp => ("whatsapp", "WhatsApp"),
        Phone => ("phone", "Phone"),
    }
);

/// A CSS class for a stored status.
#[must_use]
pub fn status_class(status: &str) -> &'static str {
    match TicketStatus::from_key(status) {
        Some(TicketStatus::Open) => "open",
        Some(TicketStatus::OnHold) => "on-hold",
        Some(TicketStatus::Closed) => "closed",
        None => "other",
    }
}

/// A label for a stored channel key (unknown keys shown as they are).
#[must_use]
pub fn channel_label(key: &str) -> String {
    Channel::from_key(key).map_or_else(|| key.to_owned(), |c| c.label().to_owned())
}

/// A subject: trimmed, not empty, one line, at most [`MAX_SUBJECT`] characters.
///
/// # Errors
/// A message for the form.
pub fn parse_subject(raw: &str) -> Result<String, String> {
    let value = raw.trim();
    if value.is_empty() {
        return Err("Subject is required.".into());
    }
    if value.chars().count() > MAX_SUBJECT {
        return Err(format!("Use at most {MAX_SUBJECT} characters."));
    }
    if value.chars().any(char::is_control) {
        return Err("Use a single line without control characters.".into());
    }
    Ok(value.to_owned())
}

/// A message body: not blank, at most [`MAX_BODY`] characters.
///
/// # Errors
/// A message for the form.
pub fn parse_body(raw: &str, what: &str) -> Result<String, String> {
    let Some(value) = optional(raw) else { return Err(format!("{what} is required.")) };
    if value.chars().count() > MAX_BODY {
        return Err(format!("Use at most {MAX_BODY} characters."));
    }
    if has_control(&value) {
        return Err("Remove the control characters.".into());
    }
    Ok(value)
}

/// The "Submit a ticket" form, as typed.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct TicketForm {
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub priority: String,
}

/// A valid new ticket's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketInput {
    pub subject: String,
    pub description: String,
    pub priority: Priority,
}

impl TicketForm {
    /// The input, or a message per field.
    ///
    /// # Errors
    /// The fields that are not valid.
    pub fn parse(&self) -> Result<TicketInput, FieldErrors> {
        let mut errors = FieldErrors::default();
        let subject = errors.check("subject", parse_subject(&self.subject));
        let description = errors.check("description", parse_body(&self.description, "Description"));
        let priority = if self.priority.trim().is_empty() {
            Some(Priority::Medium)
        } else {
            errors.check("priority", Priority::from_key(&self.priority).ok_or("Choose a priority from the list."))
        };
        match (subject, description, priority) {
            (Some(subject), Some(description), Some(priority)) if errors.is_empty() => {
                Ok(TicketInput { subject, description, priority })
            }
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_needs_a_subject_and_a_description() {
        let form = TicketForm { subject: "  ".into(), description: "".into(), priority: "".into() };
        let errors = form.parse().unwrap_err();
        assert_eq!(errors.get("subject"), "Subject is required.");
        assert_eq!(errors.get("description"), "Description is required.");
    }

    #[test]
    fn priority_defaults_to_medium_and_must_be_known() {
        let mut form = TicketForm { subject: "Printer".into(), description: "Jammed".into(), priority: "".into() };
        assert_eq!(form.parse().unwrap().priority, Priority::Medium);
        form.priority = "high".into();
        assert_eq!(form.parse().unwrap().priority, Priority::High);
        form.priority = "Whenever".into();
        assert!(!form.parse().unwrap_err().get("priority").is_empty());
    }

    #[test]
    fn long_or_multi_line_subjects_are_refused() {
        assert!(parse_subject(&"x".repeat(MAX_SUBJECT + 1)).is_err());
        assert!(parse_subject("a\nb").is_err());
        assert_eq!(parse_subject("  Hello  ").unwrap(), "Hello");
    }

    #[test]
    fn statuses_read_from_keys_and_labels() {
        assert_eq!(TicketStatus::from_key("on hold"), Some(TicketStatus::OnHold));
        assert_eq!(TicketStatus::from_key("Closed"), Some(TicketStatus::Closed));
        assert_eq!(TicketStatus::from_key("Deleted"), None);
    }
}
