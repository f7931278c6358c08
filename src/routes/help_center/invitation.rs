//! `/help/invitation/{token}`: an invited contact chooses a password and is logged in.

use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::account::{land, link_invalid};
use super::page::HelpLayout;
use crate::auth::{password, CsrfForm};
use crate::domain::FieldErrors;
use crate::error::AppResult;
use crate::routes::{page, throttle};
use crate::services::help_center::access;
use crate::startup::AppState;

/// A new password, twice.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    pub password: String,
    pub confirm_password: String,
}

impl PasswordForm {
    /// The password, or the message for its field.
    ///
    /// # Errors
    /// Too short, too long, or the two do not match.
    pub fn parse(&self) -> Result<String, FieldErrors> {
        password::check_new(&self.password, &self.confirm_password).map(|()| self.password.clone()).map_err(
            |(field, message)| {
                let mut errors = FieldErrors::default();
                errors.add(field, message);
                errors
            },
        )
    }
}

#[derive(Template)]
#[template(path = "help_center/set_password.html")]
pub struct SetPasswordPage {
    pub layout: HelpLayout,
    pub heading: String,
    pub action: String,
    pub errors: FieldErrors,
}

/// `GET /help/invitation/{token}`
pub async fn form(state: web::Data<AppState>, session: Session, token: web::Path<String>) -> AppResult<HttpResponse> {
    let Some(name) = access::invitation_name(&state.db, &token, chrono::Utc::now()).await? else {
        return link_invalid(&state, &session, false).await;
    };
    let layout = HelpLayout::new(&state, &session, None, "", "Set your password", true).await?;
    page::ok(&SetPasswordPage {
        layout,
        heading: format!("Welcome, {name}. Choose your password"),
        action: format!("/help/invitation/{token}"),
        errors: FieldErrors::default(),
    })
}

/// `POST /help/invitation/{token}`
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
    if access::invitation_name(&state.db, &token, now).await?.is_none() {
        return link_invalid(&state, &session, false).await;
    }
    let new_password = match form.parse() {
        Ok(p) => p,
        Err(errors) => {
            let layout = HelpLayout::new(&state, &session, None, "", "Set your password", true).await?;
            let action = format!("/help/invitation/{token}");
            return page::invalid(&SetPasswordPage { layout, heading: "Choose your password".into(), action, errors });
        }
    };
    let hash = password::hash(new_password).await?;
    let outcome = access::accept(&state.db, &token, hash, now).await;
    land(&state, &session, attempt, outcome, "Your password is set. Welcome to the Help Center!").await
}
