//! The Knowledge Base in the console: list, add, detail (with a preview of the Help Center
//! rendering), edit, delete, and categories. Every route gates on the agent's `Articles`
//! permission for what it does, and the service it calls checks it again.

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::auth::{CsrfForm, CurrentAgent};
use crate::domain::article::{ArticleForm, ArticleStatus, CategoryForm, Visibility};
use crate::domain::{Action, FieldErrors, Module};
use crate::error::AppResult;
use crate::routes::page::{self, Layout};
use crate::services::articles::{self, ArticleDetail, ArticleRow, CategoryRow};
use crate::services::ServiceError;
use crate::startup::AppState;

/// Registers the routes. The categories come before `/articles/{id}`, which would otherwise
/// take "categories" for an id.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/articles/categories").route(web::get().to(categories)).route(web::post().to(create_category)),
    )
    .route("/articles/categories/{id}", web::post().to(update_category))
    .service(
        web::resource("/articles/categories/{id}/delete")
            .route(web::get().to(confirm_delete_category))
            .route(web::post().to(delete_category)),
    )
    .service(web::resource("/articles").route(web::get().to(index)).route(web::post().to(create)))
    .route("/articles/new", web::get().to(new))
    .service(web::resource("/articles/{id}").route(web::get().to(show)).route(web::post().to(update)))
    .route("/articles/{id}/edit", web::get().to(edit))
    .service(web::resource("/articles/{id}/delete").route(web::get().to(confirm_delete)).route(web::post().to(delete)));
}

/// The list's query string.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct IndexQuery {
    /// A category id; "" (the filter's "All categories") or anything else means all.
    pub category: String,
    pub after_updated: Option<DateTime<Utc>>,
    pub after_id: Option<i64>,
}

#[derive(Template)]
#[template(path = "agent/articles/list.html")]
struct IndexPage {
    layout: Layout,
    rows: Vec<ArticleRow>,
    categories: Vec<CategoryRow>,
    category: Option<i64>,
    next: Option<String>,
    can_create: bool,
}

impl IndexPage {
    fn category_selected(&self, id: &i64) -> bool {
        self.category == Some(*id)
    }
}

/// `GET /agent/articles`
pub async fn index(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    query: web::Query<IndexQuery>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Articles, Action::View)?;
    let q = query.into_inner();
    let category = q.category.trim().parse::<i64>().ok();
    let actor = agent.actor();
    let (rows, next) = articles::list(&state.db.conn, actor, category, q.after_updated.zip(q.after_id)).await?;
    let categories = articles::categories(&state.db.conn, actor).await?;
    let next = next.map(|(updated, id)| {
        let mut params = vec![("after_updated", updated.to_rfc3339()), ("after_id", id.to_string())];
        if let Some(c) = category {
            params.push(("category", c.to_string()));
        }
        format!("/agent/articles?{}", serde_urlencoded::to_string(params).unwrap_or_default())
    });
    page::ok(&IndexPage {
        layout: Layout::new(&agent, "articles", "Knowledge Base"),
        rows,
        categories,
        category,
        next,
        can_create: actor.can(Module::Articles, Action::Create),
    })
}

#[derive(Template)]
#[template(path = "agent/articles/form.html")]
struct FormPage {
    layout: Layout,
    form: ArticleForm,
    errors: FieldErrors,
    categories: Vec<CategoryRow>,
    article_id: Option<i64>,
}

impl FormPage {
    async fn new(
        state: &AppState,
        agent: &CurrentAgent,
        title: &str,
        form: ArticleForm,
        article_id: Option<i64>,
    ) -> AppResult<Self> {
        Ok(Self {
            layout: Layout::new(agent, "articles", title),
            form,
            errors: FieldErrors::default(),
            categories: articles::categories(&state.db.conn, agent.actor()).await?,
            article_id,
        })
    }

    fn action(&self) -> String {
        self.article_id.map_or("/agent/articles".to_owned(), |id| format!("/agent/articles/{id}"))
    }

