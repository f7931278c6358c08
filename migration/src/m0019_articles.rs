//! Knowledge-base articles, and the full-text index the Help Center searches them with.
//!
//! The table is SeaQuery DSL like every other; the full-text index cannot be, because the two
//! databases do it differently. On SQLite it is an FTS5 table that reads its text from
//! `articles` (external content, so the text is stored once) and is kept in step by triggers;
//! on PostgreSQL it is a stored generated `tsvector` column with a GIN index. The service asks
//! both through one function.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

use crate::columns::{id, index, timestamp};
use crate::m0003_agents::Agents;
use crate::m0018_article_categories::ArticleCategories;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum Articles {
    Table,
    Id,
    Slug,
    Title,
    Body,
    CategoryId,
    Status,
    Visibility,
    AuthorId,
    HelpfulYes,
    HelpfulNo,
    Views,
    CreatedAt,
    UpdatedAt,
    PublishedAt,
}

/// SQLite: the FTS5 table and the triggers that keep it in step. The update trigger fires only
/// when the title or body changes, so counting a view or a vote does not touch the index.
const SQLITE_FTS_UP: &[&str] = &[
    "CREATE VIRTUAL TABLE articles_fts USING fts5(title, body, content='articles', content_rowid='id', \
     tokenize='porter unicode61')",
    "CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN \
     INSERT INTO articles_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN \
     INSERT INTO articles_fts(articles_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, body ON articles BEGIN \
     INSERT INTO articles_fts(articles_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); \
     INSERT INTO articles_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
];

const SQLITE_FTS_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS articles_fts_update",
    "DROP TRIGGER IF EXISTS articles_fts_delete",
    "DROP TRIGGER IF EXISTS articles_fts_insert",
    "DROP TABLE IF EXISTS articles_fts",
];

/// PostgreSQL: the title weighs more than the body (A over B) in `ts_rank`.
const POSTGRES_FTS_UP: &[&str] = &[
    "ALTER TABLE articles ADD COLUMN search tsvector GENERATED ALWAYS AS \
     (setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B')) STORED",
    "CREATE INDEX idx_articles_search ON articles USING GIN (search)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Articles::Table)
                    .col(id(Articles::Id))
                    .col(ColumnDef::new(Articles::Slug).string().not_null().unique_key())
                    .col(ColumnDef::new(Articles::Title).string().not_null())
                    .col(ColumnDef::new(Articles::Body).text().not_null())
                    .col(ColumnDef::new(Articles::CategoryId).big_integer().null())
                    .col(ColumnDef::new(Articles::Status).string().not_null())
                    .col(ColumnDef::new(Articles::Visibility).string().not_null())
                    .col(ColumnDef::new(Articles::AuthorId).big_integer().not_null())
                    .col(ColumnDef::new(Articles::HelpfulYes).big_integer().not_null().default(0))
                    .col(ColumnDef::new(Articles::HelpfulNo).big_integer().not_null().default(0))
                    .col(ColumnDef::new(Articles::Views).big_integer().not_null().default(0))
                    .col(timestamp(Articles::CreatedAt))
                    .col(timestamp(Articles::UpdatedAt))
                    .col(ColumnDef::new(Articles::PublishedAt).timestamp_with_time_zone().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Articles::Table, Articles::CategoryId)
                            .to(ArticleCategories::Table, ArticleCategories::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create().from(Articles::Table, Articles::AuthorId).to(Agents::Table, Agents::Id),
                    )
                    .to_owned(),
            )
            .await?;
        indexes(manager).await?;
        let statements = match manager.get_database_backend() {
            DatabaseBackend::Sqlite => SQLITE_FTS_UP,
            DatabaseBackend::Postgres => POSTGRES_FTS_UP,
            DatabaseBackend::MySql => return Err(DbErr::Migration("MySQL is not supported".into())),
        };
        for sql in statements {
            manager.get_connection().execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Sqlite {
            for sql in SQLITE_FTS_DOWN {
                manager.get_connection().execute_unprepared(sql).await?;
            }
        }
        manager.drop_table(Table::drop().table(Articles::Table).to_owned()).await
    }
}

/// The indexes behind the Help Center home (recent and popular published articles a viewer
/// may see), the console list (newest changes first) and a category's articles.
async fn indexes(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use Articles::*;
    index(manager, "idx_articles_recent", Table, vec![Status, Visibility, PublishedAt, Id]).await?;
    index(manager, "idx_articles_popular", Table, vec![Status, Visibility, Views, Id]).await?;
    index(manager, "idx_articles_updated", Table, vec![UpdatedAt, Id]).await?;
    index(manager, "idx_articles_category", Table, vec![CategoryId, UpdatedAt, Id]).await
}
