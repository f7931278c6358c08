//! The Recycle Bin: what was deleted, Restore, and Delete Permanently (administrators only).
//! Restoring a contact also takes the WhatsApp messages held while it was in the bin.

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::auth::{CsrfForm, CurrentAgent};
use crate::channels::whatsapp::inbound::held;
use crate::domain::{Action, Module};
use crate::error::AppResult;
use crate::routes::page::{self, Layout};
use crate::services::recycle_bin::{self, Entry};
use crate::services::Actor;
use crate::startup::AppState;

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/recycle-bin", web::get().to(index))
        .route("/recycle-bin/{id}/restore", web::post().to(restore))
        .route("/recycle-bin/{id}/purge", web::post().to(purge));
}

#[derive(Template)]
#[template(path = "agent/recycle_bin.html")]
struct IndexPage {
    layout: Layout,
    entries: Vec<Entry>,
    retention_days: u32,
    actor: Actor,
}

impl IndexPage {
    fn can_restore(&self, entry: &Entry) -> bool {
        self.actor.can(entry.module(), Action::Delete) && entry.details.merged_into.is_none()
    }
}

/// `GET /agent/recycle-bin`: the entries of the modules the agent may view.
pub async fn index(state: web::Data<AppState>, agent: CurrentAgent) -> AppResult<HttpResponse> {
    if !agent.can(Module::Accounts, Action::View) {
        agent.require(Module::Contacts, Action::View)?;
    }
    let entries = recycle_bin::list(&state.db.conn, agent.actor()).await?;
    page::ok(&IndexPage {
        layout: Layout::new(&agent, "recycle-bin", "Recycle Bin"),
        entries,
        retention_days: state.settings.recycle_bin_retention_days,
        actor: agent.actor().clone(),
    })
}

/// `POST /agent/recycle-bin/{id}/restore`: needs the delete permission of the item's module.
pub async fn restore(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let entry = recycle_bin::restore(&state.db, agent.actor(), *id).await?;
    let mut said = format!("{} restored.", entry.label_for(agent.permissions()));
    if entry.kind == "contact" {
        // What restoring the contact was for; the restore stands whatever becomes of them.
        let ctx = state.whatsapp_context();
        match held::take_for_contact(ctx, entry.item_id, chrono::Utc::now()).await {
            Ok(back) if back.stored > 0 => {
                let s = if back.stored == 1 { " was" } else { "s were" };
                said.push_str(&format!(" {} held WhatsApp message{s} added to its tickets.", back.stored));
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, contact = entry.item_id, "taking held WhatsApp messages again failed"),
        }
    }
    agent.flash(&said);
    let back = if entry.kind == "account" { "/agent/accounts" } else { "/agent/contacts" };
    Ok(page::see_other(&format!("{back}/{}", entry.item_id)))
}

/// `POST /agent/recycle-bin/{id}/purge`: Delete Permanently.
pub async fn purge(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    recycle_bin::purge(&state.db, agent.actor(), *id).await?;
    agent.flash("Deleted permanently.");
    Ok(page::see_other("/agent/recycle-bin"))
}
