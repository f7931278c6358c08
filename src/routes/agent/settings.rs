//! Settings (administrators only): agents and profiles.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::{password, CsrfForm, CurrentAgent};
use crate::domain::permissions::{ACCOUNT_FIELDS, CONTACT_FIELDS};
use crate::domain::{Action, Email, FieldAccess, FieldErrors, Module, Permissions};
use crate::error::AppResult;
use crate::routes::page::{self, Layout};
use crate::routes::throttle;
use crate::services::agents::{self, AgentRow, NewAgent};
use crate::services::profiles::{self, Profile};
use crate::services::throttle::{agent_locks, AgentLock};
use crate::services::ServiceError;
use crate::startup::AppState;

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings", web::get().to(|| async { page::see_other("/agent/settings/agents") }))
        .service(
            web::resource("/settings/agents").route(web::get().to(agents_index)).route(web::post().to(agent_create)),
        )
        .route("/settings/agents/new", web::get().to(agent_new))
        .service(
            web::resource("/settings/agents/{id}").route(web::get().to(agent_edit)).route(web::post().to(agent_update)),
        )
        .service(
            web::resource("/settings/profiles")
                .route(web::get().to(profiles_index))
                .route(web::post().to(profile_create)),
        )
        .route("/settings/profiles/new", web::get().to(profile_new))
        .service(
            web::resource("/settings/profiles/{id}")
                .route(web::get().to(profile_edit))
                .route(web::post().to(profile_update)),
        );
}

#[derive(Template)]
#[template(path = "agent/settings/agents.html")]
struct AgentsPage {
    layout: Layout,
    agents: Vec<AgentRow>,
    /// Agents whose logins are refused from some address or slowed down.
    locks: Vec<AgentLock>,
}

/// `GET /agent/settings/agents`
pub async fn agents_index(state: web::Data<AppState>, agent: CurrentAgent) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    let agents = agents::all_with_profiles(&state.db.conn, agent.actor()).await?;
    let locks = agent_locks(&state.db.conn, agent.actor(), chrono::Utc::now()).await?;
    page::ok(&AgentsPage { layout: Layout::new(&agent, "settings", "Agents"), agents, locks })
}

/// The Add agent form as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AgentForm {
    pub name: String,
    pub email: String,
    pub profile: String,
    pub password: String,
    pub active: Option<String>,
}

#[derive(Template)]
#[template(path = "agent/settings/agent_form.html")]
struct AgentFormPage {
    layout: Layout,
    form: AgentForm,
    errors: FieldErrors,
    profiles: Vec<Profile>,
    agent_id: Option<i64>,
}

impl AgentFormPage {
    fn profile_selected(&self, id: &i64) -> bool {
        self.form.profile == id.to_string()
    }
}

async fn agent_form_page(
    state: &AppState,
    agent: &CurrentAgent,
    form: AgentForm,
    errors: FieldErrors,
    agent_id: Option<i64>,
) -> AppResult<AgentFormPage> {
    let title = if agent_id.is_some() { "Edit agent" } else { "Add agent" };
    Ok(AgentFormPage {
        layout: Layout::new(agent, "settings", title),
        form,
        errors,
        profiles: profiles::list(&state.db.conn, agent.actor()).await?,
        agent_id,
    })
}

/// `GET /agent/settings/agents/new`
pub async fn agent_new(state: web::Data<AppState>, agent: CurrentAgent) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    let default_profile = profiles::built_in(&state.db.conn, profiles::AGENT).await?;
    let form = AgentForm { profile: default_profile.id.to_string(), ..AgentForm::default() };
    page::ok(&agent_form_page(&state, &agent, form, FieldErrors::default(), None).await?)
}

