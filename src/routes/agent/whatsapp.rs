//! Send WhatsApp Message (`/agent/whatsapp/send`): the form behind Contacts Home's drop-down,
//! a contact's More Actions and the `w+` shortcut. It works without JavaScript: "Find" looks a
//! contact up, "Preview" shows the chosen template's parameters and the message as the customer
//! will read it, "Send" sends.

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;

use crate::auth::{CsrfForm, CurrentAgent};
use crate::channels::whatsapp::send::{self, Prepared, SendForm, RESTRICTED};
use crate::channels::whatsapp::{opt_ins, sender};
use crate::domain::{Action, FieldErrors, Module};
use crate::error::AppResult;
use crate::routes::page::{self, Layout};
use crate::services::ServiceError;
use crate::startup::AppState;

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/whatsapp/send").route(web::get().to(form)).route(web::post().to(submit)))
        // "Find" (a contact by name, email or number) is the same form, filled in further.
        .route("/whatsapp/send/find", web::get().to(form))
        .route("/contacts/{id}/whatsapp", web::get().to(for_contact))
        .service(
            web::resource("/contacts/{id}/whatsapp/opt-in")
                .route(web::get().to(opt_in_form))
                .route(web::post().to(record_opt_in)),
        );
}

#[derive(Template)]
#[template(path = "agent/whatsapp/send.html")]
struct SendPage {
    layout: Layout,
    form: SendForm,
    p: Prepared,
    errors: FieldErrors,
    restricted: &'static str,
}

impl SendPage {
    fn chosen_number(&self, key: &str) -> bool {
        self.form.number == key || (self.form.number.is_empty() && self.p.numbers.first().is_some_and(|n| n.0 == key))
    }

    fn template_selected(&self, id: i64) -> bool {
        self.p.template.as_ref().is_some_and(|t| t.id() == id)
    }
}

fn page(agent: &CurrentAgent, form: SendForm, p: Prepared, errors: FieldErrors) -> SendPage {
    SendPage {
        layout: Layout::new(agent, "customers", "Send WhatsApp Message"),
        form,
        p,
        errors,
        restricted: RESTRICTED,
    }
}

/// `GET /agent/whatsapp/send`: the form, filled in as far as the query says (a contact chosen,
/// a name to find, a template).
pub async fn form(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    query: web::Query<SendForm>,
) -> AppResult<HttpResponse> {
    let form = query.into_inner();
    let prepared = send::prepare(&state.db, agent.actor(), &form, Utc::now()).await?;
    page::ok(&page(&agent, form, prepared, FieldErrors::default()))
}

/// `GET /agent/contacts/{id}/whatsapp`: the form for that contact.
pub async fn for_contact(id: web::Path<i64>) -> HttpResponse {
    page::see_other(&format!("/agent/whatsapp/send?contact_id={}", id.into_inner()))
}

/// `POST /agent/whatsapp/send`: "Preview" shows the form again; "Send" sends, then lands on
/// the ticket it opened.
pub async fn submit(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    CsrfForm(form): CsrfForm<SendForm>,
) -> AppResult<HttpResponse> {
    let now = Utc::now();
    if form.rest.get("action").map(String::as_str) != Some("send") {
        let prepared = send::prepare(&state.db, agent.actor(), &form, now).await?;
        return page::ok(&page(&agent, form, prepared, FieldErrors::default()));
    }
    let (sent, delivery) = match send::send(&state.db, agent.actor(), &state.phones, &form, now).await? {
        Ok(sent) => sent,
        Err((prepared, errors)) => return page::invalid(&page(&agent, form, prepared, errors)),
    };
    let problem = sender::send_now(&state.db, &state.whatsapp, &state.sealer, &delivery).await?;
    agent.flash(&send::outcome(&sent, problem.as_deref()));
    Ok(match sent.ticket {
        Some(number) => page::see_other(&format!("/agent/tickets/{number}")),
        None => page::see_other("/agent/whatsapp/send"),
    })
}

#[derive(Template)]
#[template(path = "agent/whatsapp/opt_in.html")]
struct OptInPage {
    layout: Layout,
    contact_id: i64,
    accounts: Vec<String>,
    form: OptInForm,
    errors: FieldErrors,
}

/// The opt-in form as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OptInForm {
    pub customer: String,
    pub how: String,
}

async fn opt_in_page(
    state: &AppState,
    agent: &CurrentAgent,
    contact_id: i64,
    form: OptInForm,
    errors: FieldErrors,
) -> AppResult<OptInPage> {
    let accounts = opt_ins::of_contact(&state.db, agent.actor(), contact_id).await?.accounts;
    Ok(OptInPage { layout: Layout::new(agent, "customers", "Record opt-in"), contact_id, accounts, form, errors })
}

/// `GET /agent/contacts/{id}/whatsapp/opt-in`
pub async fn opt_in_form(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Contacts, Action::Edit)?;
    page::ok(&opt_in_page(&state, &agent, *id, OptInForm::default(), FieldErrors::default()).await?)
}

/// `POST /agent/contacts/{id}/whatsapp/opt-in`
pub async fn record_opt_in(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<OptInForm>,
) -> AppResult<HttpResponse> {
    match opt_ins::record(&state.db, agent.actor(), *id, &form.customer, &form.how, Utc::now()).await {
        Ok(()) => {
            agent.flash("Opt-in recorded.");
            Ok(page::see_other(&format!("/agent/contacts/{id}")))
        }
        Err(ServiceError::Invalid(errors)) => page::invalid(&opt_in_page(&state, &agent, *id, form, errors).await?),
        Err(e) => Err(e.into()),
    }
}
