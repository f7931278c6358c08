//! A connected number's message templates: read from Meta (`sync`: every page of the business
//! account's templates, replacing the number's rows in one transaction, so a failed read keeps
//! the old ones), listed for the settings page, and the approved ones for the send form. What a
//! template says and takes (its parameters, the preview, the Cloud API object that sends it) is
//! in `model`.
//!
//! `sync` takes no actor: the Sync templates button reaches it through
//! `connection::sync_templates` (administrators only), and a template-status webhook calls it
//! directly, as the channel's own work.

pub mod model;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::api::{self, Api, ApiError, ErrorKind};
use super::numbers::{self, Number};
use crate::db::Db;
use crate::entities::{whatsapp_number, whatsapp_template};
use crate::secrets::{Sealer, Unreadable};
use crate::services::{Actor, ServiceResult};
pub use model::{Content, Parameter, Values};

/// The status of a template that can be sent.
pub const APPROVED: &str = "APPROVED";
/// The most bytes of one template's components kept: a larger one is left out of the sync.
const MAX_COMPONENTS: usize = 64 * 1024;
/// The longest template name or language code kept (Meta's names are at most 512 characters).
const MAX_NAME: usize = 512;

/// A stored template, with what it says read from its components.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    pub id: i64,
    pub number_id: i64,
    pub name: String,
    /// Meta's language code (`en_US`).
    pub language: String,
    pub category: String,
    pub status: String,
    pub content: Content,
}

impl Template {
    /// Whether it can be sent.
    #[must_use]
    pub fn approved(&self) -> bool {
        self.status == APPROVED
    }

    /// The parameters a send must give.
    #[must_use]
    pub fn parameters(&self) -> Vec<Parameter> {
        self.content.parameters()
    }

    /// The Cloud API's `template` object sending it with `values`.
    #[must_use]
    pub fn send_object(&self, values: &Values) -> serde_json::Value {
        self.content.send_object(&self.name, &self.language, values)
    }
}

impl From<whatsapp_template::Model> for Template {
    fn from(row: whatsapp_template::Model) -> Self {
        Self {
            id: row.id,
            number_id: row.number_id,
            content: Content::parse(&row.components),
            name: row.name,
            language: row.language,
            category: row.category,
            status: row.status,
        }
    }
}

/// What a sync read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Synced {
    /// Templates read and stored.
    pub read: usize,
    /// Of them, approved.
    pub approved: usize,
}

