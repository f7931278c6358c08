//! The Help Center's accounts: who may log in, and the single-use links that let them in
//! (invitations, sign-up verification, password resets). Links carry a random token; the
//! database keeps only its SHA-256, and a token is spent with a conditional update so that two
//! clicks at once cannot both use it.

pub mod access;
pub mod login;
pub mod password_reset;
pub mod signup;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::auth::{random_token, token_hash};
use crate::channels::email::{enqueue, messages::Text, OutgoingMail};
use crate::domain::Email;
use crate::entities::help_center_token;

/// How long an invitation link works.
pub const INVITATION_TTL_DAYS: i64 = 7;
/// How long a password reset link works.
pub const RESET_TTL_HOURS: i64 = 2;
/// How long a sign-up verification link works.
pub const SIGNUP_TTL_HOURS: i64 = 24;

/// What a token link is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Invitation,
    PasswordReset,
}

impl Purpose {
    fn key(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::PasswordReset => "password_reset",
        }
    }
}

/// Where links in mail point, which domain our Message-IDs use, and whose name mail carries.
#[derive(Clone, Copy, Debug)]
pub struct MailContext<'a> {
    pub base_url: &'a str,
    pub domain: &'a str,
    pub company: &'a str,
}

/// Why a link did not work. One answer for unknown, used and expired links: the page says the
/// same for all three.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("this link is not valid any more")]
    Invalid,
    /// The address cannot use the Help Center (its access was removed, or the contact is in the
    /// Recycle Bin).
    #[error("this address cannot use the Help Center")]
    Refused,
    /// The password typed to confirm a sign-up is not the one chosen at sign-up.
    #[error("not the password chosen at sign-up")]
    WrongPassword,
    /// Too many requests for this address or from this client (mail bombing).
    #[error("too many requests")]
    Throttled,
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Makes a new token for `contact_id`, retiring the contact's unused ones of the same purpose;
/// returns the token for the link.
async fn issue<C: ConnectionTrait>(
    conn: &C,
    contact_id: i64,
    purpose: Purpose,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Result<String, sea_orm::DbErr> {
    retire(conn, contact_id, Some(purpose), now).await?;
    let token = random_token(43);
    help_center_token::ActiveModel {
        token_hash: Set(token_hash(&token)),
        purpose: Set(purpose.key().to_owned()),
        contact_id: Set(contact_id),
        expires_at: Set(now + ttl),
        used_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(token)
}

/// Marks the contact's unused tokens (of one purpose, or all) as spent.
///
/// # Errors
/// Database errors.
pub async fn retire<C: ConnectionTrait>(
    conn: &C,
    contact_id: i64,
    purpose: Option<Purpose>,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    let mut update = help_center_token::Entity::update_many()
        .col_expr(help_center_token::Column::UsedAt, Expr::value(now))
        .filter(help_center_token::Column::ContactId.eq(contact_id))
        .filter(help_center_token::Column::UsedAt.is_null());
    if let Some(purpose) = purpose {
        update = update.filter(help_center_token::Column::Purpose.eq(purpose.key()));
    }
    update.exec(conn).await?;
    Ok(())
}

/// The live token row for `token`, if it is unused and unexpired.
async fn find_live<C: ConnectionTrait>(
    conn: &C,
    token: &str,
    purpose: Purpose,
    now: DateTime<Utc>,
) -> Result<Option<help_center_token::Model>, sea_orm::DbErr> {
    help_center_token::Entity::find()
        .filter(help_center_token::Column::TokenHash.eq(token_hash(token)))
        .filter(help_center_token::Column::Purpose.eq(purpose.key()))
        .filter(help_center_token::Column::UsedAt.is_null())
        .filter(help_center_token::Column::ExpiresAt.gt(now))
        .one(conn)
        .await
}

/// Spends `token`: true for the one request that got it.
async fn spend<C: ConnectionTrait>(conn: &C, id: i64, now: DateTime<Utc>) -> Result<bool, sea_orm::DbErr> {
    let result = help_center_token::Entity::update_many()
        .col_expr(help_center_token::Column::UsedAt, Expr::value(now))
        .filter(help_center_token::Column::Id.eq(id))
        .filter(help_center_token::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Queues a rendered message to one address.
async fn send<C: ConnectionTrait>(
    conn: &C,
    mail: MailContext<'_>,
    to: &Email,
    to_name: String,
    text: Text,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    enqueue(conn, OutgoingMail::new(to.clone(), Some(to_name), text.subject, text.body), mail.domain, now).await?;
    Ok(())
}

/// Removes sign-ups and links that expired more than a day ago (they hold password hashes and
/// token hashes that are of no use to anyone any more).
///
/// # Errors
/// Database errors.
pub async fn purge_expired(db: &crate::db::Db, now: DateTime<Utc>) -> Result<u64, sea_orm::DbErr> {
    let cutoff = now - Duration::days(1);
    let _gate = db.write_gate().await;
    let signups = crate::entities::signup::Entity::delete_many()
        .filter(crate::entities::signup::Column::ExpiresAt.lt(cutoff))
        .exec(&db.conn)
        .await?;
    let tokens = help_center_token::Entity::delete_many()
        .filter(help_center_token::Column::ExpiresAt.lt(cutoff))
        .exec(&db.conn)
        .await?;
    Ok(signups.rows_affected + tokens.rows_affected)
}

/// The event of contact `contact_id`'s Help Center status going from `old` to `new` (as
/// contacts store it), made by `actor`.
pub(crate) fn status_event(
    actor: crate::services::events::Actor,
    contact_id: i64,
    action: crate::services::events::Action,
    old: &str,
    new: &str,
    now: DateTime<Utc>,
) -> crate::services::events::Event {
    crate::services::events::Event::contact(actor, contact_id, action, now).changed(
        crate::services::events::Field::HelpCenter,
        Some(old.to_owned()),
        Some(new.to_owned()),
    )
}
