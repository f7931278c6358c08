//! A contact's identities: its email addresses (one primary, the others secondary), its phone
//! and mobile numbers and, with the WhatsApp channel, its WhatsApp accounts. This is the one
//! place that finds a contact by an address and keeps `contact_identities` in step with the
//! contact's own columns (`email` is the primary address, which the list sorts by and the Help
//! Center logs in with; `phone` and `mobile`).
//!
//! An email address belongs to at most one contact, whatever its case (the unique index of
//! migration m0026); phone numbers may be shared.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect, RelationTrait,
};

use crate::domain::phone::Phone;
use crate::entities::contact;
use crate::entities::contact_identity::{self, IdentityKind};

mod write;

pub use write::{
    address_taken, check_free, insert_all_unless_taken, insert_statement, insert_unless_taken, login_changed,
    make_primary, row, rows_of, set_emails, set_number,
};

/// How a History names secondary addresses (hidden with the Email field).
pub const SECONDARY_EMAIL: &str = "Secondary Email";

/// One identity, as the contact's page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub id: i64,
    pub kind: IdentityKind,
    pub value: String,
    pub is_primary: bool,
}

/// The contact, live or in the Recycle Bin, that has `email` (lowercase) among its addresses.
///
/// # Errors
/// Database errors.
pub async fn contact_by_email<C: ConnectionTrait>(
    conn: &C,
    email: &str,
) -> Result<Option<contact::Model>, sea_orm::DbErr> {
    contact_by(conn, IdentityKind::Email, email).await
}

/// The contact, live or in the Recycle Bin, with the identity `value` (as stored) of `kind`;
/// for numbers, which contacts may share, the first one found.
///
/// # Errors
/// Database errors.
pub async fn contact_by<C: ConnectionTrait>(
    conn: &C,
    kind: IdentityKind,
    value: &str,
) -> Result<Option<contact::Model>, sea_orm::DbErr> {
    contact::Entity::find()
        .join(JoinType::InnerJoin, contact_identity::Relation::Contact.def().rev())
        .filter(contact_identity::Column::Kind.eq(kind))
        .filter(contact_identity::Column::Value.eq(value))
        .one(conn)
        .await
}

/// Whether `email` is one of contact `contact_id`'s addresses.
///
/// # Errors
/// Database errors.
pub async fn has_email<C: ConnectionTrait>(conn: &C, contact_id: i64, email: &str) -> Result<bool, sea_orm::DbErr> {
    belongs_to(conn, contact_id, IdentityKind::Email, email).await
}

/// Whether the identity `value` of `kind` is one of contact `contact_id`'s.
///
/// # Errors
/// Database errors.
pub async fn belongs_to<C: ConnectionTrait>(
    conn: &C,
    contact_id: i64,
    kind: IdentityKind,
    value: &str,
) -> Result<bool, sea_orm::DbErr> {
    let found = contact_identity::Entity::find()
        .filter(contact_identity::Column::Kind.eq(kind))
        .filter(contact_identity::Column::Value.eq(value))
        .filter(contact_identity::Column::ContactId.eq(contact_id))
        .one(conn)
        .await?;
    Ok(found.is_some())
}

/// A contact's identities: the primary email first, then the others in the order they were
/// added.
///
/// # Errors
/// Database errors.
pub async fn of_contact<C: ConnectionTrait>(conn: &C, contact_id: i64) -> Result<Vec<Identity>, sea_orm::DbErr> {
    let rows = contact_identity::Entity::find()
        .filter(contact_identity::Column::ContactId.eq(contact_id))
        .order_by_desc(contact_identity::Column::IsPrimary)
        .order_by_asc(contact_identity::Column::Id)
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Identity { id: r.id, kind: r.kind, value: r.value, is_primary: r.is_primary })
        .collect())
}

/// Every address of a contact, the primary first.
///
/// # Errors
/// Database errors.
pub async fn emails_of<C: ConnectionTrait>(conn: &C, contact_id: i64) -> Result<Vec<String>, sea_orm::DbErr> {
    Ok(of_contact(conn, contact_id)
        .await?
        .into_iter()
        .filter(|i| i.kind == IdentityKind::Email)
        .map(|i| i.value)
        .collect())
}

/// The WhatsApp number a contact was last reached from, if it has one.
///
/// # Errors
/// Database errors.
pub async fn whatsapp_of<C: ConnectionTrait>(conn: &C, contact_id: i64) -> Result<Option<Phone>, sea_orm::DbErr> {
    let found = contact_identity::Entity::find()
        .filter(contact_identity::Column::ContactId.eq(contact_id))
        .filter(contact_identity::Column::Kind.eq(IdentityKind::WhatsApp))
        .order_by_desc(contact_identity::Column::Id)
        .one(conn)
        .await?;
    Ok(found.and_then(|row| Phone::from_e164(&row.value)))
}

/// A contact's secondary addresses, in the order they were added.
///
/// # Errors
/// Database errors.
pub async fn secondary<C: ConnectionTrait>(conn: &C, contact_id: i64) -> Result<Vec<Identity>, sea_orm::DbErr> {
    Ok(of_contact(conn, contact_id)
        .await?
        .into_iter()
        .filter(|i| i.kind == IdentityKind::Email && !i.is_primary)
        .collect())
}

/// [`secondary`], the addresses alone.
///
/// # Errors
/// Database errors.
pub async fn secondary_emails<C: ConnectionTrait>(conn: &C, contact_id: i64) -> Result<Vec<String>, sea_orm::DbErr> {
    Ok(secondary(conn, contact_id).await?.into_iter().map(|i| i.value).collect())
}
