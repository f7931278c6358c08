//! The Recycle Bin: deleting a contact moves it with its tickets, activities and time entries
//! into the bin in one transaction; deleting an account unlinks its contacts (remembered, so a
//! restore links them again). Restore brings everything back; purge removes it for good, its
//! events too (what is left says only that it was purged). Each writes its events.
//!
//! Each use-case takes the acting agent: deleting and restoring need the delete permission of
//! the item's module, the list shows the entries of the modules the agent may view, and purging
//! is for administrators.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};

use super::contacts::HELP_CENTER_USER_STATUSES;
use super::{Actor, ServiceError, ServiceResult};
use crate::db::Db;
use crate::domain::{Action, Module, Permissions, PersonName};
use crate::entities::{account, activity, agent, contact, recycle_bin, ticket, time_entry};
use crate::services::events::{self, Event, Subject};

/// What went into the bin with an item.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Details {
    #[serde(default)]
    pub tickets: u64,
    #[serde(default)]
    pub activities: u64,
    #[serde(default)]
    pub time_entries: u64,
    /// For an account: the contacts that were unlinked from it.
    #[serde(default)]
    pub unlinked_contacts: Vec<i64>,
    /// For a contact: its last name, shown instead of the full name to profiles that hide the
    /// first name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// For a contact merged into another: the master (Undo merge on its page brings it back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<super::contacts::merge::MergedInto>,
}

impl Details {
    /// "12 tickets, 3 activities, 1 time entry", or "" when nothing went with it.
    #[must_use]
    pub fn summary(&self) -> String {
        let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let mut parts = Vec::new();
        if self.tickets > 0 {
            parts.push(plural(self.tickets, "ticket", "tickets"));
        }
        if self.activities > 0 {
            parts.push(plural(self.activities, "activity", "activities"));
        }
        if self.time_entries > 0 {
            parts.push(plural(self.time_entries, "time entry", "time entries"));
        }
        if !self.unlinked_contacts.is_empty() {
            parts.push(format!("{} unlinked", plural(self.unlinked_contacts.len() as u64, "contact", "contacts")));
        }
        parts.join(", ")
    }
}

/// One line of the Recycle Bin.
#[derive(Debug)]
pub struct Entry {
    pub id: i64,
    pub kind: String,
    pub item_id: i64,
    pub label: String,
    pub deleted_by: Option<String>,
    pub deleted_at: DateTime<Utc>,
    pub details: Details,
}

impl Entry {
    /// "Contact" or "Account".
    #[must_use]
    pub fn kind_label(&self) -> &'static str {
        if self.kind == "account" {
            "Account"
        } else {
            "Contact"
        }
    }

    #[must_use]
    pub fn when(&self) -> String {
        self.deleted_at.format("%b %-d, %Y %H:%M UTC").to_string()
    }

    /// The module the item belongs to.
    #[must_use]
    pub fn module(&self) -> Module {
        module_of(&self.kind)
    }

    /// The name to show an agent whose profile is `permissions`.
    #[must_use]
    pub fn label_for(&self, permissions: &Permissions) -> String {
        match &self.details.last_name {
            Some(last) if self.kind == "contact" && !permissions.contact_field("first_name").visible() => last.clone(),
            _ => self.label.clone(),
        }
    }
}

/// The module an entry of `kind` belongs to.
fn module_of(kind: &str) -> Module {
    if kind == "account" {
        Module::Accounts
    } else {
        Module::Contacts
    }
}

/// How many entries the page lists, newest first.
pub const PAGE_LIMIT: u64 = 200;

/// The newest entries of the modules `actor` may view.
///
/// # Errors
/// `Forbidden` when it may view neither contacts nor accounts (the message names Contacts);
/// database errors.
pub async fn list(conn: &DatabaseConnection, actor: &Actor) -> ServiceResult<Vec<Entry>> {
    if !actor.can(Module::Accounts, Action::View) {
        actor.may(Module::Contacts, Action::View)?;
    }
    let rows = recycle_bin::Entity::find()
        .find_also_related_agent()
        .order_by_desc(recycle_bin::Column::DeletedAt)
        .order_by_desc(recycle_bin::Column::Id)
        .limit(PAGE_LIMIT)
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(e, a)| entry_of(e, a.map(|a| a.name)))
        .filter(|e| actor.can(e.module(), Action::View))
        .collect())
}

