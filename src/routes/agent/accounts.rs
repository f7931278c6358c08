//! Accounts in the console: list, add, detail, edit, delete.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::{CsrfForm, CurrentAgent};
use crate::domain::{AccountForm, Action, FieldErrors, FieldRules, Module};
use crate::error::AppResult;
use crate::routes::page::{self, Layout};
use crate::services::accounts::{self, AccountContact, AccountCounts, AccountDetail, AccountRow, AccountTicket};
use crate::services::agents::{self, AgentChoice};
use crate::services::events::history::HistoryLine;
use crate::services::{more_than_listed, recycle_bin, ServiceError};
use crate::startup::AppState;

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/accounts").route(web::get().to(index)).route(web::post().to(create)))
        .route("/accounts/new", web::get().to(new))
        .service(web::resource("/accounts/{id}").route(web::get().to(show)).route(web::post().to(update)))
        .route("/accounts/{id}/edit", web::get().to(edit))
        .service(
            web::resource("/accounts/{id}/delete").route(web::get().to(confirm_delete)).route(web::post().to(delete)),
        );
}

/// The list's query string.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct IndexQuery {
    pub q: String,
    pub after_name: Option<String>,
    pub after_id: Option<i64>,
}

#[derive(Template)]
#[template(path = "agent/accounts/index.html")]
struct IndexPage {
    layout: Layout,
    rows: Vec<AccountRow>,
    q: String,
    next: Option<String>,
    rules: FieldRules,
    can_create: bool,
}

/// `GET /agent/accounts`
pub async fn index(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    query: web::Query<IndexQuery>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Accounts, Action::View)?;
    let actor = agent.actor();
    let q = query.into_inner();
    let after = q.after_name.zip(q.after_id);
    let (rows, next) = accounts::list(&state.db.conn, actor, &q.q, after).await?;
    let next = next.map(|(name, id)| {
        let params = [("q", q.q.as_str()), ("after_name", &name), ("after_id", &id.to_string())];
        format!("/agent/accounts?{}", serde_urlencoded::to_string(params).unwrap_or_default())
    });
    let (rules, can_create) = (actor.fields(Module::Accounts), actor.can(Module::Accounts, Action::Create));
    page::ok(&IndexPage { layout: Layout::new(&agent, "customers", "Accounts"), rows, q: q.q, next, rules, can_create })
}

#[derive(Template)]
#[template(path = "agent/accounts/form.html")]
struct FormPage {
    layout: Layout,
    form: AccountForm,
    errors: FieldErrors,
    rules: FieldRules,
    owners: Vec<AgentChoice>,
    account_id: Option<i64>,
}

impl FormPage {
    async fn new(
        state: &AppState,
        agent: &CurrentAgent,
        title: &str,
        form: AccountForm,
        account_id: Option<i64>,
    ) -> AppResult<Self> {
        let owners = agents::owner_choices(&state.db.conn, form.value("owner").parse().ok()).await?;
        Ok(Self {
            layout: Layout::new(agent, "customers", title),
            form,
            errors: FieldErrors::default(),
            rules: agent.actor().fields(Module::Accounts),
            owners,
            account_id,
        })
    }

    fn action(&self) -> String {
        self.account_id.map_or("/agent/accounts".to_owned(), |id| format!("/agent/accounts/{id}"))
    }

    fn owner_selected(&self, id: &i64) -> bool {
        self.form.value("owner") == id.to_string()
    }

    fn refused(mut self, err: ServiceError) -> AppResult<HttpResponse> {
        match err {
            ServiceError::Invalid(errors) => self.errors = errors,
            other => return Err(other.into()),
        }
        page::invalid(&self)
    }
}

/// `GET /agent/accounts/new`
pub async fn new(state: web::Data<AppState>, agent: CurrentAgent) -> AppResult<HttpResponse> {
    agent.require(Module::Accounts, Action::Create)?;
    let form = AccountForm { owner: Some(agent.id.to_string()), ..AccountForm::default() };
    page::ok(&FormPage::new(&state, &agent, "Add Account", form, None).await?)
}

