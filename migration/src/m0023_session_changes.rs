//! On PostgreSQL, every change to what a loaded session holds (the session rows, agents, their
//! profiles, Help Center users) is announced on the `frontdesk_sessions` channel once its
//! transaction commits. Each instance listens and drops the sessions it has cached, so a
//! logout, a password change, a deactivation or a permission change on one instance holds on
//! all of them at once. SQLite has no such channel, and instances there cache nothing.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables whose updates and deletions change a loaded session. Inserts do not: a new row
/// is in no cache.
const TABLES: [&str; 4] = ["sessions", "agents", "profiles", "contacts"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        // One notification per statement (not per row): a cache is dropped whole anyway, and
        // PostgreSQL folds identical notifications of one transaction into one.
        db.execute_unprepared(
            "CREATE OR REPLACE FUNCTION frontdesk_sessions_changed() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN PERFORM pg_notify('frontdesk_sessions', ''); RETURN NULL; END $$",
        )
        .await?;
        for table in TABLES {
            db.execute_unprepared(&format!(
                "CREATE TRIGGER {table}_sessions_changed AFTER UPDATE OR DELETE ON {table} \
                 FOR EACH STATEMENT EXECUTE FUNCTION frontdesk_sessions_changed()"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for table in TABLES {
            db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {table}_sessions_changed ON {table}")).await?;
        }
        db.execute_unprepared("DROP FUNCTION IF EXISTS frontdesk_sessions_changed()").await?;
        Ok(())
    }
}
