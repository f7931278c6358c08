//! Errors of the Cloud API and what the help desk does about each (the table in
//! `whatsapp-cloud-api.md` of the design notes): decided on Meta's `code`, else on the HTTP
//! status.

use serde::Deserialize;

/// What the help desk does about an error, decided on Meta's `code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// 131047: more than 24 hours since the customer last wrote; only a template can go.
    WindowClosed,
    /// 131026: not on WhatsApp, an old app, or the business is blocked.
    Undeliverable,
    /// 132000, 132001 (and the rest of 132xxx): the template's parameters or language.
    Template,
    /// 131051, 131052, 131053: the message's type or media.
    Media,
    /// 0, 190: the Access Token is invalid or expired.
    Token,
    /// 4, 80007, 130429: the number's rate limits.
    RateLimited,
    /// 131056: too many messages to this customer in a short time.
    RecipientThrottled,
    /// 5xx, timeouts, no connection: Meta is unavailable.
    Unavailable,
    /// Anything else Meta refused.
    Refused,
}

impl ErrorKind {
    /// The kind for Meta's error `code`.
    #[must_use]
    pub fn from_code(code: i64) -> Self {
        match code {
            131_047 => Self::WindowClosed,
            131_026 => Self::Undeliverable,
            132_000..=132_999 => Self::Template,
            131_051..=131_053 => Self::Media,
            0 | 190 => Self::Token,
            4 | 80_007 | 130_429 => Self::RateLimited,
            131_056 => Self::RecipientThrottled,
            _ => Self::Refused,
        }
    }

    /// Whether trying again later may work: never for what Meta refused for good.
    #[must_use]
    pub fn retryable(self) -> bool {
        matches!(self, Self::RateLimited | Self::RecipientThrottled | Self::Unavailable)
    }

    /// The reason, in words an agent understands.
    #[must_use]
    pub fn in_words(self) -> &'static str {
        match self {
            Self::WindowClosed => "the 24-hour window is closed: only a template can be sent",
            Self::Undeliverable => "the number is not on WhatsApp or cannot receive messages",
            Self::Template => "the template does not exist in that language or its parameters do not match",
            Self::Media => "the message type or its media is not supported",
            Self::Token => "the Access Token is invalid or has expired: enter a new one in Settings",
            Self::RateLimited => "WhatsApp's rate limit was reached: it will be retried",
            Self::RecipientThrottled => "too many messages to this customer in a short time: it will be retried",
            Self::Unavailable => "WhatsApp could not be reached: it will be retried",
            Self::Refused => "WhatsApp refused the message",
        }
    }
}

/// An error from the API (or from reaching it).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub kind: ErrorKind,
    /// Meta's code, when it answered with one.
    pub code: Option<i64>,
    /// Meta's own message (and details), or what went wrong reaching it.
    pub message: String,
}

impl ApiError {
    pub(super) fn unavailable(message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Unavailable, code: None, message: message.into() }
    }

    /// Meta's message with its code, as the settings page and the thread show it.
    #[must_use]
    pub fn with_code(&self) -> String {
        match self.code {
            Some(code) => format!("{} (code {code})", self.message),
            None => self.message.clone(),
        }
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: String,
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    error_data: Option<ErrorData>,
}

#[derive(Deserialize)]
struct ErrorData {
    #[serde(default)]
    details: Option<String>,
}

/// An error answer: Meta's code decides, else the HTTP status (5xx: unavailable).
pub(super) fn error_answer(status: reqwest::StatusCode, bytes: &[u8]) -> ApiError {
    match serde_json::from_slice::<ErrorBody>(bytes) {
        Ok(ErrorBody { error }) => {
            let mut message = if error.message.is_empty() { format!("HTTP {status}") } else { error.message };
            if let Some(details) = error.error_data.and_then(|d| d.details).filter(|d| !d.is_empty()) {
                message = format!("{message}: {details}");
            }
            let kind = match error.code {
                Some(code) => ErrorKind::from_code(code),
                None if status.is_server_error() => ErrorKind::Unavailable,
                None => ErrorKind::Refused,
            };
            // A 5xx with an unknown code is still Meta being unavailable.
            let kind =
                if kind == ErrorKind::Refused && status.is_server_error() { ErrorKind::Unavailable } else { kind };
            ApiError { kind, code: error.code, message }
        }
        Err(_) if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS => {
            ApiError::unavailable(format!("WhatsApp answered HTTP {status}"))
        }
        Err(_) => {
            ApiError { kind: ErrorKind::Refused, code: None, message: format!("WhatsApp answered HTTP {status}") }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_code_of_the_table_has_its_kind() {
        for (code, kind) in [
            (131_047, ErrorKind::WindowClosed),
            (131_026, ErrorKind::Undeliverable),
            (132_000, ErrorKind::Template),
            (132_001, ErrorKind::Template),
            (131_051, ErrorKind::Media),
            (131_052, ErrorKind::Media),
            (131_053, ErrorKind::Media),
            (0, ErrorKind::Token),
            (190, ErrorKind::Token),
            (4, ErrorKind::RateLimited),
            (80_007, ErrorKind::RateLimited),
            (130_429, ErrorKind::RateLimited),
            (131_056, ErrorKind::RecipientThrottled),
            (100, ErrorKind::Refused),
        ] {
            assert_eq!(ErrorKind::from_code(code), kind, "{code}");
        }
        assert!(ErrorKind::RateLimited.retryable());
        assert!(!ErrorKind::Undeliverable.retryable());
    }

    #[test]
    fn an_error_answer_keeps_metas_message_and_details() {
        let body = br#"{"error":{"message":"Re-engagement message","type":"OAuthException","code":131047,
            "error_data":{"messaging_product":"whatsapp","details":"More than 24 hours have passed"}}}"#;
        let e = error_answer(reqwest::StatusCode::BAD_REQUEST, body);
        assert_eq!(e.kind, ErrorKind::WindowClosed);
        assert_eq!(e.code, Some(131_047));
        assert_eq!(e.with_code(), "Re-engagement message: More than 24 hours have passed (code 131047)");
        let e = error_answer(reqwest::StatusCode::BAD_GATEWAY, b"<html>bad gateway</html>");
        assert_eq!(e.kind, ErrorKind::Unavailable);
    }
}
