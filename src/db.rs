//! Connecting to the database the URL names, and running migrations.
//!
//! SQLite runs in WAL mode with a busy timeout. SQLite allows one writer at a time and a
//! deferred transaction that reads before it writes can fail at once with `SQLITE_BUSY`, so
//! write transactions on SQLite take an in-process gate first ([`Db::write_gate`]); on
//! PostgreSQL the gate is a no-op. A SQLite database's files are private to the instance's
//! user (`files`).

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqlxSqliteConnector, TransactionTrait,
};
use sea_orm::{QueryResult, Statement, Value};
use tokio::sync::{Mutex, MutexGuard};

mod files;

/// An update that matches no row: enough to take SQLite's write lock (see [`Db::begin_write`]).
const TAKE_WRITE_LOCK: &str = "UPDATE settings SET value = value WHERE 0";

/// A connection pool plus the write gate.
#[derive(Clone, Debug)]
pub struct Db {
    pub conn: DatabaseConnection,
    gate: Option<Arc<Mutex<()>>>,
    /// SQLite: the one connection write transactions run on. A connection drops its page cache
    /// whenever another connection has committed; with every write on this one, it keeps the
    /// pages it wrote last instead of reading them back from the write-ahead log each time.
    writer: Option<DatabaseConnection>,
}

/// `stmt` with its trailing `LIMIT` parameter written into the SQL as a number. PostgreSQL
/// plans a prepared statement afresh on every execution while its LIMIT is a parameter (its
/// generic plan looks costlier than a custom one), and for a list page that planning costs
/// more than running the query (0.36 ms against 0.17 ms measured); with the number in the text
/// it settles on one generic plan per statement. Statements without a trailing LIMIT
/// parameter are returned as they are.
#[must_use]
pub fn inline_limit(mut stmt: Statement) -> Statement {
    let Some(values) = stmt.values.as_mut() else { return stmt };
    let count = values.0.len();
    let placeholder = match stmt.db_backend {
        DbBackend::Postgres => format!("LIMIT ${count}"),
        _ => "LIMIT ?".to_owned(),
    };
    let sql = stmt.sql.trim_end();
    if count == 0 || !sql.ends_with(&placeholder) {
        return stmt;
    }
    let limit = match values.0.last() {
        Some(Value::BigUnsigned(Some(n))) => *n,
        Some(Value::BigInt(Some(n))) if *n >= 0 => n.unsigned_abs(),
        _ => return stmt,
    };
    values.0.pop();
    stmt.sql = format!("{}LIMIT {limit}", &sql[..sql.len() - placeholder.len()]);
    stmt
}

/// A keyset page fetched with one row more than `size`: cuts it back to `size` and gives the
/// next page's cursor (`key` of its last row) when that extra row said there is more.
pub fn next_page<T, K>(rows: &mut Vec<T>, size: u64, key: impl Fn(&T) -> K) -> Option<K> {
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    if rows.len() <= size {
        return None;
    }
    rows.truncate(size);
    rows.last().map(key)
}

impl Db {
    /// Connects to an existing database at `url` (`sqlite://...` or `postgres://...`) and
    /// applies pending migrations; for short-lived commands (`ingest-mail`), which must not pay
    /// for statistics, nor create an empty SQLite file where a mistyped or missing
    /// `DATABASE_URL` points and store mail there that no one will ever see.
    ///
    /// # Errors
    /// When the database cannot be reached (or the SQLite file is not there) or a migration
    /// fails.
    pub async fn open(url: &str, pool_size: u32) -> Result<Self, DbErr> {
        Self::open_with(url, pool_size, false).await
    }

