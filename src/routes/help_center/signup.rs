//! Self sign-up (`/help/signup`) and the verification link (`/help/activate/{token}`), whose
//! page asks for the password chosen at sign-up (see `services::help_center::signup`). Both are
//! gone (404) while self sign-up is turned off in settings.

use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::account::{land, link_invalid};
use super::page::{company_name, mail_context, HelpLayout};
use crate::auth::{password, CsrfForm};
use crate::domain::{FieldErrors, SignupForm};
use crate::error::{AppError, AppResult};
use crate::routes::{page, throttle};
use crate::services::help_center::{signup, LinkError};
use crate::services::login::clean_email;
use crate::startup::AppState;

#[derive(Template)]
#[template(path = "help_center/signup.html")]
struct SignupPage {
    layout: HelpLayout,
    form: SignupForm,
    errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "help_center/message.html")]
struct MessagePage {
    layout: HelpLayout,
    heading: String,
    message: String,
}

async fn enabled_layout(state: &AppState, session: &Session, title: &str) -> AppResult<HelpLayout> {
    let branding = state.branding.get(&state.db.conn).await?;
    if !branding.signup_enabled {
        return Err(AppError::NotFound);
    }
    HelpLayout::with(branding, session, None, "signup", title, true)
}

/// `GET /help/signup`
pub async fn form(state: web::Data<AppState>, session: Session) -> AppResult<HttpResponse> {
    let layout = enabled_layout(&state, &session, "Sign up").await?;
    page::ok(&SignupPage { layout, form: SignupForm::default(), errors: FieldErrors::default() })
}

/// `POST /help/signup`: the same answer whether or not the address is known.
pub async fn submit(
    state: web::Data<AppState>,
    session: Session,
    req: HttpRequest,
    CsrfForm(mut form): CsrfForm<SignupForm>,
) -> AppResult<HttpResponse> {
    let layout = enabled_layout(&state, &session, "Sign up").await?;
    // Never forgotten: a sign-up sends mail, and the limit also keeps mailboxes from flooding.
    throttle::admit(&state, &req, throttle::Purpose::Signup, &format!("signup:{}", clean_email(&form.email))).await?;
    let input = match form.parse() {
        Ok(input) => input,
        Err(errors) => {
            form.password.clear();
            form.confirm_password.clear();
            return page::invalid(&SignupPage { layout, form, errors });
        }
    };
    let hash = password::hash(input.password.clone()).await?;
    let company = company_name(&state).await?;
    signup::start(&state.db, mail_context(&state, &company), &input, hash, chrono::Utc::now())
        .await
        .map_err(link_error)?;
    let message = format!(
        "We sent a message to {}. Follow the link in it to finish signing up; it works for 24 hours.",
        input.email
    );
    page::ok(&MessagePage { layout, heading: "Check your inbox".into(), message })
}

#[derive(Template)]
#[template(path = "help_center/activate.html")]
struct ActivatePage {
    layout: HelpLayout,
    token: String,
    error: String,
}

/// The password chosen at sign-up, typed again.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ActivateForm {
    pub password: String,
}

/// `GET /help/activate/{token}`
pub async fn confirm(
    state: web::Data<AppState>,
    session: Session,
    token: web::Path<String>,
) -> AppResult<HttpResponse> {
    let layout = enabled_layout(&state, &session, "Confirm your email").await?;
    if !signup::is_live(&state.db, &token, chrono::Utc::now()).await? {
        return link_invalid(&state, &session, false).await;
    }
    page::ok(&ActivatePage { layout, token: token.into_inner(), error: String::new() })
}

/// `POST /help/activate/{token}`
pub async fn activate(
    state: web::Data<AppState>,
    session: Session,
    req: HttpRequest,
    token: web::Path<String>,
    CsrfForm(form): CsrfForm<ActivateForm>,
) -> AppResult<HttpResponse> {
    let layout = enabled_layout(&state, &session, "Confirm your email").await?;
    let attempt = throttle::admit(&state, &req, throttle::Purpose::Password, &throttle::link_key(&token)).await?;
    match signup::verify(&state.db, &token, form.password, chrono::Utc::now()).await {
        Err(LinkError::WrongPassword) => page::invalid(&ActivatePage {
            layout,
            token: token.into_inner(),
            error: "This is not the password you chose when you signed up.".into(),
        }),
        outcome => land(&state, &session, attempt, outcome, "Your email is confirmed. Welcome!").await,
    }
}

/// Turns a link failure that is not the visitor's into an internal error.
pub fn link_error(e: LinkError) -> AppError {
    match e {
        LinkError::Db(e) => e.into(),
        LinkError::Throttled => AppError::TooManyRequests("Too many attempts. Wait 15 minutes, then try again.".into()),
        other => AppError::Internal(anyhow::anyhow!(other.to_string())),
    }
}
