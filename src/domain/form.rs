//! Field errors collected while parsing a form, shown next to their fields.

use std::collections::BTreeMap;

/// Messages keyed by form field name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldErrors(BTreeMap<&'static str, String>);

impl FieldErrors {
    /// Records a message for `field` (the first message for a field wins).
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.entry(field).or_insert_with(|| message.into());
    }

    /// The message for `field`, or "" when it has none (what templates want).
    #[must_use]
    pub fn get(&self, field: &str) -> &str {
        self.0.get(field).map_or("", String::as_str)
    }

    /// Whether any field has a message.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every (field, message) pair.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.0.iter().map(|(k, v)| (*k, v.as_str()))
    }

    /// Turns a parse result into a value, recording its error under `field`.
    pub fn check<T>(&mut self, field: &'static str, result: Result<T, impl Into<String>>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }
}

/// Trims `raw` and gives `None` for blank input.
#[must_use]
pub fn optional(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// Whether `text` holds a control character other than line breaks and tabs (a NUL byte,
/// which PostgreSQL refuses to store, or terminal escapes).
#[must_use]
pub fn has_control(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

/// An optional text no longer than `max` characters.
///
/// # Errors
/// A message naming the limit, or refusing control characters.
pub fn optional_text(raw: &str, max: usize) -> Result<Option<String>, String> {
    let value = optional(raw);
    match &value {
        Some(v) if v.chars().count() > max => Err(format!("Use at most {max} characters.")),
        Some(v) if has_control(v) => Err("Remove the control characters.".into()),
        _ => Ok(value),
    }
}
