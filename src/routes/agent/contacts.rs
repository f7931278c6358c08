//! Contacts in the console: Contacts Home, Add Contact, the detail page, Edit Contact (Delete
//! in `contact_delete`).

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{contact_delete, contact_merge, help_center_access};
use crate::auth::{CsrfForm, CurrentAgent};
use crate::channels::whatsapp::opt_ins::{self, ContactWhatsApp};
use crate::domain::{Action, ContactForm, FieldErrors, FieldRules, Module};
use crate::error::AppResult;
use crate::routes::page::{self, Layout};
use crate::services::agents::{self, AgentChoice};
use crate::services::contacts::{self, merge, ContactDetail, ContactList, ContactRow, ListQuery, Sort, View};
use crate::services::ServiceError;
use crate::startup::AppState;

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/contacts").route(web::get().to(index)).route(web::post().to(create)))
        .route("/contacts/new", web::get().to(new))
        .route("/contacts/invite-to-help-center", web::post().to(help_center_access::invite_selected))
        .service(web::resource("/contacts/{id}").route(web::get().to(show)).route(web::post().to(update)))
        .route("/contacts/{id}/edit", web::get().to(edit))
        .service(
            web::resource("/contacts/{id}/delete")
                .route(web::get().to(contact_delete::confirm))
                .route(web::post().to(contact_delete::delete)),
        )
        .route("/contacts/{id}/emails/{identity}/primary", web::post().to(make_primary))
        .route("/contacts/{id}/help-center/invite", web::post().to(help_center_access::invite))
        .route("/contacts/{id}/help-center/remove", web::post().to(help_center_access::remove));
}

/// The list's query string.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct IndexQuery {
    pub view: String,
    pub sort: String,
    pub dir: String,
    pub q: String,
    pub after: Option<String>,
    pub before: Option<String>,
}

impl IndexQuery {
    /// The list asked for (the search cut to 200 characters). Export Contacts takes the same.
    #[must_use]
    pub fn into_list_query(self) -> ListQuery {
        let descending = match self.dir.as_str() {
            "asc" => Some(false),
            "desc" => Some(true),
            _ => None,
        };
        ListQuery {
            view: View::from_key(&self.view),
            sort: Sort::from_key(&self.sort),
            descending,
            search: self.q.chars().take(200).collect(),
            after: self.after,
            before: self.before,
            search_cap: 0,
        }
    }
}

#[derive(Template)]
#[template(path = "agent/contacts/index.html")]
struct IndexPage {
    layout: Layout,
    list: ContactList,
    view: View,
    q: String,
    rules: FieldRules,
    can_create: bool,
    can_import: bool,
    can_edit: bool,
    can_export: bool,
    can_merge: bool,
}

impl IndexPage {
    fn views(&self) -> [View; 4] {
        View::ALL
    }

    fn url(&self, view: View, sort: Sort, desc: bool, cursor: Option<(&str, &str)>) -> String {
        let dir = if desc { "desc" } else { "asc" };
        let mut params = vec![("view", view.key()), ("sort", sort.key()), ("dir", dir)];
        if !self.q.is_empty() {
            params.push(("q", &self.q));
        }
        if let Some(c) = cursor {
            params.push(c);
        }
        format!("/agent/contacts?{}", serde_urlencoded::to_string(&params).unwrap_or_default())
    }

    fn view_url(&self, view: &View) -> String {
        let mut params = vec![("view", view.key())];
        if !self.q.is_empty() {
            params.push(("q", &self.q));
        }
        format!("/agent/contacts?{}", serde_urlencoded::to_string(&params).unwrap_or_default())
    }

    /// The header link for `key`: ascending first, descending when already sorted ascending.
    fn sort_url(&self, key: &str) -> String {
        let sort = Sort::from_key(key).unwrap_or(Sort::Name);
        let desc = self.list.sort == sort && !self.list.descending;
        self.url(self.view, sort, desc, None)
    }

