//! Who is asking: sessions kept in the database, password hashing, CSRF tokens, login
//! throttling, and the extractors handlers name in their signatures.

pub mod csrf;
pub mod current_agent;
pub mod current_contact;
pub mod password;
pub mod session_cache;
pub mod session_store;
pub mod upload;

pub use csrf::CsrfForm;
pub use current_agent::CurrentAgent;
pub use current_contact::CurrentContact;
pub use session_store::DbSessionStore;
pub use upload::CsrfUpload;

use rand::distr::{Alphanumeric, SampleString};

/// Starts a new session id and a new CSRF token together, at login and wherever the session
/// gains privileges: an id or a token that was known before (seen in a page served to the
/// anonymous visitor, or planted by someone else) is worthless afterwards. The new token is made
/// when the next form is shown.
pub fn renew_session(session: &actix_session::Session) {
    session.renew();
    session.remove(keys::CSRF);
}

/// The SHA-256 of a token, hex: what the database keeps of a token sent in a link.
#[must_use]
pub fn token_hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// A random token of `len` alphanumeric characters from the OS's generator.
#[must_use]
pub fn random_token(len: usize) -> String {
    Alphanumeric.sample_string(&mut rand::rng(), len)
}

/// Session keys under which state is kept.
pub mod keys {
    /// The logged-in agent's id.
    pub const AGENT_ID: &str = "agent_id";
    /// The logged-in Help Center user's (contact's) id, in the Help Center's own session.
    pub const CONTACT_ID: &str = "contact_id";
    /// The per-session CSRF token.
    pub const CSRF: &str = "csrf";
    /// A one-time message for the next page.
    pub const FLASH: &str = "flash";
}
