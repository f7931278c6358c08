//! First run: creating the first administrator, once.

use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait, TransactionTrait};

use super::agents::{self, NewAgent};
use super::profiles::{self, ADMINISTRATOR};
use super::{is_unique_violation, ServiceError, ServiceResult};
use crate::domain::Email;
use crate::entities::{agent, setting};

/// Creates the first administrator. A `setup_done` setting row is inserted first, so that of two
/// concurrent set-ups (two tabs, two instances) exactly one succeeds.
///
/// # Errors
/// `Conflict` when set-up is done already.
pub async fn create_first_admin(
    conn: &DatabaseConnection,
    name: String,
    email: Email,
    password: String,
) -> ServiceResult<agent::Model> {
    if agents::count(conn).await? > 0 {
        return Err(ServiceError::Conflict("Set-up is done already.".into()));
    }
    let profile = profiles::built_in(conn, ADMINISTRATOR).await?;
    // The marker and the administrator in one transaction: a failure leaves neither, so set-up
    // can be tried again.
    let txn = conn.begin().await?;
    let marker = setting::ActiveModel { key: Set("setup_done".into()), value: Set("1".into()) };
    if let Err(e) = setting::Entity::insert(marker).exec(&txn).await {
        return Err(if is_unique_violation(&e) {
            ServiceError::Conflict("Set-up is done already.".into())
        } else {
            e.into()
        });
    }
    let admin = agents::insert(&txn, NewAgent { name, email, password, profile_id: profile.id }).await?;
    txn.commit().await?;
    Ok(admin)
}
