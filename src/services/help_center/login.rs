//! Help Center users logging in: the same throttling as the console's (its own account keys, so
//! failures on one side never lock out the other; one count of failed logins per client
//! address), and one answer for every wrong credential.

use crate::auth::password;
use crate::db::Db;
use crate::services::contacts::identities;
use crate::services::login::{clean_email, LoginError};
use crate::services::throttle::{self, Client, Purpose};

/// Checks the credentials of a Help Center user; gives the contact's id.
///
/// # Errors
/// `Invalid` for wrong credentials or a contact that is not an active Help Center user,
/// `Throttled` after too many failures from this client; database errors outside.
pub async fn login(
    db: &Db,
    email: &str,
    password_given: String,
    client: &Client<'_>,
) -> anyhow::Result<Result<i64, LoginError>> {
    let email = clean_email(email);
    let Some(attempt) = throttle::admit(db, Purpose::Login, &format!("help:{email}"), client).await? else {
        return Ok(Err(LoginError::Throttled));
    };
    // The primary address is the login; a secondary one opens the same account.
    let found = identities::contact_by_email(&db.conn, email.as_str())
        .await?
        .filter(|c| !c.trashed && c.help_center_status == "active");
    let hash = found.as_ref().and_then(|c| c.password_hash.clone());
    let known = hash.is_some();
    let ok = password::verify(password_given, hash).await;
    match found {
        Some(c) if ok && known => {
            throttle::succeeded(db, attempt).await?;
            Ok(Ok(c.id))
        }
        _ => Ok(Err(LoginError::Invalid)),
    }
}
