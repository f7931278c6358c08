//! Writing an inbound mail through the channel-neutral intake (`services::intake`): a new
//! ticket (and contact), or one more entry in a thread. What stays here is the email channel's
//! own: who was copied (participants, whose replies thread too) and the acknowledgement's words
//! and envelope.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, QueryTrait, Statement};

use super::known::{Known, ACKNOWLEDGEMENT};
use super::{IngestContext, Outcome, Rejection};
use crate::channels::email::outgoing::enqueue_statement;
use crate::channels::email::read::{sender_name, InboundMail};
use crate::channels::email::{messages, OutgoingMail};
use crate::domain::{Channel, Email, PersonName};
use crate::entities::{agent, contact, ticket, ticket_participant};
use crate::services::contacts::identities;
use crate::services::intake::{self, Arrival, Brake, Identity, Incoming, Opened, Received};

/// Adds `mail` to `t`'s thread through the intake; the mail's own part is who was copied (their
/// replies thread too) and whether the contact was among the recipients.
pub(super) async fn add_to_thread(
    txn: &DatabaseTransaction,
    t: ticket::Model,
    mail: &InboundMail,
    support: &[String],
    now: DateTime<Utc>,
) -> Result<Outcome, sea_orm::DbErr> {
    let contact_emails = match t.contact_id {
        Some(id) => identities::emails_of(txn, id).await?,
        None => Vec::new(),
    };
    let contact_copied = mail.recipients.iter().any(|e| contact_emails.iter().any(|c| c == e.as_str()));
    let backend = txn.get_database_backend();
    let along = Vec::from_iter(participants_statement(backend, t.id, mail, &contact_emails, support));
    let (first, last) = sender_name(mail.from_name.as_deref(), &mail.from);
    let arrival = arrival(mail, None, first.as_deref(), &last, None);
    let received = intake::add_to_thread(txn, arrival, t, &incoming(mail, contact_copied), along, now).await?;
    Ok(received.into())
}

/// Opens a ticket for `mail`'s sender through the intake, which creates the contact on its
/// first mail and decides on the acknowledgement; the email channel words and queues it.
pub(super) async fn open_ticket(
    txn: &DatabaseTransaction,
    ctx: &IngestContext,
    mail: &InboundMail,
    known: Known,
    support_address: Option<String>,
    owner: Option<&agent::Model>,
    now: DateTime<Utc>,
) -> Result<Result<Outcome, Rejection>, sea_orm::DbErr> {
    let (first, last) = sender_name(mail.from_name.as_deref(), &mail.from);
    let arrival = arrival(mail, support_address.as_deref(), first.as_deref(), &last, owner);
    let brake = Brake { sent_this_hour: known.acknowledgements_this_hour, per_hour: ctx.limits.acks_per_hour };
    let support = &known.support;
    let channel_writes = |opened: Opened<'_>| {
        let (t, c) = (opened.ticket, opened.contact);
        let backend = txn.get_database_backend();
        // The sender is the contact, whichever of its addresses it wrote from.
        let contact_emails: Vec<String> = c.email.iter().cloned().chain([mail.from.as_str().to_owned()]).collect();
        let mut writes = Vec::from_iter(participants_statement(backend, t.id, mail, &contact_emails, support));
        if opened.acknowledge {
            writes.push(acknowledgement(backend, ctx, mail, t, c, support_address.as_deref(), now)?);
        }
        Ok(writes)
    };
    let received = intake::open(
        txn,
        arrival,
        intake::Contact::Found(known.sender.map(Box::new)),
        &incoming(mail, false),
        brake,
        channel_writes,
        now,
    )
    .await?;
    Ok(received.map(Outcome::from))
}

/// The acknowledgement of ticket `t`, queued: it answers the mail, from the support address it
/// came to.
fn acknowledgement(
    backend: DbBackend,
    ctx: &IngestContext,
    mail: &InboundMail,
    t: &ticket::Model,
    c: &contact::Model,
    support_address: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Statement, sea_orm::DbErr> {
    let name = PersonName { first: c.first_name.as_deref(), last: &c.last_name }.to_string();
    let link = format!("{}/help/tickets/{}", ctx.base_url, t.number);
    let text = messages::acknowledgement(&name, &ctx.company, t.number, &t.subject, &link)
        .map_err(|e| sea_orm::DbErr::Custom(format!("rendering the acknowledgement: {e}")))?;
    let mut out = OutgoingMail::new(mail.from.clone(), Some(name), text.subject, text.body);
    out.ticket_id = Some(t.id);
    out.in_reply_to = Some(mail.message_id.clone());
    out.references = Some(format!("<{}>", mail.message_id));
    out.from = support_address.and_then(|a| Email::parse(a).ok());
    out.kind = Some(ACKNOWLEDGEMENT);
    Ok(enqueue_statement(backend, out, &ctx.domain, now))
}

/// Who sent `mail`, for the intake.
fn arrival<'a>(
    mail: &'a InboundMail,
    to: Option<&'a str>,
    first_name: Option<&'a str>,
    last_name: &'a str,
    owner: Option<&'a agent::Model>,
) -> Arrival<'a> {
    Arrival { channel: Channel::Email, identity: Identity::Email(&mail.from), to, first_name, last_name, owner }
}

/// `mail` as its thread stores it.
fn incoming(mail: &InboundMail, contact_copied: bool) -> Incoming<'_> {
    Incoming {
        subject: &mail.subject,
        text: &mail.text,
        // Sanitised by `screen`.
        html: mail.html.as_deref(),
        files: &mail.files,
        external_id: Some(&mail.message_id),
        from_name: mail.from_name.as_deref(),
        contact_copied,
        automatic: mail.noise.is_some(),
    }
}

impl From<Received> for Outcome {
    fn from(received: Received) -> Self {
        match received {
            Received::Opened { number, contact_created, acknowledged } => {
                Self::Opened { number, contact_created, acknowledged }
            }
            Received::Added { number } => Self::Added { number },
        }
    }
}

/// Remembers the sender (when not the contact) and the people copied, so that their replies
/// with the ticket's token thread too. Support addresses and the contact's own (`contact_emails`)
/// are never participants. `None` when there is no one to remember.
fn participants_statement(
    backend: DbBackend,
    ticket_id: i64,
    mail: &InboundMail,
    contact_emails: &[String],
    support: &[String],
) -> Option<Statement> {
    let mut emails: Vec<&str> = std::iter::once(&mail.from).chain(&mail.cc).map(Email::as_str).collect();
    emails.sort_unstable();
    emails.dedup();
    emails.retain(|e| !contact_emails.iter().any(|c| c == e) && !support.iter().any(|s| s == e));
    if emails.is_empty() {
        return None;
    }
    let rows = emails
        .into_iter()
        .map(|e| ticket_participant::ActiveModel { ticket_id: Set(ticket_id), email: Set(e.to_owned()) });
    let insert = ticket_participant::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([ticket_participant::Column::TicketId, ticket_participant::Column::Email])
                .do_nothing()
                .to_owned(),
        )
        .build(backend);
    Some(insert)
}
