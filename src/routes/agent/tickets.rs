//! The console's Tickets module: list views and search, a ticket's page (thread, Reply,
//! Internal note, Status/Assignee/Priority, the contact card, or for a ticket without a contact
//! the way to link one: `ticket_contact`), and new tickets on a contact's behalf.

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::help_center_access::queued_notice;
use crate::auth::{CsrfForm, CurrentAgent};
use crate::channels::whatsapp::conversations::{self, TicketView};
use crate::domain::ticket::{channel_label, parse_body};
use crate::domain::{Action, Channel, FieldErrors, FieldRules, Module, Priority, TicketForm, TicketStatus};
use crate::error::AppResult;
use crate::routes::help_center::page::{company_name, mail_context, opening};
use crate::routes::page::{self, Layout};
use crate::services::agents::{self, AgentChoice};
use crate::services::contacts::{self, ContactRow};
use crate::services::tickets::list::{self, TicketRow, View};
use crate::services::tickets::view::{self, TicketThread};
use crate::services::tickets::{files, link, thread, Author};
use crate::services::ServiceError;
use crate::startup::AppState;

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/tickets").route(web::get().to(index)).route(web::post().to(create)))
        .route("/tickets/new", web::get().to(new))
        .route("/tickets/{number}", web::get().to(show))
        .route("/tickets/{number}/files/{id}", web::get().to(file))
        .route("/tickets/{number}/replies", web::post().to(reply))
        .route("/tickets/{number}/notes", web::post().to(note))
        .route("/tickets/{number}/properties", web::post().to(properties));
}

/// The list's query string.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct IndexQuery {
    pub view: String,
    pub q: String,
    /// Only this contact's tickets (the "all tickets" link of a contact's page).
    pub contact: Option<i64>,
    pub after_at: Option<DateTime<Utc>>,
    pub after_id: Option<i64>,
}

#[derive(Template)]
#[template(path = "agent/tickets/index.html")]
struct IndexPage {
    layout: Layout,
    rows: Vec<TicketRow>,
    view: View,
    views: [View; 6],
    q: String,
    contact: Option<i64>,
    next: Option<String>,
}

impl IndexPage {
    /// The list in `view`, keeping the contact filter.
    fn view_url(&self, view: &View) -> String {
        list_url(*view, "", self.contact, None)
    }

    /// The same view without the contact filter.
    fn unfiltered_url(&self) -> String {
        list_url(self.view, "", None, None)
    }

    /// The name of the contact whose tickets these are, from a row (every row is theirs).
    fn contact_name(&self) -> Option<String> {
        self.contact.and(self.rows.first()).map(TicketRow::contact_name)
    }
}

/// `/agent/tickets` with a view, a search, a contact and a page's start.
fn list_url(view: View, q: &str, contact: Option<i64>, after: Option<list::Cursor>) -> String {
    let mut params = vec![("view", view.key().to_owned())];
    if !q.is_empty() {
        params.push(("q", q.to_owned()));
    }
    if let Some(contact) = contact {
        params.push(("contact", contact.to_string()));
    }
    if let Some((at, id)) = after {
        params.push(("after_at", at.to_rfc3339()));
        params.push(("after_id", id.to_string()));
    }
    format!("/agent/tickets?{}", serde_urlencoded::to_string(params).unwrap_or_default())
}

/// `GET /agent/tickets`
pub async fn index(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    query: web::Query<IndexQuery>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Tickets, Action::View)?;
    let q = query.into_inner();
    let view = View::from_key(&q.view);
    let after = q.after_at.zip(q.after_id);
    let (rows, next) = list::list(&state.db, agent.actor(), view, &q.q, q.contact, after).await?;
    let next = next.map(|cursor| list_url(view, &q.q, q.contact, Some(cursor)));
    let layout = Layout::new(&agent, "tickets", view.label());
    page::ok(&IndexPage { layout, rows, view, views: View::ALL, q: q.q, contact: q.contact, next })
}

#[derive(Template)]
#[template(path = "agent/tickets/show.html")]
struct ShowPage {
    layout: Layout,
    t: TicketThread,
    contact: Option<ContactRow>,
    rules: FieldRules,
    agents: Vec<AgentChoice>,
    statuses: &'static [TicketStatus],
    priorities: &'static [Priority],
    channel: String,
    reply: String,
    note: String,
    errors: FieldErrors,
    can_edit: bool,
    /// A ticket without a contact: whom its conversation writes to, when the profile shows
    /// Phone or Mobile.
    customer: Option<String>,
    /// Whether the agent may link a ticket without a contact to one.
    can_link: bool,
    /// A WhatsApp ticket's window and message states.
    whatsapp: Option<TicketView>,
}

