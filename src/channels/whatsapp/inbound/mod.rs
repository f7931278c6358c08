//! Inbound WhatsApp messages, each through the one intake (`services::intake`): who wrote (a
//! number and/or a business-scoped user id), which contact that is (by its WhatsApp identity,
//! else by a Phone or Mobile that matches, else a new one), and which ticket the message joins
//! (the open WhatsApp ticket of that customer on that business number, a closed one closed
//! less than `reopen_days` ago, else a new one; a ticket that has no contact yet, opened by an
//! agent's template, is linked to the contact found or created and the message joins it). Beside the thread entry it writes the
//! conversation (the 24-hour window moves forward only) and a `whatsapp_messages` row; the
//! unique `wamid` stores a message once however often Meta delivers it. Media is only noted
//! here (`pending`) and fetched by the worker in `super::media`, outside Meta's request.
//!
//! A message the intake refuses (its sender is a contact in the Recycle Bin) is never dropped:
//! it is held (`held`), as Meta sent it and with the reason, in the transaction that would have
//! stored it, until an administrator retries it or restoring the contact takes it.
//!
//! One customer's messages are taken one after the other: SQLite's write lock does it, and on
//! PostgreSQL a transaction-scoped advisory lock on (number, customer), so that fifty first
//! messages at once make one contact and one ticket.

mod batch;
pub mod held;
mod lookup;
pub mod render;
mod system;

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, Query, SimpleExpr};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, QuerySelect, QueryTrait, Statement,
};

use super::numbers::Number;
use super::opt_ins;
use super::webhook::payload::{Message, Sender};
use super::webhook::Context;
use crate::db::Db;
use crate::domain::phone::Phone;
use crate::domain::{Channel, FileUpload, TicketStatus};
use crate::entities::contact_identity::IdentityKind;
use crate::entities::whatsapp_message::{self, Direction, MediaState};
use crate::entities::{message, whatsapp_conversation};
use crate::services::contacts::identities;
use crate::services::events::{self, Action, Actor, Event, Field};
use crate::services::intake::{self, Arrival, Brake, Identity, Incoming, Received};
use crate::services::is_unique_violation;
use crate::services::tickets::link;

pub use batch::Writer;

/// What became of one inbound message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Taken {
    Stored(Received),
    /// Its `wamid` was stored already: nothing changed.
    Duplicate,
    /// A system message: the contact's identities were updated, no ticket.
    Identities,
    /// Kept aside with the reason (see [`held`]): it can be retried once the cause is fixed.
    Held(String),
    /// Not taken, with the reason (logged).
    Skipped(String),
}

/// Who wrote, as the message and its change's `contacts` say.
#[derive(Clone, Debug)]
pub(crate) struct Who {
    pub phone: Option<Phone>,
    pub user: Option<String>,
    /// The WhatsApp profile name.
    pub name: Option<String>,
}

impl Who {
    fn of(m: &Message, senders: &[Sender]) -> Self {
        let sender = senders
            .iter()
            .find(|s| {
                (m.from.is_some() && s.wa_id == m.from) || (m.from_user_id.is_some() && s.user_id == m.from_user_id)
            })
            .or(if senders.len() == 1 { senders.first() } else { None });
        let phone = m.from.as_deref().and_then(|from| Phone::from_e164(&format!("+{}", from.trim_start_matches('+'))));
        let user = m.from_user_id.as_deref().or(sender.and_then(|s| s.user_id.as_deref())).filter(|u| !u.is_empty());
        let name = sender.and_then(|s| s.profile.name.as_deref()).map(str::trim).filter(|n| !n.is_empty());
        Self { phone, user: user.map(str::to_owned), name: name.map(str::to_owned) }
    }

    /// Whom replies go to: the number, else the user id.
    fn customer(&self) -> Option<&str> {
        self.phone.as_ref().map(Phone::as_str).or(self.user.as_deref())
    }

    fn identity(&self) -> Option<Identity<'_>> {
        self.phone.as_ref().map(Identity::WhatsApp).or(self.user.as_deref().map(Identity::WhatsAppUser))
    }

    /// (first, last) name of a new contact: the profile name split as for email; with no name,
    /// the number as last name (a user id is never one: "WhatsApp user").
    fn names(&self) -> (Option<String>, String) {
        self.name.as_deref().and_then(crate::domain::names::split_display_name).unwrap_or_else(|| {
            (None, self.phone.as_ref().map_or_else(|| "WhatsApp user".to_owned(), |p| p.as_str().to_owned()))
        })
    }
}

