//! Adding, editing and deleting articles, each with the acting agent's articles permission for
//! it; the author is the agent who adds the article. The article's HTML is made here, before the
//! write gate is taken, and stored with it.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};

use crate::db::Db;
use crate::domain::article::{slugify, ArticleForm, ArticleInput, ArticleStatus};
use crate::domain::{Action, Module};
use crate::entities::{article, article_category};
use crate::services::articles::html::render;
use crate::services::{is_unique_violation, Actor, ServiceError, ServiceResult};

/// How often an insert is tried again when another instance took the same slug at the same
/// moment (PostgreSQL only: on SQLite the write gate makes slug choice and insert one step).
const SLUG_ATTEMPTS: usize = 3;

fn validate(form: &ArticleForm) -> ServiceResult<ArticleInput> {
    form.parse().map_err(ServiceError::Invalid)
}

async fn check_category<C: ConnectionTrait>(conn: &C, id: Option<i64>) -> ServiceResult<()> {
    let Some(id) = id else { return Ok(()) };
    match article_category::Entity::find_by_id(id).one(conn).await? {
        Some(_) => Ok(()),
        None => Err(ServiceError::field("category", "Choose a category from the list.")),
    }
}

/// The first free slug among `base`, `base-2`, `base-3`, ...
async fn free_slug<C: ConnectionTrait>(conn: &C, base: &str) -> Result<String, sea_orm::DbErr> {
    // Slugs hold only [a-z0-9-], so the LIKE pattern has no wildcard but its own `%`.
    let taken: Vec<String> = article::Entity::find()
        .select_only()
        .column(article::Column::Slug)
        .filter(article::Column::Slug.eq(base).or(article::Column::Slug.like(format!("{base}-%"))))
        .into_tuple()
        .all(conn)
        .await?;
    if !taken.iter().any(|s| s == base) {
        return Ok(base.to_owned());
    }
    let used: std::collections::HashSet<u64> =
        taken.iter().filter_map(|s| s.strip_prefix(base)?.strip_prefix('-')?.parse().ok()).collect();
    let n = (2..).find(|n| !used.contains(n)).unwrap_or(2);
    Ok(format!("{base}-{n}"))
}

/// Adds an article written by `actor`; its slug comes from the title, made unique with a
/// numeric suffix. Returns its id.
///
/// # Errors
/// `Forbidden` without the articles create permission; `Invalid` with messages per field.
pub async fn create(db: &Db, actor: &Actor, form: &ArticleForm) -> ServiceResult<i64> {
    actor.may(Module::Articles, Action::Create)?;
    let author_id = actor.id();
    let input = validate(form)?;
    check_category(&db.conn, input.category_id).await?;
    let html = render(input.body.clone()).await?;
    let base = slugify(&input.title);
    let now = Utc::now();
    let published = input.status == ArticleStatus::Published;
    let _gate = db.write_gate().await;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let slug = free_slug(&db.conn, &base).await?;
        let row = article::ActiveModel {
            slug: Set(slug),
            title: Set(input.title.clone()),
            body: Set(input.body.clone()),
            html: Set(Some(html.clone())),
            category_id: Set(input.category_id),
            status: Set(input.status.as_str().to_owned()),
            visibility: Set(input.visibility.as_str().to_owned()),
            author_id: Set(author_id),
            helpful_yes: Set(0),
            helpful_no: Set(0),
            views: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
            published_at: Set(published.then_some(now)),
            ..Default::default()
        };
        match row.insert(&db.conn).await {
            Ok(model) => return Ok(model.id),
            Err(e) if is_unique_violation(&e) && attempt < SLUG_ATTEMPTS => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// Edits an article. Its slug stays, so that links to it keep working after a new title. The
/// first publication sets the date the Help Center lists it by.
///
/// # Errors
/// `Forbidden` without the articles edit permission; `NotFound`; `Invalid` with messages per
/// field.
pub async fn update(db: &Db, actor: &Actor, id: i64, form: &ArticleForm) -> ServiceResult<()> {
    actor.may(Module::Articles, Action::Edit)?;
    let input = validate(form)?;
    check_category(&db.conn, input.category_id).await?;
    let html = render(input.body.clone()).await?;
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let model = article::Entity::find_by_id(id).one(&txn).await?.ok_or(ServiceError::NotFound)?;
    let now = Utc::now();
    let first_publication = input.status == ArticleStatus::Published && model.published_at.is_none();
    let mut row: article::ActiveModel = model.into();
    row.title = Set(input.title);
    row.body = Set(input.body);
    row.html = Set(Some(html));
    row.category_id = Set(input.category_id);
    row.status = Set(input.status.as_str().to_owned());
    row.visibility = Set(input.visibility.as_str().to_owned());
    row.updated_at = Set(now);
    if first_publication {
        row.published_at = Set(Some(now));
    }
    row.update(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Deletes an article for good (its full-text entry goes with it).
///
/// # Errors
/// `Forbidden` without the articles delete permission; `NotFound`.
pub async fn delete(db: &Db, actor: &Actor, id: i64) -> ServiceResult<()> {
    actor.may(Module::Articles, Action::Delete)?;
    let _gate = db.write_gate().await;
    let done = article::Entity::delete_by_id(id).exec(&db.conn).await?;
    if done.rows_affected == 0 {
        return Err(ServiceError::NotFound);
    }
    Ok(())
}
