//! `/setup`: creating the first administrator. Gone (404) once an agent exists.

use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::{csrf, keys, password, renew_session, CsrfForm};
use crate::domain::{Email, FieldErrors};
use crate::error::{AppError, AppResult};
use crate::routes::{page, throttle};
use crate::services::{agents, setup, ServiceError};
use crate::startup::AppState;

/// The set-up form as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SetupForm {
    pub name: String,
    pub email: String,
    pub password: String,
    pub confirm_password: String,
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    form: SetupForm,
    errors: FieldErrors,
    csrf: String,
}

async fn ensure_needed(state: &AppState) -> AppResult<()> {
    if state.needs_setup().await? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// `GET /setup`
pub async fn form(state: web::Data<AppState>, session: Session) -> AppResult<HttpResponse> {
    ensure_needed(&state).await?;
    let page = SetupPage { form: SetupForm::default(), errors: FieldErrors::default(), csrf: csrf::token(&session)? };
    page::ok(&page)
}

/// `POST /setup`
pub async fn submit(
    state: web::Data<AppState>,
    session: Session,
    req: HttpRequest,
    CsrfForm(form): CsrfForm<SetupForm>,
) -> AppResult<HttpResponse> {
    ensure_needed(&state).await?;
    throttle::admit(&state, &req, throttle::Purpose::Password, "setup").await?;
    let mut errors = FieldErrors::default();
    let name = errors.check("name", agents::parse_name(&form.name));
    let email = errors.check("email", Email::parse(&form.email));
    if let Err((field, message)) = password::check_new(&form.password, &form.confirm_password) {
        errors.add(field, message);
    }
    let (Some(name), Some(email), true) = (name, email, errors.is_empty()) else {
        return page::invalid(&SetupPage { form, errors, csrf: csrf::token(&session)? });
    };
    let agent = match setup::create_first_admin(&state.db.conn, name, email, form.password.clone()).await {
        Ok(agent) => agent,
        Err(ServiceError::Invalid(errors)) => {
            return page::invalid(&SetupPage { form, errors, csrf: csrf::token(&session)? })
        }
        Err(e) => return Err(e.into()),
    };
    renew_session(&session);
    session.insert(keys::AGENT_ID, agent.id).map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    let _ = session.insert(keys::FLASH, "Welcome to Frontdesk. Your administrator account is ready.");
    Ok(page::see_other("/agent/contacts"))
}
