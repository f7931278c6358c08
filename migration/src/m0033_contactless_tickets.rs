//! A ticket may have no contact (yet): a WhatsApp message sent by an agent whose profile may
//! not create contacts, to a number no contact has, opens a ticket that an agent (or the
//! customer's answer) links to a contact later. `tickets.contact_id` and
//! `whatsapp_conversations.contact_id` become nullable.
//!
//! PostgreSQL drops the NOT NULL in place. SQLite cannot alter a column, so each table is
//! rebuilt as SQLite's documentation prescribes (lang_altertable.html, "Making Other Kinds Of
//! Table Schema Changes"): on one connection, with foreign keys off (else dropping `tickets`
//! would cascade into the tables that point at it), in one transaction: a copy of the table's
//! own `CREATE TABLE` without the NOT NULL, the rows copied with their ids, the old table
//! dropped, the copy renamed, then every index and trigger the old table had created again
//! from the schema's own text (the FTS triggers of `tickets_fts` among them; the FTS table
//! reads `tickets` by name and rowid, both unchanged), and `PRAGMA foreign_key_check` must
//! find nothing before the commit. Tables that point at `tickets` keep pointing at it by name.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::sqlx::sqlite::SqlitePoolOptions;
use sea_orm_migration::sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, SqlxSqliteConnector, Statement, TransactionTrait,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables and their column that may now be null.
const COLUMNS: [(&str, &str); 2] = [("tickets", "contact_id"), ("whatsapp_conversations", "contact_id")];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        change(manager, true).await
    }

    /// Fails while a ticket has no contact: link them first.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        change(manager, false).await
    }
}

async fn change(manager: &SchemaManager<'_>, nullable: bool) -> Result<(), DbErr> {
    if manager.get_database_backend() == DatabaseBackend::Postgres {
        let db = manager.get_connection();
        let how = if nullable { "DROP" } else { "SET" };
        for (table, column) in COLUMNS {
            db.execute_unprepared(&format!("ALTER TABLE \"{table}\" ALTER COLUMN \"{column}\" {how} NOT NULL")).await?;
        }
        return Ok(());
    }
    // PRAGMA foreign_keys is per connection and a no-op inside a transaction: the rebuild needs
    // one connection of its own, not whichever the pool hands each statement. A pool of one
    // connection to the same file, closed when done.
    let SchemaManagerConnection::Connection(db) = manager.get_connection() else {
        return Err(DbErr::Migration("m0033 rebuilds tables: on SQLite it runs outside a transaction".into()));
    };
    let options = db.get_sqlite_connection_pool().connect_options().as_ref().clone();
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(|e| DbErr::Migration(format!("m0033: {e}")))?;
    let one = SqlxSqliteConnector::from_sqlx_sqlite_pool(pool);
    one.execute_unprepared("PRAGMA foreign_keys = OFF").await?;
    let rebuilt = rebuild_all(&one, nullable).await;
    let closed = one.close().await;
    rebuilt.and(closed)
}

async fn rebuild_all(one: &DatabaseConnection, nullable: bool) -> Result<(), DbErr> {
    let txn = one.begin().await?;
    for (table, column) in COLUMNS {
        rebuild(&txn, table, column, nullable).await?;
    }
    let broken = txn.query_all(Statement::from_string(DatabaseBackend::Sqlite, "PRAGMA foreign_key_check")).await?;
    if let Some(row) = broken.first() {
        let table: String = row.try_get_by_index(0).unwrap_or_default();
        return Err(DbErr::Migration(format!("m0033: a foreign key of {table} points nowhere after the rebuild")));
    }
    txn.commit().await
}

/// The `sql` column of the schema's rows that `filter` (with `table` for its `?`) selects.
async fn schema_sql<C: ConnectionTrait>(conn: &C, filter: &str, table: &str) -> Result<Vec<String>, DbErr> {
    let sql = format!("SELECT sql FROM sqlite_master WHERE {filter} ORDER BY type, name");
    let rows = conn.query_all(Statement::from_sql_and_values(DatabaseBackend::Sqlite, sql, [table.into()])).await?;
    rows.iter().map(|row| row.try_get_by_index::<String>(0)).collect()
}

/// Rebuilds `table` with `column` nullable (or NOT NULL again).
async fn rebuild<C: ConnectionTrait>(conn: &C, table: &str, column: &str, nullable: bool) -> Result<(), DbErr> {
    let create = schema_sql(conn, "type = 'table' AND name = ?", table).await?.pop().unwrap_or_default();
    let strict = format!("\"{column}\" bigint NOT NULL");
    let loose = format!("\"{column}\" bigint NULL");
    let (from, to) = if nullable { (&strict, &loose) } else { (&loose, &strict) };
    let head = format!("CREATE TABLE \"{table}\"");
    let rebuilt = format!("{table}_rebuilt");
    let definition = match create.strip_prefix(&head) {
        Some(rest) if rest.matches(from.as_str()).count() == 1 => rest.replacen(from.as_str(), to, 1),
        _ => return Err(DbErr::Migration(format!("m0033: {table} is not as expected: {create}"))),
    };
    // Its indexes and triggers (automatic indexes of UNIQUE columns have no text: the new
    // table's definition makes them again).
    let others = schema_sql(conn, "tbl_name = ? AND type IN ('index', 'trigger') AND sql IS NOT NULL", table).await?;
    let mut statements = vec![
        format!("CREATE TABLE \"{rebuilt}\"{definition}"),
        format!("INSERT INTO \"{rebuilt}\" SELECT * FROM \"{table}\""),
        // The copy's id counter continues the old table's, past ids of rows purged before: an
        // id is never given twice (no row of an AUTOINCREMENT-less table is touched).
        format!(
            "UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT seq FROM sqlite_sequence \
             WHERE name = '{table}'), 0)) WHERE name = '{rebuilt}'"
        ),
        format!("DROP TABLE \"{table}\""),
        // Legacy renaming touches only the renamed table: nothing else names the copy, and the
        // tables that point at the old name must keep it.
        "PRAGMA legacy_alter_table = ON".to_owned(),
        format!("ALTER TABLE \"{rebuilt}\" RENAME TO \"{table}\""),
        "PRAGMA legacy_alter_table = OFF".to_owned(),
    ];
    statements.extend(others);
    for sql in statements {
        conn.execute_unprepared(&sql).await?;
    }
    Ok(())
}