fn entry_of(e: recycle_bin::Model, deleted_by: Option<String>) -> Entry {
    Entry {
        id: e.id,
        details: serde_json::from_str(&e.details).unwrap_or_default(),
        kind: e.kind,
        item_id: e.item_id,
        label: e.label,
        deleted_by,
        deleted_at: e.deleted_at,
    }
}

/// Finding the deleting agent of an entry without a declared relation.
trait FindAlsoAgent {
    fn find_also_related_agent(self) -> sea_orm::SelectTwo<recycle_bin::Entity, agent::Entity>;
}

impl FindAlsoAgent for sea_orm::Select<recycle_bin::Entity> {
    fn find_also_related_agent(self) -> sea_orm::SelectTwo<recycle_bin::Entity, agent::Entity> {
        self.find_also_linked(DeletedBy)
    }
}

struct DeletedBy;

impl sea_orm::Linked for DeletedBy {
    type FromEntity = recycle_bin::Entity;
    type ToEntity = agent::Entity;

    fn link(&self) -> Vec<sea_orm::RelationDef> {
        vec![recycle_bin::Entity::belongs_to(agent::Entity)
            .from(recycle_bin::Column::DeletedBy)
            .to(agent::Column::Id)
            .into()]
    }
}

async fn new_entry<C: ConnectionTrait>(
    conn: &C,
    kind: &str,
    item_id: i64,
    label: String,
    actor_id: i64,
    now: DateTime<Utc>,
) -> ServiceResult<recycle_bin::Model> {
    Ok(recycle_bin::ActiveModel {
        kind: Set(kind.to_owned()),
        item_id: Set(item_id),
        label: Set(label),
        deleted_by: Set(Some(actor_id)),
        deleted_at: Set(now),
        details: Set("{}".to_owned()),
        ..Default::default()
    }
    .insert(conn)
    .await?)
}

/// Moves what matches `filter` in `E` to the bin entry; the number moved.
macro_rules! trash {
    ($conn:expr, $entity:ident, $filter:expr, $entry:expr) => {
        $entity::Entity::update_many()
            .col_expr($entity::Column::Trashed, Expr::value(true))
            .col_expr($entity::Column::RecycleEntryId, Expr::value($entry))
            .filter($filter)
            .filter($entity::Column::Trashed.eq(false))
            .exec($conn)
            .await?
            .rows_affected
    };
}

/// Deletes a contact on behalf of `actor`: it and all its tickets, activities and time entries
/// go to the bin together. A Help Center user cannot be deleted.
///
/// # Errors
/// `Forbidden` without the contacts delete permission; `NotFound`; `Conflict` for a Help Center
/// user, saying how to remove its access first.
pub async fn delete_contact(db: &Db, actor: &Actor, contact_id: i64) -> ServiceResult<i64> {
    actor.may(Module::Contacts, Action::Delete)?;
    let actor_id = actor.id();
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let c = contact::Entity::find_by_id(contact_id)
        .filter(contact::Column::Trashed.eq(false))
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if HELP_CENTER_USER_STATUSES.contains(&c.help_center_status.as_str()) {
        return Err(ServiceError::Conflict(
            "This contact is a Help Center user and cannot be deleted. Open the contact, choose Remove Help Center access, then delete it.".into(),
        ));
    }
    let label = PersonName { first: c.first_name.as_deref(), last: &c.last_name }.to_string();
    let now = Utc::now();
    let entry = new_entry(&txn, "contact", c.id, label, actor_id, now).await?;
    let details = Details {
        tickets: trash!(&txn, ticket, ticket::Column::ContactId.eq(c.id), entry.id),
        activities: trash!(&txn, activity, activity::Column::ContactId.eq(c.id), entry.id),
        time_entries: trash!(&txn, time_entry, time_entry::Column::ContactId.eq(c.id), entry.id),
        unlinked_contacts: Vec::new(),
        last_name: Some(c.last_name.clone()),
        merged_into: None,
    };
    trash!(&txn, contact, contact::Column::Id.eq(c.id), entry.id);
    let backend = txn.get_database_backend();
    txn.execute(events::contact_binned(
        backend,
        events::Actor::Agent(actor.id()),
        c.id,
        events::Action::Deleted,
        entry.id,
        now,
    ))
    .await?;
    save_details(&txn, entry, &details).await?;
    txn.commit().await?;
    Ok(contact_id)
}

