//! Knowledge-base categories: list, add, rename, delete, each with the acting agent's articles
//! permission for it. Deleting a category keeps its articles, uncategorised.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, JoinType, QueryFilter,
    QueryOrder, QuerySelect, RelationTrait,
};

use crate::db::Db;
use crate::domain::article::{slugify, CategoryForm};
use crate::domain::{Action, Module};
use crate::entities::{article, article_category};
use crate::services::{Actor, ServiceError, ServiceResult};

/// A category with the number of its articles (any status).
#[derive(Clone, Debug, sea_orm::FromQueryResult)]
pub struct CategoryRow {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    pub position: i32,
    pub articles: i64,
}

fn rows() -> sea_orm::Select<article_category::Entity> {
    use article_category::Column as C;
    article_category::Entity::find()
        .select_only()
        .columns([C::Id, C::Name, C::Slug, C::Description, C::Position])
        .column_as(article::Column::Id.count(), "articles")
        .join(JoinType::LeftJoin, article_category::Relation::Article.def())
        .group_by(C::Id)
        .group_by(C::Name)
        .group_by(C::Slug)
        .group_by(C::Description)
        .group_by(C::Position)
}

/// Every category in display order, with its article counts, for an agent who may view
/// articles (the list, the categories page) or write them (the article form's picker). One
/// query.
///
/// # Errors
/// `Forbidden` for any other profile (the message names the view permission); database
/// errors.
pub async fn categories(conn: &DatabaseConnection, actor: &Actor) -> ServiceResult<Vec<CategoryRow>> {
    if !actor.can(Module::Articles, Action::Create) && !actor.can(Module::Articles, Action::Edit) {
        actor.may(Module::Articles, Action::View)?;
    }
    Ok(rows()
        .order_by_asc(article_category::Column::Position)
        .order_by_asc(article_category::Column::Name)
        .order_by_asc(article_category::Column::Id)
        .into_model::<CategoryRow>()
        .all(conn)
        .await?)
}

/// One category, for the delete confirmation.
///
/// # Errors
/// `Forbidden` without the articles delete permission; `NotFound`.
pub async fn category(conn: &DatabaseConnection, actor: &Actor, id: i64) -> ServiceResult<CategoryRow> {
    actor.may(Module::Articles, Action::Delete)?;
    rows()
        .filter(article_category::Column::Id.eq(id))
        .into_model::<CategoryRow>()
        .one(conn)
        .await?
        .ok_or(ServiceError::NotFound)
}

/// A name another category has (its slug, made from the name, is unique) as the form's
/// message; any other error as it is.
fn name_taken(e: sea_orm::DbErr) -> ServiceError {
    ServiceError::from_unique(e, &[("article_categories.slug", "name", "A category with this name exists already.")])
}

/// Adds a category after the others. Returns its id.
///
/// # Errors
/// `Forbidden` without the articles create permission; `Invalid` with messages per field (a
/// name too like another's).
pub async fn create_category(db: &Db, actor: &Actor, form: &CategoryForm) -> ServiceResult<i64> {
    actor.may(Module::Articles, Action::Create)?;
    let input = form.parse().map_err(ServiceError::Invalid)?;
    let _gate = db.write_gate().await;
    let last: Option<Option<i32>> = article_category::Entity::find()
        .select_only()
        .column_as(article_category::Column::Position.max(), "max")
        .into_tuple()
        .one(&db.conn)
        .await?;
    let row = article_category::ActiveModel {
        slug: Set(slugify(&input.name)),
        name: Set(input.name),
        description: Set(input.description),
        position: Set(last.flatten().map_or(0, |p| p.saturating_add(1))),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    Ok(row.insert(&db.conn).await.map_err(name_taken)?.id)
}

/// Renames a category (and changes its description).
///
/// # Errors
/// `Forbidden` without the articles edit permission; `NotFound`; `Invalid` with messages per
/// field.
pub async fn update_category(db: &Db, actor: &Actor, id: i64, form: &CategoryForm) -> ServiceResult<()> {
    actor.may(Module::Articles, Action::Edit)?;
    let input = form.parse().map_err(ServiceError::Invalid)?;
    let _gate = db.write_gate().await;
    let model = article_category::Entity::find_by_id(id).one(&db.conn).await?.ok_or(ServiceError::NotFound)?;
    let mut row: article_category::ActiveModel = model.into();
    row.slug = Set(slugify(&input.name));
    row.name = Set(input.name);
    row.description = Set(input.description);
    row.update(&db.conn).await.map_err(name_taken)?;
    Ok(())
}

/// Deletes a category; its articles stay, uncategorised.
///
/// # Errors
/// `Forbidden` without the articles delete permission; `NotFound`.
pub async fn delete_category(db: &Db, actor: &Actor, id: i64) -> ServiceResult<()> {
    actor.may(Module::Articles, Action::Delete)?;
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    // The foreign key says ON DELETE SET NULL too; saying it here keeps it true on a database
    // whose foreign keys are off.
    article::Entity::update_many()
        .col_expr(article::Column::CategoryId, Expr::value(Option::<i64>::None))
        .filter(article::Column::CategoryId.eq(id))
        .exec(&txn)
        .await?;
    let done = article_category::Entity::delete_by_id(id).exec(&txn).await?;
    if done.rows_affected == 0 {
        return Err(ServiceError::NotFound);
    }
    txn.commit().await?;
    Ok(())
}
