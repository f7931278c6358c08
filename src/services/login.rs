//! Logging in with email and password, with throttling: more than 5 failures for one account in
//! 15 minutes, or more than 20 from one client address, refuse further attempts until the
//! window has passed. Fewer failures never lock anyone out.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
};

use crate::auth::password;
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

/// Checks the throttle, then the credentials; records a failure when they are wrong.
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
    let email = email.trim().to_lowercase();
    if throttled(conn, &email, client_ip, now).await? {
        return Ok(Err(LoginError::Throttled));
    }
    let found = agent::Entity::find().filter(agent::Column::Email.eq(email.as_str())).one(conn).await?;
    let hash = found.as_ref().map(|a| a.password_hash.clone());
    let ok = password::verify(password_given, hash).await;
    match found {
        Some(agent) if ok && agent.active => Ok(Ok(agent)),
        _ => {
            record_failure(conn, &email, client_ip, now).await?;
            Ok(Err(LoginError::Invalid))
        }
    }
}

async fn throttled(
    conn: &DatabaseConnection,
    email: &str,
    client_ip: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let since = now - Duration::minutes(WINDOW_MINUTES);
    let per_account = login_failure::Entity::find()
        .filter(login_failure::Column::Email.eq(email))
        .filter(login_failure::Column::At.gt(since))
        .count(conn)
        .await?;
    if per_account > MAX_PER_ACCOUNT {
        return Ok(true);
    }
    let per_address = login_failure::Entity::find()
        .filter(login_failure::Column::ClientIp.eq(client_ip))
        .filter(login_failure::Column::At.gt(since))
        .count(conn)
        .await?;
    Ok(per_address > MAX_PER_ADDRESS)
}

async fn record_failure(
    conn: &DatabaseConnection,
    email: &str,
    client_ip: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let email: String = email.chars().take(254).collect();
    login_failure::ActiveModel {
        email: Set(email),
        client_ip: Set(client_ip.to_owned()),
        at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
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
