//! Lifting a login lock from Settings → Agents (administrators only): the agent's failed
//! logins are cleared, so its logins are neither refused from an address nor slowed down.
//! The locks themselves are listed on the Agents page (`settings::agents_index`).

use actix_web::{web, HttpResponse};

use crate::auth::{CsrfForm, CurrentAgent};
use crate::error::AppResult;
use crate::routes::page;
use crate::services::throttle;
use crate::startup::AppState;

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/agents/{id}/lift-lock", web::post().to(lift));
}

/// `POST /agent/settings/agents/{id}/lift-lock`
pub async fn lift(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    throttle::lift_agent_lock(&state.db, agent.actor(), *id).await?;
    agent.flash("Login lock lifted.");
    Ok(page::see_other("/agent/settings/agents"))
}
