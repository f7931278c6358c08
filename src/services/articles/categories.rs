//! Knowledge-base categories: list, add, rename, delete. Deleting a category keeps its
//! articles, uncategorised.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, JoinType, QueryFilter,
    QueryOrder, QuerySelect, RelationTrait,
};

use crate::db::Db;
use crate::domain::article::{slugify, CategoryForm};
use crate::entities::{article, article_category};
use crate::services::{is_unique_violation, ServiceError, ServiceResult};

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

/// Every category in display order, with its article counts. One query.
///
/// # Errors
/// Database errors.
pub async fn categories(conn: &DatabaseConnection) -> ServiceResult<Vec<CategoryRow>> {
    Ok(rows()
        .order_by_asc(article_category::Column::Position)
        .order_by_asc(article_category::Column::Name)
        .order_by_asc(article_category::Column::Id)
        .into_model::<CategoryRow>()
        .all(conn)
        .await?)
}

/// One category.
///
/// # Errors
/// `NotFound`.
pub async fn category(conn: &DatabaseConnection, id: i64) -> ServiceResult<CategoryRow> {
    rows()
        .filter(article_category::Column::Id.eq(id))
        .into_model::<CategoryRow>()
        .one(conn)
        .await?
        .ok_or(ServiceError::NotFound)
}

fn duplicate_name() -> ServiceError {
    ServiceError::field("name", "A category with this name exists already.")
}

/// Adds a category after the others. Returns its id.
///
/// # Errors
/// `Invalid` with messages per field (a name too like another's).
pub async fn create_category(db: &Db, form: &CategoryForm) -> ServiceResult<i64> {
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
    match row.insert(&db.conn).await {
        Ok(model) => Ok(model.id),
        Err(e) if is_unique_violation(&e) => Err(duplicate_name()),
        Err(e) => Err(e.into()),
    }
}

/// Renames a category (and changes its description).
///
/// # Errors
/// `NotFound`; `Invalid` with messages per field.
pub async fn update_category(db: &Db, id: i64, form: &CategoryForm) -> ServiceResult<()> {
    let input = form.parse().map_err(ServiceError::Invalid)?;
    let _gate = db.write_gate().await;
    let model = article_category::Entity::find_by_id(id).one(&db.conn).await?.ok_or(ServiceError::NotFound)?;
    let mut row: article_category::ActiveModel = model.into();
    row.slug = Set(slugify(&input.name));
    row.name = Set(input.name);
    row.description = Set(input.description);
    match row.update(&db.conn).await {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Err(duplicate_name()),
        Err(e) => Err(e.into()),
    }
}

/// Deletes a category; its articles stay, uncategorised.
///
/// # Errors
/// `NotFound`.
pub async fn delete_category(db: &Db, id: i64) -> ServiceResult<()> {
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
