//! `/agent/login` and `/agent/logout`.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::{csrf, keys, renew_session, CsrfForm, CurrentAgent};
use crate::error::{AppError, AppResult};
use crate::routes::{page, throttle};
use crate::services::login::{self, LoginError};
use crate::startup::AppState;

/// Where to go after logging in.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NextQuery {
    pub next: Option<String>,
}

/// The login form as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    pub email: String,
    pub password: String,
    pub next: String,
}

#[derive(Template)]
#[template(path = "agent/login.html")]
struct LoginPage {
    email: String,
    next: String,
    error: String,
    csrf: String,
}

/// `GET /agent/login`
pub async fn form(
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<NextQuery>,
) -> AppResult<HttpResponse> {
    if state.needs_setup().await? {
        return Ok(page::see_other("/setup"));
    }
    let next = page::safe_next(query.next.as_deref(), "/agent/contacts");
    page::ok(&LoginPage { email: String::new(), next, error: String::new(), csrf: csrf::token(&session)? })
}

/// `POST /agent/login`
pub async fn submit(
    state: web::Data<AppState>,
    session: Session,
    req: HttpRequest,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> AppResult<HttpResponse> {
    let client_ip = client_address(&req, state.settings.trust_proxy);
    let next = page::safe_next(Some(&form.next), "/agent/contacts");
    let client = throttle::client(&state, &client_ip);
    let outcome = login::agent_login(&state.db, &form.email, form.password, &client).await?;
    let (status, error) = match outcome {
        Ok(agent) => {
            renew_session(&session);
            session.insert(keys::AGENT_ID, agent.id).map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
            return Ok(page::see_other(&next));
        }
        Err(LoginError::Invalid) => (StatusCode::UNPROCESSABLE_ENTITY, "The email or password is not right."),
        Err(LoginError::Throttled) => {
            (StatusCode::TOO_MANY_REQUESTS, "Too many failed attempts. Wait 15 minutes, then try again.")
        }
    };
    let page = LoginPage { email: form.email, next, error: error.into(), csrf: csrf::token(&session)? };
    page::render(status, &page)
}

/// The client's address for throttling: the peer, or what a trusted proxy says it is.
pub fn client_address(req: &HttpRequest, trust_proxy: bool) -> String {
    if trust_proxy {
        if let Some(ip) = req.connection_info().realip_remote_addr() {
            return ip.chars().take(64).collect();
        }
    }
    req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default()
}

/// `POST /agent/logout`: ends the session everywhere (it is deleted from the store).
pub async fn logout(agent: CurrentAgent, CsrfForm(_): CsrfForm<Vec<(String, String)>>) -> HttpResponse {
    agent.session.purge();
    page::see_other("/agent/login")
}
