//! Running imports and test runs in the background, on every instance at once: an instance
//! takes an import by leasing it (`lease_until`), renews the lease with every chunk it writes,
//! and an import whose lease ran out (its instance stopped or was killed) is taken over where
//! it stopped. The file is read on a blocking thread and handed over a chunk at a time, so
//! memory follows the chunk, not the file; the rows a stopped run had written are read again
//! only to remember their addresses (a later duplicate of them is still a duplicate).

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::chunk::Run;
use super::file::{self, Row};
use super::lookup::Owners;
use super::Mode;
use crate::db::Db;
use crate::domain::PhoneParser;
use crate::entities::{contact_import, contact_import_file, contact_import_reject};
use crate::services::Actor;

/// Looks for imports to run every second, and runs them one at a time.
pub async fn work(db: &Db, phones: &PhoneParser, lease: Duration) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match claim(db, Utc::now(), lease).await {
            Ok(Some(import)) => {
                let (id, test) = (import.id, import.status == "testing");
                match run(db, phones, import, lease).await {
                    Ok(()) => {}
                    // The database was out of reach for a moment: the lease is let go, and this
                    // instance or another takes the import again where it stopped.
                    Err(e) if crate::db::is_transient(&e) => {
                        tracing::warn!(import = id, error = %e, "import interrupted; it resumes");
                        let _ = release(db, id).await;
                    }
                    Err(e) => {
                        tracing::warn!(import = id, error = %e, "import stopped");
                        let _ = fail(db, id, test, "The import stopped on an error; the rows before it are in.").await;
                    }
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "looking for imports failed"),
        }
    }
}

fn lease_from(now: DateTime<Utc>, lease: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(lease).unwrap_or_else(|_| chrono::Duration::seconds(30))
}

/// Leases the oldest import waiting to run, if any.
async fn claim(db: &Db, now: DateTime<Utc>, lease: Duration) -> Result<Option<contact_import::Model>, DbErr> {
    use contact_import::Column as C;
    let free = Condition::any().add(C::LeaseUntil.is_null()).add(C::LeaseUntil.lt(now));
    let Some(candidate) = contact_import::Entity::find()
        .filter(C::Status.is_in(["testing", "importing"]))
        .filter(free.clone())
        .order_by_asc(C::Id)
        .limit(1)
        .one(&db.conn)
        .await?
    else {
        return Ok(None);
    };
    let _gate = db.write_gate().await;
    let taken = contact_import::Entity::update_many()
        .col_expr(C::LeaseUntil, Expr::value(lease_from(now, lease)))
        .filter(C::Id.eq(candidate.id))
        .filter(free)
        .exec(&db.conn)
        .await?;
    if taken.rows_affected == 1 {
        Ok(contact_import::Entity::find_by_id(candidate.id).one(&db.conn).await?)
    } else {
        Ok(None)
    }
}

/// Lets go of import `id`'s lease, so that it is taken again at once.
async fn release(db: &Db, id: i64) -> Result<(), DbErr> {
    set_state(db, id, None, None).await
}

