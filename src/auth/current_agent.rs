//! `CurrentAgent`: the logged-in, active agent with its profile's permissions. A handler that
//! names it can only be entered by such an agent; anyone else is sent to the login page, or to
//! `/setup` while no agent exists. What the agent may touch is the services' to check: a
//! handler hands them `actor()`; `require` only decides who may enter an area.

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::keys;
use super::session_store::{LoadedAgent, LOADED_AGENT};
use crate::domain::{Action, Module, Permissions};
use crate::error::AppError;
use crate::services::{agents, Actor};
use crate::startup::AppState;

/// The agent making the request.
#[derive(Clone)]
pub struct CurrentAgent {
    pub id: i64,
    pub name: String,
    pub email: String,
    actor: Actor,
    pub csrf: String,
    pub session: Session,
}

impl CurrentAgent {
    /// The agent as the services take it, with its profile.
    #[must_use]
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// What the agent's profile allows, for what a page offers.
    #[must_use]
    pub fn permissions(&self) -> &Permissions {
        self.actor.permissions()
    }

    /// Whether the profile allows `action` in `module`: what a page offers.
    #[must_use]
    pub fn can(&self, module: Module, action: Action) -> bool {
        self.actor.can(module, action)
    }

    /// Refuses with a page that names the missing permission: who may enter an area. The
    /// service refuses again on its own, with the same words.
    ///
    /// # Errors
    /// `Forbidden` when the profile lacks `action` in `module`.
    pub fn require(&self, module: Module, action: Action) -> Result<(), AppError> {
        Ok(self.actor.may(module, action)?)
    }

    /// Refuses anyone but an administrator.
    ///
    /// # Errors
    /// `Forbidden` for other profiles.
    pub fn require_admin(&self) -> Result<(), AppError> {
        Ok(self.actor.must_be_admin()?)
    }

    /// Leaves a message for the next page.
    pub fn flash(&self, message: &str) {
        let _ = self.session.insert(keys::FLASH, message);
    }

    /// Takes the message left for this page, if any. `Session::remove` marks the session as
    /// changed even when the key is absent, which would write the session row back on every
    /// page view; so look first.
    #[must_use]
    pub fn take_flash(&self) -> Option<String> {
        let message = self.session.get::<String>(keys::FLASH).ok().flatten()?;
        self.session.remove(keys::FLASH);
        Some(message)
    }
}

impl FromRequest for CurrentAgent {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = req.get_session();
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let path = req.uri().path_and_query().map_or("/agent", |p| p.as_str()).to_owned();
        let is_get = req.method() == actix_web::http::Method::GET;
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::Internal(anyhow::anyhow!("no app state")))?;
            let agent_id = session.get::<i64>(keys::AGENT_ID).ok().flatten();
            // Loaded with the session in the same query; absent when the agent was deactivated
            // (or the session was made during this very request, e.g. by logging in).
            let loaded = session.get::<LoadedAgent>(LOADED_AGENT).ok().flatten().filter(|a| Some(a.id) == agent_id);
            let found = match (agent_id, loaded) {
                (Some(_), Some(loaded)) => Some(loaded),
                (Some(id), None) => {
                    agents::find_active_with_profile(&state.db.conn, id).await?.map(|(a, p)| LoadedAgent {
                        id: a.id,
                        name: a.name,
                        email: a.email,
                        profile_name: p.name,
                        permissions: p.permissions,
                    })
                }
                (None, _) => None,
            };
            let Some(agent) = found else {
                if agent_id.is_some() {
                    session.purge();
                }
                let location = if state.needs_setup().await? {
                    "/setup".to_owned()
                } else if is_get {
                    format!("/agent/login?next={}", urlencode(&path))
                } else {
                    "/agent/login".to_owned()
                };
                return Err(AppError::LoginRequired { location });
            };
            let permissions: Permissions = serde_json::from_str(&agent.permissions).unwrap_or_default();
            let csrf = super::csrf::token(&session)?;
            Ok(Self {
                id: agent.id,
                name: agent.name,
                email: agent.email,
                actor: Actor::new(agent.id, agent.profile_name, permissions),
                csrf,
                session,
            })
        })
    }
}

/// Percent-encodes a path for a query parameter.
pub(crate) fn urlencode(path: &str) -> String {
    serde_urlencoded::to_string([("", path)]).map(|s| s.trim_start_matches('=').to_owned()).unwrap_or_default()
}
