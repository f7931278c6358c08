//! Writing an inbound mail: a new ticket (and contact), or one more entry in a thread.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, QueryTrait,
    Statement, TransactionTrait,
};

use super::known::{Known, ACKNOWLEDGEMENT};
use super::{IngestContext, Outcome, Rejection};
use crate::db::execute_all;
use crate::domain::{Channel, Email, PersonName, Priority, TicketStatus};
use crate::email::inbound::{sender_name, InboundMail};
use crate::email::outbox::enqueue_statement;
use crate::email::{messages, OutgoingMail};
use crate::entities::{agent, attachment, contact, message, ticket, ticket_participant};
use crate::services::contacts::write::{
    created_from, history_statement, insert_from_channel, ChannelContact, HistoryLine, NewContactSource,
};
use crate::services::contacts::{fragments, identities, search_terms};
use crate::services::is_unique_violation;
use crate::services::tickets::opening::reserve_numbers;
use crate::services::tickets::thread::save;
use crate::services::tickets::Author;

/// Adds `mail` to `t`'s thread; a closed ticket opens again unless the mail is automatic (an
/// out-of-office answer must not reopen what an agent closed). Mail from any of the contact's
/// addresses is the contact's; from anyone else, a participant's, never shown as the contact's.
pub(super) async fn add_to_thread(
    txn: &DatabaseTransaction,
    t: ticket::Model,
    mail: &InboundMail,
    support: &[String],
    now: DateTime<Utc>,
) -> Result<Outcome, sea_orm::DbErr> {
    let number = t.number;
    let contact_emails = identities::emails_of(txn, t.contact_id).await?;
    let is_contacts = |e: &Email| contact_emails.iter().any(|c| c == e.as_str());
    let sender = Sender {
        author: if is_contacts(&mail.from) { Author::Contact } else { Author::Participant },
        contact_copied: mail.recipients.iter().any(is_contacts),
    };
    let backend = txn.get_database_backend();
    let mut along = Vec::from_iter(participants_statement(backend, t.id, mail, &contact_emails, support));
    // Without the address: the history is read by profiles that may not see it (the thread
    // keeps who sent what).
    let said = match sender.author {
        Author::Contact => CONTACT_MAILED,
        _ => OTHER_MAILED,
    };
    let line = HistoryLine::by_system(t.contact_id, format!("Ticket #{number}"), said.to_owned());
    along.push(history_statement(backend, [line]));
    insert_message(txn, t.id, mail, sender, now, along).await?;
    let reopen = (t.status == TicketStatus::Closed.key() && mail.noise.is_none()).then_some(TicketStatus::Open);
    save(txn, t, reopen, None, now).await?;
    Ok(Outcome::Added { number })
}

/// The contact's history line for its own mail in a ticket's thread.
const CONTACT_MAILED: &str = "Customer replied by email";
/// The contact's history line for mail from someone else in its ticket's thread.
const OTHER_MAILED: &str = "Someone else replied by email";

/// Who sent a mail, as the thread records it.
#[derive(Clone, Copy, Debug)]
struct Sender {
    author: Author,
    /// Whether the ticket's contact was among the mail's recipients (To or Cc).
    contact_copied: bool,
}