/// Why a sync stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// Meta's answer, or that it could not be reached.
    #[error("{}", .0.with_code())]
    Api(ApiError),
    #[error("the stored Access Token cannot be read with this instance's secret key: enter it again")]
    Secrets(#[from] Unreadable),
    /// The number was deleted meanwhile.
    #[error("the number is no longer connected")]
    Gone,
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// Reads every template of `number`'s business account from Meta and replaces the number's
/// stored ones with them, in one transaction; sets the number's `templates_synced_at`. A
/// refused token is recorded on the number (the settings page asks for a new one).
///
/// # Errors
/// Meta's error (nothing changed), an unreadable token, database errors.
pub async fn sync(
    db: &Db,
    api: &Api,
    sealer: &Sealer,
    number: &Number,
    now: DateTime<Utc>,
) -> Result<Synced, SyncError> {
    let secrets = numbers::secrets(sealer, number)?;
    let read = match api.templates(&numbers::credentials(number, &secrets.access_token)).await {
        Ok(read) => read,
        Err(e) => {
            if e.kind == ErrorKind::Token {
                numbers::mark_token(db, number.id, Some(e.with_code()), now).await?;
            }
            return Err(SyncError::Api(e));
        }
    };
    let (rows, approved) = rows(number.id, read, now);
    let synced = Synced { read: rows.len(), approved };
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    // The number's row first: on PostgreSQL its lock makes a concurrent sync of the same
    // number (the button and a webhook) wait here, then replace what this one stored.
    let mut update = whatsapp_number::Entity::update_many()
        .col_expr(whatsapp_number::Column::TemplatesSyncedAt, Expr::value(Some(now)))
        .col_expr(whatsapp_number::Column::UpdatedAt, Expr::value(now));
    if number.token_error.is_some() {
        update = update.col_expr(whatsapp_number::Column::TokenError, Expr::value(Option::<String>::None));
    }
    if update.filter(whatsapp_number::Column::Id.eq(number.id)).exec(&txn).await?.rows_affected == 0 {
        return Err(SyncError::Gone);
    }
    whatsapp_template::Entity::delete_many()
        .filter(whatsapp_template::Column::NumberId.eq(number.id))
        .exec(&txn)
        .await?;
    if !rows.is_empty() {
        whatsapp_template::Entity::insert_many(rows).exec(&txn).await?;
    }
    txn.commit().await?;
    Ok(synced)
}

/// The rows to store, one per name and language (the first Meta listed), each bounded; and how
/// many of them are approved.
fn rows(number_id: i64, read: Vec<api::Template>, now: DateTime<Utc>) -> (Vec<whatsapp_template::ActiveModel>, usize) {
    let mut seen = std::collections::HashSet::new();
    let mut approved = 0;
    let rows = read
        .into_iter()
        .filter_map(|t| {
            let components = t.components.to_string();
            let fits = !t.name.is_empty()
                && t.name.len() <= MAX_NAME
                && t.language.len() <= MAX_NAME
                && components.len() <= MAX_COMPONENTS;
            if !fits || !seen.insert((t.name.clone(), t.language.clone())) {
                tracing::warn!(name = %t.name.chars().take(80).collect::<String>(), "template left out of the sync");
                return None;
            }
            approved += usize::from(t.status == APPROVED);
            Some(whatsapp_template::ActiveModel {
                number_id: Set(number_id),
                name: Set(t.name),
                language: Set(t.language),
                category: Set(t.category.chars().take(100).collect()),
                status: Set(t.status.chars().take(100).collect()),
                parameter_format: Set(t.parameter_format.chars().take(100).collect()),
                components: Set(components),
                synced_at: Set(now),
                ..Default::default()
            })
        })
        .collect();
    (rows, approved)
}

/// Every stored template of number `number_id`, by name and language, for an administrator.
///
/// # Errors
/// `Forbidden` for anyone else; database errors.
pub async fn of_number(db: &Db, actor: &Actor, number_id: i64) -> ServiceResult<Vec<Template>> {
    actor.must_be_admin()?;
    Ok(stored(db, number_id, false).await?)
}

/// The approved templates of number `number_id`, by name and language: what the send form
/// offers.
///
/// # Errors
/// Database errors.
pub async fn approved(db: &Db, number_id: i64) -> Result<Vec<Template>, sea_orm::DbErr> {
    stored(db, number_id, true).await
}

async fn stored(db: &Db, number_id: i64, only_approved: bool) -> Result<Vec<Template>, sea_orm::DbErr> {
    let mut query = whatsapp_template::Entity::find().filter(whatsapp_template::Column::NumberId.eq(number_id));
    if only_approved {
        query = query.filter(whatsapp_template::Column::Status.eq(APPROVED));
    }
    let rows = query
        .order_by_asc(whatsapp_template::Column::Name)
        .order_by_asc(whatsapp_template::Column::Language)
        .all(&db.conn)
        .await?;
    Ok(rows.into_iter().map(Template::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(name: &str, language: &str, status: &str, components: serde_json::Value) -> api::Template {
        api::Template {
            name: name.into(),
            language: language.into(),
            status: status.into(),
            category: "UTILITY".into(),
            parameter_format: "POSITIONAL".into(),
            components,
        }
    }

    #[test]
    fn a_sync_keeps_one_row_per_name_and_language_and_leaves_out_what_is_too_large() {
        let body = serde_json::json!([{"type": "BODY", "text": "Hi {{1}}"}]);
        let huge = serde_json::json!([{"type": "BODY", "text": "x".repeat(MAX_COMPONENTS)}]);
        let (rows, approved) = rows(
            7,
            vec![
                read("ticket_update", "en_US", APPROVED, body.clone()),
                read("ticket_update", "en_US", "PAUSED", body.clone()),
                read("ticket_update", "de", APPROVED, body.clone()),
                read("", "en_US", APPROVED, body.clone()),
                read("too_big", "en_US", APPROVED, huge),
                read("promo", "en_US", "REJECTED", body),
            ],
            Utc::now(),
        );
        let kept: Vec<_> = rows.iter().map(|r| format!("{:?} {:?}", r.name, r.language)).collect();
        assert_eq!(kept.len(), 3, "{kept:?}");
        assert_eq!(approved, 2);
    }
}