/// Takes message `m` that came to `number`, `senders` being its change's `contacts`; `raw` is
/// the message as Meta sent it, kept if the message is held.
///
/// # Errors
/// Database errors.
pub async fn take(
    ctx: Context<'_>,
    number: &Number,
    senders: &[Sender],
    m: Message,
    raw: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<Taken, sea_orm::DbErr> {
    let who = Who::of(&m, senders);
    let wamid = m.id.clone();
    let taken = if m.id.is_empty() {
        Taken::Skipped("a message without an id".into())
    } else if who.customer().is_none() {
        Taken::Skipped(format!("a message from {:?} that is neither a phone number nor a user id", m.from))
    } else if m.kind == "system" {
        system::apply(ctx.db, &who, &m, now).await?
    } else if stored(&ctx.db.conn, &m.id).await? {
        Taken::Duplicate
    } else {
        // Read before the write: the quoted message is in a committed batch if we have it.
        let quotes = m.context.as_ref().and_then(|c| c.id.as_deref());
        let reacts_to = (m.kind == "reaction").then(|| m.object().get("message_id").and_then(|v| v.as_str())).flatten();
        let text = render::text(&m, quoted(&ctx.db.conn, reacts_to.or(quotes)).await?.as_deref());
        let job = batch::Job { number: number.clone(), who, message: m, raw, text, now };
        ctx.writer.store(job).await?
    };
    match &taken {
        Taken::Skipped(why) => tracing::warn!(%wamid, "an inbound WhatsApp message was skipped: {why}"),
        Taken::Held(why) => tracing::info!(%wamid, "an inbound WhatsApp message is held: {why}"),
        _ => {}
    }
    Ok(taken)
}

async fn stored<C: ConnectionTrait>(conn: &C, wamid: &str) -> Result<bool, sea_orm::DbErr> {
    let found = whatsapp_message::Entity::find()
        .select_only()
        .column(whatsapp_message::Column::Id)
        .filter(whatsapp_message::Column::Wamid.eq(wamid))
        .into_tuple::<i64>()
        .one(conn)
        .await?;
    Ok(found.is_some())
}

/// The text of the message `wamid` (in or out) as the thread shows it, if we have it.
async fn quoted<C: ConnectionTrait>(conn: &C, wamid: Option<&str>) -> Result<Option<String>, sea_orm::DbErr> {
    let Some(wamid) = wamid.filter(|w| !w.is_empty()) else { return Ok(None) };
    let thread_id = Query::select()
        .column(whatsapp_message::Column::MessageId)
        .from(whatsapp_message::Entity)
        .and_where(whatsapp_message::Column::Wamid.eq(wamid))
        .to_owned();
    message::Entity::find()
        .select_only()
        .column(message::Column::Body)
        .filter(
            Condition::any().add(message::Column::Id.in_subquery(thread_id)).add(message::Column::MessageId.eq(wamid)),
        )
        .into_tuple::<String>()
        .one(conn)
        .await
}

/// Stores `job`'s message on its own, in a transaction of its own: the way a message of a
/// batch that failed is taken again (see `batch`). A message refused is held in the same
/// transaction; one stored leaves the held messages if it was one.
async fn store(db: &Db, reopen_days: u32, job: &batch::Job) -> Result<Taken, sea_orm::DbErr> {
    let batch::Job { number, who, message: m, text, now, .. } = job;
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let backend = txn.get_database_backend();
    let written = match write(&txn, reopen_days, number, who, m, text, *now).await {
        Ok(Taken::Held(reason)) => {
            txn.execute(held::statement(backend, job, &reason)).await.map(|_| Taken::Held(reason))
        }
        Ok(taken @ Taken::Stored(_)) => txn.execute(held::released(backend, [m.id.as_str()])).await.map(|_| taken),
        other => other,
    };
    let taken = match written {
        Ok(taken) => taken,
        Err(e) if is_unique_violation(&e) => {
            drop(txn);
            return duplicate_or(db, &m.id, e).await;
        }
        Err(e) => return Err(e),
    };
    match txn.commit().await {
        Ok(()) => Ok(taken),
        Err(e) if is_unique_violation(&e) => duplicate_or(db, &m.id, e).await,
        Err(e) => Err(e),
    }
}

/// A unique violation is the same message stored meanwhile by another request; else `e`.
async fn duplicate_or(db: &Db, wamid: &str, e: sea_orm::DbErr) -> Result<Taken, sea_orm::DbErr> {
    if stored(&db.conn, wamid).await? {
        Ok(Taken::Duplicate)
    } else {
        Err(e)
    }
}

async fn write(
    txn: &DatabaseTransaction,
    reopen_days: u32,
    number: &Number,
    who: &Who,
    m: &Message,
    text: &str,
    now: DateTime<Utc>,
) -> Result<Taken, sea_orm::DbErr> {
    let (Some(customer), Some(identity)) = (who.customer(), who.identity()) else {
        return Ok(Taken::Skipped("no identity".into()));
    };
    lookup::serialise(txn, number.id, customer).await?;
    let known = match lookup::whatsapp_contact(txn, who).await? {
        Some(c) => Some(c),
        None => match &who.phone {
            Some(phone) => lookup::shared_number(txn, phone).await?,
            None => None,
        },
    };
    if let Some(c) = &known {
        add_identities(txn, c.id, who, now).await?;
    }
    let at = m.at().unwrap_or(now);
    let (first, last) = who.names();
    let arrival = Arrival {
        channel: Channel::WhatsApp,
        identity,
        to: number.display_phone_number.as_deref(),
        first_name: first.as_deref(),
        last_name: &last,
        owner: None,
    };
    let name = who.name.as_deref().unwrap_or(customer);
    let subject = render::subject(m, name);
    let incoming = Incoming {
        subject: &subject,
        text,
        html: None,
        files: &[] as &[FileUpload],
        external_id: Some(&m.id),
        from_name: who.name.as_deref(),
        contact_copied: false,
        automatic: false,
    };
    let backend = txn.get_database_backend();
    // A customer who answers "START" to an invitation opts in to business-initiated messages.
    let asks = m.kind == "text" && opt_ins::asks_for_messages(text);
    // The conversation's ticket, when it is this contact's or waits for one (sent by an agent who
    // may not create contacts): the answer joins it.
    let thread = lookup::conversation_ticket(txn, number.id, who).await?.filter(|t| match (t.contact_id, &known) {
        (None, _) => true,
        (Some(id), Some(c)) => id == c.id,
        (Some(_), None) => false,
    });
    let reopen_until = now - Duration::days(i64::from(reopen_days));
    if let Some(t) = thread.filter(|t| t.status != TicketStatus::Closed.key() || t.updated_at >= reopen_until) {
        let t = match t.contact_id {
            Some(_) => t,
            None => {
                let known = intake::Contact::Found(known.map(Box::new));
                let c = match intake::contact_for(txn, arrival, known, now).await? {
                    Ok((c, _)) => c,
                    Err(refusal) => return Ok(Taken::Held(refusal)),
                };
                link::to_contact(txn, t, &c, Actor::Contact(c.id), now).await?
            }
        };
        let mut along = Vec::from_iter(windows_statement(backend, &HashMap::from([(t.id, at)])));
        along.extend(message_rows(backend, number.id, t.id, m, now));
        if let (true, Some(contact_id)) = (asks, t.contact_id) {
            along.push(opt_ins::statement(backend, contact_id, customer, opt_ins::ASKED, None, at));
        }
        return Ok(Taken::Stored(intake::add_to_thread(txn, arrival, t, &incoming, along, now).await?));
    }
    let brake = Brake { sent_this_hour: 0, per_hour: 0 };
    let writes = |opened: intake::Opened<'_>| {
        let (t, c) = (opened.ticket, opened.contact);
        let conversation = whatsapp_conversation::ActiveModel {
            ticket_id: Set(t.id),
            number_id: Set(number.id),
            contact_id: Set(Some(c.id)),
            customer: Set(customer.to_owned()),
            last_inbound_at: Set(Some(at)),
        };
        let mut writes = vec![whatsapp_conversation::Entity::insert(conversation).build(backend)];
        writes.extend(message_rows(backend, number.id, t.id, m, now));
        writes.extend(identity_rows(backend, c.id, who, now));
        if asks {
            writes.push(opt_ins::statement(backend, c.id, customer, opt_ins::ASKED, None, at));
        }
        Ok(writes)
    };
    let found = intake::Contact::Found(known.map(Box::new));
    Ok(match intake::open(txn, arrival, found, &incoming, brake, writes, now).await? {
        Ok(received) => Taken::Stored(received),
        Err(refusal) => Taken::Held(refusal),
    })
}

