//! `articles`: knowledge-base articles. The full-text index (an FTS5 table on SQLite, the
//! generated `search` column on PostgreSQL) is not part of the entity: only the search
//! service's backend-specific SQL reads it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "articles")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub slug: String,
    pub title: String,
    /// Markdown, as the agent wrote it.
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub category_id: Option<i64>,
    /// `draft` or `published` ([`crate::domain::article::ArticleStatus`]).
    pub status: String,
    /// `everyone` or `registered` ([`crate::domain::article::Visibility`]).
    pub visibility: String,
    pub author_id: i64,
    pub helpful_yes: i64,
    pub helpful_no: i64,
    pub views: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub published_at: Option<DateTimeUtc>,
    /// `body` rendered and sanitised, safe to print; NULL until made (see
    /// `services::articles::html`).
    #[sea_orm(column_type = "Text")]
    pub html: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::article_category::Entity",
        from = "Column::CategoryId",
        to = "super::article_category::Column::Id",
        on_delete = "SetNull"
    )]
    Category,
    #[sea_orm(belongs_to = "super::agent::Entity", from = "Column::AuthorId", to = "super::agent::Column::Id")]
    Author,
}

impl Related<super::article_category::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Category.def()
    }
}

impl Related<super::agent::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Author.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
