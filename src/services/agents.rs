//! Agents: finding, adding, changing profile, deactivating. Managing agents is for
//! administrators: each such use-case takes the acting agent and refuses anyone else. Setting
//! up the first administrator and demo data go through [`insert`], which has no actor.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};

use super::{Actor, ServiceError, ServiceResult};
use crate::auth::{password, session_store};
use crate::domain::Email;
use crate::entities::{agent, profile};

/// An agent that a record can be given to (an owner, an assignee), for pickers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentChoice {
    pub id: i64,
    pub name: String,
    /// A deactivated agent is offered only while it still owns the record.
    pub active: bool,
}

impl From<agent::Model> for AgentChoice {
    fn from(a: agent::Model) -> Self {
        Self { id: a.id, name: a.name, active: a.active }
    }
}

/// An agent as Settings → Agents lists it, with its profile's name.
#[derive(Clone, Debug)]
pub struct AgentRow {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub profile_id: i64,
    pub profile_name: Option<String>,
    pub active: bool,
}

impl AgentRow {
    fn of(a: agent::Model, p: Option<profile::Model>) -> Self {
        Self {
            id: a.id,
            name: a.name,
            email: a.email,
            profile_id: a.profile_id,
            profile_name: p.map(|p| p.name),
            active: a.active,
        }
    }
}

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
pub async fn active(conn: &DatabaseConnection) -> ServiceResult<Vec<AgentChoice>> {
    Ok(agent::Entity::find()
        .filter(agent::Column::Active.eq(true))
        .order_by_asc(agent::Column::NameSort)
        .all(conn)
        .await?
        .into_iter()
        .map(AgentChoice::from)
        .collect())
}

/// The agents an owner can be chosen from: the active ones, plus the current owner when it has
/// been deactivated (so that saving a form does not silently hand the record to someone else).
///
/// # Errors
/// Database errors.
pub async fn owner_choices(conn: &DatabaseConnection, current: Option<i64>) -> ServiceResult<Vec<AgentChoice>> {
    let mut choices = active(conn).await?;
    if let Some(id) = current.filter(|id| !choices.iter().any(|a| a.id == *id)) {
        if let Some(owner) = agent::Entity::find_by_id(id).one(conn).await? {
            choices.push(owner.into());
        }
    }
    Ok(choices)
}

/// Every agent with its profile's name, by name, for an administrator.
///
/// # Errors
/// `Forbidden` for anyone else; database errors.
pub async fn all_with_profiles(conn: &DatabaseConnection, actor: &Actor) -> ServiceResult<Vec<AgentRow>> {
    actor.must_be_admin()?;
    let rows = agent::Entity::find()
        .find_also_related(profile::Entity)
        .order_by_asc(agent::Column::NameSort)
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(|(a, p)| AgentRow::of(a, p)).collect())
}

/// One agent, for an administrator.
///
/// # Errors
/// `Forbidden` for anyone else; `NotFound`, database errors.
pub async fn get(conn: &DatabaseConnection, actor: &Actor, id: i64) -> ServiceResult<AgentRow> {
    actor.must_be_admin()?;
    Ok(AgentRow::of(find(conn, id).await?, None))
}

async fn find(conn: &DatabaseConnection, id: i64) -> ServiceResult<agent::Model> {
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

/// Adds an agent, as an administrator.
///
/// # Errors
/// `Forbidden` for anyone else; a field error for a duplicate email or an unknown profile.
pub async fn create<C: ConnectionTrait>(conn: &C, actor: &Actor, new: NewAgent) -> ServiceResult<i64> {
    actor.must_be_admin()?;
    Ok(insert(conn, new).await?.id)
}

/// Adds an agent with no one acting: the first administrator at set-up, demo data.
///
/// # Errors
/// A field error for a duplicate email or an unknown profile.
pub(crate) async fn insert<C: ConnectionTrait>(conn: &C, new: NewAgent) -> ServiceResult<agent::Model> {
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
        ServiceError::from_unique(e, &[("agents.email", "email", "An agent with this email exists already.")])
    })
}

/// Changes an agent's profile and whether it is active, as an administrator. Deactivating ends
/// its sessions. An administrator cannot deactivate or demote itself, so that there is always
/// one left.
///
/// # Errors
/// `Forbidden` for anyone else, and for changes to oneself that would lock the console;
/// `NotFound`.
pub async fn update(
    conn: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    profile_id: i64,
    active: bool,
) -> ServiceResult<()> {
    actor.must_be_admin()?;
    let actor_id = actor.id();
    let existing = find(conn, id).await?;
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

/// Sets an agent's password, as an administrator, and ends every session it has, everywhere.
///
/// # Errors
/// `Forbidden` for anyone else; `NotFound`; database errors.
pub async fn set_password(
    conn: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    new_password: String,
) -> ServiceResult<()> {
    actor.must_be_admin()?;
    store_password(conn, id, new_password).await
}

async fn store_password(conn: &DatabaseConnection, id: i64, new_password: String) -> ServiceResult<()> {
    let existing = find(conn, id).await?;
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
    let existing = find(conn, id).await?;
    if !password::verify(current, Some(existing.password_hash)).await {
        return Err(ServiceError::field("current_password", "This is not your current password."));
    }
    store_password(conn, id, new_password).await
}
