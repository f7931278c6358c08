//! Settings → Channels → WhatsApp (administrators only): the numbers connected through Meta's
//! Cloud API. **Add WhatsApp number** takes the ids and secrets Meta's dashboard shows (the
//! secrets are sealed and never printed back, not even on a form re-rendered with errors); each
//! number's page shows the **Callback URL** and **Verify Token** to paste into Meta's dashboard,
//! **Test connection** and **Sync templates** (answered in Meta's own words, on the page), and
//! its templates. Deleting a number keeps its tickets. **Held messages** lists what came in
//! but could not become part of a ticket (a sender in the Recycle Bin), with **Retry** and
//! **Delete**.

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;

use crate::auth::{CsrfForm, CurrentAgent};
use crate::channels::whatsapp::connection::{self, Checked};
use crate::channels::whatsapp::inbound::held::{self, Held, Retried};
use crate::channels::whatsapp::numbers::{self, Number};
use crate::channels::whatsapp::templates::{self, Template as WaTemplate};
use crate::domain::whatsapp_number::NumberForm;
use crate::domain::FieldErrors;
use crate::error::AppResult;
use crate::routes::page::{self, Layout};
use crate::services::ServiceError;
use crate::startup::AppState;

const LIST: &str = "/agent/settings/channels/whatsapp";
const HELD: &str = "/agent/settings/channels/whatsapp/held";
/// Held messages listed on one page.
const HELD_PAGE: u64 = 50;

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/settings/channels/whatsapp").route(web::get().to(index)).route(web::post().to(create)))
        .route("/settings/channels/whatsapp/new", web::get().to(new))
        // Before `{id}`, which would take `held` for a number's id.
        .route("/settings/channels/whatsapp/held", web::get().to(held_index))
        .route("/settings/channels/whatsapp/held/{id}/retry", web::post().to(held_retry))
        .route("/settings/channels/whatsapp/held/{id}/delete", web::post().to(held_delete))
        .service(
            web::resource("/settings/channels/whatsapp/{id}").route(web::get().to(show)).route(web::post().to(update)),
        )
        .route("/settings/channels/whatsapp/{id}/edit", web::get().to(edit))
        .route("/settings/channels/whatsapp/{id}/test", web::post().to(test))
        .route("/settings/channels/whatsapp/{id}/sync", web::post().to(sync))
        .service(
            web::resource("/settings/channels/whatsapp/{id}/delete")
                .route(web::get().to(confirm_delete))
                .route(web::post().to(delete)),
        );
}

fn number_path(id: i64) -> String {
    format!("{LIST}/{id}")
}

#[derive(Template)]
#[template(path = "agent/settings/channels_whatsapp.html")]
struct IndexPage {
    layout: Layout,
    numbers: Vec<Number>,
    /// How many messages are held.
    held: u64,
}

/// `GET /agent/settings/channels/whatsapp`
pub async fn index(state: web::Data<AppState>, agent: CurrentAgent) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    let numbers = numbers::all(&state.db, agent.actor()).await?;
    let held = held::count(&state.db, agent.actor()).await?;
    page::ok(&IndexPage { layout: Layout::new(&agent, "settings", "WhatsApp channel"), numbers, held })
}

#[derive(Template)]
#[template(path = "agent/settings/whatsapp_number.html")]
struct NumberPage {
    layout: Layout,
    number: Number,
    callback_url: String,
    templates: Vec<WaTemplate>,
    /// The answer of Test connection or Sync templates just pressed: (which, outcome).
    checked: Option<(&'static str, Checked)>,
}

/// The number's page, with the outcome of a button just pressed.
async fn number_page(
    state: &AppState,
    agent: &CurrentAgent,
    id: i64,
    checked: Option<(&'static str, Checked)>,
) -> AppResult<HttpResponse> {
    let number = numbers::get(&state.db, agent.actor(), id).await?;
    let templates = templates::of_number(&state.db, agent.actor(), id).await?;
    let callback_url = format!("{}/webhooks/whatsapp/{}", state.public_url.trim_end_matches('/'), number.webhook_key);
    let layout = Layout::new(agent, "settings", format!("WhatsApp: {}", number.name));
    page::ok(&NumberPage { layout, number, callback_url, templates, checked })
}

/// `GET /agent/settings/channels/whatsapp/{id}`
pub async fn show(state: web::Data<AppState>, agent: CurrentAgent, id: web::Path<i64>) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    number_page(&state, &agent, *id, None).await
}

/// `POST /agent/settings/channels/whatsapp/{id}/test`
pub async fn test(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    let checked = connection::test(&state.db, agent.actor(), &state.whatsapp, &state.sealer, *id, Utc::now()).await?;
    number_page(&state, &agent, *id, Some(("test", checked))).await
}

/// `POST /agent/settings/channels/whatsapp/{id}/sync`
pub async fn sync(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    let now = Utc::now();
    let checked =
        connection::sync_templates(&state.db, agent.actor(), &state.whatsapp, &state.sealer, *id, now).await?;
    number_page(&state, &agent, *id, Some(("sync", checked))).await
}

#[derive(Template)]
#[template(path = "agent/settings/whatsapp_number_form.html")]
struct FormPage {
    layout: Layout,
    /// `None` for a new number.
    id: Option<i64>,
    /// As posted, without its secrets.
    form: NumberForm,
    errors: FieldErrors,
    token_hint: &'static str,
    secret_hint: &'static str,
}

/// The form, its secrets never printed back: one typed before an error must be typed again.
fn form_page(agent: &CurrentAgent, id: Option<i64>, mut form: NumberForm, errors: FieldErrors) -> FormPage {
    let hint = |typed: bool| match (typed, id) {
        (true, _) => "It is never sent back to the page: enter it again.",
        (false, None) => "Required. Stored encrypted with this instance's secret key, and never shown again.",
        (false, Some(_)) => "Leave blank to keep the stored one. It is stored encrypted, and never shown again.",
    };
    let token_hint = hint(!form.access_token.trim().is_empty());
    let secret_hint = hint(!form.app_secret.trim().is_empty());
    form.access_token.clear();
    form.app_secret.clear();
    let title = if id.is_some() { "WhatsApp: edit number" } else { "WhatsApp: add number" };
    FormPage { layout: Layout::new(agent, "settings", title), id, form, errors, token_hint, secret_hint }
}

/// `GET /agent/settings/channels/whatsapp/new`
pub async fn new(agent: CurrentAgent) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    page::ok(&form_page(&agent, None, NumberForm::blank(), FieldErrors::default()))
}