    fn statuses(&self) -> [ArticleStatus; 2] {
        ArticleStatus::ALL
    }

    fn visibilities(&self) -> [Visibility; 2] {
        Visibility::ALL
    }

    fn category_selected(&self, id: &i64) -> bool {
        self.form.category == id.to_string()
    }

    fn refused(mut self, err: ServiceError) -> AppResult<HttpResponse> {
        match err {
            ServiceError::Invalid(errors) => self.errors = errors,
            other => return Err(other.into()),
        }
        page::invalid(&self)
    }
}

/// `GET /agent/articles/new`
pub async fn new(state: web::Data<AppState>, agent: CurrentAgent) -> AppResult<HttpResponse> {
    agent.require(Module::Articles, Action::Create)?;
    page::ok(&FormPage::new(&state, &agent, "Add article", ArticleForm::default(), None).await?)
}

/// `POST /agent/articles`
pub async fn create(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    CsrfForm(form): CsrfForm<ArticleForm>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Articles, Action::Create)?;
    match articles::create(&state.db, agent.actor(), &form).await {
        Ok(id) => {
            agent.flash("Article added.");
            Ok(page::see_other(&format!("/agent/articles/{id}")))
        }
        Err(e) => FormPage::new(&state, &agent, "Add article", form, None).await?.refused(e),
    }
}

#[derive(Template)]
#[template(path = "agent/articles/detail.html")]
struct ShowPage {
    layout: Layout,
    article: ArticleDetail,
    can_edit: bool,
    can_delete: bool,
}

/// `GET /agent/articles/{id}`
pub async fn show(state: web::Data<AppState>, agent: CurrentAgent, id: web::Path<i64>) -> AppResult<HttpResponse> {
    agent.require(Module::Articles, Action::View)?;
    let article = articles::detail(&state.db, agent.actor(), *id).await?;
    page::ok(&ShowPage {
        layout: Layout::new(&agent, "articles", article.row.title.clone()),
        can_edit: agent.can(Module::Articles, Action::Edit),
        can_delete: agent.can(Module::Articles, Action::Delete),
        article,
    })
}

/// `GET /agent/articles/{id}/edit`
pub async fn edit(state: web::Data<AppState>, agent: CurrentAgent, id: web::Path<i64>) -> AppResult<HttpResponse> {
    agent.require(Module::Articles, Action::Edit)?;
    let form = articles::edit_form(&state.db, agent.actor(), *id).await?;
    page::ok(&FormPage::new(&state, &agent, "Edit article", form, Some(*id)).await?)
}

/// `POST /agent/articles/{id}`
pub async fn update(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<ArticleForm>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Articles, Action::Edit)?;
    match articles::update(&state.db, agent.actor(), *id, &form).await {
        Ok(()) => {
            agent.flash("Article saved.");
            Ok(page::see_other(&format!("/agent/articles/{id}")))
        }
        Err(e) => FormPage::new(&state, &agent, "Edit article", form, Some(*id)).await?.refused(e),
    }
}

#[derive(Template)]
#[template(path = "agent/articles/delete.html")]
struct DeletePage {
    layout: Layout,
    article: ArticleDetail,
}

/// `GET /agent/articles/{id}/delete`: the confirmation.
pub async fn confirm_delete(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Articles, Action::Delete)?;
    let article = articles::for_deletion(&state.db, agent.actor(), *id).await?;
    page::ok(&DeletePage { layout: Layout::new(&agent, "articles", "Delete article"), article })
}

/// `POST /agent/articles/{id}/delete`
pub async fn delete(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Articles, Action::Delete)?;
    articles::delete(&state.db, agent.actor(), *id).await?;
    agent.flash("Article deleted.");
    Ok(page::see_other("/agent/articles"))
}

