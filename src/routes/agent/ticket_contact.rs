//! Link to contact: a ticket that has no contact yet (a WhatsApp message sent to a new number
//! by an agent who may not create contacts) gets one that the agent finds by name, address or
//! number. Who may link is the service's to decide (`services::tickets::link`).

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;

use crate::auth::{CsrfForm, CurrentAgent};
use crate::domain::{FieldRules, Module};
use crate::error::{AppError, AppResult};
use crate::routes::page::{self, Layout};
use crate::services::tickets::link::{self, LinkChoices};
use crate::startup::AppState;

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/tickets/{number}/contact").route(web::get().to(form)).route(web::post().to(submit)));
}

/// What to find contacts by.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FindQuery {
    pub q: String,
}

#[derive(Template)]
#[template(path = "agent/tickets/link_contact.html")]
struct LinkPage {
    layout: Layout,
    choices: LinkChoices,
    q: String,
    rules: FieldRules,
}

/// `GET /agent/tickets/{number}/contact?q=`
pub async fn form(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    number: web::Path<i64>,
    query: web::Query<FindQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner().q;
    let choices = link::choices(&state.db, agent.actor(), *number, &q, Utc::now()).await?;
    let layout = Layout::new(&agent, "tickets", format!("Link #{} to contact", choices.number));
    page::ok(&LinkPage { layout, choices, q, rules: agent.actor().fields(Module::Contacts) })
}

/// The contact chosen.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LinkForm {
    pub contact_id: String,
}

/// `POST /agent/tickets/{number}/contact`
pub async fn submit(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    number: web::Path<i64>,
    CsrfForm(form): CsrfForm<LinkForm>,
) -> AppResult<HttpResponse> {
    let contact_id: i64 = form.contact_id.trim().parse().map_err(|_| AppError::NotFound)?;
    link::link(&state.db, agent.actor(), *number, contact_id, Utc::now()).await?;
    agent.flash("Ticket linked to the contact.");
    Ok(page::see_other(&format!("/agent/tickets/{number}")))
}
