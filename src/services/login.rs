//! Logging in with email and password, with throttling: more than 5 failures for one account in
//! 15 minutes, or more than 20 from one client address, refuse further attempts until the
//! window has passed. Fewer failures never lock anyone out.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
};

use crate::auth::password;
use crate::db::Db;
use crate::entities::{agent, login_failure};

/// The window failures are counted in.
pub const WINDOW_MINUTES: i64 = 15;
/// Failures per account tolerated in the window.
pub const MAX_PER_ACCOUNT: u64 = 5;
/// Failures per client address tolerated in the window.
pub const MAX_PER_ADDRESS: u64 = 20;

/// Why a login failed. Deliberately vague about which part was wrong.
#[derive(Debug, PartialEq, Eq)]
pub enum LoginError {
    Invalid,
    Throttled,
}

/// Records the attempt, checks the throttle, then the credentials. The attempt is recorded
/// before the (slow) password check and counted with the attempts that came before it, so that
/// many attempts sent at once cannot all slip under the limit; a successful attempt's record is
/// removed again.
///
/// # Errors
/// `Invalid` for wrong credentials or an inactive agent, `Throttled` when too many attempts
/// failed; database errors as `anyhow`.
pub async fn agent_login(
    conn: &DatabaseConnection,
    email: &str,
    password_given: String,
    client_ip: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Result<agent::Model, LoginError>> {
    let email = clean_email(email);
    let attempt = match begin_attempt(conn, &email, client_ip, now).await? {
        Ok(attempt) => attempt,
        Err(e) => return Ok(Err(e)),
    };
    let found = agent::Entity::find().filter(agent::Column::Email.eq(email.as_str())).one(conn).await?;
    let hash = found.as_ref().map(|a| a.password_hash.clone());
    let ok = password::verify(password_given, hash).await;
    match found {
        Some(agent) if ok && agent.active => {
            forget_attempt(conn, attempt).await?;
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

/// Records an attempt for `account` (the console's agents and the Help Center's contacts use
/// different account keys) and refuses it when too many came before it.
///
/// # Errors
/// `Throttled` inside; database errors outside.
pub async fn begin_attempt(
    conn: &DatabaseConnection,
    account: &str,
    client_ip: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Result<login_failure::Model, LoginError>> {
    let attempt = login_failure::ActiveModel {
        email: Set(account.to_owned()),
        client_ip: Set(client_ip.to_owned()),
        at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    if throttled(conn, &attempt).await? {
        return Ok(Err(LoginError::Throttled));
    }
    Ok(Ok(attempt))
}

/// A request that will hash or check a password, let through the throttle and recorded; unless
/// [`succeeded`] is called, it counts as a failure against later ones.
#[derive(Debug)]
pub struct Attempt(login_failure::Model);

/// Records a request for password work (a form that hashes or checks a password) under
/// `account`, and refuses it (`None`) when too many failed before it; the same limits as
/// logins. Called before the form is even validated: hashing is what an anonymous flood would
/// make the server spend its time on, so a refused request must cost no more than this.
///
/// # Errors
/// Database errors.
pub async fn admit(db: &Db, account: &str, client_ip: &str, now: DateTime<Utc>) -> anyhow::Result<Option<Attempt>> {
    let _gate = db.write_gate().await;
    Ok(begin_attempt(&db.conn, account, client_ip, now).await?.ok().map(Attempt))
}

/// The work of `attempt` succeeded: it no longer counts.
///
/// # Errors
/// Database errors.
pub async fn succeeded(db: &Db, attempt: Attempt) -> Result<(), sea_orm::DbErr> {
    let _gate = db.write_gate().await;
    forget_attempt(&db.conn, attempt.0).await
}

/// Removes a successful attempt's record: only failures count.
///
/// # Errors
/// Database errors.
pub async fn forget_attempt(conn: &DatabaseConnection, attempt: login_failure::Model) -> Result<(), sea_orm::DbErr> {
    login_failure::Entity::delete_by_id(attempt.id).exec(conn).await?;
    Ok(())
}

/// Whether more than the tolerated number of attempts came before `attempt` in the window, for
/// its account or its client address.
async fn throttled(conn: &DatabaseConnection, attempt: &login_failure::Model) -> anyhow::Result<bool> {
    let since = attempt.at - Duration::minutes(WINDOW_MINUTES);
    let before = |column: login_failure::Column, value: &str| {
        login_failure::Entity::find()
            .filter(column.eq(value))
            .filter(login_failure::Column::At.gt(since))
            .filter(login_failure::Column::Id.lt(attempt.id))
    };
    if before(login_failure::Column::Email, &attempt.email).count(conn).await? > MAX_PER_ACCOUNT {
        return Ok(true);
    }
    Ok(before(login_failure::Column::ClientIp, &attempt.client_ip).count(conn).await? > MAX_PER_ADDRESS)
}

/// Removes failures older than the window.
///
/// # Errors
/// Database errors.
pub async fn purge_old_failures(conn: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, sea_orm::DbErr> {
    let result = login_failure::Entity::delete_many()
        .filter(login_failure::Column::At.lte(now - Duration::minutes(WINDOW_MINUTES)))
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}
