//! Held messages: inbound WhatsApp messages that could not become part of a ticket (their
//! sender is a contact in the Recycle Bin), kept as Meta sent them with the reason, as the email
//! channel keeps mail in its quarantine. Meta got its 200, so nothing else would ever bring them
//! back: an administrator sees them on Settings → Channels → WhatsApp → Held messages, and
//! **Retry** takes one again through the normal path (it leaves the list once stored; still
//! refused, it stays with the reason brought up to date) or **Delete** drops it. Restoring a
//! contact from the Recycle Bin takes its held messages again by itself (`take_for_contact`).
//!
//! The writes that hold a message and release it run inside the transaction that decides it
//! (`super::store` and `super::batch`): a held message is never half stored, a replayed wamid is
//! held once (the unique `wamid`), and one stored (retried, or delivered again by Meta) leaves
//! the list in the transaction that stores it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Statement,
};

use super::batch::Job;
use super::{render, take, Taken};
use crate::channels::whatsapp::webhook::payload::{self, Message, Profile, Sender};
use crate::channels::whatsapp::webhook::Context;
use crate::db::{next_page, Db};
use crate::entities::contact_identity::{self, IdentityKind};
use crate::entities::{whatsapp_held_message as held, whatsapp_number};
use crate::services::intake::Received;
use crate::services::{Actor, ServiceError, ServiceResult};

/// The most held messages restoring one contact takes again; the rest wait for Retry.
const RESTORE_LIMIT: u64 = 200;
/// The longest text of a held message the list shows.
const PREVIEW_CHARS: usize = 300;

/// The row that holds `job`'s message with `reason`, unless it is held already.
pub(super) fn statement(backend: DbBackend, job: &Job, reason: &str) -> Statement {
    let row = held::ActiveModel {
        number_id: Set(job.number.id),
        wamid: Set(job.message.id.clone()),
        sender_phone: Set(job.who.phone.as_ref().map(|p| p.as_str().to_owned())),
        sender_user_id: Set(job.who.user.clone()),
        profile_name: Set(job.who.name.clone()),
        raw: Set(job.raw.to_string()),
        reason: Set(reason.to_owned()),
        attempts: Set(1),
        received_at: Set(job.now),
        ..Default::default()
    };
    held::Entity::insert(row)
        .on_conflict(OnConflict::column(held::Column::Wamid).do_nothing().to_owned())
        .build(backend)
}

/// Releases the held messages among `wamids`, which are being stored.
pub(super) fn released<'a>(backend: DbBackend, wamids: impl IntoIterator<Item = &'a str>) -> Statement {
    held::Entity::delete_many().filter(held::Column::Wamid.is_in(wamids)).build(backend)
}

/// A held message as the list shows it.
#[derive(Clone, Debug)]
pub struct Held {
    pub id: i64,
    /// The name of the number it came to.
    pub number: String,
    pub sender_phone: Option<String>,
    pub sender_user_id: Option<String>,
    pub profile_name: Option<String>,
    /// What it says, as the thread would show it (the start of it).
    pub text: String,
    pub reason: String,
    pub attempts: i32,
    pub received_at: DateTime<Utc>,
}

impl Held {
    /// Who sent it: the number (else the user id).
    #[must_use]
    pub fn sender(&self) -> &str {
        self.sender_phone.as_deref().or(self.sender_user_id.as_deref()).unwrap_or("—")
    }
}

/// A page of held messages, newest first, for an administrator: at most `size` older than
/// `older_than` (an id; the first page without it), and the cursor of the next page.
///
/// # Errors
/// `Forbidden` for anyone else; database errors.
pub async fn page(
    db: &Db,
    actor: &Actor,
    older_than: Option<i64>,
    size: u64,
) -> ServiceResult<(Vec<Held>, Option<i64>)> {
    actor.must_be_admin()?;
    let mut query = held::Entity::find();
    if let Some(id) = older_than {
        query = query.filter(held::Column::Id.lt(id));
    }
    let mut rows = query.order_by_desc(held::Column::Id).limit(size + 1).all(&db.conn).await?;
    let next = next_page(&mut rows, size, |h| h.id);
    let number_ids: Vec<i64> = rows.iter().map(|r| r.number_id).collect();
    let names: HashMap<i64, String> = whatsapp_number::Entity::find()
        .select_only()
        .columns([whatsapp_number::Column::Id, whatsapp_number::Column::Name])
        .filter(whatsapp_number::Column::Id.is_in(number_ids))
        .into_tuple::<(i64, String)>()
        .all(&db.conn)
        .await?
        .into_iter()
        .collect();
    let list = rows
        .into_iter()
        .map(|r| Held {
            id: r.id,
            number: names.get(&r.number_id).cloned().unwrap_or_default(),
            text: preview(&r.raw),
            sender_phone: r.sender_phone,
            sender_user_id: r.sender_user_id,
            profile_name: r.profile_name,
            reason: r.reason,
            attempts: r.attempts,
            received_at: r.received_at,
        })
        .collect();
    Ok((list, next))
}

/// The start of what `raw` says, as the thread would show it.
fn preview(raw: &str) -> String {
    let Some(m) = serde_json::from_str(raw).ok().and_then(|v| payload::read::<Message>(&v)) else {
        return String::new();
    };
    let text = render::text(&m, None);
    if text.chars().count() <= PREVIEW_CHARS {
        return text;
    }
    let cut: String = text.chars().take(PREVIEW_CHARS).collect();
    format!("{cut}…")
}

