//! Delete Contact: the confirmation, with what goes to the Recycle Bin with the contact, and the
//! deletion.

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::auth::{CsrfForm, CurrentAgent};
use crate::domain::{Action, Module};
use crate::error::AppResult;
use crate::routes::page::{self, Layout};
use crate::services::contacts::{self, ContactRow, RelatedCounts};
use crate::services::recycle_bin;
use crate::startup::AppState;

#[derive(Template)]
#[template(path = "agent/contacts/delete.html")]
struct DeletePage {
    layout: Layout,
    contact: ContactRow,
    counts: RelatedCounts,
}

/// `GET /agent/contacts/{id}/delete`: the confirmation.
pub async fn confirm(state: web::Data<AppState>, agent: CurrentAgent, id: web::Path<i64>) -> AppResult<HttpResponse> {
    agent.require(Module::Contacts, Action::Delete)?;
    let (contact, counts) = contacts::with_counts(&state.db.conn, agent.actor(), *id).await?;
    page::ok(&DeletePage { layout: Layout::new(&agent, "customers", "Delete Contact"), contact, counts })
}

/// `POST /agent/contacts/{id}/delete`
pub async fn delete(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Contacts, Action::Delete)?;
    recycle_bin::delete_contact(&state.db, agent.actor(), *id).await?;
    agent.flash("Contact moved to the Recycle Bin with its tickets, activities and time entries.");
    Ok(page::see_other("/agent/contacts"))
}
