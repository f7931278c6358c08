//! actix-session's `SessionStore` over the `sessions` table, so that every instance sees the same
//! sessions and ending one (logout, password change, deactivation) ends it everywhere.
//!
//! Loading a session also loads its agent and the agent's profile in the same query, and hands
//! them to [`super::CurrentAgent`] under a reserved key ([`LOADED_AGENT`]) that is never written
//! back: one query per request instead of two.

use std::collections::HashMap;
use std::sync::Arc;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration;
use chrono::Utc;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, JoinType, QueryFilter, QuerySelect,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::keys;
use super::session_cache::SessionCache;
use crate::entities::{agent, contact, profile, session};

/// Sessions in the database.
#[derive(Clone)]
pub struct DbSessionStore {
    conn: DatabaseConnection,
    cache: Arc<SessionCache>,
}

impl DbSessionStore {
    /// A store over `conn` that loads every session from the database.
    #[must_use]
    pub fn new(conn: DatabaseConnection) -> Self {
        Self::cached(conn, Arc::default())
    }

    /// A store over `conn` that serves loaded sessions from `cache` while
    /// [`super::session_cache::listen`] keeps it in step with the database.
    #[must_use]
    pub fn cached(conn: DatabaseConnection, cache: Arc<SessionCache>) -> Self {
        Self { conn, cache }
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

/// The Help Center user a state belongs to, kept in a column for the same reason.
fn contact_of(state: &HashMap<String, String>) -> Option<i64> {
    state.get(keys::CONTACT_ID).and_then(|v| v.trim_matches('"').parse().ok())
}

/// The state key under which `load` hands over the session's active agent and its profile.
pub const LOADED_AGENT: &str = "_loaded_agent";
/// The state key under which `load` hands over the session's active Help Center user.
pub const LOADED_CONTACT: &str = "_loaded_contact";

/// A session's Help Center user, as loaded with the session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadedContact {
    pub id: i64,
    pub first_name: Option<String>,
    pub last_name: String,
    pub email: String,
}

/// A session's agent with its profile, as loaded with the session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadedAgent {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub profile_name: String,
    pub permissions: String,
}

#[derive(Debug, FromQueryResult)]
struct SessionRow {
    state: String,
    expires_at: chrono::DateTime<Utc>,
    agent_id: Option<i64>,
    agent_name: Option<String>,
    agent_email: Option<String>,
    profile_name: Option<String>,
    permissions: Option<String>,
    contact_id: Option<i64>,
    contact_first_name: Option<String>,
    contact_last_name: Option<String>,
    contact_email: Option<String>,
}

/// Removes what `load` added, so it is never stored.
fn without_loaded(mut state: HashMap<String, String>) -> HashMap<String, String> {
    state.remove(LOADED_AGENT);
    state.remove(LOADED_CONTACT);
    state
}