/// How many messages are held, for an administrator.
///
/// # Errors
/// `Forbidden` for anyone else; database errors.
pub async fn count(db: &Db, actor: &Actor) -> ServiceResult<u64> {
    actor.must_be_admin()?;
    Ok(held::Entity::find().count(&db.conn).await?)
}

/// What became of a held message taken again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Retried {
    /// Stored: in a ticket (`None` when it was found stored already).
    Stored(Option<Received>),
    /// Still held, with the reason.
    Held(String),
}

/// Takes held message `id` again through the normal path, at an administrator's request.
///
/// # Errors
/// `Forbidden` for anyone else; `NotFound`; database errors.
pub async fn retry(ctx: Context<'_>, actor: &Actor, id: i64, now: DateTime<Utc>) -> ServiceResult<Retried> {
    actor.must_be_admin()?;
    let row = held::Entity::find_by_id(id).one(&ctx.db.conn).await?.ok_or(ServiceError::NotFound)?;
    again(ctx, row, now).await
}

/// Deletes held message `id` for good, at an administrator's request.
///
/// # Errors
/// `Forbidden` for anyone else; `NotFound`; database errors.
pub async fn delete(db: &Db, actor: &Actor, id: i64) -> ServiceResult<()> {
    actor.must_be_admin()?;
    let _gate = db.write_gate().await;
    let done = held::Entity::delete_many().filter(held::Column::Id.eq(id)).exec(&db.conn).await?;
    if done.rows_affected == 0 {
        return Err(ServiceError::NotFound);
    }
    Ok(())
}

/// How many held messages a restore took again, and how many stay held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TakenBack {
    pub stored: usize,
    pub held: usize,
}

/// Takes again, oldest first, the held messages whose sender is a WhatsApp identity of contact
/// `contact_id`, just restored from the Recycle Bin: what restoring the contact was for. No
/// actor: it is the channel's own work, each message taken as when it arrived.
///
/// # Errors
/// Database errors (what was taken before stays taken).
pub async fn take_for_contact(ctx: Context<'_>, contact_id: i64, now: DateTime<Utc>) -> ServiceResult<TakenBack> {
    let identities: Vec<(IdentityKind, String)> = contact_identity::Entity::find()
        .select_only()
        .columns([contact_identity::Column::Kind, contact_identity::Column::Value])
        .filter(contact_identity::Column::ContactId.eq(contact_id))
        .filter(contact_identity::Column::Kind.is_in([IdentityKind::WhatsApp, IdentityKind::WhatsAppUser]))
        .into_tuple()
        .all(&ctx.db.conn)
        .await?;
    if identities.is_empty() {
        return Ok(TakenBack::default());
    }
    let of = |kind| identities.iter().filter(move |i| i.0 == kind).map(|i| i.1.clone());
    let senders = Condition::any()
        .add(held::Column::SenderPhone.is_in(of(IdentityKind::WhatsApp)))
        .add(held::Column::SenderUserId.is_in(of(IdentityKind::WhatsAppUser)));
    let rows = held::Entity::find()
        .filter(senders)
        .order_by_asc(held::Column::Id)
        .limit(RESTORE_LIMIT)
        .all(&ctx.db.conn)
        .await?;
    let mut back = TakenBack::default();
    for row in rows {
        match again(ctx, row, now).await? {
            Retried::Stored(_) => back.stored += 1,
            Retried::Held(_) => back.held += 1,
        }
    }
    Ok(back)
}

/// Takes `row`'s message again as it arrived: stored, it leaves the list; refused, the reason
/// is brought up to date and it stays.
async fn again(ctx: Context<'_>, row: held::Model, now: DateTime<Utc>) -> ServiceResult<Retried> {
    let number = whatsapp_number::Entity::find_by_id(row.number_id).one(&ctx.db.conn).await?;
    let raw: Option<serde_json::Value> = serde_json::from_str(&row.raw).ok();
    let message = raw.as_ref().and_then(payload::read::<Message>);
    let taken = match (number, raw, message) {
        (Some(number), Some(raw), Some(m)) => {
            let sender = Sender {
                profile: Profile { name: row.profile_name.clone() },
                wa_id: row.sender_phone.as_deref().map(|p| p.trim_start_matches('+').to_owned()),
                user_id: row.sender_user_id.clone(),
            };
            take(ctx, &number, &[sender], m, raw, now).await?
        }
        // Never in practice: the row is deleted with its number, and was written from JSON.
        _ => Taken::Skipped("The message as kept cannot be read again.".into()),
    };
    let _gate = ctx.db.write_gate().await;
    match taken {
        Taken::Held(reason) | Taken::Skipped(reason) => {
            held::Entity::update_many()
                .col_expr(held::Column::Reason, Expr::value(reason.clone()))
                .col_expr(held::Column::Attempts, Expr::col(held::Column::Attempts).add(1))
                .filter(held::Column::Id.eq(row.id))
                .exec(&ctx.db.conn)
                .await?;
            Ok(Retried::Held(reason))
        }
        stored => {
            // Stored now (its transaction released it), or found stored already.
            held::Entity::delete_by_id(row.id).exec(&ctx.db.conn).await?;
            Ok(Retried::Stored(match stored {
                Taken::Stored(received) => Some(received),
                _ => None,
            }))
        }
    }
}