    fn sort_mark(&self, key: &str) -> &'static str {
        match (self.list.sort.key() == key, self.list.descending) {
            (false, _) => "",
            (true, false) => "ascending",
            (true, true) => "descending",
        }
    }

    /// Export Contacts for what the page lists: its view, search and sort.
    fn export_url(&self) -> String {
        let url = self.url(self.view, self.list.sort, self.list.descending, None);
        url.replacen("/agent/contacts?", "/agent/contacts/export?", 1)
    }

    fn next_url(&self) -> Option<String> {
        self.list.next.as_deref().map(|c| self.url(self.view, self.list.sort, self.list.descending, Some(("after", c))))
    }

    fn previous_url(&self) -> Option<String> {
        self.list
            .previous
            .as_deref()
            .map(|c| self.url(self.view, self.list.sort, self.list.descending, Some(("before", c))))
    }
}

/// `GET /agent/contacts`: Contacts Home.
pub async fn index(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    query: web::Query<IndexQuery>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Contacts, Action::View)?;
    let actor = agent.actor();
    let list_query = query.into_inner().into_list_query();
    let list = contacts::list(&state.db.conn, actor, &list_query, chrono::Utc::now()).await?;
    page::ok(&IndexPage {
        layout: Layout::new(&agent, "customers", "Contacts"),
        list,
        view: list_query.view,
        q: list_query.search,
        rules: actor.fields(Module::Contacts),
        can_create: actor.can(Module::Contacts, Action::Create),
        can_import: actor.permissions().can_import_contacts(),
        can_edit: actor.can(Module::Contacts, Action::Edit),
        can_export: actor.permissions().can_export_contacts(),
        can_merge: merge::may_merge(actor).is_ok(),
    })
}

#[derive(Template)]
#[template(path = "agent/contacts/form.html")]
struct FormPage {
    layout: Layout,
    form: ContactForm,
    errors: FieldErrors,
    rules: FieldRules,
    owners: Vec<AgentChoice>,
    contact_id: Option<i64>,
    duplicate_of: Option<i64>,
}

impl FormPage {
    async fn new(
        state: &AppState,
        agent: &CurrentAgent,
        title: &str,
        form: ContactForm,
        contact_id: Option<i64>,
    ) -> AppResult<Self> {
        let owners = agents::owner_choices(&state.db.conn, form.value("owner").parse().ok()).await?;
        Ok(Self {
            layout: Layout::new(agent, "customers", title),
            form,
            errors: FieldErrors::default(),
            rules: agent.actor().fields(Module::Contacts),
            owners,
            contact_id,
            duplicate_of: None,
        })
    }

    fn action(&self) -> String {
        self.contact_id.map_or("/agent/contacts".to_owned(), |id| format!("/agent/contacts/{id}"))
    }

    fn owner_selected(&self, id: &i64) -> bool {
        self.form.value("owner") == id.to_string()
    }

    /// Shows a service's refusal on the form: 422 with messages next to the fields.
    fn refused(mut self, err: ServiceError) -> AppResult<HttpResponse> {
        match err {
            ServiceError::Invalid(errors) => self.errors = errors,
            ServiceError::DuplicateEmail(id) => {
                self.errors.add("email", "A contact with this email exists already.");
                self.duplicate_of = Some(id);
            }
            other => return Err(other.into()),
        }
        page::invalid(&self)
    }
}

/// The Add Contact page's query: an account to pre-fill.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewQuery {
    pub account: Option<String>,
}

/// `GET /agent/contacts/new`
pub async fn new(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    query: web::Query<NewQuery>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Contacts, Action::Create)?;
    let form = ContactForm {
        owner: Some(agent.id.to_string()),
        account: query.into_inner().account,
        ..ContactForm::default()
    };
    page::ok(&FormPage::new(&state, &agent, "Add Contact", form, None).await?)
}

/// `POST /agent/contacts`
pub async fn create(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    CsrfForm(form): CsrfForm<ContactForm>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Contacts, Action::Create)?;
    match contacts::create(&state.db, agent.actor(), form.clone(), &state.phones).await {
        Ok(id) => {
            agent.flash("Contact added.");
            Ok(page::see_other(&format!("/agent/contacts/{id}")))
        }
        Err(e) => FormPage::new(&state, &agent, "Add Contact", form, None).await?.refused(e),
    }
}

#[derive(Template)]
#[template(path = "agent/contacts/show.html")]
struct ShowPage {
    layout: Layout,
    detail: ContactDetail,
    rules: FieldRules,
    can_edit: bool,
    can_delete: bool,
    can_view_tickets: bool,
    can_create_tickets: bool,
    whatsapp: ContactWhatsApp,
    undo_merge: Option<merge::Undoable>,
}

