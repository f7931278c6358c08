//! WhatsApp's `system` messages: a customer changed their number (`user_changed_number`) or
//! their business-scoped user id (`user_changed_user_id`). The new identity is added to the
//! contact the old one belongs to, the old one is kept (earlier conversations still name it),
//! and the contact's History records it; no ticket is opened.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use serde_json::Value;

use super::lookup::whatsapp_contact;
use super::{identity_row, Taken, Who};
use crate::channels::whatsapp::webhook::payload::Message;
use crate::db::Db;
use crate::domain::phone::Phone;
use crate::entities::contact_identity::IdentityKind;
use crate::services::events::{self, Action, Actor, Event, Field};

/// Applies system message `m` from `who` (its old identities).
///
/// # Errors
/// Database errors.
pub(super) async fn apply(db: &Db, who: &Who, m: &Message, now: DateTime<Utc>) -> Result<Taken, sea_orm::DbErr> {
    let o = m.object();
    let text = |key: &str| o.get(key).and_then(Value::as_str).map(str::trim).filter(|v| !v.is_empty());
    let new = match text("type").unwrap_or_default() {
        "user_changed_number" => text("wa_id")
            .or(text("new_wa_id"))
            .and_then(|n| Phone::from_e164(&format!("+{}", n.trim_start_matches('+'))))
            .map(|p| (IdentityKind::WhatsApp, p.as_str().to_owned())),
        "user_changed_user_id" => {
            text("user_id").or(text("new_user_id")).map(|u| (IdentityKind::WhatsAppUser, u.to_owned()))
        }
        other => return Ok(Taken::Skipped(format!("a system message of type {other:?}"))),
    };
    let Some((kind, value)) = new else {
        return Ok(Taken::Skipped("a system message without the new identity".into()));
    };
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let Some(c) = whatsapp_contact(&txn, who).await? else {
        return Ok(Taken::Skipped("a changed identity of someone who is not a contact".into()));
    };
    let backend = txn.get_database_backend();
    let added = txn.execute(identity_row(backend, c.id, kind, &value, now)).await?.rows_affected();
    if added > 0 {
        let event = Event::contact(Actor::Contact(c.id), c.id, Action::Updated, now).changed(
            Field::WhatsApp,
            None,
            Some(value),
        );
        if let Some(statement) = events::statement(backend, &[event]) {
            txn.execute(statement).await?;
        }
    }
    txn.commit().await?;
    Ok(Taken::Identities)
}