#[derive(Template)]
#[template(path = "agent/articles/categories.html")]
struct CategoriesPage {
    layout: Layout,
    categories: Vec<CategoryRow>,
    /// The add form as posted (kept when refused).
    form: CategoryForm,
    errors: FieldErrors,
    /// The category whose rename was refused, with its form and errors.
    renaming: Option<(i64, CategoryForm, FieldErrors)>,
    can_create: bool,
    can_edit: bool,
    can_delete: bool,
}

impl CategoriesPage {
    async fn new(state: &AppState, agent: &CurrentAgent) -> AppResult<Self> {
        let p = agent.actor();
        Ok(Self {
            layout: Layout::new(agent, "articles", "Categories"),
            categories: articles::categories(&state.db.conn, p).await?,
            form: CategoryForm::default(),
            errors: FieldErrors::default(),
            renaming: None,
            can_create: p.can(Module::Articles, Action::Create),
            can_edit: p.can(Module::Articles, Action::Edit),
            can_delete: p.can(Module::Articles, Action::Delete),
        })
    }

    /// The name shown in category `c`'s rename field: what was posted if that was refused.
    fn name_of(&self, c: &CategoryRow) -> String {
        match &self.renaming {
            Some((id, form, _)) if *id == c.id => form.name.clone(),
            _ => c.name.clone(),
        }
    }

    /// The description shown in category `c`'s rename field.
    fn description_of(&self, c: &CategoryRow) -> String {
        match &self.renaming {
            Some((id, form, _)) if *id == c.id => form.description.clone(),
            _ => c.description.clone().unwrap_or_default(),
        }
    }

    /// The refusal of category `c`'s rename, or "".
    fn rename_error(&self, c: &CategoryRow) -> String {
        match &self.renaming {
            Some((id, _, errors)) if *id == c.id => errors.iter().map(|(_, m)| m).collect::<Vec<_>>().join(" "),
            _ => String::new(),
        }
    }
}

/// `GET /agent/articles/categories`
pub async fn categories(state: web::Data<AppState>, agent: CurrentAgent) -> AppResult<HttpResponse> {
    agent.require(Module::Articles, Action::View)?;
    page::ok(&CategoriesPage::new(&state, &agent).await?)
}

/// `POST /agent/articles/categories`
pub async fn create_category(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    CsrfForm(form): CsrfForm<CategoryForm>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Articles, Action::Create)?;
    match articles::create_category(&state.db, agent.actor(), &form).await {
        Ok(_) => {
            agent.flash("Category added.");
            Ok(page::see_other("/agent/articles/categories"))
        }
        Err(ServiceError::Invalid(errors)) => {
            page::invalid(&CategoriesPage { form, errors, ..CategoriesPage::new(&state, &agent).await? })
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /agent/articles/categories/{id}`: rename.
pub async fn update_category(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<CategoryForm>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Articles, Action::Edit)?;
    match articles::update_category(&state.db, agent.actor(), *id, &form).await {
        Ok(()) => {
            agent.flash("Category saved.");
            Ok(page::see_other("/agent/articles/categories"))
        }
        Err(ServiceError::Invalid(errors)) => page::invalid(&CategoriesPage {
            renaming: Some((*id, form, errors)),
            ..CategoriesPage::new(&state, &agent).await?
        }),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "agent/articles/delete_category.html")]
struct DeleteCategoryPage {
    layout: Layout,
    category: CategoryRow,
}

/// `GET /agent/articles/categories/{id}/delete`: the confirmation, which says the articles stay.
pub async fn confirm_delete_category(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Articles, Action::Delete)?;
    let category = articles::category(&state.db.conn, agent.actor(), *id).await?;
    page::ok(&DeleteCategoryPage { layout: Layout::new(&agent, "articles", "Delete category"), category })
}

/// `POST /agent/articles/categories/{id}/delete`
pub async fn delete_category(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    agent.require(Module::Articles, Action::Delete)?;
    articles::delete_category(&state.db, agent.actor(), *id).await?;
    agent.flash("Category deleted. Its articles were kept, uncategorised.");
    Ok(page::see_other("/agent/articles/categories"))
}
