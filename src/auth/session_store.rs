//! actix-session's `SessionStore` over the `sessions` table, so that every instance sees the same
//! sessions and ending one (logout, password change, deactivation) ends it everywhere.

use std::collections::HashMap;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration;
use chrono::Utc;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};

use super::keys;
use crate::entities::session;

/// Sessions in the database.
#[derive(Clone)]
pub struct DbSessionStore {
    conn: DatabaseConnection,
}

impl DbSessionStore {
    /// A store over `conn`.
    #[must_use]
    pub fn new(conn: DatabaseConnection) -> Self {
        Self { conn }
    }
}

/// The row id for a cookie's key: its SHA-256, so the table alone opens no session.
fn row_id(key: &str) -> String {
    Sha256::digest(key.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn expiry(ttl: &Duration) -> chrono::DateTime<Utc> {
    Utc::now() + chrono::Duration::seconds(ttl.whole_seconds())
}

/// The agent a state belongs to, kept in a column so all of an agent's sessions can be ended.
fn agent_of(state: &HashMap<String, String>) -> Option<i64> {
    state.get(keys::AGENT_ID).and_then(|v| v.trim_matches('"').parse().ok())
}

impl SessionStore for DbSessionStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<HashMap<String, String>>, LoadError> {
        let row = session::Entity::find_by_id(row_id(key.as_ref()))
            .filter(session::Column::ExpiresAt.gt(Utc::now()))
            .one(&self.conn)
            .await
            .map_err(|e| LoadError::Other(e.into()))?;
        row.map(|r| serde_json::from_str(&r.state)).transpose().map_err(|e| LoadError::Deserialization(e.into()))
    }

    async fn save(&self, state: HashMap<String, String>, ttl: &Duration) -> Result<SessionKey, SaveError> {
        let json = serde_json::to_string(&state).map_err(|e| SaveError::Serialization(e.into()))?;
        let key = super::random_token(64);
        let row = session::ActiveModel {
            id: Set(row_id(&key)),
            agent_id: Set(agent_of(&state)),
            state: Set(json),
            expires_at: Set(expiry(ttl)),
        };
        session::Entity::insert(row).exec(&self.conn).await.map_err(|e| SaveError::Other(e.into()))?;
        SessionKey::try_from(key).map_err(|e| SaveError::Other(e.into()))
    }

    async fn update(
        &self,
        key: SessionKey,
        state: HashMap<String, String>,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let json = serde_json::to_string(&state).map_err(|e| UpdateError::Serialization(e.into()))?;
        let result = session::Entity::update_many()
            .col_expr(session::Column::State, json.into())
            .col_expr(session::Column::AgentId, agent_of(&state).into())
            .col_expr(session::Column::ExpiresAt, expiry(ttl).into())
            .filter(session::Column::Id.eq(row_id(key.as_ref())))
            .filter(session::Column::ExpiresAt.gt(Utc::now()))
            .exec(&self.conn)
            .await
            .map_err(|e| UpdateError::Other(e.into()))?;
        if result.rows_affected == 0 {
            // The session ended meanwhile (logout elsewhere, expiry): never revive a key the
            // client chose; start a new session instead.
            return self.save(state, ttl).await.map_err(|e| UpdateError::Other(e.into()));
        }
        Ok(key)
    }

    async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> Result<(), anyhow::Error> {
        session::Entity::update_many()
            .col_expr(session::Column::ExpiresAt, expiry(ttl).into())
            .filter(session::Column::Id.eq(row_id(key.as_ref())))
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
        session::Entity::delete_by_id(row_id(key.as_ref())).exec(&self.conn).await?;
        Ok(())
    }
}

/// Ends every session of an agent (password change, deactivation).
///
/// # Errors
/// Database errors.
pub async fn end_all_for_agent(conn: &DatabaseConnection, agent_id: i64) -> Result<(), sea_orm::DbErr> {
    session::Entity::delete_many().filter(session::Column::AgentId.eq(agent_id)).exec(conn).await?;
    Ok(())
}

/// Removes expired sessions.
///
/// # Errors
/// Database errors.
pub async fn purge_expired(conn: &DatabaseConnection) -> Result<u64, sea_orm::DbErr> {
    let result = session::Entity::delete_many().filter(session::Column::ExpiresAt.lte(Utc::now())).exec(conn).await?;
    Ok(result.rows_affected)
}
