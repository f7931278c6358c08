//! Searching tickets by the words of their subject, from an index on both databases: on SQLite
//! an FTS5 table that reads from `tickets` (kept in step by triggers), on PostgreSQL a stored
//! generated `tsvector` with a GIN index. The `simple` configuration (no stemming, no stop
//! words) because agents type parts of words and product names, matched as prefixes.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_UP: &[&str] = &[
    "CREATE VIRTUAL TABLE tickets_fts USING fts5(subject, content='tickets', content_rowid='id', \
     tokenize='unicode61 remove_diacritics 2')",
    "INSERT INTO tickets_fts(tickets_fts) VALUES ('rebuild')",
    "CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets BEGIN \
     INSERT INTO tickets_fts(rowid, subject) VALUES (new.id, new.subject); END",
    "CREATE TRIGGER tickets_fts_delete AFTER DELETE ON tickets BEGIN \
     INSERT INTO tickets_fts(tickets_fts, rowid, subject) VALUES ('delete', old.id, old.subject); END",
    "CREATE TRIGGER tickets_fts_update AFTER UPDATE OF subject ON tickets BEGIN \
     INSERT INTO tickets_fts(tickets_fts, rowid, subject) VALUES ('delete', old.id, old.subject); \
     INSERT INTO tickets_fts(rowid, subject) VALUES (new.id, new.subject); END",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS tickets_fts_update",
    "DROP TRIGGER IF EXISTS tickets_fts_delete",
    "DROP TRIGGER IF EXISTS tickets_fts_insert",
    "DROP TABLE IF EXISTS tickets_fts",
];

const POSTGRES_UP: &[&str] = &[
    "ALTER TABLE tickets ADD COLUMN subject_search tsvector GENERATED ALWAYS AS (to_tsvector('simple', subject)) STORED",
    "CREATE INDEX idx_tickets_subject_search ON tickets USING GIN (subject_search)",
];

const POSTGRES_DOWN: &[&str] =
    &["DROP INDEX IF EXISTS idx_tickets_subject_search", "ALTER TABLE tickets DROP COLUMN IF EXISTS subject_search"];

async fn run(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    let db = manager.get_connection();
    for sql in statements {
        db.execute_unprepared(sql).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => run(manager, POSTGRES_UP).await,
            _ => run(manager, SQLITE_UP).await,
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => run(manager, POSTGRES_DOWN).await,
            _ => run(manager, SQLITE_DOWN).await,
        }
    }
}
