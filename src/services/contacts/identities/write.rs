//! Writing a contact's identities: the rows of a new contact, an address checked free before
//! it is taken (and the unique index's answer turned into the field's error), a contact's
//! addresses and numbers set from its form, and a secondary address made the primary one.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryTrait, Statement,
};

use super::{of_contact, Identity};
use crate::db::Db;
use crate::domain::{Action, Module};
use crate::entities::contact;
use crate::entities::contact_identity::{self, IdentityKind};
use crate::services::events::{self, Change, Event, Field};
use crate::services::{Actor, ServiceError, ServiceResult};

/// The Help Center login of a Help Center user changed (its primary address): links mailed
/// for the old one and sessions begun with it end.
///
/// # Errors
/// Database errors.
pub async fn login_changed<C: ConnectionTrait>(
    conn: &C,
    contact: &contact::Model,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    if super::super::HELP_CENTER_USER_STATUSES.contains(&contact.help_center_status.as_str()) {
        crate::services::help_center::retire(conn, contact.id, None, now).await?;
        crate::auth::session_store::end_all_for_contact(conn, contact.id).await?;
    }
    Ok(())
}

/// The identity rows of a contact just created: its primary `email`, `secondary` addresses
/// and numbers.
#[must_use]
pub fn rows_of(
    contact: &contact::Model,
    secondary: &[String],
    now: DateTime<Utc>,
) -> Vec<contact_identity::ActiveModel> {
    let row = |kind, value: &str, is_primary| row(contact.id, kind, value, is_primary, now);
    contact
        .email
        .iter()
        .map(|e| row(IdentityKind::Email, e, true))
        .chain(secondary.iter().map(|e| row(IdentityKind::Email, e, false)))
        .chain(contact.phone.iter().map(|p| row(IdentityKind::Phone, p, false)))
        .chain(contact.mobile.iter().map(|p| row(IdentityKind::Mobile, p, false)))
        .collect()
}

/// One identity row.
#[must_use]
pub fn row(
    contact_id: i64,
    kind: IdentityKind,
    value: &str,
    is_primary: bool,
    now: DateTime<Utc>,
) -> contact_identity::ActiveModel {
    contact_identity::ActiveModel {
        contact_id: Set(contact_id),
        kind: Set(kind),
        value: Set(value.to_owned()),
        is_primary: Set(is_primary),
        created_at: Set(now),
        ..Default::default()
    }
}

/// One identity added unless some contact has it already (the unique index over identities
/// decides: it affects no row then).
#[must_use]
pub fn insert_unless_taken(
    backend: DbBackend,
    contact_id: i64,
    kind: IdentityKind,
    value: &str,
    now: DateTime<Utc>,
) -> Statement {
    insert_all_unless_taken(backend, vec![row(contact_id, kind, value, false, now)])
}

/// Identity `rows` added, each unless some contact has it already (see [`insert_unless_taken`]).
/// `rows` must not be empty.
#[must_use]
pub fn insert_all_unless_taken(backend: DbBackend, rows: Vec<contact_identity::ActiveModel>) -> Statement {
    contact_identity::Entity::insert_many(rows)
        .on_conflict(
            // The unique index over identities is partial: its predicate names it.
            sea_orm::sea_query::OnConflict::columns([contact_identity::Column::Kind, contact_identity::Column::Value])
                .target_and_where(Expr::cust("kind IN ('email', 'whatsapp', 'whatsapp_user')"))
                .do_nothing()
                .to_owned(),
        )
        .build(backend)
}

/// [`rows_of`] as one statement, for a caller that runs it together with others; `None` when
/// the contact has no identity.
#[must_use]
pub fn insert_statement(
    backend: DbBackend,
    contact: &contact::Model,
    secondary: &[String],
    now: DateTime<Utc>,
) -> Option<Statement> {
    let rows = rows_of(contact, secondary, now);
    (!rows.is_empty()).then(|| contact_identity::Entity::insert_many(rows).build(backend))
}

