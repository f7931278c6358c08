//! The knowledge base in the Help Center: search results, a category's articles, an article
//! with "Was this helpful?". What a visitor may read is decided by the service from whether a
//! Help Center user is logged in; anything else is 404.

use actix_session::Session;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::page::HelpLayout;
use crate::auth::{CsrfForm, CurrentContact};
use crate::error::{AppError, AppResult};
use crate::routes::page;
use crate::services::articles::{self, ArticleSummary, CategoryRef, PublishedArticle, SearchHit};
use crate::startup::AppState;

/// How many results a search shows.
const RESULTS: u64 = 20;

/// The search box.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SearchQuery {
    pub q: String,
}

#[derive(Template)]
#[template(path = "help_center/articles/search.html")]
struct SearchPage {
    layout: HelpLayout,
    q: String,
    hits: Vec<SearchHit>,
}

/// `GET /help/articles?q=`
pub async fn search(
    state: web::Data<AppState>,
    session: Session,
    contact: Option<CurrentContact>,
    query: web::Query<SearchQuery>,
) -> AppResult<HttpResponse> {
    let q: String = query.into_inner().q.chars().take(200).collect();
    let hits = articles::search(&state.db, &q, contact.is_some(), RESULTS).await?;
    let layout = HelpLayout::new(&state, &session, contact.as_ref(), "home", "Search", false).await?;
    page::ok(&SearchPage { layout, q, hits })
}

#[derive(Template)]
#[template(path = "help_center/articles/category.html")]
struct CategoryPage {
    layout: HelpLayout,
    category: CategoryRef,
    articles: Vec<ArticleSummary>,
}

/// `GET /help/categories/{slug}`
pub async fn category(
    state: web::Data<AppState>,
    session: Session,
    contact: Option<CurrentContact>,
    slug: web::Path<String>,
) -> AppResult<HttpResponse> {
    let (category, articles) =
        articles::in_category(&state.db, &slug, contact.is_some()).await?.ok_or(AppError::NotFound)?;
    let layout = HelpLayout::new(&state, &session, contact.as_ref(), "home", category.name.clone(), false).await?;
    page::ok(&CategoryPage { layout, category, articles })
}

#[derive(Template)]
#[template(path = "help_center/articles/show.html")]
struct ArticlePage {
    layout: HelpLayout,
    article: PublishedArticle,
    voted: bool,
}

fn vote_key(id: i64) -> String {
    format!("voted_{id}")
}

/// `GET /help/articles/{slug}`
pub async fn show(
    state: web::Data<AppState>,
    session: Session,
    contact: Option<CurrentContact>,
    slug: web::Path<String>,
) -> AppResult<HttpResponse> {
    let article = articles::published_by_slug(&state.db, &slug, contact.is_some()).await?.ok_or(AppError::NotFound)?;
    let voted = session.get::<bool>(&vote_key(article.id)).ok().flatten().unwrap_or(false);
    let layout = HelpLayout::new(&state, &session, contact.as_ref(), "home", article.title.clone(), !voted).await?;
    page::ok(&ArticlePage { layout, article, voted })
}

/// "Was this helpful?" as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct VoteForm {
    pub helpful: String,
}

/// `POST /help/articles/{slug}/vote`: counted once per session.
pub async fn vote(
    state: web::Data<AppState>,
    session: Session,
    contact: Option<CurrentContact>,
    slug: web::Path<String>,
    CsrfForm(form): CsrfForm<VoteForm>,
) -> AppResult<HttpResponse> {
    let helpful = match form.helpful.as_str() {
        "yes" => true,
        "no" => false,
        _ => return Err(AppError::BadRequest("Answer yes or no.".into())),
    };
    // `vote` itself refuses (404) an article this visitor may not read; reading the article
    // first would count a view for every vote.
    let id = articles::vote_target(&state.db, &slug, contact.is_some()).await?.ok_or(AppError::NotFound)?;
    let key = vote_key(id);
    if !session.get::<bool>(&key).ok().flatten().unwrap_or(false) {
        articles::vote(&state.db, &slug, contact.is_some(), helpful).await?;
        let _ = session.insert(&key, true);
    }
    super::page::flash(&session, "Thank you for your feedback.");
    Ok(page::see_other(&format!("/help/articles/{slug}")))
}
