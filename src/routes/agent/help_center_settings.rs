//! Settings → Help Center: the company's name and colour shown to end-users, and whether
//! visitors may sign up on their own. Administrators only.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::{CsrfForm, CurrentAgent};
use crate::domain::form::optional_text;
use crate::domain::{BrandColor, FieldErrors};
use crate::error::AppResult;
use crate::routes::page::{self, Layout};
use crate::services::branding::{self, Branding};
use crate::startup::AppState;

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/settings/help-center").route(web::get().to(form)).route(web::post().to(save)));
}

/// The form as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BrandingForm {
    pub company_name: String,
    pub brand_color: String,
    pub signup_enabled: Option<String>,
}

impl BrandingForm {
    fn of(b: &Branding) -> Self {
        Self {
            company_name: b.company_name.clone(),
            brand_color: b.brand_color.to_string(),
            signup_enabled: b.signup_enabled.then(|| "on".into()),
        }
    }

    fn parse(&self) -> Result<Branding, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = errors.check("company_name", optional_text(&self.company_name, 100));
        let color = errors.check("brand_color", BrandColor::parse(&self.brand_color));
        match (name, color) {
            (Some(Some(company_name)), Some(brand_color)) => {
                Ok(Branding { company_name, brand_color, signup_enabled: self.signup_enabled.is_some() })
            }
            (Some(None), _) => {
                errors.add("company_name", "Company Name is required.");
                Err(errors)
            }
            _ => Err(errors),
        }
    }
}

#[derive(Template)]
#[template(path = "agent/settings/help_center.html")]
struct FormPage {
    layout: Layout,
    form: BrandingForm,
    errors: FieldErrors,
}

/// `GET /agent/settings/help-center`
pub async fn form(state: web::Data<AppState>, agent: CurrentAgent) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    let current = branding::load(&state.db.conn).await?;
    let layout = Layout::new(&agent, "settings", "Help Center");
    page::ok(&FormPage { layout, form: BrandingForm::of(&current), errors: FieldErrors::default() })
}

/// `POST /agent/settings/help-center`
pub async fn save(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    CsrfForm(form): CsrfForm<BrandingForm>,
) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    match form.parse() {
        Ok(b) => {
            branding::save(&state.db.conn, agent.actor(), &b).await?;
            state.branding.invalidate();
            agent.flash("Help Center settings saved.");
            Ok(page::see_other("/agent/settings/help-center"))
        }
        Err(errors) => {
            page::invalid(&FormPage { layout: Layout::new(&agent, "settings", "Help Center"), form, errors })
        }
    }
}
