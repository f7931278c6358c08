//! Knowledge-base categories: the shelves articles are put on, in the order the Help Center
//! shows them.

use sea_orm_migration::prelude::*;

use crate::columns::{id, index, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum ArticleCategories {
    Table,
    Id,
    Name,
    Slug,
    Description,
    Position,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ArticleCategories::Table)
                    .col(id(ArticleCategories::Id))
                    .col(ColumnDef::new(ArticleCategories::Name).string().not_null())
                    // Derived from the name, so unique slugs also keep two categories from
                    // having the same name in different case or punctuation.
                    .col(ColumnDef::new(ArticleCategories::Slug).string().not_null().unique_key())
                    .col(ColumnDef::new(ArticleCategories::Description).text().null())
                    .col(ColumnDef::new(ArticleCategories::Position).integer().not_null().default(0))
                    .col(timestamp(ArticleCategories::CreatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_article_categories_position",
            ArticleCategories::Table,
            vec![ArticleCategories::Position, ArticleCategories::Name],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ArticleCategories::Table).to_owned()).await
    }
}
