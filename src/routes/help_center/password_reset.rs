//! "Forgot password?": `/help/password-reset` asks for the address; the link in the mail leads
//! to `/help/password-reset/{token}` to choose a new password.

use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::account::{land, link_invalid};
use super::invitation::{PasswordForm, SetPasswordPage};
use super::page::{company_name, mail_context, HelpLayout};
use super::signup::link_error;
use crate::auth::{password, CsrfForm};
use crate::domain::{Email, FieldErrors};
use crate::error::AppResult;
use crate::routes::agent::login::client_address;
use crate::routes::{page, throttle};
use crate::services::help_center::password_reset;
use crate::startup::AppState;

/// The address as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RequestForm {
    pub email: String,
}

#[derive(Template)]
#[template(path = "help_center/password_reset_request.html")]
struct RequestPage {
    layout: HelpLayout,
    email: String,
    errors: FieldErrors,
    sent: bool,
}

/// `GET /help/password-reset`
pub async fn request_form(state: web::Data<AppState>, session: Session) -> AppResult<HttpResponse> {
    let layout = HelpLayout::new(&state, &session, None, "", "Reset your password", true).await?;
    page::ok(&RequestPage { layout, email: String::new(), errors: FieldErrors::default(), sent: false })
}

/// `POST /help/password-reset`: the same answer for known and unknown addresses.
pub async fn request(
    state: web::Data<AppState>,
    session: Session,
    req: HttpRequest,
    CsrfForm(form): CsrfForm<RequestForm>,
) -> AppResult<HttpResponse> {
    let layout = HelpLayout::new(&state, &session, None, "", "Reset your password", true).await?;
    let email = match Email::parse(&form.email) {
        Ok(email) => email,
        Err(message) => {
            let mut errors = FieldErrors::default();
            errors.add("email", message);
            return page::invalid(&RequestPage { layout, email: form.email, errors, sent: false });
        }
    };
    let client_ip = client_address(&req, state.settings.trust_proxy);
    password_reset::request(
        &state.db,
        mail_context(&state, &company_name(&state).await?),
        &email,
        &throttle::client(&state, &client_ip),
    )
    .await
    .map_err(link_error)?;
    page::ok(&RequestPage { layout, email: email.to_string(), errors: FieldErrors::default(), sent: true })
}

/// `GET /help/password-reset/{token}`
pub async fn form(state: web::Data<AppState>, session: Session, token: web::Path<String>) -> AppResult<HttpResponse> {
    if !password_reset::is_live(&state.db, &token, chrono::Utc::now()).await? {
        return link_invalid(&state, &session, false).await;
    }
    let layout = HelpLayout::new(&state, &session, None, "", "Choose a new password", true).await?;
    let action = format!("/help/password-reset/{token}");
    page::ok(&SetPasswordPage {
        layout,
        heading: "Choose a new password".into(),
        action,
        errors: FieldErrors::default(),
    })
}

/// `POST /help/password-reset/{token}`
pub async fn submit(
    state: web::Data<AppState>,
    session: Session,
    req: HttpRequest,
    token: web::Path<String>,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> AppResult<HttpResponse> {
    let attempt = throttle::admit(&state, &req, throttle::Purpose::Password, &throttle::link_key(&token)).await?;
    let now = chrono::Utc::now();
    // A dead link is answered before any password is hashed: hashing is what costs.
    if !password_reset::is_live(&state.db, &token, now).await? {
        return link_invalid(&state, &session, false).await;
    }
    let new_password = match form.parse() {
        Ok(p) => p,
        Err(errors) => {
            let layout = HelpLayout::new(&state, &session, None, "", "Choose a new password", true).await?;
            let action = format!("/help/password-reset/{token}");
            return page::invalid(&SetPasswordPage { layout, heading: "Choose a new password".into(), action, errors });
        }
    };
    let hash = password::hash(new_password).await?;
    let outcome = password_reset::reset(&state.db, &token, hash, now).await;
    land(&state, &session, attempt, outcome, "Your password has been changed.").await
}
