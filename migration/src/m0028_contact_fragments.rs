//! Finding contacts by any fragment of three characters or more of their names, addresses,
//! numbers and account: one row per contact with the text of each searchable field, indexed by
//! trigrams. On SQLite an FTS5 table with the trigram tokenizer (contentless: the text lives in
//! `contacts` and `contact_identities`, the index only keeps trigrams); on PostgreSQL a table
//! with a `pg_trgm` GIN index over all the fields together, each field kept too so that a field
//! hidden from a profile is left out of its search. Rows are written by the application
//! (`services::contacts::fragments`); existing contacts are indexed here.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm").await?;
            db.execute_unprepared(
                "CREATE TABLE contact_fragments ( \
                   contact_id BIGINT PRIMARY KEY REFERENCES contacts (id) ON DELETE CASCADE, \
                   first_name TEXT NOT NULL, name TEXT NOT NULL, email TEXT NOT NULL, phone TEXT NOT NULL, \
                   mobile TEXT NOT NULL, account TEXT NOT NULL, all_text TEXT NOT NULL)",
            )
            .await?;
            db.execute_unprepared(
                "CREATE INDEX idx_contact_fragments_trgm ON contact_fragments USING gin (all_text gin_trgm_ops)",
            )
            .await?;
        } else {
            db.execute_unprepared(
                "CREATE VIRTUAL TABLE contact_fragments USING fts5( \
                   first_name, name, email, phone, mobile, account, \
                   tokenize = 'trigram', content = '', contentless_delete = 1)",
            )
            .await?;
        }
        db.execute_unprepared(&fragments_insert(manager.get_database_backend(), "TRUE")).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared("DROP TABLE IF EXISTS contact_fragments").await?;
        Ok(())
    }
}

/// The statement that indexes the contacts for which `filter` (SQL over `c`, the contact)
/// holds, from what is stored: here for every contact, and in the application for those a
/// change touched (written once, here, so that both index alike).
#[must_use]
pub fn fragments_insert(backend: DatabaseBackend, filter: &str) -> String {
    let (aggregate, target, id, all_text) = if backend == DatabaseBackend::Postgres {
        (
            "string_agg",
            "contact_fragments (contact_id, first_name, name, email, phone, mobile, account, all_text)",
            "f.id",
            ", concat_ws(' ', f.first_name, f.name, f.email, f.phone, f.mobile, f.account)",
        )
    } else {
        ("group_concat", "contact_fragments (rowid, first_name, name, email, phone, mobile, account)", "f.id", "")
    };
    format!(
        "INSERT INTO {target} SELECT {id}, f.first_name, f.name, f.email, f.phone, f.mobile, f.account{all_text} FROM ( \
           SELECT c.id, lower(coalesce(c.first_name, '')) AS first_name, lower(c.last_name) AS name, \
             coalesce((SELECT {aggregate}(i.value, ' ') FROM contact_identities i \
                       WHERE i.contact_id = c.id AND i.kind = 'email'), '') AS email, \
             coalesce(c.phone, '') AS phone, coalesce(c.mobile, '') AS mobile, \
             lower(coalesce(a.name, '')) AS account \
           FROM contacts c LEFT JOIN accounts a ON a.id = c.account_id WHERE {filter}) AS f"
    )
}
