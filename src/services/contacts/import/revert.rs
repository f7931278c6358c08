//! Revert an import (within [`REVERT_DAYS`] of it): the contacts it created go to the Recycle
//! Bin (so the revert itself can be undone from there), and the values it changed on existing
//! contacts are put back, through Edit Contact's own path (permissions, identities, search
//! words, history) — unless a value was edited since the import: that one is left as it is and
//! listed, never overwritten.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::Value;

use super::get;
use crate::db::Db;
use crate::domain::{Action, ContactForm, Module, PhoneParser, ScreenedForm};
use crate::entities::{contact, contact_import, contact_import_change};
use crate::services::contacts::{detail::find_row, form_of, identities, update};
use crate::services::{recycle_bin, Actor, ServiceError, ServiceResult};

/// Days after an import during which it can be reverted.
pub const REVERT_DAYS: i64 = 30;

/// What a revert did.
#[derive(Clone, Debug, Default)]
pub struct Reverted {
    pub deleted: u64,
    pub restored: u64,
    /// What was left as it was, one line each.
    pub kept: Vec<String>,
}

/// Whether import `i` can still be reverted at `now`.
#[must_use]
pub fn revertible(i: &contact_import::Model, now: DateTime<Utc>) -> bool {
    let ran = i.status == "imported" || (i.status == "failed" && i.done_rows > 0);
    ran && i.started_at.is_some_and(|at| now - at <= chrono::Duration::days(REVERT_DAYS))
}

