//! Who is asking: sessions kept in the database, password hashing, CSRF tokens, login
//! throttling, and the extractors handlers name in their signatures.

pub mod csrf;
pub mod current_agent;
pub mod password;
pub mod session_store;

pub use csrf::CsrfForm;
pub use current_agent::CurrentAgent;
pub use session_store::DbSessionStore;

use rand::distr::{Alphanumeric, SampleString};

/// A random token of `len` alphanumeric characters from the OS's generator.
#[must_use]
pub fn random_token(len: usize) -> String {
    Alphanumeric.sample_string(&mut rand::rng(), len)
}

/// Session keys under which state is kept.
pub mod keys {
    /// The logged-in agent's id.
    pub const AGENT_ID: &str = "agent_id";
    /// The per-session CSRF token.
    pub const CSRF: &str = "csrf";
    /// A one-time message for the next page.
    pub const FLASH: &str = "flash";
}
