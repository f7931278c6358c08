//! Logging in to the console with email and password, behind the throttle
//! ([`crate::services::throttle`]): refused from an address that failed too often, slowed
//! down when the account failed too often from anywhere, never locked out by others' guesses.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::auth::password;
use crate::db::Db;
use crate::entities::agent;
use crate::services::throttle::{self, Client, Purpose};

/// Why a login failed. Deliberately vague about which part was wrong.
#[derive(Debug, PartialEq, Eq)]
pub enum LoginError {
    Invalid,
    Throttled,
}

/// Asks the throttle, then checks the credentials; a successful attempt is forgotten.
///
/// # Errors
/// `Invalid` for wrong credentials or an inactive agent, `Throttled` when too many attempts
/// failed from this client; database errors as `anyhow`.
pub async fn agent_login(
    db: &Db,
    email: &str,
    password_given: String,
    client: &Client<'_>,
) -> anyhow::Result<Result<agent::Model, LoginError>> {
    let email = clean_email(email);
    let Some(attempt) = throttle::admit(db, Purpose::Login, &email, client).await? else {
        return Ok(Err(LoginError::Throttled));
    };
    let found = agent::Entity::find().filter(agent::Column::Email.eq(email.as_str())).one(&db.conn).await?;
    let hash = found.as_ref().map(|a| a.password_hash.clone());
    let ok = password::verify(password_given, hash).await;
    match found {
        Some(agent) if ok && agent.active => {
            throttle::succeeded(db, attempt).await?;
            Ok(Ok(agent))
        }
        _ => Ok(Err(LoginError::Invalid)),
    }
}

/// The address as typed, made comparable: trimmed, lowercase, bounded.
#[must_use]
pub fn clean_email(email: &str) -> String {
    email.trim().to_lowercase().chars().filter(|c| !c.is_control()).take(254).collect()
}
