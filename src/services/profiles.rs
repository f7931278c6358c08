//! Profiles: the built-in three, and the ones administrators make. Reading and saving them is
//! for administrators: each such use-case takes the acting agent and refuses anyone else.

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

use super::{Actor, ServiceError, ServiceResult};
use crate::domain::Permissions;
use crate::entities::profile;

/// A profile as stored: its name, whether it is built in (and which), its permissions.
pub use crate::entities::profile::Model as Profile;

/// Built-in profile keys.
pub const ADMINISTRATOR: &str = "administrator";
pub const AGENT: &str = "agent";
pub const LIGHT_AGENT: &str = "light_agent";

/// Makes sure the built-in profiles exist (every start-up; safe on several instances at once).
///
/// # Errors
/// Database errors.
pub async fn ensure_built_in(conn: &DatabaseConnection) -> Result<(), DbErr> {
    let built_in = [
        (ADMINISTRATOR, "Administrator", Permissions::administrator()),
        (AGENT, "Agent", Permissions::agent()),
        (LIGHT_AGENT, "Light Agent", Permissions::light_agent()),
    ];
    for (key, name, permissions) in built_in {
        let row = profile::ActiveModel {
            name: Set(name.into()),
            built_in: Set(Some(key.into())),
            permissions: Set(serde_json::to_string(&permissions).map_err(|e| DbErr::Custom(e.to_string()))?),
            created_at: Set(Utc::now()),
            ..Default::default()
        };
        profile::Entity::insert(row)
            .on_conflict(OnConflict::column(profile::Column::BuiltIn).do_nothing().to_owned())
            .do_nothing()
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// The built-in profile with `key`.
///
/// # Errors
/// Database errors; `NotFound` if start-up did not create it.
pub async fn built_in(conn: &DatabaseConnection, key: &str) -> ServiceResult<profile::Model> {
    profile::Entity::find().filter(profile::Column::BuiltIn.eq(key)).one(conn).await?.ok_or(ServiceError::NotFound)
}

/// Every profile, built-in first, for an administrator.
///
/// # Errors
/// `Forbidden` for anyone else; database errors.
pub async fn list(conn: &DatabaseConnection, actor: &Actor) -> ServiceResult<Vec<Profile>> {
    actor.must_be_admin()?;
    Ok(profile::Entity::find().order_by_asc(profile::Column::Id).all(conn).await?)
}

/// One profile, for an administrator.
///
/// # Errors
/// `Forbidden` for anyone else; `NotFound`, database errors.
pub async fn get(conn: &DatabaseConnection, actor: &Actor, id: i64) -> ServiceResult<Profile> {
    actor.must_be_admin()?;
    find(conn, id).await
}

async fn find(conn: &DatabaseConnection, id: i64) -> ServiceResult<Profile> {
    profile::Entity::find_by_id(id).one(conn).await?.ok_or(ServiceError::NotFound)
}

/// The permissions a profile row holds.
#[must_use]
pub fn permissions_of(row: &profile::Model) -> Permissions {
    serde_json::from_str(&row.permissions).unwrap_or_default()
}

/// Creates or updates a profile, as an administrator. The Administrator profile cannot be
/// changed, and no other profile can be made an administrator one: "everything" stays with the
/// built-in profile.
///
/// # Errors
/// `Forbidden` for anyone else and for the Administrator profile; a field error for a duplicate
/// or empty name.
pub async fn save(
    conn: &DatabaseConnection,
    actor: &Actor,
    id: Option<i64>,
    name: &str,
    mut permissions: Permissions,
) -> ServiceResult<i64> {
    actor.must_be_admin()?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ServiceError::field("name", "Enter a name of at most 100 characters."));
    }
    permissions.admin = false;
    let json = serde_json::to_string(&permissions).map_err(anyhow::Error::from)?;
    let result = match id {
        Some(id) => {
            let existing = find(conn, id).await?;
            if existing.built_in.as_deref() == Some(ADMINISTRATOR) {
                return Err(ServiceError::Forbidden("The Administrator profile cannot be edited.".into()));
            }
            let mut row: profile::ActiveModel = existing.into();
            row.name = Set(name.into());
            row.permissions = Set(json);
            row.update(conn).await.map(|m| m.id)
        }
        None => profile::ActiveModel {
            name: Set(name.into()),
            built_in: Set(None),
            permissions: Set(json),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(conn)
        .await
        .map(|m| m.id),
    };
    result.map_err(|e| {
        ServiceError::from_unique(e, &[("profiles.name", "name", "A profile with this name exists already.")])
    })
}