    async fn open_with(url: &str, pool_size: u32, create: bool) -> Result<Self, DbErr> {
        let db = if url.starts_with("sqlite:") {
            let options =
                SqliteConnectOptions::from_str(url).map_err(|e| DbErr::Custom(format!("bad SQLite URL: {e}")))?;
            if create && crate::config::sqlite_file(url).is_some() {
                let file = options.get_filename();
                files::make_private(file).map_err(|e| {
                    DbErr::Custom(format!("cannot create {} with private permissions: {e}", file.display()))
                })?;
            }
            let options = options
                .create_if_missing(create)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                // Reads through a memory map and a larger page cache instead of a read()
                // system call per page: most of a page view's cost otherwise. Only the file's
                // size is mapped; this is the most (64 GB; the build allows it, see
                // .cargo/config.toml).
                .pragma("mmap_size", "68719476736")
                .pragma("cache_size", "-32000")
                .pragma("temp_store", "memory")
                // `PRAGMA optimize` runs at start-up and every ten minutes; sampling at most
                // this many rows per index keeps each run to milliseconds even at a million
                // contacts (an unbounded ANALYZE took 1.8 s at 100,000 and holds the write lock).
                .pragma("analysis_limit", "1000")
                // The checkpointer (see `checkpoint`) copies the write-ahead log back into the
                // database in the background; a committing writer does it only when the log has
                // grown past this many pages (64 MB), so a write is not stalled for seconds by a
                // checkpoint at the default 1,000 pages.
                .pragma("wal_autocheckpoint", "16384");
            let pool = |size: u32| {
                SqlitePoolOptions::new()
                    .max_connections(size)
                    // A ping before every query doubles the round trips to the connection's
                    // worker thread; a broken SQLite connection is not something a ping would
                    // catch anyway.
                    .test_before_acquire(false)
                    .connect_with(options.clone())
            };
            let sqlx_err = |e| DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e));
            let readers = pool(pool_size.max(1)).await.map_err(sqlx_err)?;
            // A one-connection process (`ingest-mail`) writes on the one it has.
            let writer = match pool_size {
                0 | 1 => None,
                _ => Some(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool(1).await.map_err(sqlx_err)?)),
            };
            Self {
                conn: SqlxSqliteConnector::from_sqlx_sqlite_pool(readers),
                gate: Some(Arc::new(Mutex::new(()))),
                writer,
            }
        } else {
            let mut options = ConnectOptions::new(url);
            options
                .max_connections(pool_size.max(1))
                .min_connections(1)
                .connect_timeout(Duration::from_secs(10))
                // No ping before every query: it costs a round trip each time, and a dropped
                // connection surfaces as an error that the pool replaces.
                .test_before_acquire(false)
                .sqlx_logging(false);
            Self { conn: Database::connect(options).await?, gate: None, writer: None }
        };
        db.migrate().await?;
        Ok(db)
    }

    /// Applies pending migrations. On PostgreSQL several instances may start at once on a new
    /// database: each takes a lock for the length of its migration transaction, so one migrates
    /// and the others, let in after it, find nothing left to do (without it, two created the
    /// same tables and all but one failed to start).
    async fn migrate(&self) -> Result<(), DbErr> {
        if self.backend() != DbBackend::Postgres {
            return Migrator::up(&self.conn, None).await;
        }
        let txn = self.conn.begin().await?;
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(hashtext('frontdesk migrations'))").await?;
        Migrator::up(&txn, None).await?;
        txn.commit().await
    }

    /// Connects to `url`, creating the SQLite file if it is not there yet, applies pending
    /// migrations and refreshes the planner's statistics (see [`Db::optimize`]): what a
    /// long-running instance does at start-up.
    ///
    /// # Errors
    /// When the database cannot be reached or a migration fails.
    pub async fn connect(url: &str, pool_size: u32) -> Result<Self, DbErr> {
        let db = Self::open_with(url, pool_size, true).await?;
        db.optimize().await?;
        Ok(db)
    }

    /// Refreshes the query planner's statistics where that is cheap to ask for: SQLite's
    /// `PRAGMA optimize` (it analyses only tables whose statistics are stale). Without
    /// statistics SQLite may scan the name index for a search instead of looking up the few
    /// matching rows. PostgreSQL's autovacuum does this by itself.
    ///
    /// # Errors
    /// Database errors.
    pub async fn optimize(&self) -> Result<(), DbErr> {
        if self.backend() == DbBackend::Sqlite {
            self.conn.execute_unprepared("PRAGMA optimize=0x10002").await?;
        }
        Ok(())
    }

    /// Gathers fresh statistics on every table after a bulk load; on PostgreSQL also marks the
    /// pages all-visible, so that index-only scans need not visit the table.
    ///
    /// # Errors
    /// Database errors.
    pub async fn analyze(&self) -> Result<(), DbErr> {
        let sql = if self.backend() == DbBackend::Postgres { "VACUUM ANALYZE" } else { "ANALYZE" };
        self.conn.execute_unprepared(sql).await?;
        Ok(())
    }

    /// Waits for the right to write on SQLite; returns at once on PostgreSQL.
    pub async fn write_gate(&self) -> Option<MutexGuard<'_, ()>> {
        match &self.gate {
            Some(gate) => Some(gate.lock().await),
            None => None,
        }
    }

    /// On SQLite, copies what the write-ahead log holds back into the database without waiting
    /// for readers or blocking writers (`PASSIVE`), so that the log restarts small and writers
    /// never pay for a checkpoint. Run every second by the server; nothing on PostgreSQL.
    ///
    /// # Errors
    /// Database errors.
    pub async fn checkpoint(&self) -> Result<(), DbErr> {
        if self.backend() == DbBackend::Sqlite {
            self.conn.execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)").await?;
        }
        Ok(())
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock at once, as
    /// `BEGIN IMMEDIATE` would: a transaction that reads first and writes later fails with
    /// SQLITE_BUSY_SNAPSHOT when another connection (a session update, say) committed in
    /// between, and no busy timeout can cure that. An update that matches no row is enough to
    /// take the lock.
    ///
    /// # Errors
    /// Database errors.
    pub async fn begin_write(&self) -> Result<DatabaseTransaction, DbErr> {
        let txn = self.writer.as_ref().unwrap_or(&self.conn).begin().await?;
        if self.backend() == DbBackend::Sqlite {
            txn.execute_unprepared(TAKE_WRITE_LOCK).await?;
        }
        Ok(txn)
    }

    /// [`Db::begin_write`], and the first query's row. On SQLite the query goes in one string
    /// with the update that takes the lock, which SQLite runs first: one round trip to its
    /// worker thread fewer, for the writes that count them (piped mail).
    ///
    /// # Errors
    /// Database errors.
    pub async fn begin_write_reading(
        &self,
        first: Statement,
    ) -> Result<(DatabaseTransaction, Option<QueryResult>), DbErr> {
        let txn = self.writer.as_ref().unwrap_or(&self.conn).begin().await?;
        let first = match self.backend() {
            DbBackend::Sqlite => Statement { sql: format!("{TAKE_WRITE_LOCK}; {}", first.sql), ..first },
            _ => first,
        };
        let row = txn.query_one(first).await?;
        Ok((txn, row))
    }

    /// Which database this is.
    #[must_use]
    pub fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }
}