/// Adds the WhatsApp identities of `who` that contact `contact_id` (found by another of its
/// identities, or by its Phone or Mobile) lacks, each unless some contact has it already; the
/// contact's History records each one added.
async fn add_identities(
    txn: &DatabaseTransaction,
    contact_id: i64,
    who: &Who,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    let backend = txn.get_database_backend();
    let phone = who.phone.as_ref().map(|p| (IdentityKind::WhatsApp, p.as_str()));
    for (kind, value) in phone.into_iter().chain(who.user.as_deref().map(|u| (IdentityKind::WhatsAppUser, u))) {
        if txn.execute(identity_row(backend, contact_id, kind, value, now)).await?.rows_affected() > 0 {
            let added = Event::contact(Actor::Contact(contact_id), contact_id, Action::Updated, now).changed(
                Field::WhatsApp,
                None,
                Some(value.to_owned()),
            );
            execute(txn, Vec::from_iter(events::statement(backend, &[added]))).await?;
        }
    }
    Ok(())
}

/// The WhatsApp identities of `who` added to contact `contact_id`, each unless some contact has
/// it already.
pub(crate) fn identity_rows(backend: DbBackend, contact_id: i64, who: &Who, now: DateTime<Utc>) -> Vec<Statement> {
    let phone = who.phone.as_ref().map(|p| (IdentityKind::WhatsApp, p.as_str()));
    let user = who.user.as_deref().map(|u| (IdentityKind::WhatsAppUser, u));
    phone.into_iter().chain(user).map(|(kind, value)| identity_row(backend, contact_id, kind, value, now)).collect()
}