/// Deletes an account on behalf of `actor`: its contacts are kept and unlinked from it.
///
/// # Errors
/// `Forbidden` without the accounts delete permission; `NotFound`.
pub async fn delete_account(db: &Db, actor: &Actor, account_id: i64) -> ServiceResult<()> {
    actor.may(Module::Accounts, Action::Delete)?;
    let actor_id = actor.id();
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let a = account::Entity::find_by_id(account_id)
        .filter(account::Column::Trashed.eq(false))
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let now = Utc::now();
    let entry = new_entry(&txn, "account", a.id, a.name.clone(), actor_id, now).await?;
    // While its contacts are linked to it: each loses its Account Name.
    let backend = txn.get_database_backend();
    txn.execute(events::account_binned(backend, events::Actor::Agent(actor.id()), &a, events::Action::Deleted, now))
        .await?;
    let unlinked: Vec<i64> = contact::Entity::find()
        .select_only()
        .column(contact::Column::Id)
        .filter(contact::Column::AccountId.eq(a.id))
        .into_tuple()
        .all(&txn)
        .await?;
    contact::Entity::update_many()
        .col_expr(contact::Column::AccountId, Expr::value(Option::<i64>::None))
        .col_expr(contact::Column::AccountSort, Expr::value(""))
        .filter(contact::Column::AccountId.eq(a.id))
        .exec(&txn)
        .await?;
    super::accounts::drop_account_terms(&txn, &unlinked).await?;
    trash!(&txn, account, account::Column::Id.eq(a.id), entry.id);
    let details = Details { unlinked_contacts: unlinked, ..Details::default() };
    save_details(&txn, entry, &details).await?;
    txn.commit().await?;
    Ok(())
}

async fn save_details<C: ConnectionTrait>(conn: &C, entry: recycle_bin::Model, details: &Details) -> ServiceResult<()> {
    let mut row: recycle_bin::ActiveModel = entry.into();
    row.details = Set(serde_json::to_string(details).map_err(anyhow::Error::from)?);
    row.update(conn).await?;
    Ok(())
}

/// Moves everything of an entry back out of the bin.
macro_rules! untrash {
    ($conn:expr, $entity:ident, $entry:expr) => {
        $entity::Entity::update_many()
            .col_expr($entity::Column::Trashed, Expr::value(false))
            .col_expr($entity::Column::RecycleEntryId, Expr::value(Option::<i64>::None))
            .filter($entity::Column::RecycleEntryId.eq($entry))
            .exec($conn)
            .await?
    };
}

/// Restores an entry on behalf of `actor`, which needs the delete permission of the item's
/// module: everything that went into the bin with it comes back as it was, and an account's
/// contacts that have no account meanwhile are linked to it again. Returns what was restored.
///
/// A contact's email stays reserved while it is in the bin (the unique index covers deleted
/// contacts too), so a restore never collides with a contact added meanwhile.
///
/// # Errors
/// `NotFound`; `Forbidden` without the delete permission of the item's module.
pub async fn restore(db: &Db, actor: &Actor, entry_id: i64) -> ServiceResult<Entry> {
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let entry = recycle_bin::Entity::find_by_id(entry_id).one(&txn).await?.ok_or(ServiceError::NotFound)?;
    actor.may(module_of(&entry.kind), Action::Delete)?;
    if entry_of(entry.clone(), None).details.merged_into.is_some() {
        return Err(ServiceError::Conflict(
            "This contact was merged into another one. Open that contact (linked in the Recycle Bin) and choose Undo merge: it brings back everything that moved with it.".into(),
        ));
    }
    let (by, now, backend) = (events::Actor::Agent(actor.id()), Utc::now(), txn.get_database_backend());
    if entry.kind == "contact" {
        // While its tickets are in the bin.
        txn.execute(events::contact_binned(backend, by, entry.item_id, events::Action::Restored, entry.id, now))
            .await?;
    }
    untrash!(&txn, contact, entry.id);
    untrash!(&txn, ticket, entry.id);
    untrash!(&txn, activity, entry.id);
    untrash!(&txn, time_entry, entry.id);
    untrash!(&txn, account, entry.id);
    if entry.kind == "account" {
        let details: Details = serde_json::from_str(&entry.details).unwrap_or_default();
        if let Some(a) = account::Entity::find_by_id(entry.item_id).one(&txn).await? {
            for chunk in details.unlinked_contacts.chunks(500) {
                contact::Entity::update_many()
                    .col_expr(contact::Column::AccountId, Expr::value(a.id))
                    .col_expr(contact::Column::AccountSort, Expr::value(a.name_sort.clone()))
                    .filter(contact::Column::Id.is_in(chunk.to_vec()))
                    .filter(contact::Column::AccountId.is_null())
                    .exec(&txn)
                    .await?;
            }
            super::accounts::add_account_terms(&txn, &details.unlinked_contacts, a.id, &a.name).await?;
            // Now that its contacts are linked again: each has its Account Name back.
            txn.execute(events::account_binned(backend, by, &a, events::Action::Restored, now)).await?;
        }
    }
    recycle_bin::Entity::delete_by_id(entry.id).exec(&txn).await?;
    txn.commit().await?;
    Ok(entry_of(entry, None))
}

