//! Merging contacts in the console: the merge page (`GET /agent/contacts/merge?ids=…`, from the
//! contacts ticked in the list or on Find Duplicates), **Merge** (`POST /agent/contacts/merge`),
//! **Find Duplicates** (`GET /agent/contacts/{id}/duplicates`) and **Undo merge** (`POST
//! /agent/contacts/{id}/undo-merge`). Registered before the contacts' own routes, whose
//! `/contacts/{id}` would otherwise take `/contacts/merge`.

use actix_web::{web, HttpResponse};
use askama::Template;

use super::help_center_access::queued_notice;
use crate::auth::{CsrfForm, CurrentAgent};
use crate::channels::whatsapp::inbound::held;
use crate::domain::{Action, FieldErrors, FieldRules, Module};
use crate::error::AppResult;
use crate::routes::help_center::page::{company_name, mail_context};
use crate::routes::page::{self, Layout};
use crate::services::contacts::merge::{self, Counts, Duplicate, MergePage, MergeRequest};
use crate::services::contacts::ContactRow;
use crate::services::ServiceError;
use crate::startup::AppState;

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/contacts/merge").route(web::get().to(form)).route(web::post().to(submit)))
        .route("/contacts/{id}/duplicates", web::get().to(duplicates))
        .route("/contacts/{id}/undo-merge", web::post().to(undo));
}

#[derive(Template)]
#[template(path = "agent/contacts/merge.html")]
struct MergeView {
    layout: Layout,
    page: Option<MergePage>,
    errors: FieldErrors,
}

impl MergeView {
    fn name_of(&self, id: &i64) -> String {
        self.page.iter().flat_map(|p| &p.contacts).find(|c| c.id == *id).map(ContactRow::name).unwrap_or_default()
    }

    fn count_rows(&self) -> [(&'static str, u8); 3] {
        [("Tickets", 0), ("Activities", 1), ("Time Entries", 2)]
    }

    fn count(&self, counts: &Counts, which: &u8) -> i64 {
        match which {
            0 => counts.tickets,
            1 => counts.activities,
            _ => counts.time_entries,
        }
    }
}

/// The merge page for `request`, with `errors` (422 when there are any).
async fn render(
    state: &AppState,
    agent: &CurrentAgent,
    request: &MergeRequest,
    errors: FieldErrors,
) -> AppResult<HttpResponse> {
    let (page, errors) = match merge::page(&state.db.conn, agent.actor(), request).await {
        Ok(page) => (Some(page), errors),
        Err(ServiceError::Invalid(refused)) => (None, refused),
        Err(e) => return Err(e.into()),
    };
    let view = MergeView { layout: Layout::new(agent, "customers", "Merge contacts"), page, errors };
    if view.errors.is_empty() {
        page::ok(&view)
    } else {
        page::invalid(&view)
    }
}

/// `GET /agent/contacts/merge?ids=…&ids=…`: the contacts side by side. The list's form sends
/// its CSRF token along; it leaves the address (and so the logs) by a redirect.
pub async fn form(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    query: web::Query<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Contacts, Action::View)?;
    let pairs = query.into_inner();
    if pairs.iter().any(|(k, _)| k == "csrf_token") {
        let kept: Vec<&(String, String)> = pairs.iter().filter(|(k, _)| k != "csrf_token").collect();
        let query = serde_urlencoded::to_string(kept).unwrap_or_default();
        return Ok(page::see_other(&format!("/agent/contacts/merge?{query}")));
    }
    render(&state, &agent, &MergeRequest::from_pairs(&pairs), FieldErrors::default()).await
}

/// `POST /agent/contacts/merge`: Merge.
pub async fn submit(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Contacts, Action::View)?;
    let request = MergeRequest::from_pairs(&fields);
    let company = company_name(&state).await?;
    let mail = mail_context(&state, &company);
    match merge::merge(&state.db, mail, agent.actor(), &request, chrono::Utc::now()).await {
        Ok(done) => {
            let n = done.merged;
            let mut said = format!(
                "{n} contact{} merged into this one. Undo merge brings {} back while {} in the Recycle Bin.",
                if n == 1 { " was" } else { "s were" },
                if n == 1 { "it" } else { "them" },
                if n == 1 { "it is" } else { "they are" },
            );
            if done.login_from.is_some() {
                said = queued_notice(
                    &state,
                    &format!("{said} Its Help Center login was kept, and the customer was told by email."),
                );
            }
            agent.flash(&said);
            Ok(page::see_other(&format!("/agent/contacts/{}", done.master)))
        }
        Err(ServiceError::Invalid(errors)) => render(&state, &agent, &request, errors).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "agent/contacts/duplicates.html")]
struct DuplicatesView {
    layout: Layout,
    contact: ContactRow,
    duplicates: Vec<Duplicate>,
    rules: FieldRules,
    can_merge: bool,
}

/// `GET /agent/contacts/{id}/duplicates`: Find Duplicates.
pub async fn duplicates(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Contacts, Action::View)?;
    let actor = agent.actor();
    let (contact, duplicates) = merge::duplicates(&state.db.conn, actor, *id).await?;
    page::ok(&DuplicatesView {
        layout: Layout::new(&agent, "customers", "Find Duplicates"),
        contact,
        duplicates,
        rules: actor.fields(Module::Contacts),
        can_merge: merge::may_merge(actor).is_ok(),
    })
}

/// `POST /agent/contacts/{id}/undo-merge`: Undo merge. The contacts back from the Recycle Bin
/// take the WhatsApp messages held meanwhile, as a restore does.
pub async fn undo(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Contacts, Action::View)?;
    let now = chrono::Utc::now();
    let restored = merge::undo(&state.db, agent.actor(), *id, now).await?;
    let mut taken = 0;
    for contact in &restored {
        match held::take_for_contact(state.whatsapp_context(), *contact, now).await {
            Ok(back) => taken += back.stored,
            Err(e) => tracing::warn!(error = %e, contact, "taking held WhatsApp messages again failed"),
        }
    }
    let n = restored.len();
    let mut said = format!("Merge undone: {n} {} back as before.", if n == 1 { "contact is" } else { "contacts are" });
    if taken > 0 {
        said.push_str(&format!(" {taken} held WhatsApp message(s) added to their tickets."));
    }
    agent.flash(&said);
    Ok(page::see_other(&format!("/agent/contacts/{id}")))
}

/// Where the page of contact `id`, not live, leads: its master while it is merged into one.
///
/// # Errors
/// `NotFound` when it was not merged (or is no longer); database errors.
pub async fn merged_contact(state: &AppState, id: i64) -> AppResult<HttpResponse> {
    match merge::merged_into(&state.db.conn, id).await? {
        Some(master) => Ok(page::see_other(&format!("/agent/contacts/{master}"))),
        None => Err(crate::error::AppError::NotFound),
    }
}
