//! Import Contacts: an agent uploads a CSV or an Excel workbook ([`upload`]), maps its
//! columns to contact fields and chooses the Import Mode ([`Setup`]), then starts a **Test
//! run** (everything checked, nothing written) or the import itself ([`start`]). Both run in the
//! background ([`runner`]), any instance taking them over when the one running them stops, and
//! resume where they stopped. Import History lists every import with its counts and rejected
//! rows; [`revert`] undoes one within 30 days.
//!
//! Who may do what: the Import permission, plus Create on contacts to add and Edit to update
//! (Create on accounts to create accounts); a field the profile hides or cannot change cannot
//! be mapped, and every row is checked as the contact form is, with the importing agent's
//! field permissions, when the import runs.

mod chunk;
pub mod file;
mod lookup;
pub mod revert;
mod row;
pub mod runner;
pub mod setup;
mod write;

pub use setup::{start, Setup, SetupError};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::db::Db;
use crate::domain::import_fields::ImportField;
use crate::domain::FileUpload;
use crate::entities::{agent, contact_import, contact_import_file, contact_import_reject};
use crate::services::{Actor, ServiceError, ServiceResult};

/// A row an import did not take: its line, field and reason.
pub type Reject = contact_import_reject::Model;

/// Bytes of the file a row of `contact_import_files` holds.
const FILE_PIECE: usize = 1 << 20;

/// Rows of the file a chunk of an import that only adds takes (one transaction each). A commit
/// writes every page it changed to the write-ahead log, and a new contact's index entries land
/// at random places, so the fewer the commits the less is written: a million rows took 576 s in
/// chunks of 1,000 and 208 s in chunks of 10,000 on SQLite. Other writers wait for a chunk
/// (about 2 s at a million contacts on two cores).
pub const CHUNK_ROWS: usize = 10_000;

/// Rows a chunk takes when rows may update contacts: an update is written a row at a time (its
/// fields, identities, search words, event and the values it replaced), several statements
/// each, so its chunks stay small to keep other writers' wait short.
pub const UPDATE_CHUNK_ROWS: usize = 1_000;

/// The Import Mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Add,
    Update,
    AddUpdate,
}

impl Mode {
    /// Every mode, as the page offers them.
    pub const ALL: [Self; 3] = [Self::Add, Self::Update, Self::AddUpdate];

    /// Rows of the file a chunk takes in this mode ([`CHUNK_ROWS`], [`UPDATE_CHUNK_ROWS`]).
    #[must_use]
    pub fn chunk_rows(self) -> usize {
        if self == Self::Add {
            CHUNK_ROWS
        } else {
            UPDATE_CHUNK_ROWS
        }
    }

    /// The stored key.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Update => "update",
            Self::AddUpdate => "add_update",
        }
    }

    /// The label people read.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Add => "Add new contacts",
            Self::Update => "Update existing contacts",
            Self::AddUpdate => "Add and update",
        }
    }

    /// Parses a stored key.
    #[must_use]
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.key() == key)
    }
}

/// A mapping as stored (a JSON array of field keys, null for "do not import").
fn stored_mapping(json: &str) -> Vec<Option<ImportField>> {
    serde_json::from_str::<Vec<Option<String>>>(json)
        .unwrap_or_default()
        .iter()
        .map(|k| k.as_deref().and_then(ImportField::from_key))
        .collect()
}

/// An import as its pages show it.
#[derive(Clone, Debug)]
pub struct Import {
    pub row: contact_import::Model,
    pub agent_name: String,
}

impl Import {
    /// The file's header row.
    #[must_use]
    pub fn headers(&self) -> Vec<String> {
        serde_json::from_str(&self.row.headers).unwrap_or_default()
    }

    /// The field of each column: the agent's choice once made, else the suggestion.
    #[must_use]
    pub fn mapping(&self) -> Vec<Option<ImportField>> {
        match &self.row.mapping {
            Some(json) => stored_mapping(json),
            None => ImportField::suggest_all(&self.headers()),
        }
    }

    /// The Import Mode chosen, if any.
    #[must_use]
    pub fn mode(&self) -> Option<Mode> {
        self.row.mode.as_deref().and_then(Mode::from_key)
    }

    /// Whether a run (test or import) is under way.
    #[must_use]
    pub fn running(&self) -> bool {
        matches!(self.row.status.as_str(), "testing" | "importing")
    }

    /// Whether the import itself ran (its rows are in, or some of them).
    #[must_use]
    pub fn imported(&self) -> bool {
        matches!(self.row.status.as_str(), "imported" | "failed" | "reverting" | "reverted")
    }

    /// Whether Map Fields and Import Mode can still be changed and a run started: nothing was
    /// written yet.
    #[must_use]
    pub fn can_start(&self) -> bool {
        setup::START_FROM.contains(&self.row.status.as_str())
    }

