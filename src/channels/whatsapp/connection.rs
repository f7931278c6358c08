//! What an administrator does from a connected number's settings page, answered in Meta's own
//! words: **Test connection** (reads the number's details with its token and keeps them: the
//! display number, verified name and quality rating) and **Sync templates**. A token Meta
//! refuses is recorded on the number, and the page then asks for a new one; one it takes again
//! clears that.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::api::{Api, ErrorKind};
use super::numbers;
use super::templates::{self, SyncError};
use crate::db::Db;
use crate::entities::whatsapp_number;
use crate::secrets::Sealer;
use crate::services::{Actor, ServiceError, ServiceResult};

/// The outcome of a button, for the page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    pub worked: bool,
    /// What Meta said (or that it could not be reached), in a sentence.
    pub answer: String,
}

impl Checked {
    fn failed(answer: impl Into<String>) -> Self {
        Self { worked: false, answer: answer.into() }
    }
}

const UNREADABLE: &str =
    "The stored Access Token cannot be read with this instance's secret key: edit the number and enter it again.";

/// Test connection of number `id`, as an administrator.
///
/// # Errors
/// `Forbidden` for anyone else; `NotFound`; database errors. What Meta answered, error or not,
/// is the [`Checked`].
pub async fn test(
    db: &Db,
    actor: &Actor,
    api: &Api,
    sealer: &Sealer,
    id: i64,
    now: DateTime<Utc>,
) -> ServiceResult<Checked> {
    let number = numbers::get(db, actor, id).await?;
    let Ok(secrets) = numbers::secrets(sealer, &number) else { return Ok(Checked::failed(UNREADABLE)) };
    match api.number(&numbers::credentials(&number, &secrets.access_token)).await {
        Ok(info) => {
            let _gate = db.write_gate().await;
            whatsapp_number::Entity::update_many()
                .col_expr(whatsapp_number::Column::DisplayPhoneNumber, Expr::value(info.display_phone_number.clone()))
                .col_expr(whatsapp_number::Column::VerifiedName, Expr::value(info.verified_name.clone()))
                .col_expr(whatsapp_number::Column::QualityRating, Expr::value(info.quality_rating.clone()))
                .col_expr(whatsapp_number::Column::TokenError, Expr::value(Option::<String>::None))
                .col_expr(whatsapp_number::Column::UpdatedAt, Expr::value(now))
                .filter(whatsapp_number::Column::Id.eq(id))
                .exec(&db.conn)
                .await?;
            let shown = |v: Option<String>| v.unwrap_or_else(|| "not given".into());
            let answer = format!(
                "Meta knows this number as {} ({}), quality rating {}.",
                shown(info.display_phone_number),
                shown(info.verified_name),
                shown(info.quality_rating)
            );
            Ok(Checked { worked: true, answer })
        }
        Err(e) => {
            if e.kind == ErrorKind::Token {
                numbers::mark_token(db, id, Some(e.with_code()), now).await?;
            }
            Ok(Checked::failed(format!("Meta answered: {}", e.with_code())))
        }
    }
}

/// Sync templates of number `id`, as an administrator.
///
/// # Errors
/// `Forbidden` for anyone else; `NotFound`; database errors. What Meta answered, error or not,
/// is the [`Checked`].
pub async fn sync_templates(
    db: &Db,
    actor: &Actor,
    api: &Api,
    sealer: &Sealer,
    id: i64,
    now: DateTime<Utc>,
) -> ServiceResult<Checked> {
    let number = numbers::get(db, actor, id).await?;
    match templates::sync(db, api, sealer, &number, now).await {
        Ok(synced) => {
            let plural = if synced.read == 1 { "" } else { "s" };
            let answer = format!("{} template{plural} read, {} approved.", synced.read, synced.approved);
            Ok(Checked { worked: true, answer })
        }
        Err(SyncError::Api(e)) => {
            Ok(Checked::failed(format!("Meta answered: {}. The templates stay as they were.", e.with_code())))
        }
        Err(SyncError::Secrets(_)) => Ok(Checked::failed(UNREADABLE)),
        Err(SyncError::Gone) => Err(ServiceError::NotFound),
        Err(SyncError::Db(e)) => Err(e.into()),
    }
}
