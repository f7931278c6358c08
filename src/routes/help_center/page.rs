//! What every Help Center page carries: the company's name (the colours come from
//! `/help/theme.css`), who is logged in, the one-time message, and a CSRF token when the page
//! has a form.

use actix_session::Session;

use crate::auth::{csrf, keys, CurrentContact};
use crate::error::AppResult;
use crate::services::branding::Branding;
use crate::services::help_center::MailContext;
use crate::startup::AppState;

/// The Help Center layout's context.
pub struct HelpLayout {
    pub title: String,
    pub nav: &'static str,
    pub company_name: String,
    pub signup_enabled: bool,
    pub contact_name: Option<String>,
    pub flash: Option<String>,
    pub csrf: String,
}

impl HelpLayout {
    /// The layout for a page titled `title`. A CSRF token is made only when the page has a form
    /// (`forms`) or someone is logged in (the logout button), so that a visitor reading
    /// articles leaves no session behind.
    ///
    /// # Errors
    /// Database errors.
    pub async fn new(
        state: &AppState,
        session: &Session,
        contact: Option<&CurrentContact>,
        nav: &'static str,
        title: impl Into<String>,
        forms: bool,
    ) -> AppResult<Self> {
        let branding = state.branding.get(&state.db.conn).await?;
        Self::with(branding, session, contact, nav, title, forms)
    }

    /// Like [`Self::new`] with the branding already loaded.
    ///
    /// # Errors
    /// When the session cannot be written.
    pub fn with(
        branding: Branding,
        session: &Session,
        contact: Option<&CurrentContact>,
        nav: &'static str,
        title: impl Into<String>,
        forms: bool,
    ) -> AppResult<Self> {
        let csrf = match contact {
            Some(c) => c.csrf.clone(),
            None if forms => csrf::token(session)?,
            None => String::new(),
        };
        let flash = match session.get::<String>(keys::FLASH).ok().flatten() {
            Some(message) => {
                session.remove(keys::FLASH);
                Some(message)
            }
            None => None,
        };
        Ok(Self {
            title: title.into(),
            nav,
            company_name: branding.company_name,
            signup_enabled: branding.signup_enabled,
            contact_name: contact.map(|c| c.name.clone()),
            flash,
            csrf,
        })
    }
}

/// Where links in mail point, for the services that queue mail; `company` is the Help
/// Center's name (from [`company_name`]).
#[must_use]
pub fn mail_context<'a>(state: &'a AppState, company: &'a str) -> MailContext<'a> {
    MailContext { base_url: &state.public_url, domain: &state.mailer.domain, company }
}

/// The company name mail is signed with (cached, see `BrandingCache`).
///
/// # Errors
/// Database errors.
pub async fn company_name(state: &AppState) -> AppResult<String> {
    Ok(state.branding.get(&state.db.conn).await?.company_name)
}

/// Leaves a message for the next page of this session.
pub fn flash(session: &Session, message: &str) {
    let _ = session.insert(keys::FLASH, message);
}

/// A ticket to open for `contact_id`, with what its acknowledgement needs from the state.
///
/// # Errors
/// Database errors (reading the company name).
pub async fn opening(
    state: &AppState,
    contact_id: i64,
    input: crate::domain::TicketInput,
    channel: crate::domain::Channel,
    by: crate::services::tickets::Author,
) -> AppResult<crate::services::tickets::Opening> {
    Ok(crate::services::tickets::Opening {
        contact_id,
        input,
        channel,
        by,
        now: chrono::Utc::now(),
        base_url: state.public_url.clone(),
        domain: state.mailer.domain.clone(),
        company: company_name(state).await?,
        files: Vec::new(),
    })
}
