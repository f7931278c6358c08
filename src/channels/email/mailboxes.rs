//! Support mailboxes (Settings → Channels → Email): setting them up, for administrators (each
//! such use-case takes the acting agent and refuses anyone else); `super::poll` polls each
//! one's IMAP folder. Passwords are stored sealed (see `crate::secrets`).

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::channels::email::imap::ImapAccount;
use crate::db::Db;
use crate::domain::mailbox::{ImapSecurity, MailboxInput};
use crate::domain::FieldErrors;
use crate::entities::mailbox;
use crate::secrets::{Sealer, Unreadable};
use crate::services::{Actor, ServiceError, ServiceResult};

/// A support mailbox as stored (its password sealed).
pub use crate::entities::mailbox::Model as Mailbox;

/// Every mailbox, by address, for an administrator.
///
/// # Errors
/// `Forbidden` for anyone else; database errors.
pub async fn all(db: &Db, actor: &Actor) -> ServiceResult<Vec<Mailbox>> {
    actor.must_be_admin()?;
    Ok(mailbox::Entity::find().order_by_asc(mailbox::Column::Address).all(&db.conn).await?)
}

/// Mailbox `id`, for an administrator.
///
/// # Errors
/// `Forbidden` for anyone else; `NotFound`; database errors.
pub async fn get(db: &Db, actor: &Actor, id: i64) -> ServiceResult<Mailbox> {
    actor.must_be_admin()?;
    find(db, id).await
}

async fn find(db: &Db, id: i64) -> ServiceResult<Mailbox> {
    mailbox::Entity::find_by_id(id).one(&db.conn).await?.ok_or(ServiceError::NotFound)
}

/// Another mailbox has the address (set up meanwhile by another request) as the form's message.
fn taken(e: sea_orm::DbErr) -> ServiceError {
    ServiceError::from_unique(e, &[("mailboxes.address", "address", "This address is set up already.")])
}

/// Adds a mailbox, as an administrator.
///
/// # Errors
/// `Forbidden` for anyone else; a field error when the address is set up already; database
/// errors.
pub async fn create(
    db: &Db,
    actor: &Actor,
    sealer: &Sealer,
    input: MailboxInput,
    now: DateTime<Utc>,
) -> ServiceResult<Mailbox> {
    actor.must_be_admin()?;
    let password = input.imap_password.as_deref().map(|p| sealer.seal(p)).unwrap_or_default();
    let row = mailbox::ActiveModel {
        address: Set(input.address.as_str().to_owned()),
        imap_host: Set(input.imap_host),
        imap_port: Set(i32::from(input.imap_port)),
        imap_security: Set(input.imap_security.key().to_owned()),
        imap_user: Set(input.imap_user),
        imap_password: Set(password),
        folder: Set(input.folder),
        poll_seconds: Set(i32::try_from(input.poll_seconds).unwrap_or(i32::MAX)),
        active: Set(input.active),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let _gate = db.write_gate().await;
    row.insert(&db.conn).await.map_err(taken)
}

/// Changes mailbox `id`, as an administrator; a blank password keeps the stored one.
///
/// # Errors
/// `Forbidden` for anyone else; `NotFound`; a field error when another mailbox has the
/// address; database errors.
pub async fn update(
    db: &Db,
    actor: &Actor,
    sealer: &Sealer,
    id: i64,
    input: MailboxInput,
    now: DateTime<Utc>,
) -> ServiceResult<Mailbox> {
    actor.must_be_admin()?;
    let current = find(db, id).await?;
    if input.imap_password.is_none() && server_changed(&current, &input) {
        return Err(ServiceError::Invalid(password_again()));
    }
    // Another folder's UIDs say nothing about this one: start again from its unread mail.
    let other_folder = server_changed(&current, &input) || current.folder != input.folder;
    let mut row: mailbox::ActiveModel = current.into();
    if other_folder {
        row.uid_validity = Set(None);
        row.last_uid = Set(None);
    }
    row.address = Set(input.address.as_str().to_owned());
    row.imap_host = Set(input.imap_host);
    row.imap_port = Set(i32::from(input.imap_port));
    row.imap_security = Set(input.imap_security.key().to_owned());
    row.imap_user = Set(input.imap_user);
    if let Some(password) = input.imap_password {
        row.imap_password = Set(sealer.seal(&password));
    }
    row.folder = Set(input.folder);
    row.poll_seconds = Set(i32::try_from(input.poll_seconds).unwrap_or(i32::MAX));
    row.active = Set(input.active);
    // Settings changed: poll at once with them, and forget the old error.
    row.last_polled_at = Set(None);
    row.last_error = Set(None);
    row.updated_at = Set(now);
    let _gate = db.write_gate().await;
    row.update(&db.conn).await.map_err(taken)
}

/// Whether `input` points the mailbox at another server or account than `current`. The stored
/// password is then not reused: it would go to wherever the new settings say, in the clear if
/// they say so.
#[must_use]
pub fn server_changed(current: &mailbox::Model, input: &MailboxInput) -> bool {
    current.imap_host != input.imap_host
        || current.imap_port != i32::from(input.imap_port)
        || current.imap_security != input.imap_security.key()
        || current.imap_user != input.imap_user
}

/// The form's message when the password must be typed again.
#[must_use]
pub fn password_again() -> FieldErrors {
    let mut errors = FieldErrors::default();
    errors.add("imap_password", "Enter the password again: the server or the user name changed.");
    errors
}

/// Removes mailbox `id`, as an administrator (its tickets stay; replies then go out from the
/// default address).
///
/// # Errors
/// `Forbidden` for anyone else; `NotFound`; database errors.
pub async fn delete(db: &Db, actor: &Actor, id: i64) -> ServiceResult<()> {
    actor.must_be_admin()?;
    let _gate = db.write_gate().await;
    let done = mailbox::Entity::delete_many().filter(mailbox::Column::Id.eq(id)).exec(&db.conn).await?;
    if done.rows_affected == 0 {
        return Err(ServiceError::NotFound);
    }
    Ok(())
}

/// What connecting to a mailbox needs, its password opened.
///
/// # Errors
/// When the stored password cannot be opened (the secret key changed).
pub fn account(m: &mailbox::Model, sealer: &Sealer) -> Result<ImapAccount, Unreadable> {
    Ok(ImapAccount {
        host: m.imap_host.clone(),
        port: u16::try_from(m.imap_port).unwrap_or(993),
        security: ImapSecurity::from_key(&m.imap_security).unwrap_or(ImapSecurity::Tls),
        user: m.imap_user.clone(),
        password: sealer.open(&m.imap_password)?,
        folder: m.folder.clone(),
    })
}
