//! Logging in and out of the Help Center, and the page a dead link leads to.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::page::HelpLayout;
use crate::auth::{keys, renew_session, CsrfForm, CurrentContact};
use crate::error::{AppError, AppResult};
use crate::routes::agent::login::{client_address, NextQuery};
use crate::routes::{page, throttle};
use crate::services::help_center::{login, LinkError};
use crate::services::login::LoginError;
use crate::services::throttle::Attempt;
use crate::startup::AppState;

/// The login form as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    pub email: String,
    pub password: String,
    pub next: String,
}

#[derive(Template)]
#[template(path = "help_center/login.html")]
struct LoginPage {
    layout: HelpLayout,
    email: String,
    next: String,
    error: String,
}

/// `GET /help/login`
pub async fn form(
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<NextQuery>,
) -> AppResult<HttpResponse> {
    let next = page::safe_next(query.next.as_deref(), "/help/tickets");
    let layout = HelpLayout::new(&state, &session, None, "login", "Log in", true).await?;
    page::ok(&LoginPage { layout, email: String::new(), next, error: String::new() })
}

/// `POST /help/login`
pub async fn submit(
    state: web::Data<AppState>,
    session: Session,
    req: HttpRequest,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> AppResult<HttpResponse> {
    let client_ip = client_address(&req, state.settings.trust_proxy);
    let next = page::safe_next(Some(&form.next), "/help/tickets");
    let client = throttle::client(&state, &client_ip);
    let (status, error) = match login::login(&state.db, &form.email, form.password, &client).await? {
        Ok(contact_id) => {
            log_in(&session, contact_id)?;
            return Ok(page::see_other(&next));
        }
        Err(LoginError::Invalid) => (StatusCode::UNPROCESSABLE_ENTITY, "The email or password is not right."),
        Err(LoginError::Throttled) => {
            (StatusCode::TOO_MANY_REQUESTS, "Too many failed attempts. Wait 15 minutes, then try again.")
        }
    };
    let layout = HelpLayout::new(&state, &session, None, "login", "Log in", true).await?;
    page::render(status, &LoginPage { layout, email: form.email, next, error: error.into() })
}

/// Starts a Help Center session for `contact_id`, under a new session id and CSRF token.
///
/// # Errors
/// When the session cannot be written.
pub fn log_in(session: &Session, contact_id: i64) -> AppResult<()> {
    renew_session(session);
    session.insert(keys::CONTACT_ID, contact_id).map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))
}

/// `POST /help/logout`
pub async fn logout(contact: CurrentContact, CsrfForm(_): CsrfForm<Vec<(String, String)>>) -> HttpResponse {
    contact.session.purge();
    page::see_other("/help")
}

#[derive(Template)]
#[template(path = "help_center/link_invalid.html")]
struct LinkInvalidPage {
    layout: HelpLayout,
    message: String,
}

/// The answer to a link that is unknown, used or expired (410), or refused (403).
///
/// # Errors
/// Database errors.
pub async fn link_invalid(state: &AppState, session: &Session, refused: bool) -> AppResult<HttpResponse> {
    let (status, message) = if refused {
        (StatusCode::FORBIDDEN, "This address cannot use the Help Center. Please contact support.")
    } else {
        (
            StatusCode::GONE,
            "This link has expired or has been used already. Links in our emails work once, for a limited time. Ask for a new one.",
        )
    };
    let layout = HelpLayout::new(state, session, None, "", "Link not valid", false).await?;
    page::render(status, &LinkInvalidPage { layout, message: message.into() })
}

/// The answer to following a mailed link: logged in with `welcome` on My Tickets (the
/// throttle's `attempt` forgotten), or the page for a dead or refused link.
///
/// # Errors
/// Database errors, and link failures that are not the visitor's.
pub async fn land(
    state: &AppState,
    session: &Session,
    attempt: Attempt,
    outcome: Result<i64, LinkError>,
    welcome: &str,
) -> AppResult<HttpResponse> {
    match outcome {
        Ok(contact_id) => {
            throttle::succeeded(state, attempt).await?;
            log_in(session, contact_id)?;
            super::page::flash(session, welcome);
            Ok(page::see_other("/help/tickets"))
        }
        Err(LinkError::Invalid) => link_invalid(state, session, false).await,
        Err(LinkError::Refused) => link_invalid(state, session, true).await,
        Err(e) => Err(super::signup::link_error(e)),
    }
}