/// Reserves `count` new ids of `table` (one with an autoincrement `id`), for rows a caller
/// inserts with their ids set, so that it can write rows that name each other in one round
/// trip. PostgreSQL takes them from the table's sequence; SQLite moves the table's
/// `sqlite_sequence` counter on, which needs the write lock (`Db::begin_write`) held until the
/// rows are in. An id taken and not used is a gap, as after a rolled-back insert.
///
/// # Errors
/// Database errors.
pub async fn reserve_ids<C: ConnectionTrait>(conn: &C, table: &'static str, count: usize) -> Result<Vec<i64>, DbErr> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let n = i64::try_from(count).unwrap_or(i64::MAX);
    let backend = conn.get_database_backend();
    if backend == DbBackend::Postgres {
        let rows = conn
            .query_all(Statement::from_sql_and_values(
                backend,
                "SELECT nextval(pg_get_serial_sequence($1, 'id')) AS id FROM generate_series(1, $2)",
                [table.into(), n.into()],
            ))
            .await?;
        return rows.iter().map(|r| r.try_get::<i64>("", "id")).collect();
    }
    // Past the largest id too: AUTOINCREMENT takes the larger of the two for its next row.
    let moved = conn
        .query_one(Statement::from_sql_and_values(
            backend,
            format!(
                "UPDATE sqlite_sequence SET seq = MAX(seq, (SELECT COALESCE(MAX(id), 0) FROM \"{table}\")) + ? \
                 WHERE name = ? RETURNING seq"
            ),
            [n.into(), table.into()],
        ))
        .await?;
    let last: i64 = match moved {
        Some(row) => row.try_get("", "seq")?,
        // A table that never had a row has no counter yet.
        None => conn
            .query_one(Statement::from_sql_and_values(
                backend,
                format!(
                    "INSERT INTO sqlite_sequence (name, seq) SELECT ?, COALESCE(MAX(id), 0) + ? FROM \"{table}\" \
                     RETURNING seq"
                ),
                [table.into(), n.into()],
            ))
            .await?
            .ok_or_else(|| DbErr::RecordNotFound(format!("the id counter of {table}")))?
            .try_get("", "seq")?,
    };
    Ok((last - n + 1..=last).collect())
}

