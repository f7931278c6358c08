//! Giving and taking a contact's Help Center access from its page: Invite to Help Center (or
//! Resend invitation) and Remove Help Center access. Both need the contacts edit permission.

use crate::services::deliveries::Sender as _;
use actix_web::{web, HttpResponse};

use crate::auth::{CsrfForm, CurrentAgent};
use crate::domain::{Action, Module};
use crate::error::AppResult;
use crate::routes::help_center::page::{company_name, mail_context};
use crate::routes::page;
use crate::services::help_center::access;
use crate::startup::AppState;

/// `POST /agent/contacts/{id}/help-center/invite`
pub async fn invite(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Contacts, Action::Edit)?;
    let company = company_name(&state).await?;
    access::invite(&state.db, mail_context(&state, &company), agent.actor(), *id, chrono::Utc::now()).await?;
    agent.flash(&queued_notice(&state, "The invitation has been sent."));
    Ok(page::see_other(&format!("/agent/contacts/{id}")))
}

/// `POST /agent/contacts/invite-to-help-center`: the contacts ticked in the list.
pub async fn invite_selected(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Contacts, Action::Edit)?;
    let ids: Vec<i64> = fields.iter().filter(|(k, _)| k == "ids").filter_map(|(_, v)| v.parse().ok()).collect();
    let report = access::invite_many(
        &state.db,
        mail_context(&state, &company_name(&state).await?),
        agent.actor(),
        &ids,
        chrono::Utc::now(),
    )
    .await?;
    let message = match (report.invited, report.skipped) {
        (0, 0) => "Tick the contacts to invite first.".to_owned(),
        (n, 0) => queued_notice(&state, &format!("Invitations sent to {n} contacts.")),
        (n, s) => queued_notice(
            &state,
            &format!("Invitations sent to {n} contacts; {s} skipped (no email address, or already active)."),
        ),
    };
    agent.flash(&message);
    Ok(page::see_other("/agent/contacts?view=help_center"))
}

/// `POST /agent/contacts/{id}/help-center/remove`
pub async fn remove(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Contacts, Action::Edit)?;
    access::remove(&state.db, agent.actor(), *id, chrono::Utc::now()).await?;
    agent.flash("Help Center access removed. The contact has been logged out.");
    Ok(page::see_other(&format!("/agent/contacts/{id}")))
}

/// `done`, or, without an SMTP server, a note that the mail waits in the outbox.
#[must_use]
pub fn queued_notice(state: &AppState, done: &str) -> String {
    if state.mailer.configured() {
        done.to_owned()
    } else {
        format!(
            "{done} No mail server is configured (FRONTDESK_SMTP_URL), so the email waits in the outbox until one is."
        )
    }
}
