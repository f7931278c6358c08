//! Help Center users logging in: the same throttling as the console's (its own account keys, so
//! failures on one side never lock out the other), and one answer for every wrong credential.

use chrono::{DateTime, Utc};

use crate::auth::password;
use crate::db::Db;
use crate::services::contacts::identities;
use crate::services::login::{begin_attempt, clean_email, forget_attempt, LoginError};

/// Checks the credentials of a Help Center user; gives the contact's id.
///
/// # Errors
/// `Invalid` for wrong credentials or a contact that is not an active Help Center user,
/// `Throttled` after too many failures; database errors outside.
pub async fn login(
    db: &Db,
    email: &str,
    password_given: String,
    client_ip: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Result<i64, LoginError>> {
    let email = clean_email(email);
    let attempt = {
        let _gate = db.write_gate().await;
        match begin_attempt(&db.conn, &format!("help:{email}"), client_ip, now).await? {
            Ok(attempt) => attempt,
            Err(e) => return Ok(Err(e)),
        }
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
            let _gate = db.write_gate().await;
            forget_attempt(&db.conn, attempt).await?;
            Ok(Ok(c.id))
        }
        _ => Ok(Err(LoginError::Invalid)),
    }
}