impl ShowPage {
    /// A WhatsApp ticket whose 24-hour window has closed: no free text.
    fn window_closed(&self) -> bool {
        self.whatsapp.as_ref().is_some_and(TicketView::closed)
    }

    fn is_assignee(&self, a: &AgentChoice) -> bool {
        self.t.ticket.assignee_id == Some(a.id)
    }
}

async fn show_page(
    state: &AppState,
    agent: &CurrentAgent,
    number: i64,
    reply: String,
    note: String,
    errors: FieldErrors,
) -> AppResult<ShowPage> {
    let actor = agent.actor();
    let t = view::ticket(&state.db, actor, number).await?;
    let contact = match t.ticket.contact_id {
        Some(id) if actor.can(Module::Contacts, Action::View) => contacts::get(&state.db.conn, actor, id).await.ok(),
        _ => None,
    };
    let customer = link::customer_for(&state.db.conn, actor, &t.ticket).await?;
    let agents = agents::owner_choices(&state.db.conn, t.ticket.assignee_id).await?;
    let layout = Layout::new(agent, "tickets", format!("#{} {}", t.ticket.number, t.ticket.subject));
    let channel = channel_label(&t.ticket.channel);
    let can_edit = actor.can(Module::Tickets, Action::Edit);
    let can_link = can_edit && actor.can(Module::Contacts, Action::View);
    let whatsapp = conversations::ticket_view(&state.db.conn, &t.ticket, Utc::now()).await?;
    Ok(ShowPage {
        layout,
        t,
        contact,
        rules: actor.fields(Module::Contacts),
        agents,
        statuses: TicketStatus::ALL,
        priorities: Priority::ALL,
        channel,
        reply,
        note,
        errors,
        can_edit,
        customer,
        can_link,
        whatsapp,
    })
}

/// `GET /agent/tickets/{number}/files/{id}`: a file of the thread, as a download.
pub async fn file(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    path: web::Path<(i64, i64)>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Tickets, Action::View)?;
    let (number, id) = path.into_inner();
    Ok(crate::routes::attachment::download(files::for_agent(&state.db, agent.actor(), number, id).await?))
}

/// `GET /agent/tickets/{number}`
pub async fn show(state: web::Data<AppState>, agent: CurrentAgent, number: web::Path<i64>) -> AppResult<HttpResponse> {
    agent.require(Module::Tickets, Action::View)?;
    page::ok(&show_page(&state, &agent, *number, String::new(), String::new(), FieldErrors::default()).await?)
}

/// A reply or a note as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BodyForm {
    /// The reply form's field is `reply`, the note form's `note` (both on one page).
    #[serde(alias = "reply", alias = "note")]
    pub body: String,
}

/// `POST /agent/tickets/{number}/replies`
pub async fn reply(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    number: web::Path<i64>,
    CsrfForm(form): CsrfForm<BodyForm>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Tickets, Action::Edit)?;
    let body = match parse_body(&form.body, "Reply") {
        Ok(body) => body,
        Err(message) => {
            let mut errors = FieldErrors::default();
            errors.add("reply", message);
            return page::invalid(&show_page(&state, &agent, *number, form.body, String::new(), errors).await?);
        }
    };
    let company = company_name(&state).await?;
    let replied =
        thread::agent_reply(&state.db, mail_context(&state, &company), agent.actor(), *number, &body, Utc::now());
    match replied.await {
        Ok(()) => {}
        // The channel refused it as it is (a WhatsApp window that has closed): said on the form.
        Err(ServiceError::Invalid(errors)) => {
            return page::invalid(&show_page(&state, &agent, *number, form.body, String::new(), errors).await?)
        }
        Err(e) => return Err(e.into()),
    }
    agent.flash(&queued_notice(&state, "Your reply has been sent."));
    Ok(page::see_other(&format!("/agent/tickets/{number}")))
}

/// `POST /agent/tickets/{number}/notes`
pub async fn note(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    number: web::Path<i64>,
    CsrfForm(form): CsrfForm<BodyForm>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Tickets, Action::Edit)?;
    let body = match parse_body(&form.body, "Note") {
        Ok(body) => body,
        Err(message) => {
            let mut errors = FieldErrors::default();
            errors.add("note", message);
            return page::invalid(&show_page(&state, &agent, *number, String::new(), form.body, errors).await?);
        }
    };
    thread::add_note(&state.db, agent.actor(), *number, &body, Utc::now()).await?;
    agent.flash("Internal note added.");
    Ok(page::see_other(&format!("/agent/tickets/{number}")))
}