    /// The state as people read it.
    #[must_use]
    pub fn status_label(&self) -> &'static str {
        match self.row.status.as_str() {
            "uploaded" => "Waiting for mapping",
            "testing" => "Test run under way",
            "tested" => "Test run done",
            "importing" => "Importing",
            "imported" => "Imported",
            "reverting" => "Reverting",
            "reverted" => "Reverted",
            _ => "Failed",
        }
    }

    /// Percentage of rows done.
    #[must_use]
    pub fn percent(&self) -> i64 {
        if self.row.total_rows == 0 {
            100
        } else {
            self.row.done_rows * 100 / self.row.total_rows
        }
    }

    /// "about 2 minutes left", from the pace so far, while a run is under way.
    #[must_use]
    pub fn time_left(&self, now: DateTime<Utc>) -> Option<String> {
        let started = self.row.started_at?;
        let done = self.row.done_rows;
        if !self.running() || done == 0 {
            return None;
        }
        let elapsed = (now - started).num_milliseconds().max(1);
        let left_ms = elapsed * (self.row.total_rows - done).max(0) / done;
        let secs = (left_ms + 999) / 1000;
        Some(match secs {
            0..=59 => format!("about {secs} second{} left", if secs == 1 { "" } else { "s" }),
            _ => format!("about {} minute{} left", (secs + 59) / 60, if secs < 120 { "" } else { "s" }),
        })
    }

    /// When it was uploaded, as lists show it.
    #[must_use]
    pub fn when(&self) -> String {
        self.row.created_at.format("%b %-d, %Y %H:%M").to_string()
    }
}

/// Keeps an uploaded file as a new import, its columns' fields suggested from the headers.
///
/// # Errors
/// `Forbidden` without the Import permission; `Invalid` (on `file`) when no file was sent or
/// it cannot be read.
pub async fn upload(db: &Db, actor: &Actor, file: Option<FileUpload>) -> ServiceResult<i64> {
    actor.may_import_contacts()?;
    let Some(file) = file else {
        return Err(ServiceError::field("file", "Choose a CSV or Excel (.xlsx) file."));
    };
    let data = file.data;
    let (sheet, data) = tokio::task::spawn_blocking(move || (file::inspect(&data), data))
        .await
        .map_err(|e| ServiceError::Other(anyhow::anyhow!(e.to_string())))?;
    let sheet = sheet.map_err(|e| ServiceError::field("file", e))?;
    if sheet.rows == 0 {
        return Err(ServiceError::field("file", "The file has a header row but no contacts under it."));
    }
    let now = Utc::now();
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let row = contact_import::ActiveModel {
        agent_id: Set(actor.id()),
        file_name: Set(file.filename),
        file_kind: Set(sheet.kind.key().to_owned()),
        file_bytes: Set(i64::try_from(data.len()).unwrap_or(i64::MAX)),
        headers: Set(serde_json::to_string(&sheet.headers).unwrap_or_else(|_| "[]".into())),
        mapping: Set(None),
        mode: Set(None),
        create_accounts: Set(false),
        status: Set("uploaded".into()),
        total_rows: Set(i64::try_from(sheet.rows).unwrap_or(i64::MAX)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    for (seq, piece) in data.chunks(FILE_PIECE).enumerate() {
        let piece = contact_import_file::ActiveModel {
            import_id: Set(row.id),
            seq: Set(i32::try_from(seq).unwrap_or(i32::MAX)),
            data: Set(piece.to_vec()),
            ..Default::default()
        };
        contact_import_file::Entity::insert(piece).exec(&txn).await?;
    }
    txn.commit().await?;
    Ok(row.id)
}

/// Import `id`, for an agent with the Import permission (imports are the team's, as in Zoho
/// Desk's Import History).
///
/// # Errors
/// `Forbidden`; `NotFound`; database errors.
pub async fn get(conn: &DatabaseConnection, actor: &Actor, id: i64) -> ServiceResult<Import> {
    actor.may_import_contacts()?;
    let row = contact_import::Entity::find_by_id(id).one(conn).await?.ok_or(ServiceError::NotFound)?;
    let agent_name = agent::Entity::find_by_id(row.agent_id).one(conn).await?.map(|a| a.name).unwrap_or_default();
    Ok(Import { row, agent_name })
}

/// Import History: the latest imports, newest first.
///
/// # Errors
/// `Forbidden`; database errors.
pub async fn history(conn: &DatabaseConnection, actor: &Actor) -> ServiceResult<Vec<Import>> {
    actor.may_import_contacts()?;
    let rows = contact_import::Entity::find().order_by_desc(contact_import::Column::Id).limit(100).all(conn).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.agent_id).collect();
    let names: Vec<(i64, String)> = agent::Entity::find()
        .select_only()
        .columns([agent::Column::Id, agent::Column::Name])
        .filter(agent::Column::Id.is_in(ids))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let agent_name =
                names.iter().find(|(id, _)| *id == row.agent_id).map(|(_, n)| n.clone()).unwrap_or_default();
            Import { row, agent_name }
        })
        .collect())
}

/// The first `limit` rejected rows of import `id` (of its last run), by line.
///
/// # Errors
/// `Forbidden`; database errors.
pub async fn rejects(
    conn: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    limit: u64,
) -> ServiceResult<Vec<contact_import_reject::Model>> {
    actor.may_import_contacts()?;
    Ok(contact_import_reject::Entity::find()
        .filter(contact_import_reject::Column::ImportId.eq(id))
        .order_by_asc(contact_import_reject::Column::Line)
        .limit(limit)
        .all(conn)
        .await?)
}

/// Every rejected row of import `id` as CSV (Line, Field, Reason), UTF-8 with a byte order
/// mark for spreadsheets.
///
/// # Errors
/// `Forbidden`; database errors.
pub async fn rejects_csv(conn: &DatabaseConnection, actor: &Actor, id: i64) -> ServiceResult<Vec<u8>> {
    let all = rejects(conn, actor, id, u64::MAX >> 1).await?;
    let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let internal = |e: csv::Error| ServiceError::Other(e.into());
    out.write_record(["Line", "Field", "Reason"]).map_err(internal)?;
    for r in all {
        out.write_record([r.line.to_string(), r.field, r.reason]).map_err(internal)?;
    }
    out.into_inner().map_err(|e| ServiceError::Other(anyhow::anyhow!(e.to_string())))
}