/// Runs `statements` one after the other on `conn`. On SQLite they go as one string, which
/// sqlx runs a statement at a time, taking the values in order: one round trip to SQLite's
/// worker thread instead of one each. That needs positional placeholders (`?`), as sea-query
/// builds them for SQLite; a hand-written `$1` would take the first statement's value.
///
/// # Errors
/// Database errors.
pub async fn execute_all<C: ConnectionTrait>(conn: &C, statements: Vec<Statement>) -> Result<(), DbErr> {
    if conn.get_database_backend() != DbBackend::Sqlite {
        for statement in statements {
            conn.execute(statement).await?;
        }
        return Ok(());
    }
    let (mut sql, mut values) = (String::new(), Vec::new());
    for statement in statements {
        debug_assert!(!statement.sql.contains('$'), "numbered placeholders in {}", statement.sql);
        sql.push_str(&statement.sql);
        sql.push_str(";\n");
        values.extend(statement.values.map(|v| v.0).unwrap_or_default());
    }
    conn.execute(Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)).await?;
    Ok(())
}

/// Whether `err` says the database is unavailable or busy right now (worth trying again
/// later), rather than that it refused this particular statement.
#[must_use]
pub fn is_transient(err: &DbErr) -> bool {
    use sea_orm::{sqlx, RuntimeErr};
    let sqlx_err = match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    match sqlx_err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            // SQLite: BUSY and LOCKED with their extended codes. PostgreSQL: connection
            // exceptions (08…), serialization failures and deadlocks, insufficient resources
            // (53…), shutdowns (57P…).
            matches!(code.as_ref(), "5" | "6" | "261" | "262" | "517" | "40001" | "40P01")
                || code.starts_with("08")
                || code.starts_with("53")
                || code.starts_with("57P")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::inline_limit;
    use sea_orm::{DbBackend, EntityTrait, QuerySelect, QueryTrait};

    #[test]
    fn the_trailing_limit_becomes_a_number_on_both_databases() {
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            let stmt = crate::entities::contact::Entity::find().limit(26).build(backend);
            let params = stmt.values.as_ref().map_or(0, |v| v.0.len());
            let inlined = inline_limit(stmt);
            assert!(inlined.sql.ends_with("LIMIT 26"), "{}", inlined.sql);
            assert_eq!(inlined.values.as_ref().map_or(0, |v| v.0.len()), params - 1);
        }
        let plain = crate::entities::contact::Entity::find().build(DbBackend::Postgres);
        assert_eq!(inline_limit(plain.clone()).sql, plain.sql);
        // LIMIT followed by OFFSET, or a statement whose last value is a number but not a
        // LIMIT, is left alone.
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            let paged = crate::entities::contact::Entity::find().limit(26).offset(50).build(backend);
            assert_eq!(inline_limit(paged.clone()).sql, paged.sql);
            let by_id = crate::entities::contact::Entity::find_by_id(7).build(backend);
            assert_eq!(inline_limit(by_id.clone()).sql, by_id.sql);
        }
    }
}
