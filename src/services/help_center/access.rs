//! Agents giving and taking Help Center access: invite (or invite again), remove, both with the
//! contacts edit permission; and the contact accepting an invitation by choosing a password.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};

use super::{issue, retire, send, spend, LinkError, MailContext, Purpose, INVITATION_TTL_DAYS};
use crate::auth::session_store::end_all_for_contact;
use crate::channels::email::messages;
use crate::db::Db;
use crate::domain::{Action, Email, Module, PersonName};
use crate::entities::contact;
use crate::services::events;
use crate::services::{Actor, ServiceError, ServiceResult};

/// Sends (or sends again) an invitation to the contact's address on behalf of `actor`; the
/// contact's status becomes invited. Earlier invitation links stop working.
///
/// # Errors
/// `Forbidden` without the contacts edit permission; `NotFound` for an unknown or deleted
/// contact; `Conflict` when the contact has no email or is an active Help Center user already.
pub async fn invite(
    db: &Db,
    mail: MailContext<'_>,
    actor: &Actor,
    contact_id: i64,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    actor.may(Module::Contacts, Action::Edit)?;
    let agent_id = actor.id();
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let c = contact::Entity::find_by_id(contact_id)
        .one(&txn)
        .await?
        .filter(|c| !c.trashed)
        .ok_or(ServiceError::NotFound)?;
    let Some(email) = c.email.as_deref().and_then(|e| Email::parse(e).ok()) else {
        return Err(ServiceError::Conflict(
            "Only a contact with an email address can use the Help Center. Add an email address to this contact first."
                .into(),
        ));
    };
    if c.help_center_status == "active" {
        return Err(ServiceError::Conflict("This contact is an active Help Center user already.".into()));
    }
    let token = issue(&txn, c.id, Purpose::Invitation, now, Duration::days(INVITATION_TTL_DAYS)).await?;
    let company = mail.company;
    let name = PersonName { first: c.first_name.as_deref(), last: &c.last_name }.to_string();
    let link = format!("{}/help/invitation/{token}", mail.base_url);
    let text = messages::invitation(&name, company, &link, &format!("{INVITATION_TTL_DAYS} days"))
        .map_err(|e| ServiceError::Other(e.into()))?;
    send(&txn, mail, &email, name, text, now).await?;
    // Sent again, the invitation changes nothing but is an event still.
    let invited = super::status_event(
        events::Actor::Agent(agent_id),
        c.id,
        events::Action::Invited,
        &c.help_center_status,
        "invited",
        now,
    );
    if c.help_center_status != "invited" {
        let mut row: contact::ActiveModel = c.into();
        row.help_center_status = Set("invited".into());
        row.updated_at = Set(now);
        row.update(&txn).await?;
    }
    events::record(&txn, &[invited]).await?;
    txn.commit().await?;
    Ok(())
}

/// What a bulk invitation did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BulkReport {
    pub invited: usize,
    /// Contacts without an email, active already, or gone.
    pub skipped: usize,
}

/// Invites each contact in `ids` (at most 100) on behalf of `actor`, skipping those that
/// cannot be invited.
///
/// # Errors
/// `Forbidden` without the contacts edit permission; database errors.
pub async fn invite_many(
    db: &Db,
    mail: MailContext<'_>,
    actor: &Actor,
    ids: &[i64],
    now: DateTime<Utc>,
) -> ServiceResult<BulkReport> {
    actor.may(Module::Contacts, Action::Edit)?;
    let mut report = BulkReport::default();
    for id in ids.iter().take(100) {
        match invite(db, mail, actor, *id, now).await {
            Ok(()) => report.invited += 1,
            Err(ServiceError::Conflict(_) | ServiceError::NotFound) => report.skipped += 1,
            Err(e) => return Err(e),
        }
    }
    Ok(report)
}

/// Removes the contact's Help Center access on behalf of `actor`: its password and links stop
/// working, its sessions end, and it can be deleted afterwards.
///
/// # Errors
/// `Forbidden` without the contacts edit permission; `NotFound` for an unknown or deleted
/// contact; `Conflict` when it has no access to remove.
pub async fn remove(db: &Db, actor: &Actor, contact_id: i64, now: DateTime<Utc>) -> ServiceResult<()> {
    actor.may(Module::Contacts, Action::Edit)?;
    let agent_id = actor.id();
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let c = contact::Entity::find_by_id(contact_id)
        .one(&txn)
        .await?
        .filter(|c| !c.trashed)
        .ok_or(ServiceError::NotFound)?;
    if !matches!(c.help_center_status.as_str(), "invited" | "active") {
        return Err(ServiceError::Conflict("This contact has no Help Center access to remove.".into()));
    }
    let removed = super::status_event(
        events::Actor::Agent(agent_id),
        contact_id,
        events::Action::Updated,
        &c.help_center_status,
        "deactivated",
        now,
    );
    let mut row: contact::ActiveModel = c.into();
    row.help_center_status = Set("deactivated".into());
    row.password_hash = Set(None);
    row.updated_at = Set(now);
    row.update(&txn).await?;
    retire(&txn, contact_id, None, now).await?;
    end_all_for_contact(&txn, contact_id).await?;
    events::record(&txn, &[removed]).await?;
    txn.commit().await?;
    Ok(())
}

/// The name of the contact an invitation link is for, when the link still works.
///
/// # Errors
/// Database errors.
pub async fn invitation_name(db: &Db, token: &str, now: DateTime<Utc>) -> Result<Option<String>, sea_orm::DbErr> {
    let Some(row) = super::find_live(&db.conn, token, Purpose::Invitation, now).await? else { return Ok(None) };
    let c = contact::Entity::find_by_id(row.contact_id).one(&db.conn).await?;
    Ok(c.filter(|c| !c.trashed && c.help_center_status == "invited")
        .map(|c| PersonName { first: c.first_name.as_deref(), last: &c.last_name }.to_string()))
}

/// Accepts an invitation: the contact gets `password_hash` and becomes an active Help Center
/// user. Returns the contact's id, to log it in.
///
/// # Errors
/// `Invalid` for an unknown, used or expired link, or when the invitation was withdrawn.
pub async fn accept(db: &Db, token: &str, password_hash: String, now: DateTime<Utc>) -> Result<i64, LinkError> {
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let row = super::find_live(&txn, token, Purpose::Invitation, now).await?.ok_or(LinkError::Invalid)?;
    let c = contact::Entity::find_by_id(row.contact_id)
        .one(&txn)
        .await?
        .filter(|c| !c.trashed && c.email.is_some() && c.help_center_status == "invited")
        .ok_or(LinkError::Invalid)?;
    if !spend(&txn, row.id, now).await? {
        return Err(LinkError::Invalid);
    }
    let id = c.id;
    let mut active: contact::ActiveModel = c.into();
    active.help_center_status = Set("active".into());
    active.password_hash = Set(Some(password_hash));
    active.updated_at = Set(now);
    active.update(&txn).await?;
    let accepted =
        super::status_event(events::Actor::Contact(id), id, events::Action::Updated, "invited", "active", now);
    events::record(&txn, &[accepted]).await?;
    txn.commit().await?;
    Ok(id)
}
