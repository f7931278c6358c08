//! Export Contacts: the contacts Contacts Home shows for a view, search and sort (every page of
//! them, in the list's order) as a CSV file that the import maps without help, with only the
//! fields the agent's profile shows. Needs the Export permission and View on contacts; every
//! export is recorded (`history`).
//!
//! The file is made a chunk at a time, in constant memory whatever the number of contacts: the
//! list's own query and keyset cursor (`list::one_page`) fetch [`CHUNK`] rows, then one query
//! each fetches the chunk's secondary addresses and its owners' addresses, and the chunk's CSV
//! goes to the response before the next is read. The chunks are read in one read-only
//! transaction, so that the file is one consistent picture of the list: a contact renamed or
//! added while the file is written neither moves the cursor nor appears twice. The snapshot is
//! the download's for at most [`SNAPSHOT_LIMIT`]: a client that stops reading without closing
//! the connection would otherwise hold a pooled connection, and hold back SQLite's checkpoints
//! and PostgreSQL's vacuum, for as long as it likes. After that the export stops (interrupted).

mod file;
mod history;

pub use file::{columns, Column, BOM};
pub use history::{recent, ExportHistory, ExportRecord, HISTORY_PAGE};

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::Stream;
use sea_orm::{
    AccessMode, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, IsolationLevel, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};

use super::list::{effective_sort, one_page};
use super::{ContactRow, ListQuery};
use crate::db::Db;
use crate::domain::{Action, FieldRules, Module};
use crate::entities::agent;
use crate::entities::contact_export::ExportStatus;
use crate::entities::contact_identity::{self, IdentityKind};
use crate::services::{Actor, ServiceError, ServiceResult};
use file::Related;

/// Contacts read and written per chunk: a constant number of queries for each.
pub const CHUNK: u64 = 1_000;

/// The longest an export reads from its snapshot. A million contacts take seconds to read; the
/// limit leaves a slow link a quarter of an hour to take the file (about 100 MB).
pub const SNAPSHOT_LIMIT: Duration = Duration::from_secs(15 * 60);

/// The export's read transaction, taken away when the export ends or [`SNAPSHOT_LIMIT`] passes.
type Snapshot = Arc<tokio::sync::Mutex<Option<DatabaseTransaction>>>;

/// An export under way: the rows still to write, read from its snapshot of the database.
pub struct ContactExport {
    db: Db,
    snapshot: Snapshot,
    agent_id: i64,
    rules: FieldRules,
    columns: Vec<Column>,
    query: ListQuery,
    now: DateTime<Utc>,
    record: i64,
    rows: u64,
    stage: Stage,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Header,
    Rows,
    Done,
}

/// Starts exporting the contacts `query` lists for `actor` (its cursors are ignored: an export
/// is every page), and records the export.
///
/// # Errors
/// `Forbidden` without the Export permission or View on contacts (nothing is recorded then);
/// database errors.
pub async fn start(db: &Db, actor: &Actor, query: ListQuery, now: DateTime<Utc>) -> ServiceResult<ContactExport> {
    actor.may_export_contacts()?;
    actor.may(Module::Contacts, Action::View)?;
    let rules = actor.fields(Module::Contacts);
    let query = ListQuery { after: None, before: None, ..query };
    let (sort, descending) = effective_sort(&query, &rules);
    let snapshot: Snapshot = Arc::new(tokio::sync::Mutex::new(Some(snapshot(db).await?)));
    expire(&snapshot);
    let record = history::started(db, actor.id(), &query, sort, descending, now).await?;
    Ok(ContactExport {
        db: db.clone(),
        snapshot,
        agent_id: actor.id(),
        columns: file::columns(&rules),
        rules,
        query,
        now,
        record,
        rows: 0,
        stage: Stage::Header,
    })
}

/// A read-only transaction that sees one state of the database throughout: PostgreSQL's
/// REPEATABLE READ; on SQLite (in WAL mode) every transaction reads one snapshot.
async fn snapshot(db: &Db) -> Result<DatabaseTransaction, sea_orm::DbErr> {
    if db.backend() == DbBackend::Postgres {
        db.conn.begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly)).await
    } else {
        db.conn.begin().await
    }
}

/// Ends the snapshot after [`SNAPSHOT_LIMIT`] if the export still has it. The timer holds it
/// weakly: an export dropped earlier frees it at once.
fn expire(snapshot: &Snapshot) {
    let held = Arc::downgrade(snapshot);
    tokio::spawn(async move {
        tokio::time::sleep(SNAPSHOT_LIMIT).await;
        let taken = match held.upgrade() {
            Some(slot) => slot.lock().await.take(),
            None => None,
        };
        if let Some(txn) = taken {
            let _ = txn.rollback().await;
        }
    });
}

