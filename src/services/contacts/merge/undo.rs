//! Undo merge: while every contact a merge put in the Recycle Bin is still there, the master's
//! latest merge can be undone. Everything moves back as it was before the merge (rows,
//! identities with their primary flags, Help Center links), the master gets its field values
//! and Help Center state back, and the merged contacts leave the bin with their addresses. A
//! merged contact purged meanwhile means there is nothing to undo into, and Undo merge is not
//! offered. While merged, a contact's old page leads to its master ([`merged_into`]).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::apply::{mark_primary, MemberBefore};
use super::values::{self, Names, Values};
use super::{live, may_merge, moves};
use crate::db::{execute_all, Db};
use crate::entities::contact_identity::{self, IdentityKind};
use crate::entities::{contact, contact_merge, contact_merge_row, recycle_bin};
use crate::services::contacts::search_terms;
use crate::services::events::{self, Event};
use crate::services::{Actor, ServiceError, ServiceResult};

/// A merge that Undo merge can undo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Undoable {
    pub merge_id: i64,
    pub merged_at: DateTime<Utc>,
    /// The merged contacts, each with what the merge changed on it.
    members: Vec<(i64, MemberBefore)>,
}

impl Undoable {
    /// How many contacts Undo merge brings back.
    #[must_use]
    pub fn count(&self) -> usize {
        self.members.len()
    }
}

/// The merge Undo merge on contact `master`'s page would undo: its latest merge not undone yet,
/// when every contact it merged is still in the Recycle Bin where the merge put it. Three
/// queries on indexes, whatever the contacts hold.
///
/// # Errors
/// Database errors.
pub async fn undoable<C: ConnectionTrait>(conn: &C, master: i64) -> Result<Option<Undoable>, sea_orm::DbErr> {
    let Some(merge) = contact_merge::Entity::find()
        .filter(contact_merge::Column::MasterId.eq(master))
        .filter(contact_merge::Column::UndoneAt.is_null())
        .order_by_desc(contact_merge::Column::Id)
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let members: Vec<(i64, MemberBefore)> = contact_merge_row::Entity::find()
        .filter(contact_merge_row::Column::MergeId.eq(merge.id))
        .filter(contact_merge_row::Column::Kind.eq(moves::CONTACT))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.row_id, r.detail.and_then(|d| serde_json::from_str(&d).ok()).unwrap_or_default()))
        .collect();
    let binned = contact::Entity::find()
        .filter(contact::Column::Id.is_in(members.iter().map(|(id, _)| *id).collect::<Vec<_>>()))
        .filter(contact::Column::Trashed.eq(true))
        .all(conn)
        .await?;
    let all_there = members
        .iter()
        .all(|(id, before)| binned.iter().any(|c| c.id == *id && c.recycle_entry_id == Some(before.entry_id)));
    Ok((all_there && !members.is_empty()).then_some(Undoable {
        merge_id: merge.id,
        merged_at: merge.merged_at,
        members,
    }))
}

/// The master contact `id` was merged into, while it is in the Recycle Bin from that merge:
/// where its old page leads.
///
/// # Errors
/// Database errors.
pub async fn merged_into<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Option<i64>, sea_orm::DbErr> {
    let Some(row) = contact_merge_row::Entity::find()
        .filter(contact_merge_row::Column::Kind.eq(moves::CONTACT))
        .filter(contact_merge_row::Column::RowId.eq(id))
        .order_by_desc(contact_merge_row::Column::Id)
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let before: MemberBefore = row.detail.and_then(|d| serde_json::from_str(&d).ok()).unwrap_or_default();
    let merge = contact_merge::Entity::find_by_id(row.merge_id)
        .filter(contact_merge::Column::UndoneAt.is_null())
        .one(conn)
        .await?;
    let binned = contact::Entity::find_by_id(id)
        .filter(contact::Column::Trashed.eq(true))
        .filter(contact::Column::RecycleEntryId.eq(before.entry_id))
        .one(conn)
        .await?;
    Ok(merge.filter(|_| binned.is_some()).map(|m| m.master_id))
}