/// Removes an entry and everything that went with it, for good: Delete Permanently, for
/// administrators. Its events go too; what is left says only that it was purged.
///
/// # Errors
/// `Forbidden` for anyone else; `NotFound`.
pub async fn purge(db: &Db, actor: &Actor, entry_id: i64) -> ServiceResult<()> {
    actor.must_be_admin()?;
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    if !purge_entry(&txn, events::Actor::Agent(actor.id()), entry_id, Utc::now()).await? {
        return Err(ServiceError::NotFound);
    }
    txn.commit().await?;
    Ok(())
}

/// Purges entry `entry_id`; false when it is not there (any more).
async fn purge_entry<C: ConnectionTrait>(
    conn: &C,
    actor: events::Actor,
    entry_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, sea_orm::DbErr> {
    let Some(entry) = recycle_bin::Entity::find_by_id(entry_id).one(conn).await? else { return Ok(false) };
    let backend = conn.get_database_backend();
    // The events of its tickets and its account, before they go (its contact's go with it),
    // and the one that says it was purged, which names no one and no contact's History shows.
    let subject =
        if entry.kind == "account" { Subject::Account(entry.item_id) } else { Subject::Contact(entry.item_id) };
    let purged = events::statement(backend, &[Event::purged(actor, subject, now)]);
    crate::db::execute_all(conn, std::iter::once(events::forget_entry(backend, entry_id)).chain(purged).collect())
        .await?;
    // Children first: messages, search words and events go with their ticket or contact by
    // ON DELETE CASCADE.
    ticket::Entity::delete_many().filter(ticket::Column::RecycleEntryId.eq(entry_id)).exec(conn).await?;
    activity::Entity::delete_many().filter(activity::Column::RecycleEntryId.eq(entry_id)).exec(conn).await?;
    time_entry::Entity::delete_many().filter(time_entry::Column::RecycleEntryId.eq(entry_id)).exec(conn).await?;
    // The fragments' full-text table on SQLite has no foreign key to cascade from.
    let key = if conn.get_database_backend() == sea_orm::DbBackend::Postgres { "contact_id" } else { "rowid" };
    conn.execute(sea_orm::Statement::from_sql_and_values(
        conn.get_database_backend(),
        format!("DELETE FROM contact_fragments WHERE {key} IN (SELECT id FROM contacts WHERE recycle_entry_id = $1)"),
        [entry_id.into()],
    ))
    .await?;
    contact::Entity::delete_many().filter(contact::Column::RecycleEntryId.eq(entry_id)).exec(conn).await?;
    account::Entity::delete_many().filter(account::Column::RecycleEntryId.eq(entry_id)).exec(conn).await?;
    recycle_bin::Entity::delete_by_id(entry_id).exec(conn).await?;
    Ok(true)
}

/// Purges every entry deleted before `cutoff` (the retention period), one transaction each.
///
/// # Errors
/// Database errors.
pub async fn purge_older_than(db: &Db, cutoff: DateTime<Utc>) -> Result<u64, sea_orm::DbErr> {
    let old: Vec<i64> = recycle_bin::Entity::find()
        .select_only()
        .column(recycle_bin::Column::Id)
        .filter(recycle_bin::Column::DeletedAt.lt(cutoff))
        .limit(1000)
        .into_tuple()
        .all(&db.conn)
        .await?;
    let mut purged = 0;
    for id in old {
        // One entry that cannot be purged (say, a row added to it meanwhile) must not keep the
        // others in the bin forever: log it and go on.
        let _gate = db.write_gate().await;
        let txn = db.begin_write().await?;
        match purge_entry(&txn, events::Actor::System, id, Utc::now()).await {
            Ok(true) => {
                txn.commit().await?;
                purged += 1;
            }
            Ok(false) => {} // purged meanwhile, by another instance
            Err(e) => {
                tracing::warn!(entry = id, error = %e, "recycle bin entry could not be purged");
                txn.rollback().await?;
            }
        }
    }
    Ok(purged)
}
