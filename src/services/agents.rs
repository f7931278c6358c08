//! Agents: finding, adding, changing profile, deactivating.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};

use super::{is_unique_violation, ServiceError, ServiceResult};
use crate::auth::{password, session_store};
use crate::domain::Email;
use crate::entities::{agent, profile};

/// The active agent with `id` and its profile, in one query.
///
/// # Errors
/// Database errors.
pub async fn find_active_with_profile(
    conn: &DatabaseConnection,
    id: i64,
) -> Result<Option<(agent::Model, profile::Model)>, sea_orm::DbErr> {
    let row = agent::Entity::find_by_id(id)
        .filter(agent::Column::Active.eq(true))
        .find_also_related(profile::Entity)
        .one(conn)
        .await?;
    Ok(row.and_then(|(a, p)| p.map(|p| (a, p))))
}

/// How many agents exist (active or not).
///
/// # Errors
/// Database errors.
pub async fn count(conn: &DatabaseConnection) -> Result<u64, sea_orm::DbErr> {
    agent::Entity::find().count(conn).await
}

/// Active agents by name, for owner pickers.
///
/// # Errors
/// Database errors.
pub async fn active(conn: &DatabaseConnection) -> ServiceResult<Vec<agent::Model>> {
    Ok(agent::Entity::find()
        .filter(agent::Column::Active.eq(true))
        .order_by_asc(agent::Column::NameSort)
        .all(conn)
        .await?)
}

/// The agents an owner can be chosen from: the active ones, plus the current owner when it has
/// been deactivated (so that saving a form does not silently hand the record to someone else).
///
/// # Errors
/// Database errors.
pub async fn owner_choices(conn: &DatabaseConnection, current: Option<i64>) -> ServiceResult<Vec<agent::Model>> {
    let mut choices = active(conn).await?;
    if let Some(id) = current.filter(|id| !choices.iter().any(|a| a.id == *id)) {
        if let Some(owner) = agent::Entity::find_by_id(id).one(conn).await? {
            choices.push(owner);
        }
    }
    Ok(choices)
}

/// Every agent with its profile, by name.
///
/// # Errors
/// Database errors.
pub async fn all_with_profiles(
    conn: &DatabaseConnection,
) -> ServiceResult<Vec<(agent::Model, Option<profile::Model>)>> {
    Ok(agent::Entity::find().find_also_related(profile::Entity).order_by_asc(agent::Column::NameSort).all(conn).await?)
}

/// One agent.
///
/// # Errors
/// `NotFound`, database errors.
pub async fn get(conn: &DatabaseConnection, id: i64) -> ServiceResult<agent::Model> {
    agent::Entity::find_by_id(id).one(conn).await?.ok_or(ServiceError::NotFound)
}

/// A new agent's details, validated.
#[derive(Debug)]
pub struct NewAgent {
    pub name: String,
    pub email: Email,
    pub password: String,
    pub profile_id: i64,
}

/// Validates an agent's name.
///
/// # Errors
/// A message for the form.
pub fn parse_name(raw: &str) -> Result<String, &'static str> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("Enter a name.");
    }
    if name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err("Use at most 100 ordinary characters.");
    }
    Ok(name.to_owned())
}

/// Adds an agent.
///
/// # Errors
/// A field error for a duplicate email or an unknown profile.
pub async fn create<C: ConnectionTrait>(conn: &C, new: NewAgent) -> ServiceResult<agent::Model> {
    if profile::Entity::find_by_id(new.profile_id).one(conn).await?.is_none() {
        return Err(ServiceError::field("profile", "Choose a profile."));
    }
    let hash = password::hash(new.password).await?;
    let now = Utc::now();
    let row = agent::ActiveModel {
        name_sort: Set(new.name.to_lowercase()),
        name: Set(new.name),
        email: Set(new.email.as_str().to_owned()),
        password_hash: Set(hash),
        profile_id: Set(new.profile_id),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    row.insert(conn).await.map_err(|e| {
        if is_unique_violation(&e) {
            ServiceError::field("email", "An agent with this email exists already.")
        } else {
            e.into()
        }
    })
}

/// Changes an agent's profile and whether it is active. Deactivating ends its sessions. An
/// administrator cannot deactivate or demote itself, so that there is always one left.
///
/// # Errors
/// `Forbidden` for changes to oneself that would lock the console; `NotFound`.
pub async fn update(
    conn: &DatabaseConnection,
    actor_id: i64,
    id: i64,
    profile_id: i64,
    active: bool,
) -> ServiceResult<()> {
    let existing = get(conn, id).await?;
    if id == actor_id && (!active || profile_id != existing.profile_id) {
        return Err(ServiceError::Forbidden(
            "You cannot deactivate yourself or change your own profile; ask another administrator.".into(),
        ));
    }
    if profile::Entity::find_by_id(profile_id).one(conn).await?.is_none() {
        return Err(ServiceError::field("profile", "Choose a profile."));
    }
    let mut row: agent::ActiveModel = existing.into();
    row.profile_id = Set(profile_id);
    row.active = Set(active);
    row.updated_at = Set(Utc::now());
    row.update(conn).await?;
    if !active {
        session_store::end_all_for_agent(conn, id).await?;
    }
    Ok(())
}

/// Sets an agent's password and ends every session it has, everywhere.
///
/// # Errors
/// `NotFound`; database errors.
pub async fn set_password(conn: &DatabaseConnection, id: i64, new_password: String) -> ServiceResult<()> {
    let existing = get(conn, id).await?;
    let hash = password::hash(new_password).await?;
    let mut row: agent::ActiveModel = existing.into();
    row.password_hash = Set(hash);
    row.updated_at = Set(Utc::now());
    row.update(conn).await?;
    session_store::end_all_for_agent(conn, id).await?;
    Ok(())
}

/// Changes the agent's own password after checking the current one.
///
/// # Errors
/// A field error when the current password is wrong.
pub async fn change_own_password(
    conn: &DatabaseConnection,
    id: i64,
    current: String,
    new_password: String,
) -> ServiceResult<()> {
    let existing = get(conn, id).await?;
    if !password::verify(current, Some(existing.password_hash)).await {
        return Err(ServiceError::field("current_password", "This is not your current password."));
    }
    set_password(conn, id, new_password).await
}