/// Undoes the latest merge into contact `master_id` on behalf of `actor`; the contacts brought
/// back from the Recycle Bin.
///
/// # Errors
/// `Forbidden` without the contacts Edit and Delete permissions; `NotFound` for a master that is
/// not a live contact; `Conflict` when there is no merge to undo (none, or a merged contact
/// left the Recycle Bin); database errors.
pub async fn undo(db: &Db, actor: &Actor, master_id: i64, now: DateTime<Utc>) -> ServiceResult<Vec<i64>> {
    may_merge(actor)?;
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let master = live(&txn, &[master_id]).await?.pop().ok_or(ServiceError::NotFound)?;
    let Some(undoable) = undoable(&txn, master_id).await? else {
        return Err(ServiceError::Conflict(
            "There is no merge to undo: a contact merged into this one is no longer in the Recycle Bin.".into(),
        ));
    };
    let merge = contact_merge::Entity::find_by_id(undoable.merge_id).one(&txn).await?.ok_or(ServiceError::NotFound)?;
    let mut before: Values = serde_json::from_str(&merge.master_before).map_err(anyhow::Error::from)?;
    execute_all(&txn, moves::back(txn.get_database_backend(), merge.id, master_id)).await?;
    let ids: Vec<i64> = std::iter::once(master_id).chain(undoable.members.iter().map(|(id, _)| *id)).collect();
    let addresses = contact_identity::Entity::find()
        .filter(contact_identity::Column::ContactId.is_in(ids))
        .filter(contact_identity::Column::Kind.eq(IdentityKind::Email))
        .order_by_asc(contact_identity::Column::Id)
        .all(&txn)
        .await?;

    // The master first: the address column is unique, and a merged contact's may be its now.
    before.email = primary_among(&addresses, master_id, before.email.as_deref());
    let current = Values::of(&master);
    let names = Names::load(&txn, &[(master_id, current.clone())], &before).await?;
    let saved = values::save(&txn, master, &before, &names, now).await?;
    mark_primary(&txn, master_id, before.email.as_deref()).await?;
    if current.help_center_status != before.help_center_status {
        // Its login was another's, which goes back with it.
        crate::auth::session_store::end_all_for_contact(&txn, master_id).await?;
    }
    let mut restored = Vec::new();
    let mut written = Vec::new();
    for (id, member) in &undoable.members {
        let email = primary_among(&addresses, *id, member.email.as_deref());
        contact::Entity::update_many()
            .col_expr(contact::Column::Trashed, Expr::value(false))
            .col_expr(contact::Column::RecycleEntryId, Expr::value(Option::<i64>::None))
            .col_expr(contact::Column::Email, Expr::value(email.clone()))
            .col_expr(contact::Column::EmailSort, Expr::value(email.clone().unwrap_or_default()))
            .filter(contact::Column::Id.eq(*id))
            .exec(&txn)
            .await?;
        mark_primary(&txn, *id, email.as_deref()).await?;
        recycle_bin::Entity::delete_by_id(member.entry_id).exec(&txn).await?;
        written.push(Event::contact(events::Actor::Agent(actor.id()), *id, events::Action::Restored, now));
        restored.push(*id);
    }
    written.push(
        Event::contact(events::Actor::Agent(actor.id()), master_id, events::Action::MergeUndone, now)
            .with(names.changes(&current, &before)),
    );
    events::record(&txn, &written).await?;

    search_terms::reindex(&txn, &saved, names.account_name(before.account_id)).await?;
    for c in live(&txn, &restored).await? {
        let account = match c.account_id {
            Some(id) => crate::entities::account::Entity::find_by_id(id).one(&txn).await?.map(|a| a.name),
            None => None,
        };
        search_terms::reindex(&txn, &c, account.as_deref()).await?;
    }
    let mut done: contact_merge::ActiveModel = merge.into();
    done.undone_at = Set(Some(now));
    done.update(&txn).await?;
    txn.execute(moves::forget(txn.get_database_backend(), undoable.merge_id)).await?;
    txn.commit().await?;
    Ok(restored)
}

/// The primary address contact `id` gets back: `wanted` while it is still one of its
/// `addresses` (an agent may have removed it from the master meanwhile), else its oldest one,
/// else none. So its Email is always one of its own addresses, which no other contact can have.
fn primary_among(addresses: &[contact_identity::Model], id: i64, wanted: Option<&str>) -> Option<String> {
    let mine = || addresses.iter().filter(|a| a.contact_id == id);
    wanted.and_then(|w| mine().find(|a| a.value == w)).or_else(|| mine().next()).map(|a| a.value.clone())
}
