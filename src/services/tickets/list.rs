//! The console's Tickets module: list views with search and keyset pagination (one ticket with
//! its thread is `view`'s). Contact names follow the agent's field permissions: a hidden first
//! name is never read out.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query, SimpleExpr};
use sea_orm::DbBackend;
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, FromQueryResult, JoinType, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};

use crate::db::{inline_limit, next_page, Db};
use crate::domain::{Action, Module, PersonName, TicketStatus};
use crate::entities::contact_identity::{self, IdentityKind};
use crate::entities::{agent, contact, ticket};
use crate::services::{Actor, ServiceResult};

/// Rows per page.
pub const PAGE_SIZE: u64 = 25;

/// The list views.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    All,
    Open,
    OnHold,
    Closed,
    Mine,
    Unassigned,
}

impl View {
    /// Every view, in the order of the view menu.
    pub const ALL: [Self; 6] = [Self::All, Self::Open, Self::OnHold, Self::Closed, Self::Mine, Self::Unassigned];

    /// The view for a query-string key (All Tickets for anything else).
    #[must_use]
    pub fn from_key(key: &str) -> Self {
        Self::ALL.into_iter().find(|v| v.key() == key).unwrap_or(Self::All)
    }

    /// The query-string key.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Open => "open",
            Self::OnHold => "on_hold",
            Self::Closed => "closed",
            Self::Mine => "mine",
            Self::Unassigned => "unassigned",
        }
    }

    /// The label people read.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::All => "All Tickets",
            Self::Open => "Open",
            Self::OnHold => "On Hold",
            Self::Closed => "Closed",
            Self::Mine => "My Tickets",
            Self::Unassigned => "Unassigned",
        }
    }
}

/// A row of the list.
#[derive(Clone, Debug, FromQueryResult)]
pub struct TicketRow {
    pub id: i64,
    pub number: i64,
    pub subject: String,
    pub status: String,
    pub priority: String,
    pub channel: String,
    pub updated_at: DateTime<Utc>,
    /// None for a ticket not linked to a contact yet.
    pub contact_id: Option<i64>,
    pub contact_first_name: Option<String>,
    pub contact_last_name: Option<String>,
    pub assignee_name: Option<String>,
}

impl TicketRow {
    /// The contact's name as the agent may see it.
    #[must_use]
    pub fn contact_name(&self) -> String {
        PersonName { first: self.contact_first_name.as_deref(), last: self.contact_last_name.as_deref().unwrap_or("") }
            .to_string()
    }

    /// The last activity, for the list.
    #[must_use]
    pub fn updated_label(&self) -> String {
        self.updated_at.format("%b %-d, %Y %H:%M").to_string()
    }
}

/// Where a page starts: after this (updated_at, id).
pub type Cursor = (DateTime<Utc>, i64);

/// The tickets after `cursor` in newest-activity-first order (`updated_at DESC, id DESC`).
pub(crate) fn after_cursor((at, id): Cursor) -> Condition {
    Condition::any()
        .add(ticket::Column::UpdatedAt.lt(at))
        .add(Condition::all().add(ticket::Column::UpdatedAt.eq(at)).add(ticket::Column::Id.lt(id)))
}

