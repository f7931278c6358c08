//! Settings → Channels → Email (administrators only): the support addresses whose IMAP folder
//! Frontdesk polls, with a "Test connection" that reports the server's own answer, and the
//! quarantine of mail that could not be ingested (retry, discard, download).

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;

use crate::auth::{CsrfForm, CurrentAgent};
use crate::channels::email::imap;
use crate::channels::email::ingest::quarantine::{self, Held};
use crate::channels::email::ingest::Outcome;
use crate::channels::email::mailboxes::{self, Mailbox};
use crate::domain::mailbox::{ImapSecurity, MailboxForm, MailboxInput};
use crate::domain::FieldErrors;
use crate::error::AppResult;
use crate::routes::page::{self, Layout};
use crate::services::ServiceError;
use crate::startup::AppState;

pub(super) const LIST: &str = "/agent/settings/channels/email";
const QUARANTINE: &str = "/agent/settings/channels/email/quarantine";
/// Quarantined messages listed on one page.
const QUARANTINE_PAGE: u64 = 50;

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/settings/channels/email").route(web::get().to(index)).route(web::post().to(create)))
        .route("/settings/channels/email/new", web::get().to(new))
        .route("/settings/channels/email/quarantine", web::get().to(quarantine_index))
        .route("/settings/channels/email/quarantine/{id}/message.eml", web::get().to(quarantine_raw))
        .route("/settings/channels/email/quarantine/{id}/retry", web::post().to(quarantine_retry))
        .route("/settings/channels/email/quarantine/{id}/discard", web::post().to(quarantine_discard))
        .service(
            web::resource("/settings/channels/email/{id}").route(web::get().to(edit)).route(web::post().to(update)),
        )
        .route("/settings/channels/email/{id}/delete", web::post().to(delete));
}

#[derive(Template)]
#[template(path = "agent/settings/channels_email.html")]
struct IndexPage {
    layout: Layout,
    mailboxes: Vec<Mailbox>,
    quarantined: u64,
}

/// `GET /agent/settings/channels/email`
pub async fn index(state: web::Data<AppState>, agent: CurrentAgent) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    let mailboxes = mailboxes::all(&state.db, agent.actor()).await?;
    let quarantined = quarantine::count(&state.db).await?;
    page::ok(&IndexPage { layout: Layout::new(&agent, "settings", "Email channel"), mailboxes, quarantined })
}

/// The mailbox form as posted, with the button that was pressed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MailboxPost {
    #[serde(flatten)]
    pub form: MailboxForm,
    /// `test` for Test connection; anything else saves.
    pub action: String,
}

#[derive(Template)]
#[template(path = "agent/settings/mailbox_form.html")]
struct FormPage {
    layout: Layout,
    /// `None` for a new mailbox.
    id: Option<i64>,
    form: MailboxForm,
    errors: FieldErrors,
    securities: [ImapSecurity; 3],
    /// The outcome of Test connection: (worked, what the server said).
    tested: Option<(bool, String)>,
}

fn form_page(agent: &CurrentAgent, id: Option<i64>, form: MailboxForm, errors: FieldErrors) -> FormPage {
    let title = if id.is_some() { "Edit support address" } else { "Add support address" };
    let layout = Layout::new(agent, "settings", title);
    FormPage { layout, id, form, errors, securities: ImapSecurity::ALL, tested: None }
}

/// `GET /agent/settings/channels/email/new`
pub async fn new(agent: CurrentAgent) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    page::ok(&form_page(&agent, None, MailboxForm::blank(), FieldErrors::default()))
}

/// `GET /agent/settings/channels/email/{id}`
pub async fn edit(state: web::Data<AppState>, agent: CurrentAgent, id: web::Path<i64>) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    let m = mailboxes::get(&state.db, agent.actor(), *id).await?;
    let form = MailboxForm {
        address: m.address,
        imap_host: m.imap_host,
        imap_port: m.imap_port.to_string(),
        imap_security: m.imap_security,
        imap_user: m.imap_user,
        imap_password: String::new(),
        folder: m.folder,
        poll_seconds: m.poll_seconds.to_string(),
        active: m.active.then(|| "on".into()),
    };
    let mut page = form_page(&agent, Some(m.id), form, FieldErrors::default());
    page.tested = m.last_error.map(|e| (false, format!("The last poll failed: {e}")));
    page::ok(&page)
}

/// Runs Test connection with what was typed (a blank password on an existing mailbox means the
/// stored one) and shows the form again with the server's answer.
async fn test(state: &AppState, agent: &CurrentAgent, id: Option<i64>, post: MailboxPost) -> AppResult<HttpResponse> {
    let input = match post.form.parse(id.is_none()) {
        Ok(input) => input,
        Err(errors) => return page::invalid(&form_page(agent, id, post.form, errors)),
    };
    let password = match (input.imap_password.clone(), id) {
        (Some(p), _) => Ok(p),
        (None, Some(id)) => {
            let stored = mailboxes::get(&state.db, agent.actor(), id).await?;
            if mailboxes::server_changed(&stored, &input) {
                return page::invalid(&form_page(agent, Some(id), post.form, mailboxes::password_again()));
            }
            state.sealer.open(&stored.imap_password).map_err(|e| e.to_string())
        }
        (None, None) => Err("Enter the password.".to_owned()),
    };
    let result = match password {
        Ok(password) => imap::test_connection(&account(&input, password), &state.poller.tls).await.map_err(|e| e.0),
        Err(e) => Err(e),
    };
    let mut form = post.form;
    form.imap_password.clear();
    let mut page = form_page(agent, id, form, FieldErrors::default());
    page.tested = Some(match result {
        Ok(answer) => (true, answer),
        Err(answer) => (false, answer),
    });
    page::ok(&page)
}

