//! Running imports and test runs in the background, on every instance at once: an instance
//! takes an import by leasing it (`lease_until`), renews the lease with every chunk it writes,
//! and an import whose lease ran out (its instance stopped or was killed) is taken over where
//! it stopped. The file is read on a blocking thread and handed over a chunk at a time, so
//! memory follows the chunk, not the file; the rows a stopped run had written are read again
//! only to remember their addresses (a later duplicate of them is still a duplicate).

use std::ops::ControlFlow;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::chunk::Run;
use super::file::{self, Row};
use super::lookup::Owners;
use super::{Mode, CHUNK_ROWS};
use crate::db::Db;
use crate::domain::import_fields::ImportField;
use crate::domain::PhoneParser;
use crate::entities::{contact_import, contact_import_file};
use crate::services::Actor;

/// Looks for imports to run every second, and runs them one at a time.
pub async fn work(db: &Db, phones: &PhoneParser, lease: Duration) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match claim(db, Utc::now(), lease).await {
            Ok(Some(import)) => {
                let id = import.id;
                if let Err(e) = run(db, phones, import, lease).await {
                    tracing::warn!(import = id, error = %e, "import stopped");
                    let _ = fail(db, id, &e.to_string()).await;
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

async fn fail(db: &Db, id: i64, why: &str) -> Result<(), DbErr> {
    use contact_import::Column as C;
    let _gate = db.write_gate().await;
    contact_import::Entity::update_many()
        .col_expr(C::Status, Expr::value("failed"))
        .col_expr(C::Error, Expr::value(why))
        .col_expr(C::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(C::Id.eq(id))
        .exec(&db.conn)
        .await?;
    Ok(())
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
        return fail(db, import.id, "The agent who started it is no longer active.").await;
    };
    let mapping: Vec<Option<ImportField>> =
        serde_json::from_str::<Vec<Option<String>>>(import.mapping.as_deref().unwrap_or("[]"))
            .unwrap_or_default()
            .iter()
            .map(|k| k.as_deref().and_then(ImportField::from_key))
            .collect();
    let mode = import.mode.as_deref().and_then(Mode::from_key).unwrap_or(Mode::Add);
    let owners = Owners::load(&db.conn).await?;
    let mut run = Run::new(import.id, actor, mapping, mode, import.create_accounts, test, owners);
    let bytes = file_of(db, import.id).await?;
    let kind = file::FileKind::from_key(&import.file_kind);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Row>>(2);
    let reader = tokio::task::spawn_blocking(move || {
        let mut chunk = Vec::with_capacity(CHUNK_ROWS);
        let mut header = true;
        let result = file::read(kind, &bytes, |row| {
            if std::mem::take(&mut header) {
                return ControlFlow::Continue(());
            }
            chunk.push(row);
            if chunk.len() == CHUNK_ROWS && tx.blocking_send(std::mem::take(&mut chunk)).is_err() {
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
    while let Some(rows) = rx.recv().await {
        let done = skip.min(rows.len());
        for row in &rows[..done] {
            run.remember(row);
        }
        skip -= done;
        let rest = &rows[done..];
        if rest.is_empty() {
            continue;
        }
        let now = Utc::now();
        let _gate = db.write_gate().await;
        let txn = db.begin_write().await?;
        // Another instance took the import over (this one was too slow to renew its lease):
        // stop without writing.
        let still_ours = contact_import::Entity::find_by_id(import.id)
            .filter(contact_import::Column::DoneRows.eq(import.done_rows + progress_of(&run)))
            .one(&txn)
            .await?
            .is_some_and(|i| i.status == import.status);
        if !still_ours {
            return Ok(());
        }
        run.process(&txn, phones, rest, now, lease_from(now, lease)).await?;
        txn.commit().await?;
        run.rows_written += i64::try_from(rest.len()).unwrap_or(i64::MAX);
    }
    match reader.await {
        Ok(Ok(())) => {}
        Ok(Err(why)) => return fail(db, import.id, &why).await,
        Err(e) => return fail(db, import.id, &e.to_string()).await,
    }
    finish(db, import.id, if test { "tested" } else { "imported" }).await
}

fn progress_of(run: &Run) -> i64 {
    run.rows_written
}

async fn finish(db: &Db, id: i64, status: &str) -> Result<(), DbErr> {
    use contact_import::Column as C;
    let _gate = db.write_gate().await;
    contact_import::Entity::update_many()
        .col_expr(C::Status, Expr::value(status))
        .col_expr(C::FinishedAt, Expr::value(Utc::now()))
        .col_expr(C::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(C::Id.eq(id))
        .exec(&db.conn)
        .await?;
    Ok(())
}