impl ShowPage {
    fn c(&self) -> &ContactRow {
        &self.detail.contact
    }
}

/// `GET /agent/contacts/{id}`
pub async fn show(state: web::Data<AppState>, agent: CurrentAgent, id: web::Path<i64>) -> AppResult<HttpResponse> {
    agent.require(Module::Contacts, Action::View)?;
    let actor = agent.actor();
    let detail = match contacts::detail(&state.db.conn, actor, *id).await {
        Err(ServiceError::NotFound) => return contact_merge::merged_contact(&state, *id).await,
        found => found?,
    };
    let accounts = detail.whatsapp_accounts.clone();
    let whatsapp = opt_ins::with_accounts(&state.db, actor, *id, accounts, detail.whatsapp_opt_ins).await?;
    let can_merge = merge::may_merge(actor).is_ok();
    let undo_merge = if can_merge && detail.live_merge { merge::undoable(&state.db.conn, *id).await? } else { None };
    page::ok(&ShowPage {
        layout: Layout::new(&agent, "customers", detail.contact.name()),
        detail,
        rules: actor.fields(Module::Contacts),
        can_edit: actor.can(Module::Contacts, Action::Edit),
        can_delete: actor.can(Module::Contacts, Action::Delete),
        can_view_tickets: actor.can(Module::Tickets, Action::View),
        can_create_tickets: actor.can(Module::Tickets, Action::Create),
        whatsapp,
        undo_merge,
    })
}

/// `GET /agent/contacts/{id}/edit`
pub async fn edit(state: web::Data<AppState>, agent: CurrentAgent, id: web::Path<i64>) -> AppResult<HttpResponse> {
    agent.require(Module::Contacts, Action::Edit)?;
    let form = contacts::edit_form(&state.db.conn, agent.actor(), *id).await?;
    page::ok(&FormPage::new(&state, &agent, "Edit Contact", form, Some(*id)).await?)
}

/// `POST /agent/contacts/{id}`
pub async fn update(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<ContactForm>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Contacts, Action::Edit)?;
    let actor = agent.actor();
    match contacts::update(&state.db, actor, *id, form.clone(), &state.phones).await {
        Ok(()) => {
            agent.flash("Contact saved.");
            Ok(page::see_other(&format!("/agent/contacts/{id}")))
        }
        Err(e) => {
            // Read-only fields show what is stored, not what a crafted post sent.
            let current = contacts::edit_form(&state.db.conn, actor, *id).await?;
            let shown = merge_for_display(&actor.fields(Module::Contacts), form, &current);
            FormPage::new(&state, &agent, "Edit Contact", shown, Some(*id)).await?.refused(e)
        }
    }
}

/// `POST /agent/contacts/{id}/emails/{identity}/primary`: a secondary address becomes the
/// contact's Email.
pub async fn make_primary(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    path: web::Path<(i64, i64)>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Contacts, Action::View)?;
    let (id, identity) = path.into_inner();
    let now = chrono::Utc::now();
    let address = contacts::identities::make_primary(&state.db, agent.actor(), id, identity, now).await?;
    agent.flash(&format!("{address} is now the primary email."));
    Ok(page::see_other(&format!("/agent/contacts/{id}")))
}

/// The posted form, with the stored values in the fields the agent cannot edit.
fn merge_for_display(rules: &FieldRules, mut posted: ContactForm, current: &ContactForm) -> ContactForm {
    let keep = |f: &str| !rules.edits(f);
    if keep("first_name") {
        posted.first_name = current.first_name.clone();
    }
    if keep("email") {
        posted.email = current.email.clone();
        posted.secondary_emails = current.secondary_emails.clone();
    }
    if keep("phone") {
        posted.phone = current.phone.clone();
    }
    if keep("mobile") {
        posted.mobile = current.mobile.clone();
    }
    if keep("account") {
        posted.account = current.account.clone();
    }
    if keep("owner") {
        posted.owner = current.owner.clone();
    }
    if keep("title") {
        posted.title = current.title.clone();
    }
    if keep("description") {
        posted.description = current.description.clone();
    }
    posted
}