/// Status, assignee and priority as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PropertiesForm {
    pub status: String,
    pub assignee: String,
    pub priority: String,
}

/// `POST /agent/tickets/{number}/properties`
pub async fn properties(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    number: web::Path<i64>,
    CsrfForm(form): CsrfForm<PropertiesForm>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Tickets, Action::Edit)?;
    let mut errors = FieldErrors::default();
    let status = errors.check("status", TicketStatus::from_key(&form.status).ok_or("Choose a status from the list."));
    let priority =
        errors.check("priority", Priority::from_key(&form.priority).ok_or("Choose a priority from the list."));
    let assignee_id = match form.assignee.trim() {
        "" => Some(None),
        raw => errors.check("assignee", raw.parse::<i64>().map(Some).map_err(|_| "Choose an agent from the list.")),
    };
    let (Some(status), Some(priority), Some(assignee_id)) = (status, priority, assignee_id) else {
        return page::invalid(&show_page(&state, &agent, *number, String::new(), String::new(), errors).await?);
    };
    let props = thread::Properties { status, assignee_id, priority };
    match thread::update_properties(&state.db, agent.actor(), *number, props, Utc::now()).await {
        Ok(()) => {
            agent.flash("Ticket updated.");
            Ok(page::see_other(&format!("/agent/tickets/{number}")))
        }
        Err(ServiceError::Invalid(errors)) => {
            page::invalid(&show_page(&state, &agent, *number, String::new(), String::new(), errors).await?)
        }
        Err(e) => Err(e.into()),
    }
}

/// Which contact a new ticket is for.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewQuery {
    pub contact_id: i64,
}

#[derive(Template)]
#[template(path = "agent/tickets/new.html")]
struct NewPage {
    layout: Layout,
    contact: ContactRow,
    form: TicketForm,
    channel: String,
    errors: FieldErrors,
    priorities: &'static [Priority],
    channels: [Channel; 2],
}

/// `GET /agent/tickets/new?contact_id=`
pub async fn new(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    query: web::Query<NewQuery>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Tickets, Action::Create)?;
    // The page shows the contact: opening a ticket for someone means seeing who it is.
    agent.require(Module::Contacts, Action::View)?;
    let contact = contacts::get(&state.db.conn, agent.actor(), query.contact_id).await?;
    let form = TicketForm { priority: Priority::Medium.key().into(), ..TicketForm::default() };
    page::ok(&NewPage {
        layout: Layout::new(&agent, "tickets", "New Ticket"),
        contact,
        form,
        channel: Channel::Phone.key().into(),
        errors: FieldErrors::default(),
        priorities: Priority::ALL,
        channels: [Channel::Phone, Channel::Web],
    })
}

/// A ticket on a contact's behalf, as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CreateForm {
    /// Text, not a number: flattened forms hand every value over as a string.
    pub contact_id: String,
    pub channel: String,
    #[serde(flatten)]
    pub ticket: TicketForm,
}

/// `POST /agent/tickets`
pub async fn create(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    CsrfForm(form): CsrfForm<CreateForm>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Tickets, Action::Create)?;
    agent.require(Module::Contacts, Action::View)?;
    let contact_id: i64 = form.contact_id.trim().parse().map_err(|_| crate::error::AppError::NotFound)?;
    let channel = Channel::from_key(&form.channel).filter(|c| matches!(c, Channel::Phone | Channel::Web));
    let parsed = form.ticket.parse();
    let (Ok(input), Some(channel)) = (&parsed, channel) else {
        let mut errors = parsed.err().unwrap_or_default();
        if channel.is_none() {
            errors.add("channel", "Choose Phone or Web.");
        }
        let contact = contacts::get(&state.db.conn, agent.actor(), contact_id).await?;
        return page::invalid(&NewPage {
            layout: Layout::new(&agent, "tickets", "New Ticket"),
            contact,
            form: form.ticket,
            channel: form.channel,
            errors,
            priorities: Priority::ALL,
            channels: [Channel::Phone, Channel::Web],
        });
    };
    let opening = opening(&state, contact_id, input.clone(), channel, Author::Agent(agent.id)).await?;
    let t = state.tickets.open_as(agent.actor(), opening).await?;
    agent.flash(&format!("Ticket #{} created.", t.number));
    Ok(page::see_other(&format!("/agent/tickets/{}", t.number)))
}