/// One page of a view, filtered by `q` (a ticket number, or words of the subject matched as
/// prefixes, or any exact address of a contact when the profile shows Email: a profile that
/// hides it cannot learn whose an address is by searching) and by `contact` (its
/// tickets only, read in list order on `idx_tickets_contact_activity`); and the cursor of the
/// next page. `actor` is the agent of My Tickets; its profile decides what of the contacts it
/// reads and searches.
///
/// # Errors
/// `Forbidden` without the tickets view permission; database errors.
pub async fn list(
    db: &Db,
    actor: &Actor,
    view: View,
    q: &str,
    contact: Option<i64>,
    after: Option<Cursor>,
) -> ServiceResult<(Vec<TicketRow>, Option<Cursor>)> {
    actor.may(Module::Tickets, Action::View)?;
    let rules = &actor.fields(Module::Contacts);
    let agent_id = actor.id();
    let mut select = ticket::Entity::find()
        .select_only()
        .columns([
            ticket::Column::Id,
            ticket::Column::Number,
            ticket::Column::Subject,
            ticket::Column::Status,
            ticket::Column::Priority,
            ticket::Column::Channel,
            ticket::Column::UpdatedAt,
            ticket::Column::ContactId,
        ])
        .column_as(contact::Column::FirstName, "contact_first_name")
        .column_as(contact::Column::LastName, "contact_last_name")
        .column_as(agent::Column::Name, "assignee_name")
        .join(JoinType::LeftJoin, ticket_contact())
        .join(JoinType::LeftJoin, ticket_assignee())
        .filter(ticket::Column::Trashed.eq(false));
    select = match view {
        View::All => select,
        View::Open => select.filter(ticket::Column::Status.eq(TicketStatus::Open.key())),
        View::OnHold => select.filter(ticket::Column::Status.eq(TicketStatus::OnHold.key())),
        View::Closed => select.filter(ticket::Column::Status.eq(TicketStatus::Closed.key())),
        View::Mine => select.filter(ticket::Column::AssigneeId.eq(agent_id)),
        View::Unassigned => select.filter(ticket::Column::AssigneeId.is_null()),
    };
    if let Some(contact) = contact {
        select = select.filter(ticket::Column::ContactId.eq(contact));
    }
    let q = q.trim();
    if let Ok(number) = q.trim_start_matches('#').parse::<i64>() {
        select = select.filter(ticket::Column::Number.eq(number));
    } else if q.contains('@') && rules.shows("email") {
        // Any of the contact's addresses, on the identities' lookup index.
        let owners = Query::select()
            .column(contact_identity::Column::ContactId)
            .from(contact_identity::Entity)
            .and_where(contact_identity::Column::Kind.eq(IdentityKind::Email))
            .and_where(contact_identity::Column::Value.eq(q.to_lowercase()))
            .to_owned();
        select = select.filter(ticket::Column::ContactId.in_subquery(owners));
    } else if !q.is_empty() {
        select = select.filter(subject_matches(db.backend(), q));
    }
    if let Some(cursor) = after {
        select = select.filter(after_cursor(cursor));
    }
    let page = select
        .order_by_desc(ticket::Column::UpdatedAt)
        .order_by_desc(ticket::Column::Id)
        .limit(PAGE_SIZE + 1)
        .build(db.backend());
    let mut rows = TicketRow::find_by_statement(inline_limit(page)).all(&db.conn).await?;
    let next = next_page(&mut rows, PAGE_SIZE, |r| (r.updated_at, r.id));
    if !rules.shows("first_name") {
        for row in &mut rows {
            row.contact_first_name = None;
        }
    }
    Ok((rows, next))
}

/// Tickets whose subject has words starting with each word of `q`, from the full-text index.
/// What was typed is cut into words of letters and digits and never reaches either query
/// language as syntax; a query of only punctuation matches nothing.
fn subject_matches(backend: DbBackend, q: &str) -> SimpleExpr {
    let words: Vec<String> = q
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(|w| w.chars().take(64).collect::<String>().to_lowercase())
        .collect();
    if words.is_empty() {
        return Expr::cust("1 = 0");
    }
    // sea-query's placeholders differ: `$1` on PostgreSQL, `?` on SQLite.
    if backend == DbBackend::Postgres {
        let query = words.iter().map(|w| format!("{w}:*")).collect::<Vec<_>>().join(" & ");
        Expr::cust_with_values("\"tickets\".\"subject_search\" @@ to_tsquery('simple', $1)", [query])
    } else {
        let query = words.iter().map(|w| format!("\"{w}\"*")).collect::<Vec<_>>().join(" ");
        Expr::cust_with_values(
            "\"tickets\".\"id\" IN (SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH ?)",
            [query],
        )
    }
}

fn ticket_contact() -> sea_orm::RelationDef {
    ticket::Entity::belongs_to(contact::Entity).from(ticket::Column::ContactId).to(contact::Column::Id).into()
}

fn ticket_assignee() -> sea_orm::RelationDef {
    ticket::Entity::belongs_to(agent::Entity).from(ticket::Column::AssigneeId).to(agent::Column::Id).into()
}