/// `GET /agent/settings/channels/whatsapp/{id}/edit`
pub async fn edit(state: web::Data<AppState>, agent: CurrentAgent, id: web::Path<i64>) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    let n = numbers::get(&state.db, agent.actor(), *id).await?;
    let form = NumberForm {
        name: n.name,
        phone_number_id: n.phone_number_id,
        waba_id: n.waba_id,
        graph_version: n.graph_version,
        ..NumberForm::default()
    };
    page::ok(&form_page(&agent, Some(n.id), form, FieldErrors::default()))
}

/// `POST /agent/settings/channels/whatsapp`
pub async fn create(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    CsrfForm(form): CsrfForm<NumberForm>,
) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    save(&state, &agent, None, form).await
}

/// `POST /agent/settings/channels/whatsapp/{id}`
pub async fn update(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<NumberForm>,
) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    numbers::get(&state.db, agent.actor(), *id).await?;
    save(&state, &agent, Some(*id), form).await
}

async fn save(state: &AppState, agent: &CurrentAgent, id: Option<i64>, form: NumberForm) -> AppResult<HttpResponse> {
    let input = match form.parse(id.is_none()) {
        Ok(input) => input,
        Err(errors) => return page::invalid(&form_page(agent, id, form, errors)),
    };
    let saved = match id {
        None => numbers::create(&state.db, agent.actor(), &state.sealer, input, Utc::now()).await,
        Some(id) => numbers::update(&state.db, agent.actor(), &state.sealer, id, input, Utc::now()).await,
    };
    match saved {
        Ok(n) => {
            agent.flash(&if id.is_some() {
                format!("{} saved.", n.name)
            } else {
                format!("{} connected. Paste its Callback URL and Verify Token into Meta's app dashboard.", n.name)
            });
            Ok(page::see_other(&number_path(n.id)))
        }
        Err(ServiceError::Invalid(errors)) => page::invalid(&form_page(agent, id, form, errors)),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "agent/settings/whatsapp_number_delete.html")]
struct DeletePage {
    layout: Layout,
    number: Number,
}

/// `GET /agent/settings/channels/whatsapp/{id}/delete`: asks first.
pub async fn confirm_delete(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    let number = numbers::get(&state.db, agent.actor(), *id).await?;
    page::ok(&DeletePage {
        layout: Layout::new(&agent, "settings", format!("WhatsApp: delete {}", number.name)),
        number,
    })
}

/// `POST /agent/settings/channels/whatsapp/{id}/delete`
pub async fn delete(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    let number = numbers::delete(&state.db, agent.actor(), *id).await?;
    agent.flash(&format!("{} was disconnected. Its tickets stay.", number.name));
    Ok(page::see_other(LIST))
}

#[derive(Template)]
#[template(path = "agent/settings/whatsapp_held.html")]
struct HeldPage {
    layout: Layout,
    held: Vec<Held>,
    /// The next (older) page.
    older: Option<String>,
    /// Not the first page: an empty one means the newer messages were all that was left.
    paged: bool,
}

/// Which page of the held messages.
#[derive(Debug, Deserialize)]
pub struct HeldQuery {
    /// Messages older than this id.
    older: Option<i64>,
}

/// `GET /agent/settings/channels/whatsapp/held[?older=ID]`
pub async fn held_index(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    query: web::Query<HeldQuery>,
) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    let (held, next) = held::page(&state.db, agent.actor(), query.older, HELD_PAGE).await?;
    let older = next.map(|id| format!("{HELD}?older={id}"));
    let layout = Layout::new(&agent, "settings", "WhatsApp: held messages");
    page::ok(&HeldPage { layout, held, older, paged: query.older.is_some() })
}

/// `POST /agent/settings/channels/whatsapp/held/{id}/retry`
pub async fn held_retry(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    let ctx = state.whatsapp_context();
    agent.flash(&match held::retry(ctx, agent.actor(), *id, Utc::now()).await? {
        Retried::Stored(Some(received)) => format!("Stored in ticket #{}.", received.number()),
        Retried::Stored(None) => "It had been stored already.".to_owned(),
        Retried::Held(reason) => format!("Still held: {reason}"),
    });
    Ok(page::see_other(HELD))
}

/// `POST /agent/settings/channels/whatsapp/held/{id}/delete`
pub async fn held_delete(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    held::delete(&state.db, agent.actor(), *id).await?;
    agent.flash("Held message deleted.");
    Ok(page::see_other(HELD))
}
