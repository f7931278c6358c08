//! Self sign-up (`/help/signup`) and the verification link (`/help/activate/{token}`). The
//! link's page asks for one click before anything changes, so that mail scanners that open
//! links do not spend it.

use actix_session::Session;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::account::{link_invalid, log_in};
use super::page::{mail_context, HelpLayout};
use crate::auth::{password, CsrfForm};
use crate::domain::{FieldErrors, SignupForm};
use crate::error::{AppError, AppResult};
use crate::routes::page;
use crate::services::branding;
use crate::services::help_center::{signup, LinkError};
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
    let branding = branding::load(&state.db.conn).await?;
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
    CsrfForm(mut form): CsrfForm<SignupForm>,
) -> AppResult<HttpResponse> {
    let layout = enabled_layout(&state, &session, "Sign up").await?;
    let input = match form.parse() {
        Ok(input) => input,
        Err(errors) => {
            form.password.clear();
            form.confirm_password.clear();
            return page::invalid(&SignupPage { layout, form, errors });
        }
    };
    let hash = password::hash(input.password.clone()).await?;
    signup::start(&state.db, mail_context(&state), &input, hash, chrono::Utc::now()).await.map_err(link_error)?;
    page::ok(&MessagePage {
        layout,
        heading: "Check your inbox".into(),
        message: format!(
            "We sent a link to {} to confirm the address. Follow it to finish signing up; it works for 24 hours.",
            input.email
        ),
    })
}

#[derive(Template)]
#[template(path = "help_center/activate.html")]
struct ActivatePage {
    layout: HelpLayout,
    token: String,
}

/// `GET /help/activate/{token}`
pub async fn confirm(
    state: web::Data<AppState>,
    session: Session,
    token: web::Path<String>,
) -> AppResult<HttpResponse> {
    if !signup::is_live(&state.db, &token, chrono::Utc::now()).await? {
        return link_invalid(&state, &session, false).await;
    }
    let layout = HelpLayout::new(&state, &session, None, "", "Confirm your email", true).await?;
    page::ok(&ActivatePage { layout, token: token.into_inner() })
}

/// `POST /help/activate/{token}`
pub async fn activate(
    state: web::Data<AppState>,
    session: Session,
    token: web::Path<String>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    match signup::verify(&state.db, &token, chrono::Utc::now()).await {
        Ok(contact_id) => {
            log_in(&session, contact_id)?;
            super::page::flash(&session, "Your email is confirmed. Welcome!");
            Ok(page::see_other("/help/tickets"))
        }
        Err(LinkError::Invalid) => link_invalid(&state, &session, false).await,
        Err(LinkError::Refused) => link_invalid(&state, &session, true).await,
        Err(e) => Err(link_error(e)),
    }
}

/// Turns a link failure that is not the visitor's into an internal error.
pub fn link_error(e: LinkError) -> AppError {
    match e {
        LinkError::Db(e) => e.into(),
        other => AppError::Internal(anyhow::anyhow!(other.to_string())),
    }
}