/// Reverts import `id` on behalf of `actor`.
///
/// # Errors
/// `Forbidden` without the Import permission and Edit and Delete on contacts; `NotFound`;
/// `Conflict` for an import that cannot be reverted (not imported, reverted, too old).
pub async fn revert(db: &Db, actor: &Actor, id: i64, phones: &PhoneParser) -> ServiceResult<Reverted> {
    let import = get(&db.conn, actor, id).await?;
    actor.may(Module::Contacts, Action::Edit)?;
    actor.may(Module::Contacts, Action::Delete)?;
    let refused = || {
        ServiceError::Conflict(format!(
            "Only an import made in the last {REVERT_DAYS} days, and not reverted yet, can be reverted."
        ))
    };
    if !revertible(&import.row, Utc::now()) {
        return Err(refused());
    }
    // Taken in one step, so that two reverts at once do not both run.
    let claimed = {
        let _gate = db.write_gate().await;
        contact_import::Entity::update_many()
            .col_expr(contact_import::Column::Status, Expr::value("reverting"))
            .filter(contact_import::Column::Id.eq(id))
            .filter(contact_import::Column::Status.eq(import.row.status.as_str()))
            .exec(&db.conn)
            .await?
    };
    if claimed.rows_affected != 1 {
        return Err(refused());
    }
    let mut done = Reverted::default();
    let created: Vec<i64> = contact::Entity::find()
        .select_only()
        .column(contact::Column::Id)
        .filter(contact::Column::ImportId.eq(id))
        .filter(contact::Column::Trashed.eq(false))
        .into_tuple()
        .all(&db.conn)
        .await?;
    for contact_id in created {
        match recycle_bin::delete_contact(db, actor, contact_id).await {
            Ok(_) => done.deleted += 1,
            Err(ServiceError::Conflict(why)) => done.kept.push(format!("Contact {contact_id} was kept: {why}")),
            // Deleted by someone else meanwhile.
            Err(ServiceError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    let changes = contact_import_change::Entity::find()
        .filter(contact_import_change::Column::ImportId.eq(id))
        .order_by_asc(contact_import_change::Column::Id)
        .all(&db.conn)
        .await?;
    for change in changes {
        put_back(db, actor, phones, &change, &mut done).await?;
    }
    let mut row: contact_import::ActiveModel = import.row.into();
    row.status = Set("reverted".into());
    row.lease_until = Set(None);
    row.reverted_at = Set(Some(Utc::now()));
    row.revert_notes = Set((!done.kept.is_empty()).then(|| done.kept.join("\n")));
    let _gate = db.write_gate().await;
    row.update(&db.conn).await?;
    Ok(done)
}

/// Puts back a contact's External ID unless it changed since the import.
async fn put_back_external_id(db: &Db, contact_id: i64, old: Option<&str>, new: &str) -> ServiceResult<()> {
    let _gate = db.write_gate().await;
    contact::Entity::update_many()
        .col_expr(contact::Column::ExternalId, Expr::value(old.map(str::to_owned)))
        .filter(contact::Column::Id.eq(contact_id))
        .filter(contact::Column::ExternalId.eq(new))
        .exec(&db.conn)
        .await?;
    Ok(())
}

/// Puts back the values one change replaced, where the contact still has the import's values.
async fn put_back(
    db: &Db,
    actor: &Actor,
    phones: &PhoneParser,
    change: &contact_import_change::Model,
    done: &mut Reverted,
) -> ServiceResult<()> {
    let Some(row) = find_row(&db.conn, change.contact_id).await? else {
        done.kept.push(format!("Contact {} is no longer there.", change.contact_id));
        return Ok(());
    };
    let before: serde_json::Map<String, Value> = serde_json::from_str(&change.before).unwrap_or_default();
    let after: serde_json::Map<String, Value> = serde_json::from_str(&change.after).unwrap_or_default();
    let secondary = identities::secondary_emails(&db.conn, change.contact_id).await?;
    let now = form_of(&row, &secondary);
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let mut form = ContactForm { last_name: now.last_name.clone(), ..ContactForm::default() };
    let mut edited = Vec::new();
    for (key, value) in &after {
        let current = match key.as_str() {
            "first_name" => now.first_name.clone(),
            "last_name" => now.last_name.clone(),
            "phone" => now.phone.clone(),
            "mobile" => now.mobile.clone(),
            "title" => now.title.clone(),
            "description" => now.description.clone(),
            "account" => now.account.clone(),
            "owner" => now.owner.clone(),
            _ => continue,
        };
        let same = match key.as_str() {
            "account" => current.as_deref().map(str::to_lowercase) == value.as_str().map(str::to_lowercase),
            _ => current.as_deref() == value.as_str(),
        };
        if !same {
            edited.push(super::row::label_of(key));
            continue;
        }
        let old = Some(text(before.get(key)).unwrap_or_default());
        match key.as_str() {
            "first_name" => form.first_name = old,
            "last_name" => form.last_name = old,
            "phone" => form.phone = old,
            "mobile" => form.mobile = old,
            "title" => form.title = old,
            "description" => form.description = old,
            "account" => form.account = old,
            "owner" => form.owner = old,
            _ => {}
        }
    }
    if let Some(Value::Array(added)) = after.get("secondary_email") {
        let added: Vec<&str> = added.iter().filter_map(Value::as_str).collect();
        let kept: Vec<String> = secondary.iter().filter(|s| !added.contains(&s.as_str())).cloned().collect();
        if kept.len() != secondary.len() {
            form.secondary_emails = Some(kept.join("\n"));
            form.email = now.email.clone();
        }
    }
    let name = row.name();
    // A value that cannot be put back (its account renamed or deleted since, say) is listed,
    // and the others are put back without it.
    let mut attempt = form;
    for _ in 0..2 {
        match update(db, actor, change.contact_id, attempt.clone(), phones).await {
            Ok(()) => {
                done.restored += 1;
                break;
            }
            Err(ServiceError::Invalid(errors)) => {
                for (field, why) in errors.iter() {
                    done.kept.push(format!("{name}: {} could not be put back ({why})", super::row::label_of(field)));
                    attempt.drop_field(field);
                }
            }
            Err(ServiceError::NotFound) => {
                done.kept.push(format!("{name} is no longer there."));
                break;
            }
            Err(e) => return Err(e),
        }
    }
    if let (Some(old), Some(Value::String(new))) = (before.get("external_id"), after.get("external_id")) {
        put_back_external_id(db, change.contact_id, old.as_str(), new).await?;
    }
    if !edited.is_empty() {
        done.kept.push(format!("{name}: {} edited since the import, left as it is.", edited.join(", ")));
    }
    Ok(())
}