/// Opens a ticket for `mail`'s sender, creating the contact on its first mail, and queues the
/// acknowledgement unless the mail is automatic or the sender had enough of them this hour.
pub(super) async fn open_ticket(
    txn: &DatabaseTransaction,
    ctx: &IngestContext,
    mail: &InboundMail,
    known: Known,
    support_address: Option<String>,
    owner: Option<&agent::Model>,
    now: DateTime<Utc>,
) -> Result<Result<Outcome, Rejection>, sea_orm::DbErr> {
    let (c, contact_created) = match known.sender {
        Some(c) if c.trashed => {
            return Ok(Err(format!(
                "The sender {} is a contact in the Recycle Bin. Restore the contact, then retry.",
                mail.from
            )))
        }
        Some(c) => (c, false),
        None => create_contact(txn, mail, owner).await?,
    };
    let number = reserve_numbers(txn, 1).await?.pop().unwrap_or_default();
    let subject = if mail.subject.is_empty() { "(no subject)".to_owned() } else { mail.subject.clone() };
    let t = ticket::ActiveModel {
        number: Set(number),
        contact_id: Set(c.id),
        account_id: Set(c.account_id),
        subject: Set(subject),
        status: Set(TicketStatus::Open.key().to_owned()),
        channel: Set(Channel::Email.key().to_owned()),
        priority: Set(Priority::Medium.key().to_owned()),
        assignee_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        trashed: Set(false),
        recycle_entry_id: Set(None),
        support_address: Set(support_address.clone()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let backend = txn.get_database_backend();
    // The sender is the contact, whichever of its addresses it wrote from.
    let contact_emails: Vec<String> = c.email.iter().cloned().chain([mail.from.as_str().to_owned()]).collect();
    let mut along = Vec::from_iter(participants_statement(backend, t.id, mail, &contact_emails, &known.support));
    // A new contact's search words and first line of history, and the ticket's line.
    if contact_created {
        along.extend(identities::insert_statement(backend, &c, &[], now));
        along.extend(search_terms::index_statement(backend, &c, &[], None));
        along.extend(fragments::refresh_statements(backend, &[c.id]));
    }
    let opened =
        HistoryLine::by_system(c.id, format!("Ticket #{number}"), format!("Created ({})", Channel::Email.label()));
    let created = contact_created.then(|| created_from(c.id, NewContactSource::Email));
    along.push(history_statement(backend, created.into_iter().chain([opened])));
    let acknowledged = mail.noise.is_none() && known.acknowledgements_this_hour < ctx.limits.acks_per_hour;
    if acknowledged {
        let name = PersonName { first: c.first_name.as_deref(), last: &c.last_name }.to_string();
        let link = format!("{}/help/tickets/{number}", ctx.base_url);
        let text = messages::acknowledgement(&name, &ctx.company, number, &t.subject, &link)
            .map_err(|e| sea_orm::DbErr::Custom(format!("rendering the acknowledgement: {e}")))?;
        let mut out = OutgoingMail::new(mail.from.clone(), Some(name), text.subject, text.body);
        out.ticket_id = Some(t.id);
        out.in_reply_to = Some(mail.message_id.clone());
        out.references = Some(format!("<{}>", mail.message_id));
        out.from = support_address.as_deref().and_then(|a| Email::parse(a).ok());
        out.kind = Some(ACKNOWLEDGEMENT);
        along.push(enqueue_statement(backend, out, &ctx.domain, now));
    }
    let sender = Sender { author: Author::Contact, contact_copied: false };
    insert_message(txn, t.id, mail, sender, now, along).await?;
    Ok(Ok(Outcome::Opened { number, contact_created, acknowledged }))
}

async fn find_contact(txn: &DatabaseTransaction, email: &Email) -> Result<Option<contact::Model>, sea_orm::DbErr> {
    identities::contact_by_email(txn, email.as_str()).await
}

/// Creates the sender's contact, without its search words and history (the caller writes
/// them). Two first mails from one address at the same moment race for the unique email on
/// PostgreSQL; the loser's insert fails inside its savepoint and it takes the winner's. On
/// SQLite the transaction holds the write lock from its start (see `Db::begin_write`), so no
/// other writer can come between the lookup and the insert.
async fn create_contact(
    txn: &DatabaseTransaction,
    mail: &InboundMail,
    owner: Option<&agent::Model>,
) -> Result<(contact::Model, bool), sea_orm::DbErr> {
    let (first, last) = sender_name(mail.from_name.as_deref(), &mail.from);
    let new = ChannelContact {
        first_name: first.as_deref(),
        last_name: &last,
        email: Some(&mail.from),
        source: NewContactSource::Email,
        help_center_status: "not_invited",
        owner,
    };
    if txn.get_database_backend() == DbBackend::Sqlite {
        return Ok((insert_from_channel(txn, new, None).await?, true));
    }
    let savepoint = txn.begin().await?;
    match insert_from_channel(&savepoint, new, None).await {
        Ok(c) => {
            savepoint.commit().await?;
            Ok((c, true))
        }
        Err(e) if is_unique_violation(&e) => {
            savepoint.rollback().await?;
            let c = find_contact(txn, &mail.from)
                .await?
                .ok_or_else(|| sea_orm::DbErr::RecordNotFound(format!("the contact {}", mail.from)))?;
            Ok((c, false))
        }
        Err(e) => Err(e),
    }
}

/// Inserts `mail` into ticket `ticket_id`'s thread, then `along` (writes that do not need the
/// message's id), all in one round trip unless there are attachments to insert.
async fn insert_message(
    txn: &DatabaseTransaction,
    ticket_id: i64,
    mail: &InboundMail,
    sender: Sender,
    now: DateTime<Utc>,
    along: Vec<Statement>,
) -> Result<(), sea_orm::DbErr> {
    let entry = message::ActiveModel {
        ticket_id: Set(ticket_id),
        author_kind: Set(sender.author.kind().to_owned()),
        author_agent_id: Set(None),
        body: Set(mail.text.clone()),
        internal: Set(false),
        message_id: Set(Some(mail.message_id.clone())),
        created_at: Set(now),
        from_address: Set(Some(mail.from.as_str().to_owned())),
        from_name: Set(mail.from_name.clone()),
        contact_copied: Set(sender.contact_copied),
        // Sanitised by `screen`.
        body_html: Set(mail.html.clone()),
        ..Default::default()
    };
    let backend = txn.get_database_backend();
    if mail.files.is_empty() {
        let message = message::Entity::insert(entry).build(backend);
        return execute_all(txn, std::iter::once(message).chain(along).collect()).await;
    }
    let message_id = message::Entity::insert(entry).exec(txn).await?.last_insert_id;
    let files = mail.files.iter().map(|f| attachment::ActiveModel {
        ticket_id: Set(ticket_id),
        message_id: Set(message_id),
        filename: Set(f.filename.clone()),
        content_type: Set(f.content_type.clone()),
        size_bytes: Set(i64::try_from(f.data.len()).unwrap_or(i64::MAX)),
        data: Set(f.data.clone()),
        created_at: Set(now),
        ..Default::default()
    });
    let files = attachment::Entity::insert_many(files).build(backend);
    execute_all(txn, std::iter::once(files).chain(along).collect()).await
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
