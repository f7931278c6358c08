//! What the Help Center reads: the home page's categories and lists, one published article
//! (counting the view), and "Was this helpful?" votes. `registered` is whether a Help Center
//! user is logged in; articles for registered users only are invisible to anyone else.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, IntoCondition};
use sea_orm::{ColumnTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect, RelationTrait, Select};

use crate::db::Db;
use crate::domain::article::{ArticleStatus, Visibility};
use crate::entities::{article, article_category};
use crate::services::{ServiceError, ServiceResult};

/// How many articles each home-page list shows.
pub const HOME_LIST: u64 = 5;

/// A category on the Help Center home, with the number of published articles this viewer
/// may read in it.
#[derive(Clone, Debug, sea_orm::FromQueryResult)]
pub struct CategorySummary {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    pub articles: i64,
}

/// A published article in a list.
#[derive(Clone, Debug, sea_orm::FromQueryResult)]
pub struct ArticleSummary {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub category_name: Option<String>,
    pub views: i64,
    /// Set for every article the service published; `None` only for rows made otherwise.
    pub published_at: Option<DateTime<Utc>>,
}

/// The Help Center home: categories, the most read and the newest articles.
#[derive(Clone, Debug)]
pub struct HomeArticles {
    /// In display order, empty categories included (with a count of 0).
    pub categories: Vec<CategorySummary>,
    /// The [`HOME_LIST`] most viewed.
    pub popular: Vec<ArticleSummary>,
    /// The [`HOME_LIST`] most recently published.
    pub recent: Vec<ArticleSummary>,
}

/// The category an article is in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CategoryRef {
    pub id: i64,
    pub name: String,
    pub slug: String,
}

/// A published article, ready to show.
#[derive(Clone, Debug)]
pub struct PublishedArticle {
    pub id: i64,
    pub slug: String,
    pub title: String,
    /// The body rendered from Markdown and sanitised when it was saved: safe to print unescaped.
    pub html: String,
    pub category: Option<CategoryRef>,
    pub updated_at: DateTime<Utc>,
    pub helpful_yes: i64,
    pub helpful_no: i64,
}

/// Articles this viewer may read: published, and for everyone unless `registered`.
fn readable(select: Select<article::Entity>, registered: bool) -> Select<article::Entity> {
    select
        .filter(article::Column::Status.eq(ArticleStatus::Published.as_str()))
        .filter(article::Column::Visibility.is_in(Visibility::readable_by(registered).iter().copied()))
}

fn summaries(registered: bool) -> Select<article::Entity> {
    readable(article::Entity::find(), registered)
        .select_only()
        .columns([
            article::Column::Id,
            article::Column::Slug,
            article::Column::Title,
            article::Column::Views,
            article::Column::PublishedAt,
        ])
        .column_as(article_category::Column::Name, "category_name")
        .join(JoinType::LeftJoin, article::Relation::Category.def())
}

/// The Help Center home for this viewer, in three queries whatever the number of articles.
///
/// # Errors
/// Database errors.
pub async fn home(db: &Db, registered: bool) -> ServiceResult<HomeArticles> {
    use article_category::Column as C;
    let visible = Visibility::readable_by(registered);
    // The count joins only the articles this viewer may read, so an empty category shows 0
    // rather than disappearing, and registered-only articles leave no trace in it.
    let join = article_category::Relation::Article.def().on_condition(move |_, right| {
        Expr::col((right.clone(), article::Column::Status))
            .eq(ArticleStatus::Published.as_str())
            .and(Expr::col((right, article::Column::Visibility)).is_in(visible.iter().copied()))
            .into_condition()
    });
    let categories = article_category::Entity::find()
        .select_only()
        .columns([C::Id, C::Name, C::Slug, C::Description])
        .column_as(article::Column::Id.count(), "articles")
        .join(JoinType::LeftJoin, join)
        .group_by(C::Id)
        .group_by(C::Name)
        .group_by(C::Slug)
        .group_by(C::Description)
        .group_by(C::Position)
        .order_by_asc(C::Position)
        .order_by_asc(C::Name)
        .order_by_asc(C::Id)
        .into_model::<CategorySummary>()
        .all(&db.conn)
        .await?;
    let popular = summaries(registered)
        .order_by_desc(article::Column::Views)
        .order_by_desc(article::Column::Id)
        .limit(HOME_LIST)
        .into_model::<ArticleSummary>()
        .all(&db.conn)
        .await?;
    let recent = summaries(registered)
        .order_by_desc(article::Column::PublishedAt)
        .order_by_desc(article::Column::Id)
        .limit(HOME_LIST)
        .into_model::<ArticleSummary>()
        .all(&db.conn)
        .await?;
    Ok(HomeArticles { categories, popular, recent })
}

/// How many articles a category page lists at most.
pub const CATEGORY_LIST: u64 = 200;

