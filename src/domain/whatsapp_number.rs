//! A WhatsApp business number as an administrator connects it (Settings → Channels →
//! WhatsApp): the ids Meta's dashboard shows, the Access Token and App Secret (secrets: left
//! blank when editing to keep the stored ones, never shown again), and the Graph API version.

use serde::Deserialize;

use super::form::optional;
use super::FieldErrors;

/// The Graph API version a new number uses.
pub const DEFAULT_GRAPH_VERSION: &str = "v23.0";

/// The form as posted.
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
pub struct NumberForm {
    pub name: String,
    pub phone_number_id: String,
    pub waba_id: String,
    pub access_token: String,
    pub app_secret: String,
    pub graph_version: String,
}

/// A checked number.
#[derive(Clone, PartialEq, Eq)]
pub struct NumberInput {
    pub name: String,
    pub phone_number_id: String,
    pub waba_id: String,
    /// `None` keeps the stored one (editing).
    pub access_token: Option<String>,
    /// `None` keeps the stored one (editing).
    pub app_secret: Option<String>,
    pub graph_version: String,
}

// Debug output never shows the secrets (it could end up in a log).
impl std::fmt::Debug for NumberForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NumberForm")
            .field("name", &self.name)
            .field("phone_number_id", &self.phone_number_id)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for NumberInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NumberInput")
            .field("name", &self.name)
            .field("phone_number_id", &self.phone_number_id)
            .field("waba_id", &self.waba_id)
            .field("graph_version", &self.graph_version)
            .finish_non_exhaustive()
    }
}

impl NumberForm {
    /// The form for a new number.
    #[must_use]
    pub fn blank() -> Self {
        Self { graph_version: DEFAULT_GRAPH_VERSION.into(), ..Self::default() }
    }

    /// Checks every field; `secrets_required` when there are no stored secrets to keep.
    ///
    /// # Errors
    /// Messages per field.
    pub fn parse(&self, secrets_required: bool) -> Result<NumberInput, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = errors.check("name", text(&self.name, "Name is required.", 100));
        let phone_number_id = errors.check("phone_number_id", meta_id(&self.phone_number_id, "Phone Number ID"));
        let waba_id = errors.check("waba_id", meta_id(&self.waba_id, "WhatsApp Business Account ID"));
        let access_token = errors.check("access_token", secret(&self.access_token, "Access Token", secrets_required));
        let app_secret = errors.check("app_secret", secret(&self.app_secret, "App Secret", secrets_required));
        let graph_version = errors.check("graph_version", version(&self.graph_version));
        match (name, phone_number_id, waba_id, access_token, app_secret, graph_version) {
            (
                Some(name),
                Some(phone_number_id),
                Some(waba_id),
                Some(access_token),
                Some(app_secret),
                Some(graph_version),
            ) if errors.is_empty() => {
                Ok(NumberInput { name, phone_number_id, waba_id, access_token, app_secret, graph_version })
            }
            _ => Err(errors),
        }
    }
}

fn text(raw: &str, missing: &str, max: usize) -> Result<String, String> {
    let value = optional(raw).ok_or_else(|| missing.to_owned())?;
    if value.chars().count() > max {
        return Err(format!("Use at most {max} characters."));
    }
    Ok(value)
}

/// Meta's ids are digits (they go into URL paths: nothing else may).
fn meta_id(raw: &str, label: &str) -> Result<String, String> {
    let value = optional(raw).ok_or_else(|| format!("{label} is required."))?;
    if value.len() > 40 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{label} is the number Meta's app dashboard shows (digits only)."));
    }
    Ok(value)
}

/// A secret as typed (no spaces inside one), blank meaning "keep the stored one" when allowed.
fn secret(raw: &str, label: &str, required: bool) -> Result<Option<String>, String> {
    let value = raw.trim();
    if value.is_empty() {
        return if required { Err(format!("{label} is required.")) } else { Ok(None) };
    }
    if value.len() > 1000 || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!("{label} is one word of letters and digits, as Meta shows it."));
    }
    Ok(Some(value.to_owned()))
}

/// `v23.0`: a `v`, a major version, a dot, a minor version.
fn version(raw: &str) -> Result<String, String> {
    let value = raw.trim();
    let valid = value.strip_prefix('v').and_then(|v| v.split_once('.')).is_some_and(|(major, minor)| {
        !major.is_empty()
            && !minor.is_empty()
            && major.len() <= 3
            && minor.len() <= 3
            && major.bytes().chain(minor.bytes()).all(|b| b.is_ascii_digit())
    });
    if valid {
        Ok(value.to_owned())
    } else {
        Err(format!("Graph API Version looks like {DEFAULT_GRAPH_VERSION}."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled() -> NumberForm {
        NumberForm {
            name: "Support".into(),
            phone_number_id: "106540352242922".into(),
            waba_id: "102290129340398".into(),
            access_token: "EAAJB...token".into(),
            app_secret: "0123456789abcdef".into(),
            graph_version: "v23.0".into(),
        }
    }

    #[test]
    fn a_filled_form_parses() {
        let input = filled().parse(true).unwrap();
        assert_eq!(input.phone_number_id, "106540352242922");
        assert_eq!(input.access_token.as_deref(), Some("EAAJB...token"));
    }

    #[test]
    fn ids_are_digits_and_secrets_may_be_kept_when_editing() {
        let form = NumberForm { phone_number_id: "../../me".into(), ..filled() };
        assert!(!form.parse(true).unwrap_err().get("phone_number_id").is_empty());
        let form = NumberForm { access_token: String::new(), app_secret: " ".into(), ..filled() };
        assert!(!form.parse(true).unwrap_err().get("access_token").is_empty());
        let kept = form.parse(false).unwrap();
        assert_eq!((kept.access_token, kept.app_secret), (None, None));
        let form = NumberForm { graph_version: "23".into(), ..filled() };
        assert!(!form.parse(true).unwrap_err().get("graph_version").is_empty());
    }
}
