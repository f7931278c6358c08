//! Connected WhatsApp numbers (Settings → Channels → WhatsApp): setting them up, for
//! administrators (each such use-case takes the acting agent and refuses anyone else), and
//! finding one by its Callback URL's key for the webhooks. The Access Token and App Secret are
//! stored sealed (see `crate::secrets`) and only opened to call the API or check a signature.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::api::Credentials;
use crate::auth::random_token;
use crate::db::Db;
use crate::domain::whatsapp_number::NumberInput;
use crate::entities::whatsapp_number;
use crate::secrets::{Sealer, Unreadable};
use crate::services::{Actor, ServiceError, ServiceResult};

/// A connected number as stored (its secrets sealed).
pub use crate::entities::whatsapp_number::Model as Number;

/// A number's secrets, opened.
pub struct Secrets {
    pub access_token: String,
    pub app_secret: String,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(..)")
    }
}

/// Opens `number`'s secrets.
///
/// # Errors
/// [`Unreadable`] when they were sealed under another secret key.
pub fn secrets(sealer: &Sealer, number: &Number) -> Result<Secrets, Unreadable> {
    Ok(Secrets { access_token: sealer.open(&number.access_token)?, app_secret: sealer.open(&number.app_secret)? })
}

/// What an API call needs of `number`, with its opened token.
#[must_use]
pub fn credentials<'a>(number: &'a Number, token: &'a str) -> Credentials<'a> {
    Credentials {
        version: &number.graph_version,
        phone_number_id: &number.phone_number_id,
        waba_id: &number.waba_id,
        token,
    }
}

/// Every connected number, by name, for an administrator.
///
/// # Errors
/// `Forbidden` for anyone else; database errors.
pub async fn all(db: &Db, actor: &Actor) -> ServiceResult<Vec<Number>> {
    actor.must_be_admin()?;
    Ok(whatsapp_number::Entity::find()
        .order_by_asc(whatsapp_number::Column::Name)
        .order_by_asc(whatsapp_number::Column::Id)
        .all(&db.conn)
        .await?)
}

/// Number `id`, for an administrator.
///
/// # Errors
/// `Forbidden` for anyone else; `NotFound`; database errors.
pub async fn get(db: &Db, actor: &Actor, id: i64) -> ServiceResult<Number> {
    actor.must_be_admin()?;
    find(db, id).await
}

/// Number `id`, for the channel's own work (sending, webhooks): no actor.
///
/// # Errors
/// `NotFound`; database errors.
pub async fn find(db: &Db, id: i64) -> ServiceResult<Number> {
    whatsapp_number::Entity::find_by_id(id).one(&db.conn).await?.ok_or(ServiceError::NotFound)
}

/// The number whose Callback URL has `key`, if any.
///
/// # Errors
/// Database errors.
pub async fn by_webhook_key(db: &Db, key: &str) -> Result<Option<Number>, sea_orm::DbErr> {
    whatsapp_number::Entity::find().filter(whatsapp_number::Column::WebhookKey.eq(key)).one(&db.conn).await
}

/// Another number has the Phone Number ID (connected meanwhile by another request) as the
/// form's message.
fn taken(e: sea_orm::DbErr) -> ServiceError {
    ServiceError::from_unique(
        e,
        &[("whatsapp_numbers.phone_number_id", "phone_number_id", "This number is connected already.")],
    )
}