/// Checks that none of `emails` belongs to a contact other than `except`.
///
/// # Errors
/// `DuplicateEmail` for the primary address (`email` field), a message on `secondary_emails`
/// for the others.
pub async fn check_free<C: ConnectionTrait>(
    conn: &C,
    primary: Option<&str>,
    secondary: &[String],
    except: Option<i64>,
) -> ServiceResult<()> {
    let wanted: Vec<&str> = primary.into_iter().chain(secondary.iter().map(String::as_str)).collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let mut query = contact_identity::Entity::find()
        .filter(contact_identity::Column::Kind.eq(IdentityKind::Email))
        .filter(contact_identity::Column::Value.is_in(wanted));
    if let Some(id) = except {
        query = query.filter(contact_identity::Column::ContactId.ne(id));
    }
    let taken = query.all(conn).await?;
    if let Some(primary) = primary {
        if let Some(row) = taken.iter().find(|t| t.value == primary) {
            return Err(taken_by(conn, row.contact_id, "email").await?);
        }
    }
    match taken.first() {
        Some(row) => {
            let mut errors = crate::domain::FieldErrors::default();
            errors.add("secondary_emails", format!("Another contact has {} already.", row.value));
            Err(ServiceError::Invalid(errors))
        }
        None => Ok(()),
    }
}

/// Why the primary address cannot be had: a live contact has it (a link to it), or one in the
/// Recycle Bin does.
async fn taken_by<C: ConnectionTrait>(conn: &C, contact_id: i64, field: &'static str) -> ServiceResult<ServiceError> {
    let trashed = contact::Entity::find_by_id(contact_id).one(conn).await?.is_none_or(|c| c.trashed);
    Ok(if trashed {
        ServiceError::field(
            field,
            "A deleted contact in the Recycle Bin has this email. Restore it instead of adding a new one.",
        )
    } else {
        ServiceError::DuplicateEmail(contact_id)
    })
}

/// An address another writer gave a contact between [`check_free`] and the write, refused by
/// the contacts' or the identities' unique index, as the form's message on `field`.
#[must_use]
pub fn address_taken(e: sea_orm::DbErr, field: &'static str) -> ServiceError {
    const TAKEN: &str = "A contact with this email exists already.";
    ServiceError::from_unique(
        e,
        &[
            ("contacts.email", field, TAKEN),
            ("idx_contact_identities_unique", field, TAKEN),
            ("contact_identities.value", field, TAKEN),
        ],
    )
}

/// Brings contact `contact_id`'s addresses to `primary` and `secondary`, and returns the
/// changes of the secondary ones, one per address added or removed (the caller records the
/// Email field's own change).
///
/// # Errors
/// As [`check_free`]; database errors.
pub async fn set_emails<C: ConnectionTrait>(
    conn: &C,
    contact_id: i64,
    primary: Option<&str>,
    secondary: &[String],
    now: DateTime<Utc>,
) -> ServiceResult<Vec<Change>> {
    let secondary: Vec<String> = secondary.iter().filter(|s| Some(s.as_str()) != primary).cloned().collect();
    check_free(conn, primary, &secondary, Some(contact_id)).await?;
    let current: Vec<Identity> =
        of_contact(conn, contact_id).await?.into_iter().filter(|i| i.kind == IdentityKind::Email).collect();
    let mut changes = Vec::new();
    let wanted = |value: &str| primary == Some(value) || secondary.iter().any(|s| s == value);
    let gone: Vec<i64> = current.iter().filter(|i| !wanted(&i.value)).map(|i| i.id).collect();
    for old in current.iter().filter(|i| !wanted(&i.value) && !i.is_primary) {
        changes.push(secondary_change(Some(old.value.clone()), None));
    }
    if !gone.is_empty() {
        contact_identity::Entity::delete_many().filter(contact_identity::Column::Id.is_in(gone)).exec(conn).await?;
    }
    // Flags first, so that the primary is never marked twice.
    contact_identity::Entity::update_many()
        .col_expr(contact_identity::Column::IsPrimary, Expr::value(false))
        .filter(contact_identity::Column::ContactId.eq(contact_id))
        .filter(contact_identity::Column::Kind.eq(IdentityKind::Email))
        .exec(conn)
        .await?;
    let mut fresh = Vec::new();
    for (value, is_primary) in
        primary.map(|p| (p.to_owned(), true)).into_iter().chain(secondary.into_iter().map(|s| (s, false)))
    {
        match current.iter().find(|i| i.value == value) {
            Some(existing) => {
                if is_primary {
                    contact_identity::Entity::update_many()
                        .col_expr(contact_identity::Column::IsPrimary, Expr::value(true))
                        .filter(contact_identity::Column::Id.eq(existing.id))
                        .exec(conn)
                        .await?;
                } else if existing.is_primary {
                    changes.push(secondary_change(None, Some(value.clone())));
                }
            }
            None => {
                if !is_primary {
                    changes.push(secondary_change(None, Some(value.clone())));
                }
                fresh.push(contact_identity::ActiveModel {
                    contact_id: Set(contact_id),
                    kind: Set(IdentityKind::Email),
                    value: Set(value),
                    is_primary: Set(is_primary),
                    created_at: Set(now),
                    ..Default::default()
                });
            }
        }
    }
    if !fresh.is_empty() {
        contact_identity::Entity::insert_many(fresh)
            .exec(conn)
            .await
            .map_err(|e| address_taken(e, "secondary_emails"))?;
    }
    Ok(changes)
}

