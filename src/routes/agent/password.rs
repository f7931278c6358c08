//! `/agent/password`: an agent changes its own password (ending its sessions everywhere else);
//! `/agent/password-reset`: what to do when the password is forgotten.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::{keys, password, renew_session, CsrfForm, CurrentAgent};
use crate::domain::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::routes::page::{self, Layout};
use crate::routes::throttle;
use crate::services::{agents, ServiceError};
use crate::startup::AppState;

/// The Change password form as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    pub current_password: String,
    pub password: String,
    pub confirm_password: String,
}

#[derive(Template)]
#[template(path = "agent/password.html")]
struct PasswordPage {
    layout: Layout,
    errors: FieldErrors,
}

/// `GET /agent/password`
pub async fn form(agent: CurrentAgent) -> AppResult<HttpResponse> {
    page::ok(&PasswordPage { layout: Layout::new(&agent, "", "Change password"), errors: FieldErrors::default() })
}

/// `POST /agent/password`
pub async fn submit(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    req: HttpRequest,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> AppResult<HttpResponse> {
    // A stolen session must not try current passwords at leisure.
    let attempt =
        throttle::admit(&state, &req, throttle::Purpose::Password, &format!("agent-password:{}", agent.id)).await?;
    let result = match password::check_new(&form.password, &form.confirm_password) {
        Err((field, message)) => Err(ServiceError::field(field, message)),
        Ok(()) => agents::change_own_password(&state.db.conn, agent.id, form.current_password, form.password).await,
    };
    match result {
        Ok(()) => {
            throttle::succeeded(&state, attempt).await?;
            // Every session of the agent is gone, this one included: start a fresh one here.
            renew_session(&agent.session);
            agent.session.insert(keys::AGENT_ID, agent.id).map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
            agent.flash("Password changed. You were logged out everywhere else.");
            Ok(page::see_other("/agent/contacts"))
        }
        Err(ServiceError::Invalid(errors)) => {
            page::invalid(&PasswordPage { layout: Layout::new(&agent, "", "Change password"), errors })
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "agent/password_reset.html")]
struct ResetPage;

/// `GET /agent/password-reset`: agents' passwords are reset by an administrator.
pub async fn reset() -> AppResult<HttpResponse> {
    page::ok(&ResetPage)
}