/// Sets import `id`'s status (and error) if given, and lets go of its lease.
async fn set_state(db: &Db, id: i64, status: Option<&str>, error: Option<&str>) -> Result<(), DbErr> {
    use contact_import::Column as C;
    let _gate = db.write_gate().await;
    let mut update = contact_import::Entity::update_many()
        .col_expr(C::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(C::Id.eq(id));
    if let Some(status) = status {
        update = update.col_expr(C::Status, Expr::value(status));
        if status == "tested" || status == "imported" {
            update = update.col_expr(C::FinishedAt, Expr::value(Utc::now()));
        }
    }
    if let Some(error) = error {
        update = update.col_expr(C::Error, Expr::value(error));
    }
    update.exec(&db.conn).await?;
    Ok(())
}

/// Stops import `id` for `why`. A test run wrote nothing, so its import can still be mapped
/// and started again; an import that wrote rows is `failed`, and can be reverted.
async fn fail(db: &Db, id: i64, test: bool, why: &str) -> Result<(), DbErr> {
    set_state(db, id, Some(if test { "uploaded" } else { "failed" }), Some(why)).await
}

/// The uploaded file of import `id`.
async fn file_of(db: &Db, id: i64) -> Result<Vec<u8>, DbErr> {
    let pieces = contact_import_file::Entity::find()
        .filter(contact_import_file::Column::ImportId.eq(id))
        .order_by_asc(contact_import_file::Column::Seq)
        .all(&db.conn)
        .await?;
    Ok(pieces.into_iter().flat_map(|p| p.data).collect())
}

/// Runs `import` from where it stopped to its end.
async fn run(db: &Db, phones: &PhoneParser, import: contact_import::Model, lease: Duration) -> Result<(), DbErr> {
    let test = import.status == "testing";
    let Some(actor) = Actor::load(&db.conn, import.agent_id).await.map_err(|e| DbErr::Custom(e.to_string()))? else {
        return fail(db, import.id, test, "The agent who started it is no longer active.").await;
    };
    let mode = import.mode.as_deref().and_then(Mode::from_key).unwrap_or(Mode::Add);
    // The profile may have changed since Start: it is checked again whenever a run (re)starts.
    if let Err(why) = super::setup::may_run(&actor, mode, import.create_accounts) {
        return fail(db, import.id, test, &why).await;
    }
    let mapping = super::stored_mapping(import.mapping.as_deref().unwrap_or("[]"));
    let owners = Owners::load(&db.conn).await?;
    let mut run = Run::new(import.id, actor, mapping, mode, import.create_accounts, test, owners);
    let bytes = file_of(db, import.id).await?;
    let kind = file::FileKind::from_key(&import.file_kind);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Row>>(2);
    let chunk_rows = mode.chunk_rows();
    let reader = tokio::task::spawn_blocking(move || {
        let mut chunk = Vec::with_capacity(chunk_rows);
        let mut header = true;
        let result = file::read(kind, &bytes, |row| {
            if std::mem::take(&mut header) {
                return ControlFlow::Continue(());
            }
            chunk.push(row);
            if chunk.len() == chunk_rows && tx.blocking_send(std::mem::take(&mut chunk)).is_err() {
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        });
        if !chunk.is_empty() {
            let _ = tx.blocking_send(chunk);
        }
        result
    });
    let mut skip = usize::try_from(import.done_rows).unwrap_or(usize::MAX);
    let rejected = if skip > 0 { rejected_lines(db, import.id).await? } else { HashSet::new() };
    while let Some(rows) = rx.recv().await {
        let done = skip.min(rows.len());
        for row in rows[..done].iter().filter(|r| !rejected.contains(&r.line)) {
            run.remember(row);
        }
        skip -= done;
        let rest = &rows[done..];
        let now = Utc::now();
        let _gate = db.write_gate().await;
        let txn = db.begin_write().await?;
        // The import is still this run's: nobody wrote a chunk since this run's last one. The
        // update locks the import's row on PostgreSQL, so a second runner that took it over
        // (this one was too slow to renew its lease) waits here and then finds it moved on.
        let done_rows = import.done_rows + run.rows_written;
        let ours = contact_import::Entity::update_many()
            .col_expr(contact_import::Column::LeaseUntil, Expr::value(lease_from(now, lease)))
            .filter(contact_import::Column::Id.eq(import.id))
            .filter(contact_import::Column::DoneRows.eq(done_rows))
            .filter(contact_import::Column::Status.eq(import.status.as_str()))
            .exec(&txn)
            .await?;
        if ours.rows_affected != 1 {
            return Ok(());
        }
        if !rest.is_empty() {
            run.process(&txn, phones, rest, now, lease_from(now, lease)).await?;
            run.rows_written += i64::try_from(rest.len()).unwrap_or(i64::MAX);
        }
        txn.commit().await?;
    }
    match reader.await {
        Ok(Ok(())) => {}
        Ok(Err(why)) => return fail(db, import.id, test, &why).await,
        Err(e) => return fail(db, import.id, test, &e.to_string()).await,
    }
    finish(db, import.id, if test { "tested" } else { "imported" }).await?;
    if !test {
        // An import is a bulk load: the planner's statistics follow it at once rather than when
        // autovacuum next passes (without them, PostgreSQL exported the 1,000,000 contacts of an
        // import in 276 s instead of 16 s). SQLite's `PRAGMA optimize` runs on its own schedule.
        if let Err(e) = analyze_contacts(db).await {
            tracing::warn!(import = import.id, error = %e, "refreshing statistics after an import failed");
        }
    }
    Ok(())
}

/// Fresh planner statistics for the tables an import writes (PostgreSQL).
async fn analyze_contacts(db: &Db) -> Result<(), DbErr> {
    if db.backend() != sea_orm::DbBackend::Postgres {
        return Ok(());
    }
    db.conn
        .execute_unprepared(
            "ANALYZE contacts, contact_identities, contact_search_terms, contact_fragments, accounts, events",
        )
        .await?;
    Ok(())
}

/// The lines import `id` rejected before it stopped.
async fn rejected_lines(db: &Db, id: i64) -> Result<HashSet<u64>, DbErr> {
    let lines: Vec<i64> = contact_import_reject::Entity::find()
        .select_only()
        .column(contact_import_reject::Column::Line)
        .filter(contact_import_reject::Column::ImportId.eq(id))
        .into_tuple()
        .all(&db.conn)
        .await?;
    Ok(lines.into_iter().filter_map(|l| u64::try_from(l).ok()).collect())
}

async fn finish(db: &Db, id: i64, status: &str) -> Result<(), DbErr> {
    set_state(db, id, Some(status), None).await
}