impl SessionStore for DbSessionStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<HashMap<String, String>>, LoadError> {
        let id = row_id(key.as_ref());
        if let Some(state) = self.cache.get(&id) {
            return Ok(Some(state));
        }
        let stamp = self.cache.before_load();
        let agent_join = sea_orm::RelationDef::from(
            session::Entity::belongs_to(agent::Entity).from(session::Column::AgentId).to(agent::Column::Id),
        )
        .on_condition(|_, right| {
            sea_orm::Condition::all().add(sea_orm::sea_query::Expr::col((right, agent::Column::Active)).eq(true))
        });
        let profile_join = sea_orm::RelationDef::from(
            agent::Entity::belongs_to(profile::Entity).from(agent::Column::ProfileId).to(profile::Column::Id),
        );
        // Only an active, live Help Center user opens the Help Center.
        let contact_join = sea_orm::RelationDef::from(
            session::Entity::belongs_to(contact::Entity).from(session::Column::ContactId).to(contact::Column::Id),
        )
        .on_condition(|_, right| {
            sea_orm::Condition::all()
                .add(sea_orm::sea_query::Expr::col((right.clone(), contact::Column::HelpCenterStatus)).eq("active"))
                .add(sea_orm::sea_query::Expr::col((right, contact::Column::Trashed)).eq(false))
        });
        let row = session::Entity::find_by_id(id.clone())
            .filter(session::Column::ExpiresAt.gt(Utc::now()))
            .select_only()
            .columns([
                session::Column::State,
                session::Column::ExpiresAt,
                session::Column::AgentId,
                session::Column::ContactId,
            ])
            .column_as(contact::Column::FirstName, "contact_first_name")
            .column_as(contact::Column::LastName, "contact_last_name")
            .column_as(contact::Column::Email, "contact_email")
            .column_as(agent::Column::Name, "agent_name")
            .column_as(agent::Column::Email, "agent_email")
            .column_as(profile::Column::Name, "profile_name")
            .column_as(profile::Column::Permissions, "permissions")
            .join(JoinType::LeftJoin, agent_join)
            .join(JoinType::LeftJoin, profile_join)
            .join(JoinType::LeftJoin, contact_join)
            .into_model::<SessionRow>()
            .one(&self.conn)
            .await
            .map_err(|e| LoadError::Other(e.into()))?;
        let Some(row) = row else { return Ok(None) };
        let mut state: HashMap<String, String> =
            serde_json::from_str(&row.state).map_err(|e| LoadError::Deserialization(e.into()))?;
        if let (Some(id), Some(name), Some(email), Some(profile_name), Some(permissions)) =
            (row.agent_id, row.agent_name, row.agent_email, row.profile_name, row.permissions)
        {
            let loaded = LoadedAgent { id, name, email, profile_name, permissions };
            // Session values are JSON texts, as actix-session stores them.
            let json = serde_json::to_string(&loaded).map_err(|e| LoadError::Deserialization(e.into()))?;
            state.insert(LOADED_AGENT.to_owned(), json);
        }
        if let (Some(id), Some(last_name), Some(email)) = (row.contact_id, row.contact_last_name, row.contact_email) {
            let loaded = LoadedContact { id, first_name: row.contact_first_name, last_name, email };
            let json = serde_json::to_string(&loaded).map_err(|e| LoadError::Deserialization(e.into()))?;
            state.insert(LOADED_CONTACT.to_owned(), json);
        }
        self.cache.keep(stamp, &id, &state, row.expires_at);
        Ok(Some(state))
    }

    async fn save(&self, state: HashMap<String, String>, ttl: &Duration) -> Result<SessionKey, SaveError> {
        let state = without_loaded(state);
        let json = serde_json::to_string(&state).map_err(|e| SaveError::Serialization(e.into()))?;
        let key = super::random_token(64);
        let agent_id = agent_of(&state);
        let contact_id = contact_of(&state);
        // A visitor who only fetched a form (to get its CSRF token) keeps a row for an hour, not
        // for a whole working day; the housekeeping purges it afterwards.
        let expires_at = if agent_id.is_some() || contact_id.is_some() {
            expiry(ttl)
        } else {
            expiry(ttl).min(Utc::now() + chrono::Duration::hours(1))
        };
        let row = session::ActiveModel {
            id: Set(row_id(&key)),
            agent_id: Set(agent_id),
            contact_id: Set(contact_id),
            state: Set(json),
            expires_at: Set(expires_at),
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
        let state = without_loaded(state);
        let json = serde_json::to_string(&state).map_err(|e| UpdateError::Serialization(e.into()))?;
        let result = session::Entity::update_many()
            .col_expr(session::Column::State, json.into())
            .col_expr(session::Column::AgentId, agent_of(&state).into())
            .col_expr(session::Column::ContactId, contact_of(&state).into())
            .col_expr(session::Column::ExpiresAt, expiry(ttl).into())
            .filter(session::Column::Id.eq(row_id(key.as_ref())))
            .filter(session::Column::ExpiresAt.gt(Utc::now()))
            .exec(&self.conn)
            .await
            .map_err(|e| UpdateError::Other(e.into()))?;
        // This instance's next request must see the change even before the notification
        // comes back from the database.
        self.cache.drop_all();
        if result.rows_affected == 0 {
            // The session ended meanwhile (logout, password change, expiry): never revive the
            // key the client sent, nor the login it held; start a new, anonymous session.
            let mut state = state;
            state.remove(keys::AGENT_ID);
            state.remove(keys::CONTACT_ID);
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
        self.cache.drop_all();
        Ok(())
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
        session::Entity::delete_by_id(row_id(key.as_ref())).exec(&self.conn).await?;
        self.cache.drop_all();
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

/// Ends every Help Center session of a contact (password reset, access removed).
///
/// # Errors
/// Database errors.
pub async fn end_all_for_contact<C: sea_orm::ConnectionTrait>(conn: &C, contact_id: i64) -> Result<(), sea_orm::DbErr> {
    session::Entity::delete_many().filter(session::Column::ContactId.eq(contact_id)).exec(conn).await?;
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