/// One identity added unless some contact has it (the unique index decides).
pub(crate) fn identity_row(
    backend: DbBackend,
    contact_id: i64,
    kind: IdentityKind,
    value: &str,
    now: DateTime<Utc>,
) -> Statement {
    identities::insert_unless_taken(backend, contact_id, kind, value, now)
}

/// The 24-hour windows of conversations `windows` (ticket → latest message) moved on, never
/// back, in one statement.
fn windows_statement(backend: DbBackend, windows: &HashMap<i64, DateTime<Utc>>) -> Option<Statement> {
    use sea_orm::sea_query::CaseStatement;
    let mut latest = CaseStatement::new();
    for (ticket_id, at) in windows {
        latest = latest.case(whatsapp_conversation::Column::TicketId.eq(*ticket_id), Expr::value(*at));
    }
    let latest = SimpleExpr::Case(Box::new(latest));
    (!windows.is_empty()).then(|| {
        whatsapp_conversation::Entity::update_many()
            .col_expr(whatsapp_conversation::Column::LastInboundAt, latest.clone())
            .filter(whatsapp_conversation::Column::TicketId.is_in(windows.keys().copied()))
            .filter(
                Condition::any()
                    .add(whatsapp_conversation::Column::LastInboundAt.is_null())
                    .add(Expr::col(whatsapp_conversation::Column::LastInboundAt).lt(latest)),
            )
            .build(backend)
    })
}

/// The `whatsapp_messages` row of inbound `m`, then its link to the thread message stored with
/// its wamid (whose id is not known before the batch runs).
fn message_rows(backend: DbBackend, number_id: i64, ticket_id: i64, m: &Message, now: DateTime<Utc>) -> [Statement; 2] {
    let row = message_row(number_id, ticket_id, m, now);
    let thread_message = Query::select()
        .column(message::Column::Id)
        .from(message::Entity)
        .and_where(message::Column::MessageId.eq(m.id.as_str()))
        .to_owned();
    let thread_message = SimpleExpr::SubQuery(None, Box::new(thread_message.into_sub_query_statement()));
    let link = whatsapp_message::Entity::update_many()
        .col_expr(whatsapp_message::Column::MessageId, thread_message)
        .filter(whatsapp_message::Column::Wamid.eq(m.id.as_str()))
        .build(backend);
    [whatsapp_message::Entity::insert(row).build(backend), link]
}

/// The `whatsapp_messages` row of inbound `m` in ticket `ticket_id` (its thread message not
/// named yet).
fn message_row(number_id: i64, ticket_id: i64, m: &Message, now: DateTime<Utc>) -> whatsapp_message::ActiveModel {
    let media_id = render::MEDIA
        .contains(&m.kind.as_str())
        .then(|| m.object().get("id").and_then(|v| v.as_str()).map(str::to_owned))
        .flatten();
    whatsapp_message::ActiveModel {
        wamid: Set(Some(m.id.clone())),
        number_id: Set(number_id),
        ticket_id: Set(Some(ticket_id)),
        direction: Set(Direction::Inbound),
        kind: Set(m.kind.clone()),
        media_state: Set(media_id.is_some().then_some(MediaState::Pending)),
        media_next_at: Set(media_id.is_some().then_some(now)),
        media_id: Set(media_id),
        sent_at: Set(m.at()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

async fn execute(txn: &DatabaseTransaction, statements: Vec<Statement>) -> Result<(), sea_orm::DbErr> {
    crate::db::execute_all(txn, statements).await
}
