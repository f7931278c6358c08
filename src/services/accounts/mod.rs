//! Accounts: list, add, detail (with its contacts and their tickets), edit, each as the acting
//! agent's profile allows (the module's permissions and the account fields' rules, the contact
//! fields' rules for the account's contacts). Deleting lives in the Recycle Bin service.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect};

use crate::domain::{AccountForm, Action, FieldRules, Module};
use crate::entities::{account, agent};
use crate::services::{Actor, ServiceError, ServiceResult};

mod page;
mod write;

pub use page::{detail, with_counts, AccountContact, AccountCounts, AccountDetail, AccountTicket, RELATED_LIMIT};
pub use write::{add_account_terms, create, drop_account_terms, form_of, update};
/// Accounts per page.
pub const PAGE_SIZE: u64 = 50;

/// An account with its owner's name.
#[derive(Clone, Debug, sea_orm::FromQueryResult)]
pub struct AccountRow {
    pub id: i64,
    pub name: String,
    pub name_sort: String,
    pub website: Option<String>,
    pub phone: Option<String>,
    pub owner_id: Option<i64>,
    pub owner_name: Option<String>,
    pub description: Option<String>,
    pub created_at: chrono::DateTime<Utc>,
}

/// Clears what `rules` hide.
fn redact(rules: &FieldRules, row: &mut AccountRow) {
    if !rules.shows("website") {
        row.website = None;
    }
    if !rules.shows("phone") {
        row.phone = None;
    }
    if !rules.shows("owner") {
        row.owner_id = None;
        row.owner_name = None;
    }
    if !rules.shows("description") {
        row.description = None;
    }
}

/// `select` with the columns of [`AccountRow`] and the owner's name joined in.
fn rows_of(select: sea_orm::Select<account::Entity>) -> sea_orm::Selector<sea_orm::SelectModel<AccountRow>> {
    select
        .select_only()
        .columns([
            account::Column::Id,
            account::Column::Name,
            account::Column::NameSort,
            account::Column::Website,
            account::Column::Phone,
            account::Column::OwnerId,
            account::Column::Description,
            account::Column::CreatedAt,
        ])
        .column_as(agent::Column::Name, "owner_name")
        .join(
            JoinType::LeftJoin,
            sea_orm::RelationDef::from(
                account::Entity::belongs_to(agent::Entity).from(account::Column::OwnerId).to(agent::Column::Id),
            ),
        )
        .filter(account::Column::Trashed.eq(false))
        .into_model::<AccountRow>()
}

/// One page of accounts by name, after the name/id cursor `after`, optionally filtered to
/// names starting with `prefix`, as `actor`'s profile lets it see them.
///
/// # Errors
/// `Forbidden` without the accounts view permission; database errors.
pub async fn list(
    conn: &DatabaseConnection,
    actor: &Actor,
    prefix: &str,
    after: Option<(String, i64)>,
) -> ServiceResult<(Vec<AccountRow>, Option<(String, i64)>)> {
    actor.may(Module::Accounts, Action::View)?;
    let rules = &actor.fields(Module::Accounts);
    let mut select = account::Entity::find().filter(account::Column::Trashed.eq(false));
    let prefix = prefix.trim().to_lowercase();
    if !prefix.is_empty() {
        select = select
            .filter(account::Column::NameSort.gte(prefix.as_str()))
            .filter(account::Column::NameSort.lt(crate::domain::search::prefix_end(&prefix)));
    }
    if let Some((name, id)) = after {
        select = select.filter(
            Expr::tuple([
                Expr::col((account::Entity, account::Column::NameSort)).into(),
                Expr::col((account::Entity, account::Column::Id)).into(),
            ])
            .gt(Expr::tuple([Expr::val(name).into(), Expr::val(id).into()])),
        );
    }
    let mut rows: Vec<AccountRow> =
        rows_of(select.order_by_asc(account::Column::NameSort).order_by_asc(account::Column::Id).limit(PAGE_SIZE + 1))
            .all(conn)
            .await?;
    let next = crate::db::next_page(&mut rows, PAGE_SIZE, |r| (r.name_sort.clone(), r.id));
    for row in &mut rows {
        redact(rules, row);
    }
    Ok((rows, next))
}

/// The form of account `id` as `actor`'s profile lets it see it, for the Edit Account page.
///
/// # Errors
/// `Forbidden` without the accounts edit permission; `NotFound`.
pub async fn edit_form(conn: &DatabaseConnection, actor: &Actor, id: i64) -> ServiceResult<AccountForm> {
    actor.may(Module::Accounts, Action::Edit)?;
    Ok(form_of(&redacted(conn, &actor.fields(Module::Accounts), id).await?))
}

async fn redacted(conn: &DatabaseConnection, rules: &FieldRules, id: i64) -> ServiceResult<AccountRow> {
    let mut row = select_rows_by_id(conn, id).await?.ok_or(ServiceError::NotFound)?;
    redact(rules, &mut row);
    Ok(row)
}

async fn select_rows_by_id(conn: &DatabaseConnection, id: i64) -> Result<Option<AccountRow>, sea_orm::DbErr> {
    rows_of(account::Entity::find_by_id(id)).one(conn).await
}