fn account(input: &MailboxInput, password: String) -> imap::ImapAccount {
    imap::ImapAccount {
        host: input.imap_host.clone(),
        port: input.imap_port,
        security: input.imap_security,
        user: input.imap_user.clone(),
        password,
        folder: input.folder.clone(),
    }
}

/// `POST /agent/settings/channels/email`
pub async fn create(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    CsrfForm(post): CsrfForm<MailboxPost>,
) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    if post.action == "test" {
        return test(&state, &agent, None, post).await;
    }
    save(&state, &agent, None, post.form).await
}

/// `POST /agent/settings/channels/email/{id}`
pub async fn update(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
    CsrfForm(post): CsrfForm<MailboxPost>,
) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    mailboxes::get(&state.db, agent.actor(), *id).await?;
    if post.action == "test" {
        return test(&state, &agent, Some(*id), post).await;
    }
    save(&state, &agent, Some(*id), post.form).await
}

async fn save(
    state: &AppState,
    agent: &CurrentAgent,
    id: Option<i64>,
    mut form: MailboxForm,
) -> AppResult<HttpResponse> {
    let input = match form.parse(id.is_none()) {
        Ok(input) => input,
        Err(errors) => {
            form.imap_password.clear();
            return page::invalid(&form_page(agent, id, form, errors));
        }
    };
    let saved = match id {
        None => mailboxes::create(&state.db, agent.actor(), &state.sealer, input, Utc::now()).await,
        Some(id) => mailboxes::update(&state.db, agent.actor(), &state.sealer, id, input, Utc::now()).await,
    };
    match saved {
        Ok(m) => {
            agent.flash(&format!("{} saved. Frontdesk checks it every {} seconds.", m.address, m.poll_seconds));
            Ok(page::see_other(LIST))
        }
        Err(ServiceError::Invalid(errors)) => {
            form.imap_password.clear();
            page::invalid(&form_page(agent, id, form, errors))
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /agent/settings/channels/email/{id}/delete`
pub async fn delete(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    let m = mailboxes::get(&state.db, agent.actor(), *id).await?;
    mailboxes::delete(&state.db, agent.actor(), m.id).await?;
    agent.flash(&format!("{} removed. Its tickets stay; replies now go out from the default address.", m.address));
    Ok(page::see_other(LIST))
}

#[derive(Template)]
#[template(path = "agent/settings/quarantine.html")]
struct QuarantinePage {
    layout: Layout,
    held: Vec<Held>,
    /// The next (older) page.
    older: Option<String>,
    /// Not the first page: an empty one means the newer messages were all that was left.
    paged: bool,
    /// Days a mail is kept before it is deleted.
    retention_days: u32,
}

/// Which page of the quarantine.
#[derive(Debug, Deserialize)]
pub struct QuarantineQuery {
    /// Messages older than this id.
    older: Option<i64>,
}

/// `GET /agent/settings/channels/email/quarantine[?older=ID]`
pub async fn quarantine_index(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    query: web::Query<QuarantineQuery>,
) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    let (held, next) = quarantine::page(&state.db, agent.actor(), query.older, QUARANTINE_PAGE).await?;
    let older = next.map(|id| format!("{QUARANTINE}?older={id}"));
    let paged = query.older.is_some();
    let retention_days = state.settings.quarantine_retention_days;
    let layout = Layout::new(&agent, "settings", "Quarantine");
    page::ok(&QuarantinePage { layout, held, older, paged, retention_days })
}

/// `GET /agent/settings/channels/email/quarantine/{id}/message.eml`: the message as received.
pub async fn quarantine_raw(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    let raw = quarantine::raw(&state.db, agent.actor(), *id).await?;
    Ok(HttpResponse::Ok()
        .content_type("message/rfc822")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"quarantined-{}.eml\"", *id)))
        .insert_header(("Cache-Control", "private, no-store"))
        .body(raw))
}

/// `POST /agent/settings/channels/email/quarantine/{id}/retry`
pub async fn quarantine_retry(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    let ctx = state.ingest_context().await?;
    let outcome = quarantine::retry(&state.db, agent.actor(), &ctx, *id, Utc::now()).await?;
    agent.flash(&match outcome {
        Outcome::Quarantined { reason, .. } => format!("Still cannot be ingested: {reason}"),
        done => format!("Ingested: {}.", done.describe()),
    });
    Ok(page::see_other(QUARANTINE))
}

/// `POST /agent/settings/channels/email/quarantine/{id}/discard`
pub async fn quarantine_discard(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    quarantine::discard(&state.db, agent.actor(), *id).await?;
    agent.flash("The message was discarded.");
    Ok(page::see_other(QUARANTINE))
}