/// Brings the contact's number of `kind` (Phone or Mobile) to `number`.
///
/// # Errors
/// Database errors.
pub async fn set_number<C: ConnectionTrait>(
    conn: &C,
    contact_id: i64,
    kind: IdentityKind,
    number: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    contact_identity::Entity::delete_many()
        .filter(contact_identity::Column::ContactId.eq(contact_id))
        .filter(contact_identity::Column::Kind.eq(kind))
        .exec(conn)
        .await?;
    if let Some(number) = number {
        let row = contact_identity::ActiveModel {
            contact_id: Set(contact_id),
            kind: Set(kind),
            value: Set(number.to_owned()),
            is_primary: Set(false),
            created_at: Set(now),
            ..Default::default()
        };
        contact_identity::Entity::insert(row).exec(conn).await?;
    }
    Ok(())
}

fn secondary_change(old: Option<String>, new: Option<String>) -> Change {
    Change::new(Field::SecondaryEmail, old, new)
}

/// Makes secondary address `identity_id` the primary one of contact `contact_id` on behalf of
/// `actor`: it becomes the contact's Email and its Help Center login,
/// and the old primary stays as a secondary address.
///
/// # Errors
/// `Forbidden` without the right to edit contacts and their Email; `NotFound` for a contact
/// not live or an address not one of its secondary ones; database errors.
pub async fn make_primary(
    db: &Db,
    actor: &Actor,
    contact_id: i64,
    identity_id: i64,
    now: DateTime<Utc>,
) -> ServiceResult<String> {
    if !actor.can(Module::Contacts, Action::Edit) || !actor.fields(Module::Contacts).edits("email") {
        return Err(ServiceError::Forbidden("Your profile may not change a contact's Email.".into()));
    }
    let actor_id = actor.id();
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let c = contact::Entity::find_by_id(contact_id)
        .filter(contact::Column::Trashed.eq(false))
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let emails: Vec<Identity> =
        of_contact(&txn, contact_id).await?.into_iter().filter(|i| i.kind == IdentityKind::Email).collect();
    let chosen = emails.iter().find(|i| i.id == identity_id && !i.is_primary).ok_or(ServiceError::NotFound)?;
    let chosen = chosen.value.clone();
    let others: Vec<String> = emails.iter().filter(|i| i.value != chosen).map(|i| i.value.clone()).collect();
    let secondary_changes = set_emails(&txn, contact_id, Some(&chosen), &others, now).await?;
    let updated = Event::contact(events::Actor::Agent(actor_id), contact_id, events::Action::Updated, now)
        .changed(Field::Email, c.email.clone(), Some(chosen.clone()))
        .with(secondary_changes);
    login_changed(&txn, &c, now).await?;
    contact::Entity::update_many()
        .col_expr(contact::Column::Email, Expr::value(chosen.clone()))
        .col_expr(contact::Column::EmailSort, Expr::value(chosen.clone()))
        .col_expr(contact::Column::UpdatedAt, Expr::value(now))
        .filter(contact::Column::Id.eq(contact_id))
        .exec(&txn)
        .await
        .map_err(|e| address_taken(e, "email"))?;
    events::record(&txn, &[updated]).await?;
    txn.commit().await?;
    Ok(chosen)
}
