//! The knowledge base: articles in categories, written by agents in the console and read in
//! the Help Center.
//!
//! The console's side (listing every article, adding, editing, deleting, and categories) is
//! here and in the `write` and `categories` modules; each use-case takes the acting agent and
//! checks its `Articles` permission for what it does. The Help Center's side ([`home`], [`in_category`], [`search`],
//! [`published_by_slug`], [`vote`]) takes `registered`: whether a Help Center user is logged
//! in. Only published articles are ever shown there, and an article for registered users only
//! does not exist for anyone else: not found, not listed, not counted, not searched.

mod categories;
mod help_center;
mod html;
mod search;
mod write;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect, RelationTrait,
};

pub use categories::{categories, category, create_category, delete_category, update_category, CategoryRow};
pub use help_center::{
    home, in_category, published_by_slug, vote, vote_target, ArticleSummary, CategoryRef, CategorySummary,
    HomeArticles, PublishedArticle,
};
pub use html::fill_missing_html;
pub use search::{search, SearchHit};
pub use write::{create, delete, update};

use super::{Actor, ServiceError, ServiceResult};
use crate::db::Db;
use crate::domain::article::{ArticleForm, ArticleStatus, Visibility};
use crate::domain::{Action, Module};
use crate::entities::{agent, article, article_category};

/// Articles per page of the console list.
pub const PAGE_SIZE: u64 = 50;

/// An article as the console lists it.
#[derive(Clone, Debug, sea_orm::FromQueryResult)]
pub struct ArticleRow {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub category_id: Option<i64>,
    pub category_name: Option<String>,
    pub status: String,
    pub visibility: String,
    pub author_name: Option<String>,
    pub views: i64,
    pub helpful_yes: i64,
    pub helpful_no: i64,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

impl ArticleRow {
    /// "Draft" or "Published".
    #[must_use]
    pub fn status_label(&self) -> &'static str {
        ArticleStatus::parse(&self.status).map_or("Draft", ArticleStatus::label)
    }

    /// "Everyone" or "Registered users only".
    #[must_use]
    pub fn visibility_label(&self) -> &'static str {
        Visibility::parse(&self.visibility).map_or("Registered users only", Visibility::label)
    }

    /// Whether the Help Center shows it (to someone).
    #[must_use]
    pub fn is_published(&self) -> bool {
        self.status == ArticleStatus::Published.as_str()
    }
}

/// An article with its Markdown and the HTML the Help Center shows for it (stored when it was
/// saved, see [`html`]).
#[derive(Clone, Debug)]
pub struct ArticleDetail {
    pub row: ArticleRow,
    pub body: String,
    /// Sanitised; safe to print unescaped.
    pub html: String,
}

/// `select` with the columns of [`ArticleRow`], the category's and the author's names joined in.
fn rows_of(select: sea_orm::Select<article::Entity>) -> sea_orm::Select<article::Entity> {
    select
        .select_only()
        .columns([
            article::Column::Id,
            article::Column::Slug,
            article::Column::Title,
            article::Column::CategoryId,
            article::Column::Status,
            article::Column::Visibility,
            article::Column::Views,
            article::Column::HelpfulYes,
            article::Column::HelpfulNo,
            article::Column::UpdatedAt,
            article::Column::PublishedAt,
        ])
        .column_as(article_category::Column::Name, "category_name")
        .column_as(agent::Column::Name, "author_name")
        .join(JoinType::LeftJoin, article::Relation::Category.def())
        .join(JoinType::LeftJoin, article::Relation::Author.def())
}

/// One page of articles, most recently changed first, after the `(updated_at, id)` cursor
/// `after`; only those in `category` when given. One query.
///
/// # Errors
/// `Forbidden` without the articles view permission; database errors.
pub async fn list(
    conn: &DatabaseConnection,
    actor: &Actor,
    category: Option<i64>,
    after: Option<(DateTime<Utc>, i64)>,
) -> ServiceResult<(Vec<ArticleRow>, Option<(DateTime<Utc>, i64)>)> {
    actor.may(Module::Articles, Action::View)?;
    let mut select = rows_of(article::Entity::find());
    if let Some(category) = category {
        select = select.filter(article::Column::CategoryId.eq(category));
    }
    if let Some((updated_at, id)) = after {
        select = select.filter(
            Expr::tuple([
                Expr::col((article::Entity, article::Column::UpdatedAt)).into(),
                Expr::col((article::Entity, article::Column::Id)).into(),
            ])
            .lt(Expr::tuple([Expr::val(updated_at).into(), Expr::val(id).into()])),
        );
    }
    let mut rows: Vec<ArticleRow> = select
        .order_by_desc(article::Column::UpdatedAt)
        .order_by_desc(article::Column::Id)
        .limit(PAGE_SIZE + 1)
        .into_model::<ArticleRow>()
        .all(conn)
        .await?;
    let next = crate::db::next_page(&mut rows, PAGE_SIZE, |r| (r.updated_at, r.id));
    Ok((rows, next))
}

#[derive(sea_orm::FromQueryResult)]
struct Content {
    body: String,
    html: Option<String>,
}

/// One article for the console, whatever its status, with its stored HTML for the preview.
///
/// # Errors
/// `Forbidden` without the articles view permission; `NotFound`.
pub async fn detail(db: &Db, actor: &Actor, id: i64) -> ServiceResult<ArticleDetail> {
    actor.may(Module::Articles, Action::View)?;
    find(db, id).await
}

/// The form of article `id` as it stands, for the edit page.
///
/// # Errors
/// `Forbidden` without the articles edit permission; `NotFound`.
pub async fn edit_form(db: &Db, actor: &Actor, id: i64) -> ServiceResult<ArticleForm> {
    actor.may(Module::Articles, Action::Edit)?;
    Ok(form_of(&find(db, id).await?))
}

/// Article `id`, for the delete confirmation.
///
/// # Errors
/// `Forbidden` without the articles delete permission; `NotFound`.
pub async fn for_deletion(db: &Db, actor: &Actor, id: i64) -> ServiceResult<ArticleDetail> {
    actor.may(Module::Articles, Action::Delete)?;
    find(db, id).await
}

async fn find(db: &Db, id: i64) -> ServiceResult<ArticleDetail> {
    let found = rows_of(article::Entity::find_by_id(id))
        .columns([article::Column::Body, article::Column::Html])
        .into_model::<ArticleRowWithContent>()
        .one(&db.conn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let Content { body, html } = found.content;
    let html = html::stored_or_made(db, id, html, Some(body.clone())).await?;
    Ok(ArticleDetail { row: found.row, body, html })
}

/// An [`ArticleRow`] read together with its body and HTML, in one query.
struct ArticleRowWithContent {
    row: ArticleRow,
    content: Content,
}

impl sea_orm::FromQueryResult for ArticleRowWithContent {
    fn from_query_result(res: &sea_orm::QueryResult, pre: &str) -> Result<Self, sea_orm::DbErr> {
        Ok(Self { row: ArticleRow::from_query_result(res, pre)?, content: Content::from_query_result(res, pre)? })
    }
}

/// The form as the article stands now.
#[must_use]
pub fn form_of(detail: &ArticleDetail) -> ArticleForm {
    ArticleForm {
        title: detail.row.title.clone(),
        body: detail.body.clone(),
        category: detail.row.category_id.map(|id| id.to_string()).unwrap_or_default(),
        status: detail.row.status.clone(),
        visibility: detail.row.visibility.clone(),
    }
}