/// `POST /agent/settings/agents`
pub async fn agent_create(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    req: HttpRequest,
    CsrfForm(form): CsrfForm<AgentForm>,
) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    let attempt = throttle::admit(&state, &req, throttle::Purpose::Password, &format!("agents:{}", agent.id)).await?;
    let mut errors = FieldErrors::default();
    let name = errors.check("name", agents::parse_name(&form.name));
    let email = errors.check("email", Email::parse(&form.email));
    let profile_id = errors.check("profile", form.profile.parse::<i64>().map_err(|_| "Choose a profile."));
    if let Err((field, message)) = password::check_new(&form.password, &form.password) {
        errors.add(field, message);
    }
    let result = match (name, email, profile_id, errors.is_empty()) {
        (Some(name), Some(email), Some(profile_id), true) => {
            let new = NewAgent { name, email, password: form.password.clone(), profile_id };
            agents::create(&state.db.conn, agent.actor(), new).await
        }
        _ => Err(ServiceError::Invalid(errors)),
    };
    match result {
        Ok(_) => {
            throttle::succeeded(&state, attempt).await?;
            agent.flash("Agent added.");
            Ok(page::see_other("/agent/settings/agents"))
        }
        Err(ServiceError::Invalid(errors)) => {
            page::invalid(&agent_form_page(&state, &agent, form, errors, None).await?)
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /agent/settings/agents/{id}`
pub async fn agent_edit(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    let a = agents::get(&state.db.conn, agent.actor(), *id).await?;
    let form = AgentForm {
        name: a.name,
        email: a.email,
        profile: a.profile_id.to_string(),
        password: String::new(),
        active: a.active.then(|| "on".to_owned()),
    };
    page::ok(&agent_form_page(&state, &agent, form, FieldErrors::default(), Some(a.id)).await?)
}

/// `POST /agent/settings/agents/{id}`: change profile, activate or deactivate.
pub async fn agent_update(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
    req: HttpRequest,
    CsrfForm(form): CsrfForm<AgentForm>,
) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    let profile_id = form.profile.parse::<i64>().unwrap_or_default();
    let mut attempt = None;
    if !form.password.is_empty() {
        attempt =
            Some(throttle::admit(&state, &req, throttle::Purpose::Password, &format!("agents:{}", agent.id)).await?);
        if let Err((_, message)) = password::check_new(&form.password, &form.password) {
            let mut errors = FieldErrors::default();
            errors.add("password", message);
            return page::invalid(&agent_form_page(&state, &agent, form, errors, Some(*id)).await?);
        }
    }
    let mut result = agents::update(&state.db.conn, agent.actor(), *id, profile_id, form.active.is_some()).await;
    if result.is_ok() && !form.password.is_empty() {
        result = agents::set_password(&state.db.conn, agent.actor(), *id, form.password.clone()).await;
    }
    match result {
        Ok(()) => {
            if let Some(attempt) = attempt {
                throttle::succeeded(&state, attempt).await?;
            }
            agent.flash("Agent saved.");
            Ok(page::see_other("/agent/settings/agents"))
        }
        Err(ServiceError::Invalid(errors)) => {
            page::invalid(&agent_form_page(&state, &agent, form, errors, Some(*id)).await?)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "agent/settings/profiles.html")]
struct ProfilesPage {
    layout: Layout,
    profiles: Vec<Profile>,
}

/// `GET /agent/settings/profiles`
pub async fn profiles_index(state: web::Data<AppState>, agent: CurrentAgent) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    let profiles = profiles::list(&state.db.conn, agent.actor()).await?;
    page::ok(&ProfilesPage { layout: Layout::new(&agent, "settings", "Profiles"), profiles })
}

#[derive(Template)]
#[template(path = "agent/settings/profile_form.html")]
struct ProfileFormPage {
    layout: Layout,
    profile_name: String,
    permissions: Permissions,
    errors: FieldErrors,
    profile_id: Option<i64>,
}

impl ProfileFormPage {
    fn modules(&self) -> [Module; 4] {
        Module::ALL
    }
    fn actions(&self) -> [Action; 4] {
        Action::ALL
    }
    fn levels(&self) -> [FieldAccess; 3] {
        FieldAccess::ALL
    }
    fn contact_fields(&self) -> [(&'static str, &'static str); 8] {
        CONTACT_FIELDS
    }
    fn account_fields(&self) -> [(&'static str, &'static str); 4] {
        ACCOUNT_FIELDS
    }
    fn allowed(&self, module: &Module, action: &Action) -> bool {
        self.permissions.module(*module).allows(*action)
    }
    fn contact_level(&self, field: &str) -> FieldAccess {
        self.permissions.contact_fields.get(field).copied().unwrap_or_default()
    }
    fn account_level(&self, field: &str) -> FieldAccess {
        self.permissions.account_fields.get(field).copied().unwrap_or_default()
    }
}

/// Reads the profile form: `name`, `<module>.<action>` checkboxes, `contact.<field>` and
/// `account.<field>` levels, the `import_contacts` and `export_contacts` checkboxes.
fn read_profile_form(pairs: &[(String, String)]) -> (String, Permissions) {
    let mut permissions = Permissions::default();
    let mut name = String::new();
    for (key, value) in pairs {
        if key == "name" {
            name.clone_from(value);
        } else if let Some(field) = key.strip_prefix("contact.") {
            if let (Some((f, _)), Some(level)) =
                (CONTACT_FIELDS.iter().find(|(f, _)| *f == field), FieldAccess::from_key(value))
            {
                if level != FieldAccess::ReadWrite {
                    permissions.contact_fields.insert((*f).to_owned(), level);
                }
            }
        } else if let Some(field) = key.strip_prefix("account.") {
            if let (Some((f, _)), Some(level)) =
                (ACCOUNT_FIELDS.iter().find(|(f, _)| *f == field), FieldAccess::from_key(value))
            {
                if level != FieldAccess::ReadWrite {
                    permissions.account_fields.insert((*f).to_owned(), level);
                }
            }
        } else if key == "import_contacts" {
            permissions.import_contacts = true;
        } else if key == "export_contacts" {
            permissions.export_contacts = true;
        } else if let Some((m, a)) = key.split_once('.') {
            let module = Module::ALL.into_iter().find(|x| x.key() == m);
            let action = Action::ALL.into_iter().find(|x| x.key() == a);
            if let (Some(module), Some(action)) = (module, action) {
                let rights = permissions.module_mut(module);
                match action {
                    Action::View => rights.view = true,
                    Action::Create => rights.create = true,
                    Action::Edit => rights.edit = true,
                    Action::Delete => rights.delete = true,
                }
            }
        }
    }
    (name, permissions)
}

/// `GET /agent/settings/profiles/new`
pub async fn profile_new(agent: CurrentAgent) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    page::ok(&ProfileFormPage {
        layout: Layout::new(&agent, "settings", "New profile"),
        profile_name: String::new(),
        permissions: Permissions::light_agent(),
        errors: FieldErrors::default(),
        profile_id: None,
    })
}

/// `GET /agent/settings/profiles/{id}`
pub async fn profile_edit(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    let p = profiles::get(&state.db.conn, agent.actor(), *id).await?;
    if p.built_in.as_deref() == Some(profiles::ADMINISTRATOR) {
        return Err(ServiceError::Forbidden("The Administrator profile cannot be edited.".into()).into());
    }
    page::ok(&ProfileFormPage {
        layout: Layout::new(&agent, "settings", "Edit profile"),
        permissions: profiles::permissions_of(&p),
        profile_name: p.name,
        errors: FieldErrors::default(),
        profile_id: Some(p.id),
    })
}

async fn save_profile(
    state: &AppState,
    agent: &CurrentAgent,
    id: Option<i64>,
    pairs: Vec<(String, String)>,
) -> AppResult<HttpResponse> {
    agent.require_admin()?;
    let (name, permissions) = read_profile_form(&pairs);
    match profiles::save(&state.db.conn, agent.actor(), id, &name, permissions.clone()).await {
        Ok(_) => {
            agent.flash("Profile saved.");
            Ok(page::see_other("/agent/settings/profiles"))
        }
        Err(ServiceError::Invalid(errors)) => page::invalid(&ProfileFormPage {
            layout: Layout::new(agent, "settings", "Profile"),
            profile_name: name,
            permissions,
            errors,
            profile_id: id,
        }),
        Err(e) => Err(e.into()),
    }
}

/// `POST /agent/settings/profiles`
pub async fn profile_create(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    save_profile(&state, &agent, None, pairs).await
}

/// `POST /agent/settings/profiles/{id}`
pub async fn profile_update(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    save_profile(&state, &agent, Some(*id), pairs).await
}