/// Connects a number, as an administrator: its Callback URL key and Verify Token are drawn
/// here, at random.
///
/// # Errors
/// `Forbidden` for anyone else; a field error when the Phone Number ID is connected already;
/// database errors.
pub async fn create(
    db: &Db,
    actor: &Actor,
    sealer: &Sealer,
    input: NumberInput,
    now: DateTime<Utc>,
) -> ServiceResult<Number> {
    actor.must_be_admin()?;
    let seal = |secret: Option<String>| secret.map(|s| sealer.seal(&s)).unwrap_or_default();
    let row = whatsapp_number::ActiveModel {
        name: Set(input.name),
        phone_number_id: Set(input.phone_number_id),
        waba_id: Set(input.waba_id),
        access_token: Set(seal(input.access_token)),
        app_secret: Set(seal(input.app_secret)),
        graph_version: Set(input.graph_version),
        webhook_key: Set(random_token(32)),
        verify_token: Set(random_token(24)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let _gate = db.write_gate().await;
    row.insert(&db.conn).await.map_err(taken)
}

/// Changes number `id`, as an administrator; a blank secret keeps the stored one, a new Access
/// Token clears the "token refused" mark.
///
/// # Errors
/// `Forbidden` for anyone else; `NotFound`; a field error when the Phone Number ID is taken;
/// database errors.
pub async fn update(
    db: &Db,
    actor: &Actor,
    sealer: &Sealer,
    id: i64,
    input: NumberInput,
    now: DateTime<Utc>,
) -> ServiceResult<Number> {
    let existing = get(db, actor, id).await?;
    let mut row: whatsapp_number::ActiveModel = existing.into();
    row.name = Set(input.name);
    row.phone_number_id = Set(input.phone_number_id);
    row.waba_id = Set(input.waba_id);
    row.graph_version = Set(input.graph_version);
    if let Some(token) = input.access_token {
        row.access_token = Set(sealer.seal(&token));
        row.token_error = Set(None);
    }
    if let Some(secret) = input.app_secret {
        row.app_secret = Set(sealer.seal(&secret));
    }
    row.updated_at = Set(now);
    let _gate = db.write_gate().await;
    row.update(&db.conn).await.map_err(taken)
}

/// Disconnects number `id`, as an administrator. Its tickets and their threads stay (they are
/// the customers' history); what only the channel kept goes with it (cascading): its templates,
/// the WhatsApp records of its messages (ids and states) and its conversations, so replies on
/// its tickets can no longer go out on WhatsApp, and messages still queued fail as "no longer
/// connected".
///
/// A number with held messages is not deleted: they are the only copy of what its customers
/// wrote (Meta got its answer), and they would go with it.
///
/// # Errors
/// `Forbidden` for anyone else; `NotFound`; `Conflict` while messages are held; database
/// errors.
pub async fn delete(db: &Db, actor: &Actor, id: i64) -> ServiceResult<Number> {
    use crate::entities::whatsapp_held_message;
    use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, PaginatorTrait, QueryFilter, Statement};
    let number = get(db, actor, id).await?;
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        // A message held meanwhile locks the number's row (its foreign key): counted after it.
        txn.execute(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id FROM whatsapp_numbers WHERE id = $1 FOR UPDATE",
            [id.into()],
        ))
        .await?;
    }
    let held = whatsapp_held_message::Entity::find()
        .filter(whatsapp_held_message::Column::NumberId.eq(id))
        .count(&txn)
        .await?;
    if held > 0 {
        return Err(crate::services::ServiceError::Conflict(format!(
            "{} has {held} held message(s), which would be lost with it: retry or delete them first \
             (Settings → Channels → WhatsApp → held messages).",
            number.name
        )));
    }
    whatsapp_number::Entity::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    Ok(number)
}

/// Records that Meta refused the number's token (`None`: that it took it again).
///
/// # Errors
/// Database errors.
pub async fn mark_token(db: &Db, id: i64, error: Option<String>, now: DateTime<Utc>) -> Result<(), sea_orm::DbErr> {
    let _gate = db.write_gate().await;
    whatsapp_number::Entity::update_many()
        .col_expr(whatsapp_number::Column::TokenError, Expr::value(error))
        .col_expr(whatsapp_number::Column::UpdatedAt, Expr::value(now))
        .filter(whatsapp_number::Column::Id.eq(id))
        .exec(&db.conn)
        .await?;
    Ok(())
}
