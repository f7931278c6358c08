//! Mail to send: a message becomes an email row of the outbox (`services::deliveries`), with
//! the Message-ID it will be sent with, fixed when queued so that a retry sends the same one and
//! a reply to it finds its way back to the ticket.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbBackend, EntityTrait, QueryTrait, Statement};

use crate::domain::Email;
use crate::entities::outbox::{self, DeliveryChannel};
use crate::services::deliveries;

/// A message to send.
#[derive(Clone, Debug)]
pub struct OutgoingMail {
    pub to: Email,
    pub to_name: Option<String>,
    pub subject: String,
    pub body_text: String,
    /// The Message-ID this one answers (threading), without angle brackets.
    pub in_reply_to: Option<String>,
    /// The References header, as it should be sent.
    pub references: Option<String>,
    /// The ticket the message is about, so that a reply to it finds its way back.
    pub ticket_id: Option<i64>,
    /// The From address, when not the default one: the support address a ticket came to.
    pub from: Option<Email>,
    /// Set on automatic answers (`acknowledgement`), which the mail-loop brake counts.
    pub kind: Option<&'static str>,
}

impl OutgoingMail {
    /// A message that starts no thread and belongs to no ticket.
    #[must_use]
    pub fn new(to: Email, to_name: Option<String>, subject: String, body_text: String) -> Self {
        Self {
            to,
            to_name,
            subject,
            body_text,
            in_reply_to: None,
            references: None,
            ticket_id: None,
            from: None,
            kind: None,
        }
    }
}

/// Queues `mail`; returns the Message-ID it will be sent with.
///
/// # Errors
/// Database errors.
pub async fn enqueue<C: ConnectionTrait>(
    conn: &C,
    mail: OutgoingMail,
    domain: &str,
    now: DateTime<Utc>,
) -> Result<String, sea_orm::DbErr> {
    let (row, message_id) = row(mail, domain, now);
    outbox::Entity::insert(row).exec_without_returning(conn).await?;
    Ok(message_id)
}

/// [`enqueue`] as a statement, for a caller that runs it together with others
/// ([`crate::db::execute_all`]).
#[must_use]
pub fn enqueue_statement(backend: DbBackend, mail: OutgoingMail, domain: &str, now: DateTime<Utc>) -> Statement {
    outbox::Entity::insert(row(mail, domain, now).0).build(backend)
}

/// Queues several messages in one statement.
///
/// # Errors
/// Database errors.
pub async fn enqueue_many<C: ConnectionTrait>(
    conn: &C,
    mails: Vec<OutgoingMail>,
    domain: &str,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    if mails.is_empty() {
        return Ok(());
    }
    let rows: Vec<outbox::ActiveModel> = mails.into_iter().map(|m| row(m, domain, now).0).collect();
    outbox::Entity::insert_many(rows).exec_without_returning(conn).await?;
    Ok(())
}

/// The outbox row for `mail`, with the Message-ID it will be sent with.
fn row(mail: OutgoingMail, domain: &str, now: DateTime<Utc>) -> (outbox::ActiveModel, String) {
    let message_id = format!("{}@{domain}", crate::auth::random_token(24));
    let mut row = deliveries::row(DeliveryChannel::Email, message_id.clone(), mail.to.as_str(), mail.body_text, now);
    row.to_name = Set(mail.to_name);
    row.subject = Set(mail.subject);
    row.in_reply_to = Set(mail.in_reply_to);
    row.references = Set(mail.references);
    row.ticket_id = Set(mail.ticket_id);
    row.from_address = Set(mail.from.map(|e| e.as_str().to_owned()));
    row.kind = Set(mail.kind.map(str::to_owned));
    (row, message_id)
}
