//! What Meta posts to a number's Callback URL (`/webhooks/whatsapp/{key}`): the registration
//! handshake, then signed events. A POST's `X-Hub-Signature-256` is checked over the exact
//! bytes with the number's App Secret before anything is parsed; then every entry, change,
//! message and status is handled. Anything Meta may send and that we do not use (other fields,
//! odd shapes) is logged and answered as handled: Meta retries a POST that did not get a 200
//! for seven days, and retrying would not make it any more useful.
//!
//! Every string of a body loses its NUL characters (U+0000) as it is read, here and nowhere
//! else: PostgreSQL refuses them in text, and one in a message's text, a caption, a profile
//! name or a file name would fail the message's transaction and have Meta retry it for days.

pub mod payload;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use sha2::Sha256;

use super::api::Api;
use super::numbers::{self, Number};
use super::{inbound, statuses};
use crate::db::Db;
use crate::entities::whatsapp_number;
use crate::secrets::Sealer;
use payload::{Body, Change, Entry, MessagesValue, Sender};

/// What the channel needs to take events in.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub db: &'a Db,
    pub sealer: &'a Sealer,
    pub api: &'a Api,
    /// Stores inbound messages in batches; its closed tickets take a new message at most as
    /// many days after they were closed as it was started with.
    pub writer: &'a inbound::Writer,
}

/// The answer to the registration handshake.
#[derive(Debug, PartialEq, Eq)]
pub enum Handshake {
    /// The challenge, to answer as it is.
    Accepted(String),
    /// Not a subscription, or not the number's Verify Token.
    Refused,
    /// No number has this Callback URL.
    UnknownKey,
}

/// Meta's registration handshake for the number with Callback URL `key`.
///
/// # Errors
/// Database errors.
pub async fn handshake(
    db: &Db,
    key: &str,
    mode: Option<&str>,
    token: Option<&str>,
    challenge: Option<&str>,
) -> Result<Handshake, sea_orm::DbErr> {
    let Some(number) = numbers::by_webhook_key(db, key).await? else { return Ok(Handshake::UnknownKey) };
    let token_matches = token.is_some_and(|t| same(t, &number.verify_token));
    Ok(match (mode, challenge) {
        (Some("subscribe"), Some(challenge)) if token_matches => Handshake::Accepted(challenge.to_owned()),
        _ => Handshake::Refused,
    })
}

/// What became of a POST.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// Handled (which includes events ignored on purpose).
    Handled,
    /// No number has this Callback URL.
    UnknownKey,
    /// The signature is missing or wrong (or the number has no App Secret): nothing read.
    BadSignature,
}

