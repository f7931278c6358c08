//! The Help Center's tickets: My Tickets, Submit a ticket, one ticket's public thread with a
//! reply form and a close button. Every query is scoped to the logged-in contact in the
//! service: another contact's ticket number is 404.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::page::{opening, HelpLayout};
use crate::auth::{CsrfForm, CsrfUpload, CurrentContact};
use crate::domain::ticket::parse_body;
use crate::domain::upload::MAX_FILES;
use crate::domain::{Channel, FieldErrors, Priority, TicketForm, TicketStatus};
use crate::error::AppResult;
use crate::routes::page;
use crate::services::tickets::help_center::{self as my, TicketSummary};
use crate::services::tickets::view::TicketThread;
use crate::services::tickets::{thread, Author};
use crate::startup::AppState;

/// My Tickets' filter and page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    pub status: String,
    pub after_at: Option<chrono::DateTime<chrono::Utc>>,
    pub after_id: Option<i64>,
}

#[derive(Template)]
#[template(path = "help_center/tickets/index.html")]
struct IndexPage {
    layout: HelpLayout,
    tickets: Vec<TicketSummary>,
    status: String,
    statuses: &'static [TicketStatus],
    /// The link to older tickets, when there are more.
    older: Option<String>,
}

/// `GET /help/tickets`
pub async fn index(
    state: web::Data<AppState>,
    contact: CurrentContact,
    query: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let status = TicketStatus::from_key(&query.status);
    let after = query.after_at.zip(query.after_id);
    let (tickets, next) = my::my_tickets(&state.db, contact.id, status, after).await?;
    let layout = HelpLayout::new(&state, &contact.session, Some(&contact), "tickets", "My Tickets", false).await?;
    let status = status.map(|s| s.key().to_owned()).unwrap_or_default();
    let older = next.map(|(at, id)| {
        let params = [("status", status.clone()), ("after_at", at.to_rfc3339()), ("after_id", id.to_string())];
        format!("/help/tickets?{}", serde_urlencoded::to_string(params).unwrap_or_default())
    });
    page::ok(&IndexPage { layout, tickets, status, statuses: TicketStatus::ALL, older })
}

#[derive(Template)]
#[template(path = "help_center/tickets/new.html")]
struct NewPage {
    layout: HelpLayout,
    form: TicketForm,
    errors: FieldErrors,
    priorities: &'static [Priority],
    max_files: usize,
    max_file_mb: u32,
}

fn new_page(state: &AppState, layout: HelpLayout, form: TicketForm, errors: FieldErrors) -> NewPage {
    NewPage {
        layout,
        form,
        errors,
        priorities: Priority::ALL,
        max_files: MAX_FILES,
        max_file_mb: state.settings.max_attachment_mb,
    }
}

/// `GET /help/tickets/new`
pub async fn new(state: web::Data<AppState>, contact: CurrentContact) -> AppResult<HttpResponse> {
    let layout = HelpLayout::new(&state, &contact.session, Some(&contact), "new", "Submit a ticket", true).await?;
    let form = TicketForm { priority: Priority::Medium.key().into(), ..TicketForm::default() };
    page::ok(&new_page(&state, layout, form, FieldErrors::default()))
}

/// `POST /help/tickets`: the form, with up to ten files.
pub async fn create(
    state: web::Data<AppState>,
    contact: CurrentContact,
    upload: CsrfUpload,
) -> AppResult<HttpResponse> {
    let form: TicketForm = upload.form()?;
    let input = match (form.parse(), &upload.refused) {
        (Ok(input), None) => input,
        (parsed, refused) => {
            let mut errors = parsed.err().unwrap_or_default();
            if let Some(why) = refused {
                errors.add("files", why.clone());
            }
            let layout =
                HelpLayout::new(&state, &contact.session, Some(&contact), "new", "Submit a ticket", true).await?;
            return page::invalid(&new_page(&state, layout, form, errors));
        }
    };
    let mut opening = opening(&state, contact.id, input, Channel::HelpCenter, Author::Contact).await?;
    opening.files = upload.files;
    let t = state.tickets.open(opening).await?;
    // The notice rides on the URL rather than in the session: one write less per ticket.
    Ok(page::see_other(&format!("/help/tickets/{}?submitted=1", t.number)))
}

#[derive(Template)]
#[template(path = "help_center/tickets/show.html")]
struct ShowPage {
    layout: HelpLayout,
    t: TicketThread,
    reply: String,
    errors: FieldErrors,
}

async fn show_page(
    state: &AppState,
    contact: &CurrentContact,
    number: i64,
    reply: String,
    errors: FieldErrors,
) -> AppResult<ShowPage> {
    let t = my::ticket(&state.db, contact.id, number).await?;
    let title = format!("#{} {}", t.ticket.number, t.ticket.subject);
    let layout = HelpLayout::new(state, &contact.session, Some(contact), "tickets", title, true).await?;
    Ok(ShowPage { layout, t, reply, errors })
}

/// `GET /help/tickets/{number}/files/{id}`: a file of the contact's own ticket.
pub async fn file(
    state: web::Data<AppState>,
    contact: CurrentContact,
    path: web::Path<(i64, i64)>,
) -> AppResult<HttpResponse> {
    let (number, id) = path.into_inner();
    let file = crate::services::tickets::files::for_contact(&state.db, contact.id, number, id).await?;
    Ok(crate::routes::attachment::download(file))
}

/// The ticket page's query string.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ShowQuery {
    pub submitted: Option<String>,
}

/// `GET /help/tickets/{number}`
pub async fn show(
    state: web::Data<AppState>,
    contact: CurrentContact,
    number: web::Path<i64>,
    query: web::Query<ShowQuery>,
) -> AppResult<HttpResponse> {
    let mut page = show_page(&state, &contact, *number, String::new(), FieldErrors::default()).await?;
    if query.submitted.is_some() {
        page.layout.flash = Some(format!(
            "Your ticket #{} has been submitted. We have sent you a confirmation by email.",
            page.t.ticket.number
        ));
    }
    page::ok(&page)
}

/// The reply form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReplyForm {
    pub body: String,
}

/// `POST /help/tickets/{number}/replies`
pub async fn reply(
    state: web::Data<AppState>,
    contact: CurrentContact,
    number: web::Path<i64>,
    CsrfForm(form): CsrfForm<ReplyForm>,
) -> AppResult<HttpResponse> {
    let body = match parse_body(&form.body, "Your reply") {
        Ok(body) => body,
        Err(message) => {
            let mut errors = FieldErrors::default();
            errors.add("body", message);
            return page::invalid(&show_page(&state, &contact, *number, form.body, errors).await?);
        }
    };
    thread::contact_reply(&state.db, contact.id, *number, &body, chrono::Utc::now()).await?;
    contact.flash("Your reply has been added.");
    Ok(page::see_other(&format!("/help/tickets/{number}")))
}

/// `POST /help/tickets/{number}/close`
pub async fn close(
    state: web::Data<AppState>,
    contact: CurrentContact,
    number: web::Path<i64>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    thread::contact_close(&state.db, contact.id, *number, chrono::Utc::now()).await?;
    contact.flash("The ticket is closed. Reply to it any time to open it again.");
    Ok(page::see_other(&format!("/help/tickets/{number}")))
}