/// `POST /agent/accounts`
pub async fn create(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    CsrfForm(form): CsrfForm<AccountForm>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Accounts, Action::Create)?;
    match accounts::create(&state.db, agent.actor(), form.clone(), &state.phones).await {
        Ok(id) => {
            agent.flash("Account added.");
            Ok(page::see_other(&format!("/agent/accounts/{id}")))
        }
        Err(e) => FormPage::new(&state, &agent, "Add Account", form, None).await?.refused(e),
    }
}

#[derive(Template)]
#[template(path = "agent/accounts/show.html")]
struct ShowPage {
    layout: Layout,
    account: AccountRow,
    contacts: Vec<AccountContact>,
    tickets: Vec<AccountTicket>,
    counts: AccountCounts,
    history: Vec<HistoryLine>,
    rules: FieldRules,
    can_edit: bool,
    can_delete: bool,
    can_add_contact: bool,
    can_view_contacts: bool,
    can_view_tickets: bool,
}

impl ShowPage {
    fn more_contacts(&self) -> bool {
        more_than_listed(self.counts.contacts, self.contacts.len())
    }

    fn more_tickets(&self) -> bool {
        more_than_listed(self.counts.tickets, self.tickets.len())
    }
}

/// `GET /agent/accounts/{id}`
pub async fn show(state: web::Data<AppState>, agent: CurrentAgent, id: web::Path<i64>) -> AppResult<HttpResponse> {
    agent.require(Module::Accounts, Action::View)?;
    let actor = agent.actor();
    let AccountDetail { account, contacts, tickets, counts, shows_contacts, shows_tickets, history } =
        accounts::detail(&state.db.conn, actor, *id).await?;
    page::ok(&ShowPage {
        layout: Layout::new(&agent, "customers", account.name.clone()),
        can_edit: actor.can(Module::Accounts, Action::Edit),
        can_delete: actor.can(Module::Accounts, Action::Delete),
        can_add_contact: actor.can(Module::Contacts, Action::Create),
        can_view_contacts: shows_contacts,
        can_view_tickets: shows_tickets,
        account,
        contacts,
        tickets,
        counts,
        history,
        rules: actor.fields(Module::Accounts),
    })
}

/// `GET /agent/accounts/{id}/edit`
pub async fn edit(state: web::Data<AppState>, agent: CurrentAgent, id: web::Path<i64>) -> AppResult<HttpResponse> {
    agent.require(Module::Accounts, Action::Edit)?;
    let form = accounts::edit_form(&state.db.conn, agent.actor(), *id).await?;
    page::ok(&FormPage::new(&state, &agent, "Edit Account", form, Some(*id)).await?)
}

/// `POST /agent/accounts/{id}`
pub async fn update(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<AccountForm>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Accounts, Action::Edit)?;
    match accounts::update(&state.db, agent.actor(), *id, form.clone(), &state.phones).await {
        Ok(()) => {
            agent.flash("Account saved.");
            Ok(page::see_other(&format!("/agent/accounts/{id}")))
        }
        Err(e) => FormPage::new(&state, &agent, "Edit Account", form, Some(*id)).await?.refused(e),
    }
}

#[derive(Template)]
#[template(path = "agent/accounts/delete.html")]
struct DeletePage {
    layout: Layout,
    account: AccountRow,
    contacts: i64,
}

/// `GET /agent/accounts/{id}/delete`: the confirmation, which says the contacts are kept.
pub async fn confirm_delete(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Accounts, Action::Delete)?;
    let (account, counts) = accounts::with_counts(&state.db.conn, agent.actor(), *id).await?;
    page::ok(&DeletePage {
        layout: Layout::new(&agent, "customers", "Delete Account"),
        account,
        contacts: counts.contacts,
    })
}

/// `POST /agent/accounts/{id}/delete`
pub async fn delete(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Accounts, Action::Delete)?;
    recycle_bin::delete_account(&state.db, agent.actor(), *id).await?;
    agent.flash("Account moved to the Recycle Bin. Its contacts were kept.");
    Ok(page::see_other("/agent/accounts"))
}