/// Takes the signed POST `body` for the number with Callback URL `key`.
///
/// # Errors
/// Database errors (Meta then retries, and what was stored already is not stored twice).
pub async fn receive(
    ctx: Context<'_>,
    key: &str,
    signature: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Received, sea_orm::DbErr> {
    let Some(number) = numbers::by_webhook_key(ctx.db, key).await? else { return Ok(Received::UnknownKey) };
    let secret = match ctx.sealer.open(&number.app_secret) {
        Ok(secret) if !secret.is_empty() => secret,
        Ok(_) => {
            tracing::warn!(number = number.id, "a WhatsApp webhook arrived for a number without an App Secret");
            return Ok(Received::BadSignature);
        }
        Err(e) => {
            tracing::error!(number = number.id, error = %e, "the App Secret cannot be opened with this secret key");
            return Ok(Received::BadSignature);
        }
    };
    if !signed(&secret, signature, body) {
        tracing::warn!(number = number.id, "a WhatsApp webhook with a missing or wrong signature was refused");
        return Ok(Received::BadSignature);
    }
    let body: Body = match serde_json::from_slice(body).map(payload::without_nul).and_then(serde_json::from_value) {
        Ok(body) => body,
        Err(e) => {
            // Signed with our secret, so Meta's (or whoever holds the secret): answering 200
            // stops the retries, which would never read better.
            tracing::error!(number = number.id, error = %e, "a signed WhatsApp webhook is not JSON; ignored");
            return Ok(Received::Handled);
        }
    };
    if body.object != "whatsapp_business_account" {
        tracing::info!(object = %body.object, "a WhatsApp webhook about something else; ignored");
        return Ok(Received::Handled);
    }
    let mut templates = false;
    for entry in body.entry.iter().filter_map(|e| shaped::<Entry>(e, "entry")) {
        for change in entry.changes.iter().filter_map(|c| shaped::<Change>(c, "change")) {
            templates |= handle_change(ctx, &number, change, now).await?;
        }
    }
    if templates {
        templates_changed(&ctx, &number, now).await?;
    }
    Ok(Received::Handled)
}

/// Whether `signature` (`sha256=<hex>`) is the HMAC-SHA256 of `body` under `secret`, compared
/// in constant time.
#[must_use]
pub fn signed(secret: &str, signature: Option<&str>, body: &[u8]) -> bool {
    let Some(hex_digest) = signature.and_then(|s| s.trim().strip_prefix("sha256=")) else { return false };
    let Ok(digest) = hex::decode(hex_digest) else { return false };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else { return false };
    mac.update(body);
    mac.verify_slice(&digest).is_ok()
}

/// Whether `given` is `expected`, in constant time: both are put through one HMAC and the tags
/// compared with the `hmac` crate's constant-time check (lengths leak nothing either).
fn same(given: &str, expected: &str) -> bool {
    let tag = |text: &str| {
        let mut mac = Hmac::<Sha256>::new_from_slice(b"frontdesk verify token").ok()?;
        mac.update(text.as_bytes());
        Some(mac)
    };
    match (tag(given), tag(expected)) {
        (Some(given), Some(expected)) => given.verify_slice(&expected.finalize().into_bytes()).is_ok(),
        _ => false,
    }
}

fn shaped<T: for<'de> serde::Deserialize<'de>>(value: &serde_json::Value, what: &str) -> Option<T> {
    let read = payload::read(value);
    if read.is_none() {
        tracing::warn!(%value, "a WhatsApp webhook {what} of an unexpected shape; skipped");
    }
    read
}

/// Handles one change; whether it says the number's templates changed.
async fn handle_change(
    ctx: Context<'_>,
    keyed: &Number,
    change: Change,
    now: DateTime<Utc>,
) -> Result<bool, sea_orm::DbErr> {
    match change.field.as_str() {
        "messages" => {}
        // Read again once per POST, after the loop (see `receive`).
        "message_template_status_update" => return Ok(true),
        other => {
            tracing::info!(field = other, "a WhatsApp webhook field not used; ignored");
            return Ok(false);
        }
    }
    let Some(value) = shaped::<MessagesValue>(&change.value, "messages value") else { return Ok(false) };
    let Some(number) = number_of(ctx.db, keyed, &value.metadata.phone_number_id).await? else {
        tracing::warn!(phone_number_id = %value.metadata.phone_number_id, "a WhatsApp webhook for a number not connected; ignored");
        return Ok(false);
    };
    let found: Vec<statuses::Status> =
        value.statuses.iter().filter_map(|s| shaped::<payload::Status>(s, "status")).map(Into::into).collect();
    if !found.is_empty() {
        statuses::record(ctx.db, number.id, &found, now).await?;
    }
    let senders: Vec<Sender> = value.contacts.iter().filter_map(|c| shaped(c, "contact")).collect();
    for raw in value.messages {
        if let Some(message) = shaped::<payload::Message>(&raw, "message") {
            inbound::take(ctx, &number, &senders, message, raw, now).await?;
        }
    }
    Ok(false)
}

/// The number a change is about: the one whose Callback URL it came to, or another connected
/// number of the same app (one app's webhook carries all its numbers).
async fn number_of(db: &Db, keyed: &Number, phone_number_id: &str) -> Result<Option<Number>, sea_orm::DbErr> {
    if phone_number_id.is_empty() || phone_number_id == keyed.phone_number_id {
        return Ok(Some(keyed.clone()));
    }
    // Only a number of the same business account: the App Secret that signed it is that app's.
    whatsapp_number::Entity::find()
        .filter(whatsapp_number::Column::PhoneNumberId.eq(phone_number_id))
        .filter(whatsapp_number::Column::WabaId.eq(keyed.waba_id.as_str()))
        .one(&db.conn)
        .await
}

/// A template was approved, rejected or paused: the number's templates are read again, after
/// the answer (Meta waits for none of it). Until then they are marked stale (never synced), which
/// the settings page shows.
async fn templates_changed(ctx: &Context<'_>, number: &Number, now: DateTime<Utc>) -> Result<(), sea_orm::DbErr> {
    use sea_orm::sea_query::Expr;
    tracing::info!(number = number.id, "a WhatsApp template changed status; reading the templates again");
    {
        let _gate = ctx.db.write_gate().await;
        whatsapp_number::Entity::update_many()
            .col_expr(whatsapp_number::Column::TemplatesSyncedAt, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(whatsapp_number::Column::UpdatedAt, Expr::value(now))
            .filter(whatsapp_number::Column::Id.eq(number.id))
            .exec(&ctx.db.conn)
            .await?;
    }
    let (db, api, sealer, number) = (ctx.db.clone(), ctx.api.clone(), ctx.sealer.clone(), number.clone());
    tokio::spawn(async move {
        if let Err(e) = super::templates::sync(&db, &api, &sealer, &number, Utc::now()).await {
            tracing::warn!(number = number.id, error = %e, "reading the WhatsApp templates again failed");
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_is_checked_over_the_exact_bytes() {
        let mut mac = Hmac::<Sha256>::new_from_slice(b"secret").unwrap();
        mac.update(b"{\"a\":1}");
        let good = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert!(signed("secret", Some(&good), b"{\"a\":1}"));
        assert!(!signed("secret", Some(&good), b"{\"a\": 1}"));
        assert!(!signed("other", Some(&good), b"{\"a\":1}"));
        assert!(!signed("secret", None, b"{\"a\":1}"));
        assert!(!signed("secret", Some("sha256=zz"), b"{\"a\":1}"));
    }
}
