//! The record of exports: a row written when an export starts (so that one cut short is on
//! record too), completed with its row count when it ends, and the recent ones listed for
//! Export History. Administrators see every agent's exports; an agent with the Export
//! permission sees its own.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, FromQueryResult, JoinType, Order, QueryFilter, QueryOrder, QuerySelect,
    RelationTrait,
};

use crate::db::{next_page, Db};
use crate::entities::agent;
use crate::entities::contact_export::{self, ExportStatus};
use crate::services::contacts::{ListQuery, Sort, View};
use crate::services::{Actor, ServiceResult};

/// Exports per page of Export History.
pub const HISTORY_PAGE: u64 = 50;

/// Writes the record of an export that starts now; returns its id.
pub(super) async fn started(
    db: &Db,
    agent_id: i64,
    query: &ListQuery,
    sort: Sort,
    descending: bool,
    now: DateTime<Utc>,
) -> ServiceResult<i64> {
    let row = contact_export::ActiveModel {
        agent_id: Set(agent_id),
        view: Set(query.view.key().to_owned()),
        sort: Set(sort.key().to_owned()),
        descending: Set(descending),
        search: Set(query.search.clone()),
        row_count: Set(0),
        status: Set(ExportStatus::Running),
        started_at: Set(now),
        finished_at: Set(None),
        ..Default::default()
    };
    let _gate = db.write_gate().await;
    Ok(contact_export::Entity::insert(row).exec(&db.conn).await?.last_insert_id)
}

/// Completes the record of export `id`: `rows` written, and whether it got to the end.
pub(super) async fn ended(db: &Db, id: i64, rows: u64, status: ExportStatus) -> ServiceResult<()> {
    let _gate = db.write_gate().await;
    contact_export::Entity::update_many()
        .col_expr(contact_export::Column::RowCount, Expr::value(i64::try_from(rows).unwrap_or(i64::MAX)))
        .col_expr(contact_export::Column::Status, Expr::value(status))
        .col_expr(contact_export::Column::FinishedAt, Expr::value(Some(Utc::now())))
        .filter(contact_export::Column::Id.eq(id))
        .exec(&db.conn)
        .await?;
    Ok(())
}

/// One export, as Export History lists it.
#[derive(Clone, Debug, FromQueryResult)]
pub struct ExportRecord {
    pub id: i64,
    pub agent_id: i64,
    pub agent_name: Option<String>,
    pub view: String,
    pub sort: String,
    pub descending: bool,
    pub search: String,
    pub row_count: i64,
    pub status: ExportStatus,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl ExportRecord {
    /// The view's name as Contacts Home shows it.
    #[must_use]
    pub fn view_label(&self) -> &'static str {
        View::from_key(&self.view).label()
    }

    /// Where the export stands, as people read it.
    #[must_use]
    pub fn status_label(&self) -> &'static str {
        match self.status {
            ExportStatus::Running => "Running",
            ExportStatus::Finished => "Finished",
            ExportStatus::Interrupted => "Interrupted",
        }
    }

    /// When it started, for lists.
    #[must_use]
    pub fn started_label(&self) -> String {
        self.started_at.format("%b %-d, %Y %H:%M UTC").to_string()
    }
}

/// A page of Export History, newest first.
#[derive(Debug)]
pub struct ExportHistory {
    pub exports: Vec<ExportRecord>,
    /// The cursor of the next (older) page.
    pub older: Option<i64>,
}

/// The exports started before export `before` (the newest when `None`), newest first:
/// everyone's for an administrator, the agent's own otherwise.
///
/// # Errors
/// `Forbidden` without the Export permission; database errors.
pub async fn recent(db: &Db, actor: &Actor, before: Option<i64>) -> ServiceResult<ExportHistory> {
    actor.may_export_contacts()?;
    let mut select = contact_export::Entity::find()
        .select_only()
        .columns([
            contact_export::Column::Id,
            contact_export::Column::AgentId,
            contact_export::Column::View,
            contact_export::Column::Sort,
            contact_export::Column::Descending,
            contact_export::Column::Search,
            contact_export::Column::RowCount,
            contact_export::Column::Status,
            contact_export::Column::StartedAt,
            contact_export::Column::FinishedAt,
        ])
        .column_as(agent::Column::Name, "agent_name")
        .join(JoinType::LeftJoin, contact_export::Relation::Agent.def());
    if !actor.is_admin() {
        select = select.filter(contact_export::Column::AgentId.eq(actor.id()));
    }
    if let Some(before) = before {
        select = select.filter(contact_export::Column::Id.lt(before));
    }
    // Ids grow with the start time: the newest first by id, through the primary key (or the
    // agent's index).
    let mut exports = select
        .order_by(contact_export::Column::Id, Order::Desc)
        .limit(HISTORY_PAGE + 1)
        .into_model::<ExportRecord>()
        .all(&db.conn)
        .await?;
    let older = next_page(&mut exports, HISTORY_PAGE, |e| e.id);
    Ok(ExportHistory { exports, older })
}
