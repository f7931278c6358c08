//! The throttle in front of every form that hashes or checks a password (sign-up, set-password
//! links, password changes, adding agents, set-up; the logins ask theirs in their services).
//! It is asked first, before the form is validated, so that a throttled request is answered
//! 429 without any argon2 work; see `services::throttle`.

use actix_web::HttpRequest;

use crate::error::{AppError, AppResult};
use crate::routes::agent::login::client_address;
pub use crate::services::throttle::Purpose;
use crate::services::throttle::{self, Attempt, Client};
use crate::startup::AppState;

/// Lets the request through for password work of `purpose` under `account`, or answers 429.
///
/// # Errors
/// `TooManyRequests` when too many attempts failed for `account` or from the client's address;
/// database errors.
pub async fn admit(state: &AppState, req: &HttpRequest, purpose: Purpose, account: &str) -> AppResult<Attempt> {
    let ip = client_address(req, state.settings.trust_proxy);
    throttle::admit(&state.db, purpose, account, &client(state, &ip)).await?.ok_or_else(too_many)
}

/// The work succeeded: the attempt no longer counts.
///
/// # Errors
/// Database errors.
pub async fn succeeded(state: &AppState, attempt: Attempt) -> AppResult<()> {
    Ok(throttle::succeeded(&state.db, attempt).await?)
}

/// The throttle's view of a request from `ip` (see [`client_address`]), now.
#[must_use]
pub fn client<'a>(state: &AppState, ip: &'a str) -> Client<'a> {
    let max_delay = std::time::Duration::from_millis(state.settings.login_backoff_max_ms);
    Client { ip, now: chrono::Utc::now(), max_delay }
}

/// The account a mailed link's attempts count under: the link itself (its token's hash).
#[must_use]
pub fn link_key(token: &str) -> String {
    format!("link:{}", crate::auth::token_hash(token))
}

fn too_many() -> AppError {
    AppError::TooManyRequests("Too many attempts. Wait 15 minutes, then try again.".into())
}
