//! The WhatsApp channel's sender (`services::deliveries::Sender`): posts each queued message's
//! Cloud API object from its number, records Meta's id (`wamid`) and state on the message, and
//! says which failures are for good (undeliverable, a refused template, the window closed:
//! shown with the reason, never retried) and which are retried with back-off (rate limits,
//! Meta unavailable, an expired token until an administrator enters a new one; the settings
//! page says so).
//!
//! A message is never sent twice: a retry first looks whether the earlier attempt reached Meta
//! after all (a status webhook for our id arrived, or the wamid was recorded) and stops there.

use anyhow::anyhow;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};

use super::api::Api;
use super::numbers;
use super::statuses::reason;
use crate::db::Db;
use crate::entities::outbox::{self, DeliveryChannel};
use crate::entities::whatsapp_message::{self, State};
use crate::secrets::Sealer;
use crate::services::deliveries::{Permanent, Sender, MAX_ATTEMPTS};
use crate::services::ServiceError;

/// Whether a message in `state` reached Meta (accepted, sent, delivered or read).
fn reached_meta(state: State) -> bool {
    state > State::Queued && state != State::Failed
}

/// Sends WhatsApp deliveries.
pub struct WhatsAppSender<'a> {
    pub db: &'a Db,
    pub api: &'a Api,
    pub sealer: &'a Sealer,
}

impl WhatsAppSender<'_> {
    /// Records that Meta accepted message `id` as `wamid`, and took the token of number
    /// `token_back` again (one marked refused).
    async fn accepted(
        &self,
        id: i64,
        wamid: &str,
        token_back: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<(), sea_orm::DbErr> {
        {
            let _gate = self.db.write_gate().await;
            whatsapp_message::Entity::update_many()
                .col_expr(whatsapp_message::Column::Wamid, Expr::value(wamid))
                .col_expr(
                    whatsapp_message::Column::State,
                    Expr::case(whatsapp_message::Column::State.eq(State::Queued), Expr::value(State::Accepted))
                        .finally(Expr::col(whatsapp_message::Column::State))
                        .into(),
                )
                .col_expr(whatsapp_message::Column::UpdatedAt, Expr::value(now))
                .filter(whatsapp_message::Column::Id.eq(id))
                .exec(&self.db.conn)
                .await?;
        }
        if let Some(number_id) = token_back {
            numbers::mark_token(self.db, number_id, None, now).await?;
        }
        Ok(())
    }
}

impl Sender for WhatsAppSender<'_> {
    fn channel(&self) -> DeliveryChannel {
        DeliveryChannel::WhatsApp
    }

    fn configured(&self) -> bool {
        true
    }

    async fn send(&self, row: &outbox::Model) -> anyhow::Result<()> {
        let record = whatsapp_message::Entity::find()
            .filter(whatsapp_message::Column::DeliveryId.eq(row.message_id.as_str()))
            .one(&self.db.conn)
            .await?
            .ok_or_else(|| Permanent("the message's record is gone".into()))?;
        if record.wamid.is_some() || record.state.is_some_and(reached_meta) {
            return Ok(()); // an earlier attempt reached Meta
        }
        let number = match numbers::find(self.db, record.number_id).await {
            Ok(number) => number,
            Err(ServiceError::NotFound) => {
                return Err(Permanent("the WhatsApp number it was to go from is no longer connected".into()).into())
            }
            Err(e) => return Err(e.into()),
        };
        let secrets = numbers::secrets(self.sealer, &number).map_err(|e| Permanent(e.to_string()))?;
        let mut payload: Value = serde_json::from_str(row.payload.as_deref().unwrap_or_default())
            .map_err(|e| Permanent(format!("the queued message is damaged: {e}")))?;
        payload["biz_opaque_callback_data"] = json!(row.message_id);
        let now = Utc::now();
        match self.api.send(&numbers::credentials(&number, &secrets.access_token), &payload).await {
            Ok(accepted) => {
                // Meta has it: whatever happens to the bookkeeping now, it must not be sent again
                // (a status webhook for our id fills the state in later if this write fails).
                if let Err(e) =
                    self.accepted(record.id, &accepted.wamid, number.token_error.as_ref().map(|_| number.id), now).await
                {
                    tracing::error!(outbox = row.id, error = %e, "WhatsApp took a message but recording it failed");
                }
                Ok(())
            }
            Err(e) => {
                if e.kind == super::api::ErrorKind::Token {
                    numbers::mark_token(self.db, number.id, Some(e.with_code()), now).await?;
                }
                // The last attempt the outbox makes is for good too: the thread then says Failed.
                let last = row.attempts + 1 >= MAX_ATTEMPTS;
                let permanent = last || (!e.kind.retryable() && e.kind != super::api::ErrorKind::Token);
                let mut update = whatsapp_message::Entity::update_many()
                    .col_expr(whatsapp_message::Column::ErrorCode, Expr::value(e.code))
                    .col_expr(whatsapp_message::Column::ErrorReason, Expr::value(reason(e.code, Some(&e.message))))
                    .col_expr(whatsapp_message::Column::UpdatedAt, Expr::value(now));
                if permanent {
                    update = update.col_expr(whatsapp_message::Column::State, Expr::value(State::Failed));
                }
                let _gate = self.db.write_gate().await;
                update.filter(whatsapp_message::Column::Id.eq(record.id)).exec(&self.db.conn).await?;
                if permanent {
                    Err(Permanent(e.with_code()).into())
                } else {
                    Err(anyhow!(e.with_code()))
                }
            }
        }
    }
}

/// Sends the message with our id `delivery` at once (an agent waits for it) and says what
/// WhatsApp did: `None` when it took it, else the reason it did not (yet).
///
/// # Errors
/// Database errors.
pub async fn send_now(db: &Db, api: &Api, sealer: &Sealer, delivery: &str) -> Result<Option<String>, sea_orm::DbErr> {
    let sender = WhatsAppSender { db, api, sealer };
    crate::services::deliveries::send_now(db, &sender, delivery, Utc::now()).await?;
    let record = whatsapp_message::Entity::find()
        .filter(whatsapp_message::Column::DeliveryId.eq(delivery))
        .one(&db.conn)
        .await?;
    Ok(match record {
        Some(r) if r.state.is_some_and(reached_meta) => None,
        Some(r) if r.state == Some(State::Failed) => {
            Some(format!("WhatsApp refused it: {}", r.error_reason.unwrap_or_default()))
        }
        Some(r) => Some(format!(
            "it is queued and will be retried: {}",
            r.error_reason.unwrap_or_else(|| "WhatsApp has not answered yet".into())
        )),
        None => Some("it could not be queued".into()),
    })
}
