//! "Forgot password?": a single-use, expiring link by mail, and choosing a new password with it.
//! Asking never tells whether the address is known.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};

use super::{find_live, issue, send, spend, LinkError, MailContext, Purpose, RESET_TTL_HOURS};
use crate::auth::session_store::end_all_for_contact;
use crate::channels::email::messages;
use crate::db::Db;
use crate::domain::{Email, PersonName};
use crate::entities::contact;
use crate::services::contacts::identities;
use crate::services::events::{self, Action, Actor};
use crate::services::throttle::{self, Client};

/// Sends a reset link when `email` belongs to a Help Center user (active, or invited and not
/// yet in); does nothing otherwise. The caller answers the same either way. At most a few
/// requests per address and per client in a quarter of an hour, so nobody's mailbox can be
/// flooded.
///
/// # Errors
/// `Throttled`; database errors.
pub async fn request(db: &Db, mail: MailContext<'_>, email: &Email, client: &Client<'_>) -> Result<(), LinkError> {
    // Never forgotten: every request may send a mail.
    if throttle::admit(db, throttle::Purpose::Reset, &format!("reset:{email}"), client).await?.is_none() {
        return Err(LinkError::Throttled);
    }
    let now = client.now;
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    // Any of the contact's addresses; the link goes to the one typed.
    let found = identities::contact_by_email(&txn, email.as_str())
        .await?
        .filter(|c| !c.trashed && matches!(c.help_center_status.as_str(), "active" | "invited"));
    let Some(c) = found else { return Ok(()) };
    let token = issue(&txn, c.id, Purpose::PasswordReset, now, Duration::hours(RESET_TTL_HOURS)).await?;
    let company = mail.company;
    let name = PersonName { first: c.first_name.as_deref(), last: &c.last_name }.to_string();
    let link = format!("{}/help/password-reset/{token}", mail.base_url);
    let text = messages::password_reset(&name, company, &link, &format!("{RESET_TTL_HOURS} hours"))
        .map_err(|e| LinkError::Other(e.into()))?;
    send(&txn, mail, email, name, text, now).await?;
    txn.commit().await?;
    Ok(())
}

/// Whether a reset link still works.
///
/// # Errors
/// Database errors.
pub async fn is_live(db: &Db, token: &str, now: DateTime<Utc>) -> Result<bool, sea_orm::DbErr> {
    Ok(find_live(&db.conn, token, Purpose::PasswordReset, now).await?.is_some())
}

/// Sets the new password, ends the contact's other sessions, and gives the contact's id to log
/// it in. An invited contact who resets becomes active: the mail proved the address.
///
/// # Errors
/// `Invalid` for an unknown, used or expired link, or a contact whose access was removed.
pub async fn reset(db: &Db, token: &str, password_hash: String, now: DateTime<Utc>) -> Result<i64, LinkError> {
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let row = find_live(&txn, token, Purpose::PasswordReset, now).await?.ok_or(LinkError::Invalid)?;
    let c = contact::Entity::find_by_id(row.contact_id)
        .one(&txn)
        .await?
        .filter(|c| !c.trashed && c.email.is_some() && matches!(c.help_center_status.as_str(), "active" | "invited"))
        .ok_or(LinkError::Invalid)?;
    if !spend(&txn, row.id, now).await? {
        return Err(LinkError::Invalid);
    }
    let id = c.id;
    let was_invited = c.help_center_status == "invited";
    let mut active: contact::ActiveModel = c.into();
    active.help_center_status = Set("active".into());
    active.password_hash = Set(Some(password_hash));
    active.updated_at = Set(now);
    active.update(&txn).await?;
    end_all_for_contact(&txn, id).await?;
    super::retire(&txn, id, None, now).await?;
    if was_invited {
        let accepted = super::status_event(Actor::Contact(id), id, Action::Updated, "invited", "active", now);
        events::record(&txn, &[accepted]).await?;
    }
    txn.commit().await?;
    Ok(id)
}