impl ContactExport {
    /// The file's name: `contacts-YYYY-MM-DD.csv`.
    #[must_use]
    pub fn filename(&self) -> String {
        format!("contacts-{}.csv", self.now.format("%Y-%m-%d"))
    }

    /// The next part of the file (the header first), or `None` after the last row.
    ///
    /// # Errors
    /// Database errors.
    pub async fn next_chunk(&mut self) -> ServiceResult<Option<Vec<u8>>> {
        match self.stage {
            Stage::Header => {
                self.stage = Stage::Rows;
                return Ok(Some(file::header(&self.columns)?));
            }
            Stage::Done => return Ok(None),
            Stage::Rows => {}
        }
        let (text, count, next) = {
            let slot = self.snapshot.lock().await;
            let Some(snapshot) = slot.as_ref() else {
                return Err(ServiceError::Conflict(format!(
                    "The export was stopped after {} minutes.",
                    SNAPSHOT_LIMIT.as_secs() / 60
                )));
            };
            let page = one_page(snapshot, self.agent_id, &self.rules, &self.query, self.now, CHUNK).await?;
            if page.rows.is_empty() {
                (None, 0, None)
            } else {
                let related = related(snapshot, &self.columns, &page.rows).await?;
                (Some(file::rows(&self.columns, &page.rows, &related)?), page.rows.len() as u64, page.next)
            }
        };
        self.rows += count;
        match next {
            Some(cursor) => self.query.after = Some(cursor),
            None => self.finish().await?,
        }
        Ok(text)
    }

    /// Ends the snapshot and completes the record.
    async fn finish(&mut self) -> ServiceResult<()> {
        let snapshot = self.snapshot.lock().await.take();
        if let Some(snapshot) = snapshot {
            snapshot.commit().await?;
        }
        history::ended(&self.db, self.record, self.rows, ExportStatus::Finished).await?;
        self.stage = Stage::Done;
        Ok(())
    }

    /// The whole file as a stream of parts, for a streamed response. After an error the stream
    /// ends (the download is cut short, and the export recorded as interrupted).
    pub fn into_stream(self) -> impl Stream<Item = ServiceResult<Vec<u8>>> {
        futures_util::stream::unfold(Some(self), |state| async move {
            let mut export = state?;
            match export.next_chunk().await {
                Ok(Some(text)) => Some((Ok(text), Some(export))),
                Ok(None) => None,
                Err(e) => {
                    tracing::warn!(error = %e, "contact export failed");
                    Some((Err(e), None))
                }
            }
        })
    }
}

impl Drop for ContactExport {
    /// An export dropped before its end (the agent's connection closed, or an error) is
    /// recorded as interrupted, with the rows written until then.
    fn drop(&mut self) {
        if self.stage == Stage::Done {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let (db, record, rows) = (self.db.clone(), self.record, self.rows);
        runtime.spawn(async move {
            if let Err(e) = history::ended(&db, record, rows, ExportStatus::Interrupted).await {
                tracing::warn!(error = %e, "recording an interrupted contact export");
            }
        });
    }
}

/// The secondary addresses of the chunk's contacts and its owners' addresses, when their columns
/// are in the file: one query each.
async fn related<C: ConnectionTrait>(
    conn: &C,
    columns: &[Column],
    rows: &[ContactRow],
) -> Result<Related, sea_orm::DbErr> {
    let mut related = Related::default();
    if columns.contains(&Column::SecondaryEmail) {
        let found: Vec<(i64, String)> = contact_identity::Entity::find()
            .select_only()
            .columns([contact_identity::Column::ContactId, contact_identity::Column::Value])
            .filter(contact_identity::Column::ContactId.is_in(rows.iter().map(|r| r.id)))
            .filter(contact_identity::Column::Kind.eq(IdentityKind::Email))
            .filter(contact_identity::Column::IsPrimary.eq(false))
            .order_by_asc(contact_identity::Column::ContactId)
            .order_by_asc(contact_identity::Column::Id)
            .into_tuple()
            .all(conn)
            .await?;
        for (contact_id, address) in found {
            related.secondary.entry(contact_id).or_default().push(address);
        }
    }
    if columns.contains(&Column::Owner) {
        let mut owners: Vec<i64> = rows.iter().filter_map(|r| r.owner_id).collect();
        owners.sort_unstable();
        owners.dedup();
        if !owners.is_empty() {
            related.owner_emails = agent::Entity::find()
                .select_only()
                .columns([agent::Column::Id, agent::Column::Email])
                .filter(agent::Column::Id.is_in(owners))
                .into_tuple::<(i64, String)>()
                .all(conn)
                .await?
                .into_iter()
                .collect();
        }
    }
    Ok(related)
}
