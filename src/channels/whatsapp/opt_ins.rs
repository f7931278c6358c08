//! A contact's WhatsApp accounts and the opt-ins it gave (when and how) for business-initiated
//! messages, as its page shows them: recorded by an agent here, with a template an agent sends
//! (see `send`), or asked for by the customer in a message ("START", see `inbound`). WhatsApp accounts are numbers: a profile that hides Mobile sees none.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QueryTrait,
    Statement,
};

use crate::db::Db;
use crate::domain::{Action, Module};
use crate::entities::contact_identity::{self, IdentityKind};
use crate::entities::whatsapp_opt_in;
use crate::services::contacts::identities;
use crate::services::{Actor, ServiceError, ServiceResult};

/// What a customer writes to ask for WhatsApp messages (the answer a "reply START to hear from
/// us" invitation asks for), in lowercase, without a final full stop or exclamation mark.
const ASKING: [&str; 5] = ["start", "subscribe", "yes", "opt in", "opt-in"];

/// Whether a customer's message `text` asks for WhatsApp messages.
#[must_use]
pub fn asks_for_messages(text: &str) -> bool {
    let text = text.trim().trim_end_matches(['.', '!']).trim().to_lowercase();
    ASKING.contains(&text.as_str())
}

/// The statement that records contact `contact_id`'s opt-in on account `customer` at `at`,
/// given as `how` says, recorded by agent `agent` (none: the customer asked in a message).
#[must_use]
pub fn statement(
    backend: DbBackend,
    contact_id: i64,
    customer: &str,
    how: &str,
    agent: Option<i64>,
    at: DateTime<Utc>,
) -> Statement {
    let row = whatsapp_opt_in::ActiveModel {
        contact_id: Set(contact_id),
        customer: Set(customer.to_owned()),
        given_at: Set(at),
        how: Set(how.to_owned()),
        agent_id: Set(agent),
        ..Default::default()
    };
    whatsapp_opt_in::Entity::insert(row).build(backend)
}

/// How an opt-in asked for in a message reads.
pub const ASKED: &str = "Asked for it in a WhatsApp message";

/// The longest "how" an agent may write.
pub const MAX_HOW: usize = 500;

/// What a contact's page shows of WhatsApp.
#[derive(Clone, Debug, Default)]
pub struct ContactWhatsApp {
    /// Its WhatsApp accounts: numbers (E.164) and business-scoped user ids.
    pub accounts: Vec<String>,
    /// (account, when, how), latest first.
    pub opt_ins: Vec<(String, String, String)>,
}

/// Contact `contact_id`'s WhatsApp accounts and opt-ins, for `actor` (two queries; nothing when
/// its profile hides Mobile).
///
/// # Errors
/// `Forbidden` without View on contacts; database errors.
pub async fn of_contact(db: &Db, actor: &Actor, contact_id: i64) -> ServiceResult<ContactWhatsApp> {
    if !may_see(actor)? {
        return Ok(ContactWhatsApp::default());
    }
    let accounts = contact_identity::Entity::find()
        .filter(contact_identity::Column::ContactId.eq(contact_id))
        .filter(contact_identity::Column::Kind.is_in([IdentityKind::WhatsApp, IdentityKind::WhatsAppUser]))
        .order_by_asc(contact_identity::Column::Id)
        .all(&db.conn)
        .await?
        .into_iter()
        .map(|i| i.value)
        .collect();
    opt_ins_of(db, contact_id, accounts).await
}

/// [`of_contact`] for a caller that has read the contact's WhatsApp `accounts` already, and
/// whether it has any opt-in (its page, with its other identities): the opt-ins alone, one
/// query when there are some, none otherwise.
///
/// # Errors
/// `Forbidden` without View on contacts; database errors.
pub async fn with_accounts(
    db: &Db,
    actor: &Actor,
    contact_id: i64,
    accounts: Vec<String>,
    any_opt_in: bool,
) -> ServiceResult<ContactWhatsApp> {
    if !may_see(actor)? {
        return Ok(ContactWhatsApp::default());
    }
    if !any_opt_in {
        return Ok(ContactWhatsApp { accounts, opt_ins: Vec::new() });
    }
    opt_ins_of(db, contact_id, accounts).await
}

/// Whether `actor` sees WhatsApp accounts (they are numbers: not with Mobile hidden).
fn may_see(actor: &Actor) -> ServiceResult<bool> {
    actor.may(Module::Contacts, Action::View)?;
    Ok(actor.fields(Module::Contacts).shows("mobile"))
}

async fn opt_ins_of(db: &Db, contact_id: i64, accounts: Vec<String>) -> ServiceResult<ContactWhatsApp> {
    let opt_ins = whatsapp_opt_in::Entity::find()
        .filter(whatsapp_opt_in::Column::ContactId.eq(contact_id))
        .order_by_desc(whatsapp_opt_in::Column::GivenAt)
        .all(&db.conn)
        .await?
        .into_iter()
        .map(|o| (o.customer, o.given_at.format("%b %-d, %Y %H:%M UTC").to_string(), o.how))
        .collect();
    Ok(ContactWhatsApp { accounts, opt_ins })
}

/// Records that contact `contact_id` agreed to WhatsApp messages on its account `customer`, as
/// `actor` writes how (`how`, trimmed, at most [`MAX_HOW`] characters).
///
/// # Errors
/// `Forbidden` without Edit on contacts or with Mobile not editable; a field error for an
/// empty or too long `how` or an account that is not the contact's; database errors.
pub async fn record(
    db: &Db,
    actor: &Actor,
    contact_id: i64,
    customer: &str,
    how: &str,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    actor.may(Module::Contacts, Action::Edit)?;
    if !actor.fields(Module::Contacts).edits("mobile") {
        return Err(ServiceError::Forbidden("Mobile is read-only for your profile.".into()));
    }
    let how = how.trim();
    if how.is_empty() || how.chars().count() > MAX_HOW || how.chars().any(char::is_control) {
        return Err(ServiceError::field(
            "how",
            format!("Say how the customer agreed, in at most {MAX_HOW} characters."),
        ));
    }
    let mut theirs = false;
    for kind in [IdentityKind::WhatsApp, IdentityKind::WhatsAppUser] {
        theirs = theirs || identities::belongs_to(&db.conn, contact_id, kind, customer).await?;
    }
    if !theirs {
        return Err(ServiceError::field("customer", "Choose one of the contact's WhatsApp accounts."));
    }
    let _gate = db.write_gate().await;
    db.conn
        .execute(statement(db.conn.get_database_backend(), contact_id, customer, how, Some(actor.id()), now))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_and_its_kin_ask_for_messages_and_a_sentence_does_not() {
        for asking in ["START", " Yes! ", "opt in.", "Subscribe"] {
            assert!(asks_for_messages(asking), "{asking}");
        }
        for not in ["Start the refund please", "yes but", ""] {
            assert!(!asks_for_messages(not), "{not}");
        }
    }
}
