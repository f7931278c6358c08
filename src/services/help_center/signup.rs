//! Self sign-up. The sign-up waits in `signups` until its address is verified; only then is a
//! contact touched: the existing contact with that address gets Help Center access (never a
//! second contact), or a new one is made. Verifying takes the link from the mail *and* the
//! password chosen at sign-up, so that signing up with someone else's address gives nothing to
//! either side: the attacker has no mail, the owner of the mailbox has no password.
//! The answer to the form is the same whether or not the address was known; an address that
//! is already a Help Center user's gets a password reset link instead of a verification.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, TransactionTrait,
};

use super::{issue, retire, send, LinkError, MailContext, Purpose, RESET_TTL_HOURS, SIGNUP_TTL_HOURS};
use crate::auth::session_store::end_all_for_contact;
use crate::auth::{password, random_token, token_hash};
use crate::channels::email::messages;
use crate::db::Db;
use crate::domain::{Email, PersonName, SignupInput};
use crate::entities::{contact, signup};
use crate::services::contacts::identities;
use crate::services::contacts::write::{create_from_channel, ChannelContact, NewContactSource};
use crate::services::events::{self, Action, Actor};
use crate::services::is_unique_violation;

/// Records the sign-up and mails the verification link (or, for an existing Help Center user,
/// a reset link). The caller has let the request through the throttle (`signup:` and the
/// address) before hashing the password.
///
/// # Errors
/// Database errors.
pub async fn start(
    db: &Db,
    mail: MailContext<'_>,
    input: &SignupInput,
    password_hash: String,
    now: DateTime<Utc>,
) -> Result<(), LinkError> {
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let company = mail.company;
    // Any of a contact's addresses finds it, a secondary one too.
    let existing = identities::contact_by_email(&txn, input.email.as_str()).await?;
    match existing {
        Some(c) if c.trashed || c.help_center_status == "deactivated" => {} // nothing to send
        Some(c) if c.help_center_status == "active" => {
            let token = issue(&txn, c.id, Purpose::PasswordReset, now, Duration::hours(RESET_TTL_HOURS)).await?;
            let name = PersonName { first: c.first_name.as_deref(), last: &c.last_name }.to_string();
            let login = format!("{}/help/login", mail.base_url);
            let link = format!("{}/help/password-reset/{token}", mail.base_url);
            let text = messages::account_exists(&name, company, &login, &link, &format!("{RESET_TTL_HOURS} hours"))
                .map_err(|e| LinkError::Other(e.into()))?;
            send(&txn, mail, &input.email, name, text, now).await?;
        }
        _ => {
            let token = random_token(43);
            signup::ActiveModel {
                token_hash: Set(token_hash(&token)),
                first_name: Set(input.first_name.clone()),
                last_name: Set(input.last_name.as_str().to_owned()),
                email: Set(input.email.as_str().to_owned()),
                password_hash: Set(password_hash),
                expires_at: Set(now + Duration::hours(SIGNUP_TTL_HOURS)),
                used_at: Set(None),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            let name = PersonName { first: input.first_name.as_deref(), last: input.last_name.as_str() }.to_string();
            let link = format!("{}/help/activate/{token}", mail.base_url);
            let text = messages::signup_verification(&name, company, &link, &format!("{SIGNUP_TTL_HOURS} hours"))
                .map_err(|e| LinkError::Other(e.into()))?;
            send(&txn, mail, &input.email, name, text, now).await?;
        }
    }
    txn.commit().await?;
    Ok(())
}

/// Whether a verification link still works.
///
/// # Errors
/// Database errors.
pub async fn is_live(db: &Db, token: &str, now: DateTime<Utc>) -> Result<bool, sea_orm::DbErr> {
    Ok(live(&db.conn, token, now).await?.is_some())
}

async fn live<C: sea_orm::ConnectionTrait>(
    conn: &C,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<signup::Model>, sea_orm::DbErr> {
    signup::Entity::find()
        .filter(signup::Column::TokenHash.eq(token_hash(token)))
        .filter(signup::Column::UsedAt.is_null())
        .filter(signup::Column::ExpiresAt.gt(now))
        .one(conn)
        .await
}

/// Verifies the address with the password chosen at sign-up: the contact with the address
/// becomes an active Help Center user with that password, or a new contact is made. Gives the
/// contact's id, to log it in.
///
/// # Errors
/// `Invalid` for an unknown, used or expired link; `WrongPassword`; `Refused` when the
/// contact's access was removed by an agent or the contact is in the Recycle Bin.
pub async fn verify(db: &Db, token: &str, password_given: String, now: DateTime<Utc>) -> Result<i64, LinkError> {
    let pending = live(&db.conn, token, now).await?.ok_or(LinkError::Invalid)?;
    if !password::verify(password_given, Some(pending.password_hash.clone())).await {
        return Err(LinkError::WrongPassword);
    }
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let spent = signup::Entity::update_many()
        .col_expr(signup::Column::UsedAt, Expr::value(now))
        .filter(signup::Column::Id.eq(pending.id))
        .filter(signup::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if spent.rows_affected != 1 {
        return Err(LinkError::Invalid);
    }
    let id = match attach(&txn, &pending, now).await? {
        Some(id) => id,
        None => create(&txn, &pending).await?,
    };
    txn.commit().await?;
    Ok(id)
}

/// Gives the existing contact with the sign-up's address Help Center access with the sign-up's
/// password, ending its other sessions and links; `None` when there is no such contact.
async fn attach(
    txn: &DatabaseTransaction,
    pending: &signup::Model,
    now: DateTime<Utc>,
) -> Result<Option<i64>, LinkError> {
    let Some(c) = identities::contact_by_email(txn, pending.email.as_str()).await? else {
        return Ok(None);
    };
    if c.trashed || c.help_center_status == "deactivated" {
        return Err(LinkError::Refused);
    }
    let id = c.id;
    let signed_up = super::status_event(Actor::Contact(id), id, Action::SignedUp, &c.help_center_status, "active", now);
    let was_active = c.help_center_status == "active";
    let mut row: contact::ActiveModel = c.into();
    row.help_center_status = Set("active".into());
    row.password_hash = Set(Some(pending.password_hash.clone()));
    row.updated_at = Set(now);
    row.update(txn).await?;
    retire(txn, id, None, now).await?;
    end_all_for_contact(txn, id).await?;
    if !was_active {
        events::record(txn, &[signed_up]).await?;
    }
    Ok(Some(id))
}

/// Makes a new contact for the sign-up. A concurrent creation of the same address (an email
/// ticket arriving that second) wins the unique index; then the sign-up attaches to it.
async fn create(txn: &DatabaseTransaction, pending: &signup::Model) -> Result<i64, LinkError> {
    let email = Email::parse(&pending.email).map_err(|e| LinkError::Other(anyhow::anyhow!(e)))?;
    let savepoint = txn.begin().await?;
    let made = create_from_channel(
        &savepoint,
        ChannelContact {
            mobile: None,
            first_name: pending.first_name.as_deref(),
            last_name: &pending.last_name,
            email: Some(&email),
            source: NewContactSource::HelpCenter,
            help_center_status: "active",
            owner: None,
        },
        Some(pending.password_hash.clone()),
    )
    .await;
    match made {
        Ok(c) => {
            savepoint.commit().await?;
            Ok(c.id)
        }
        Err(e) if is_unique_violation(&e) => {
            savepoint.rollback().await?;
            attach(txn, pending, Utc::now()).await?.ok_or(LinkError::Invalid)
        }
        Err(e) => Err(e.into()),
    }
}