/// A category and the published articles this viewer may read in it, newest first (at most
/// [`CATEGORY_LIST`]); `None` when there is no category at `slug`. Two queries.
///
/// # Errors
/// Database errors.
pub async fn in_category(
    db: &Db,
    slug: &str,
    registered: bool,
) -> ServiceResult<Option<(CategoryRef, Vec<ArticleSummary>)>> {
    let Some(category) =
        article_category::Entity::find().filter(article_category::Column::Slug.eq(slug)).one(&db.conn).await?
    else {
        return Ok(None);
    };
    let articles = summaries(registered)
        .filter(article::Column::CategoryId.eq(category.id))
        .order_by_desc(article::Column::PublishedAt)
        .order_by_desc(article::Column::Id)
        .limit(CATEGORY_LIST)
        .into_model::<ArticleSummary>()
        .all(&db.conn)
        .await?;
    Ok(Some((CategoryRef { id: category.id, name: category.name, slug: category.slug }, articles)))
}

#[derive(sea_orm::FromQueryResult)]
struct ArticleRecord {
    id: i64,
    slug: String,
    title: String,
    html: Option<String>,
    updated_at: DateTime<Utc>,
    helpful_yes: i64,
    helpful_no: i64,
    category_id: Option<i64>,
    category_name: Option<String>,
    category_slug: Option<String>,
}

/// The published article at `slug` if this viewer may read it, and counts the view (one
/// `UPDATE`). `None` for a draft, an unknown slug, and for an article for registered users
/// when `registered` is false: the Help Center answers 404 to all three alike.
///
/// # Errors
/// Database errors.
pub async fn published_by_slug(db: &Db, slug: &str, registered: bool) -> ServiceResult<Option<PublishedArticle>> {
    let found = readable(article::Entity::find(), registered)
        .select_only()
        .columns([
            article::Column::Id,
            article::Column::Slug,
            article::Column::Title,
            article::Column::Html,
            article::Column::UpdatedAt,
            article::Column::HelpfulYes,
            article::Column::HelpfulNo,
            article::Column::CategoryId,
        ])
        .column_as(article_category::Column::Name, "category_name")
        .column_as(article_category::Column::Slug, "category_slug")
        .join(JoinType::LeftJoin, article::Relation::Category.def())
        .filter(article::Column::Slug.eq(slug))
        .into_model::<ArticleRecord>()
        .one(&db.conn)
        .await?;
    let Some(found) = found else { return Ok(None) };
    let html = super::html::stored_or_made(db, found.id, found.html, None).await?;
    {
        let _gate = db.write_gate().await;
        article::Entity::update_many()
            .col_expr(article::Column::Views, Expr::col(article::Column::Views).add(1))
            .filter(article::Column::Id.eq(found.id))
            .exec(&db.conn)
            .await?;
    }
    let category = match (found.category_id, found.category_name, found.category_slug) {
        (Some(id), Some(name), Some(slug)) => Some(CategoryRef { id, name, slug }),
        _ => None,
    };
    Ok(Some(PublishedArticle {
        id: found.id,
        slug: found.slug,
        title: found.title,
        html,
        category,
        updated_at: found.updated_at,
        helpful_yes: found.helpful_yes,
        helpful_no: found.helpful_no,
    }))
}

/// Counts a "Was this helpful?" answer for the article at `slug`: yes when `helpful`. One
/// vote per visitor is the Help Center's to enforce (it knows the visitor).
///
/// # Errors
/// `NotFound` when this viewer may not read the article (as for [`published_by_slug`]).
pub async fn vote(db: &Db, slug: &str, registered: bool, helpful: bool) -> ServiceResult<()> {
    let column = if helpful { article::Column::HelpfulYes } else { article::Column::HelpfulNo };
    let _gate = db.write_gate().await;
    let done = article::Entity::update_many()
        .col_expr(column, Expr::col(column).add(1))
        .filter(article::Column::Slug.eq(slug))
        .filter(article::Column::Status.eq(ArticleStatus::Published.as_str()))
        .filter(article::Column::Visibility.is_in(Visibility::readable_by(registered).iter().copied()))
        .exec(&db.conn)
        .await?;
    if done.rows_affected == 0 {
        return Err(ServiceError::NotFound);
    }
    Ok(())
}

/// The id of the article `slug` when this viewer may read it, without counting a view (what a
/// vote needs to remember that it was cast).
///
/// # Errors
/// Database errors.
pub async fn vote_target(db: &Db, slug: &str, registered: bool) -> ServiceResult<Option<i64>> {
    let id: Option<i64> = readable(article::Entity::find(), registered)
        .filter(article::Column::Slug.eq(slug))
        .select_only()
        .column(article::Column::Id)
        .into_tuple()
        .one(&db.conn)
        .await?;
    Ok(id)
}
