//! A support mailbox as an administrator sets it up: the address customers write to and the
//! IMAP folder Frontdesk polls for it.

use serde::Deserialize;

use super::form::optional;
use super::{Email, FieldErrors};

/// How the IMAP connection is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImapSecurity {
    /// TLS from the first byte (port 993).
    Tls,
    /// Plain connection upgraded with STARTTLS (port 143).
    StartTls,
    /// No encryption: only for a server on the same machine or network.
    None,
}

impl ImapSecurity {
    pub const ALL: [Self; 3] = [Self::Tls, Self::StartTls, Self::None];

    /// The stored key.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::Tls => "tls",
            Self::StartTls => "starttls",
            Self::None => "none",
        }
    }

    /// The label in the form.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Tls => "SSL/TLS (port 993)",
            Self::StartTls => "STARTTLS (port 143)",
            Self::None => "None (local servers only)",
        }
    }

    /// The stored key read back; unknown keys are refused.
    #[must_use]
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key() == key)
    }
}

/// The form as posted. The password may be left blank when editing, to keep the stored one.
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
pub struct MailboxForm {
    pub address: String,
    pub imap_host: String,
    pub imap_port: String,
    pub imap_security: String,
    pub imap_user: String,
    pub imap_password: String,
    pub folder: String,
    pub poll_seconds: String,
    pub active: Option<String>,
}

/// A checked mailbox.
#[derive(Clone, PartialEq, Eq)]
pub struct MailboxInput {
    pub address: Email,
    pub imap_host: String,
    pub imap_port: u16,
    pub imap_security: ImapSecurity,
    pub imap_user: String,
    /// `None` keeps the stored password (editing).
    pub imap_password: Option<String>,
    pub folder: String,
    pub poll_seconds: u32,
    pub active: bool,
}

// Debug output never shows the password (it could end up in a log).
impl std::fmt::Debug for MailboxForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailboxForm")
            .field("address", &self.address)
            .field("imap_host", &self.imap_host)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for MailboxInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailboxInput")
            .field("address", &self.address)
            .field("imap_host", &self.imap_host)
            .field("imap_port", &self.imap_port)
            .field("imap_security", &self.imap_security)
            .field("imap_user", &self.imap_user)
            .finish_non_exhaustive()
    }
}

/// Fewest and most seconds between two polls.
pub const POLL_SECONDS: (u32, u32) = (10, 3600);

impl MailboxForm {
    /// The form for a new mailbox: TLS on 993, INBOX, every minute.
    #[must_use]
    pub fn blank() -> Self {
        Self {
            imap_port: "993".into(),
            imap_security: ImapSecurity::Tls.key().into(),
            folder: "INBOX".into(),
            poll_seconds: "60".into(),
            active: Some("on".into()),
            ..Self::default()
        }
    }

    /// Checks every field; `password_required` when there is no stored password to keep.
    ///
    /// # Errors
    /// Messages per field.
    pub fn parse(&self, password_required: bool) -> Result<MailboxInput, FieldErrors> {
        let mut errors = FieldErrors::default();
        let address = errors.check("address", Email::parse(&self.address));
        let imap_host = errors.check("imap_host", host(&self.imap_host));
        let imap_port = errors.check(
            "imap_port",
            self.imap_port.trim().parse::<u16>().ok().filter(|p| *p > 0).ok_or("Enter a port between 1 and 65535."),
        );
        let imap_security = errors.check(
            "imap_security",
            ImapSecurity::from_key(&self.imap_security).ok_or("Choose how the connection is protected."),
        );
        let imap_user = errors.check("imap_user", line(&self.imap_user, "User Name is required.", 200));
        let imap_password = match (optional(&self.imap_password), password_required) {
            (None, true) => {
                errors.add("imap_password", "Password is required.");
                None
            }
            (None, false) => Some(None),
            (Some(_), _) if self.imap_password.len() > 500 => {
                errors.add("imap_password", "Use at most 500 characters.");
                None
            }
            // Passwords are taken as typed: spaces at either end may be part of them.
            (Some(_), _) => Some(Some(self.imap_password.clone())),
        };
        let folder = errors.check("folder", line(&self.folder, "Folder is required (INBOX, usually).", 200));
        let (low, high) = POLL_SECONDS;
        let poll_seconds = errors.check(
            "poll_seconds",
            self.poll_seconds
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|s| (low..=high).contains(s))
                .ok_or(format!("Enter a number of seconds between {low} and {high}.")),
        );
        match (address, imap_host, imap_port, imap_security, imap_user, imap_password, folder, poll_seconds) {
            (
                Some(address),
                Some(imap_host),
                Some(imap_port),
                Some(imap_security),
                Some(imap_user),
                Some(imap_password),
                Some(folder),
                Some(poll_seconds),
            ) if errors.is_empty() => Ok(MailboxInput {
                address,
                imap_host,
                imap_port,
                imap_security,
                imap_user,
                imap_password,
                folder,
                poll_seconds,
                active: self.active.is_some(),
            }),
            _ => Err(errors),
        }
    }
}

fn line(raw: &str, missing: &str, max: usize) -> Result<String, String> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(missing.to_owned());
    }
    if value.chars().count() > max {
        return Err(format!("Use at most {max} characters."));
    }
    if value.chars().any(char::is_control) {
        return Err("Remove the control characters.".into());
    }
    Ok(value.to_owned())
}

/// A host name or IP address.
fn host(raw: &str) -> Result<String, String> {
    let value = line(raw, "IMAP Server is required.", 253)?.to_lowercase();
    let ok = value.parse::<std::net::IpAddr>().is_ok()
        || value.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    if ok {
        Ok(value)
    } else {
        Err("Enter a host name like imap.example.com or an IP address.".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> MailboxForm {
        MailboxForm {
            address: "Support@Acme.example".into(),
            imap_host: "imap.acme.example".into(),
            imap_user: "support".into(),
            imap_password: "s3cret ".into(),
            ..MailboxForm::blank()
        }
    }

    #[test]
    fn a_complete_form_parses() {
        let input = form().parse(true).unwrap();
        assert_eq!(input.address.as_str(), "support@acme.example");
        assert_eq!((input.imap_port, input.imap_security, input.poll_seconds), (993, ImapSecurity::Tls, 60));
        assert_eq!(input.imap_password.as_deref(), Some("s3cret "));
        assert!(input.active);
    }

    #[test]
    fn each_bad_field_gets_its_message() {
        let bad = MailboxForm {
            address: "nope".into(),
            imap_host: "imap acme".into(),
            imap_port: "70000".into(),
            imap_security: "ssl3".into(),
            imap_user: " ".into(),
            imap_password: String::new(),
            folder: String::new(),
            poll_seconds: "1".into(),
            active: None,
        };
        let errors = bad.parse(true).unwrap_err();
        for field in [
            "address",
            "imap_host",
            "imap_port",
            "imap_security",
            "imap_user",
            "imap_password",
            "folder",
            "poll_seconds",
        ] {
            assert!(!errors.get(field).is_empty(), "{field}");
        }
    }

    #[test]
    fn a_blank_password_keeps_the_stored_one_when_editing() {
        let mut f = form();
        f.imap_password.clear();
        assert_eq!(f.parse(false).unwrap().imap_password, None);
        assert!(f.parse(true).is_err());
    }
}
