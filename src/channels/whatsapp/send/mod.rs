//! Send WhatsApp Message (the console's `w+`, a contact's More Actions): an agent sends an
//! approved template to a contact's Phone or Mobile, or to a number typed for a new contact.
//! Sending opens a WhatsApp ticket for the contact with the message first in its thread, and
//! sends it at once through the outbox (so the answer can say what WhatsApp did).
//!
//! Who may do what, checked here for the form and the post alike: without View on contacts,
//! nothing (403); Phone and Mobile hidden by the profile: nothing, with an alert that says
//! "restricted field permission" (and the number is never shown); Phone and Mobile read-only:
//! only the contact's own numbers, never one typed; without Create on contacts a message to a
//! new number is sent and no contact is created: the ticket opens without a contact, with the
//! conversation to the number (so replies reach it), and is linked to a contact later, by an
//! agent from the ticket's page or by the customer's answer (`services::tickets::link`). The
//! opt-in the agent confirms then is not recorded: an opt-in belongs to a contact.

mod form;
mod on_ticket;
mod prefill;

use form::opted_in_number;
pub use form::{prepare, ParamField, Prepared, SendForm, TemplateChoice, RESTRICTED};

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, QueryTrait};

use super::opt_ins;
use super::outgoing::{self, Content, Outgoing, Recipient};
use crate::channels::whatsapp::templates::model::Values;
use crate::db::{execute_all, Db};
use crate::domain::phone::{Phone, PhoneParser};
use crate::domain::{Action, Channel, FieldErrors, Module};
use crate::entities::contact_identity::IdentityKind;
use crate::entities::{contact, message, whatsapp_conversation};
use crate::services::contacts::write::{insert_from_channel, ChannelContact, NewContactSource};
use crate::services::contacts::{fragments, identities, search_terms};
use crate::services::events::{self, Event, Subject};
use crate::services::tickets::{opening, Author};
use crate::services::{Actor, ServiceResult};

/// What sending did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    /// The ticket it opened or wrote to (none when the chosen contact was deleted meanwhile).
    pub ticket: Option<i64>,
    pub contact_created: bool,
    /// The ticket has no contact: the profile may not create one.
    pub contactless: bool,
}

/// Where the message goes, checked against the profile.
fn recipient(form: &SendForm, prepared: &Prepared, phones: &PhoneParser, errors: &mut FieldErrors) -> Option<Phone> {
    if prepared.restricted {
        errors.add("number", RESTRICTED);
        return None;
    }
    let choice = if prepared.contact.is_none() { "new" } else { form.number.as_str() };
    if let Some((_, _, number)) = prepared.numbers.iter().find(|(key, _, _)| *key == choice) {
        return Phone::from_e164(number);
    }
    if choice != "new" {
        errors.add("number", "Choose the contact's Phone or Mobile.");
        return None;
    }
    if !prepared.may_type_number {
        errors.add("number", "Your profile may not change this contact's numbers: choose its Phone or Mobile.");
        return None;
    }
    errors.check("new_number", phones.parse(&form.new_number).map_err(|e| format!("Enter a WhatsApp number: {e}")))
}

/// Sends the template as `actor` chose on the form: `Err` with the form's errors when it
/// cannot (nothing sent, nothing stored).
///
/// # Errors
/// `Forbidden` without View on contacts; `NotFound` for a contact it may not see; database
/// errors.
pub async fn send(
    db: &Db,
    actor: &Actor,
    phones: &PhoneParser,
    form: &SendForm,
    now: DateTime<Utc>,
) -> ServiceResult<Result<(Sent, String), (Prepared, FieldErrors)>> {
    let prepared = prepare(db, actor, form, now).await?;
    let mut errors = FieldErrors::default();
    let to = match &prepared.ticket {
        Some(_) if prepared.restricted => {
            errors.add("number", RESTRICTED);
            None
        }
        Some(_) => None,
        None => recipient(form, &prepared, phones, &mut errors),
    };
    let name = form.contact_name.trim();
    // A ticket without a contact yet needs none: its conversation says where the template goes.
    if prepared.contact.is_none() && prepared.ticket.is_none() && name.is_empty() {
        errors.add("contact_name", "Enter the contact's name, or find and choose a contact.");
    }
    match &prepared.template {
        None => errors.add("template_id", "Choose a channel and template."),
        Some(t) if t.token_error.is_some() => errors.add(
            "template_id",
            "WhatsApp refused this channel's Access Token: an administrator must enter a new one in Settings.",
        ),
        Some(_) => {}
    }
    // The ticket's number is known only once the ticket is: any number checks the same.
    let problems = match &prepared.template {
        Some(t) => t.template.content.check(&with_ticket_number(&prepared.params, 1)),
        None => Default::default(),
    };
    let mut prepared = prepared;
    for p in &mut prepared.params {
        if let Some(problem) = problems.get(&p.name) {
            p.error = problem.clone();
        }
    }
    if !problems.is_empty() {
        errors.add("params", "Fill in the template's parameters as marked.");
    }
    // A number typed for a new contact may be a known customer's, who opted in before.
    let customer = match &prepared.ticket {
        Some(on) => Some(on.route.to.as_str().to_owned()),
        None => to.as_ref().map(|to| to.as_str().to_owned()),
    };
    let opted_in = match (&prepared.opt_in, &customer) {
        (Some(_), _) => true,
        (None, Some(customer)) => opted_in_number(&db.conn, customer).await?,
        (None, None) => false,
    };
    if !opted_in && form.opt_in.is_none() && errors.is_empty() {
        errors.add(
            "opt_in",
            "No opt-in is recorded for this customer: confirm that they agreed to receive WhatsApp messages.",
        );
    }
    let (Some(template), true) = (prepared.template.clone(), errors.is_empty()) else {
        return Ok(Err((prepared, errors)));
    };
    let record = form.opt_in.is_some() && prepared.opt_in.is_none();
    if let Some(on) = &prepared.ticket {
        return Ok(Ok(on_ticket::write(db, actor, on, &template, &prepared.params, record, now).await?));
    }
    let Some(to) = to else { return Ok(Err((prepared, errors))) };
    Ok(Ok(write(db, actor, &prepared, &template, name, to, record, now).await?))
}

/// The parameters' values with the ticket's `number` for a ticket-number parameter (`0`: not
/// known yet; such a message goes with no ticket).
pub(super) fn with_ticket_number(params: &[ParamField], number: i64) -> Values {
    params
        .iter()
        .map(|p| {
            let value = if p.ticket_number { format!("#{number}") } else { p.value.clone() };
            (p.name.clone(), value)
        })
        .collect()
}

/// The statement that records contact `contact_id`'s opt-in on account `customer`, confirmed by
/// `actor` as it sent a template.
pub(super) fn record_opt_in(
    backend: sea_orm::DbBackend,
    contact_id: i64,
    customer: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> sea_orm::Statement {
    opt_ins::statement(
        backend,
        contact_id,
        customer,
        "Confirmed by the agent who sent a template",
        Some(actor.id()),
        now,
    )
}

/// Writes the contact (if new and allowed), the ticket, its first message, the conversation,
/// the opt-in and the delivery in one transaction; our id of the delivery with what happened.
#[allow(clippy::too_many_arguments)]
async fn write(
    db: &Db,
    actor: &Actor,
    prepared: &Prepared,
    template: &TemplateChoice,
    name: &str,
    to: Phone,
    record_opt_in: bool,
    now: DateTime<Utc>,
) -> ServiceResult<(Sent, String)> {
    let delivery = outgoing::new_id();
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let backend = txn.get_database_backend();
    let mut contact_created = false;
    let c = match &prepared.contact {
        Some(c) => contact::Entity::find_by_id(c.id).one(&txn).await?,
        None => match known(&txn, &to).await? {
            Some(c) => Some(c),
            None if actor.can(Module::Contacts, Action::Create) => {
                contact_created = true;
                Some(create(&txn, actor, name, &to, now).await?)
            }
            None => None,
        },
    };
    let mut values = with_ticket_number(&prepared.params, 0);
    let mut statements = Vec::new();
    // No contact at all (not one in the Recycle Bin): the ticket waits for one.
    let contactless = prepared.contact.is_none() && c.is_none();
    let ticket = match c.as_ref().filter(|c| !c.trashed).map(Some).or(contactless.then_some(None)) {
        Some(c) => {
            let subject = format!("WhatsApp: {}", template.template.name);
            let t = opening::insert_one(&txn, c, &subject, Channel::WhatsApp, None, now).await?;
            values = with_ticket_number(&prepared.params, t.number);
            let (entry, replied) =
                thread_message(&txn, actor, &t, &template.template.content.preview(&values), &delivery, now).await?;
            let opened = opening::created(events::Actor::Agent(actor.id()), &t, now);
            statements.extend(events::statement(backend, &[opened, replied]));
            whatsapp_conversation::ActiveModel {
                ticket_id: Set(t.id),
                number_id: Set(template.template.number_id),
                contact_id: Set(c.map(|c| c.id)),
                customer: Set(to.as_str().to_owned()),
                last_inbound_at: Set(None),
            }
            .insert(&txn)
            .await?;
            if let Some(c) = c {
                if !identities::belongs_to(&txn, c.id, IdentityKind::WhatsApp, to.as_str()).await? && !contact_created {
                    let row = identities::row(c.id, IdentityKind::WhatsApp, to.as_str(), false, now);
                    statements.push(crate::entities::contact_identity::Entity::insert(row).build(backend));
                }
                if record_opt_in {
                    statements.push(self::record_opt_in(backend, c.id, to.as_str(), actor, now));
                }
            }
            Some((t.id, t.number, entry.id))
        }
        None => None,
    };
    let preview = template.template.content.preview(&values);
    let message = Outgoing {
        number_id: template.template.number_id,
        to: Recipient::Number(to),
        content: Content::Template { template: template.template.send_object(&values), preview },
        ticket_id: ticket.map(|(id, _, _)| id),
        message_id: ticket.map(|(_, _, message)| message),
    };
    statements.extend(outgoing::enqueue_statements(backend, &delivery, message, now));
    execute_all(&txn, statements).await?;
    txn.commit().await?;
    let sent = Sent { ticket: ticket.map(|(_, number, _)| number), contact_created, contactless };
    Ok((sent, delivery))
}

/// The template as `actor`'s message in ticket `t`'s thread, under our id `delivery` of it, and
/// its event.
pub(super) async fn thread_message(
    txn: &sea_orm::DatabaseTransaction,
    actor: &Actor,
    t: &crate::entities::ticket::Model,
    text: &str,
    delivery: &str,
    now: DateTime<Utc>,
) -> Result<(message::Model, Event), sea_orm::DbErr> {
    let entry = message::ActiveModel {
        ticket_id: Set(t.id),
        author_kind: Set(Author::Agent(actor.id()).kind().to_owned()),
        author_agent_id: Set(Some(actor.id())),
        body: Set(text.to_owned()),
        internal: Set(false),
        message_id: Set(Some(delivery.to_owned())),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let agent = events::Actor::Agent(actor.id());
    let replied = Event::message(agent, Subject::Message(entry.id), t, events::Action::Replied, now);
    Ok((entry, replied))
}

/// The live contact whose WhatsApp account, Mobile or Phone `to` is, if any.
async fn known<C: ConnectionTrait>(conn: &C, to: &Phone) -> Result<Option<contact::Model>, sea_orm::DbErr> {
    for kind in [IdentityKind::WhatsApp, IdentityKind::Mobile, IdentityKind::Phone] {
        if let Some(c) = identities::contact_by(conn, kind, to.as_str()).await?.filter(|c| !c.trashed) {
            return Ok(Some(c));
        }
    }
    Ok(None)
}

/// A new contact named as typed, with the number as its Mobile and WhatsApp account, owned by
/// the agent who sent the message.
async fn create<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    name: &str,
    to: &Phone,
    now: DateTime<Utc>,
) -> Result<contact::Model, sea_orm::DbErr> {
    let (first, last) = crate::domain::names::split_display_name(name).unwrap_or((None, to.as_str().to_owned()));
    let owner = crate::entities::agent::Entity::find_by_id(actor.id()).one(conn).await?;
    let new = ChannelContact {
        first_name: first.as_deref(),
        last_name: &last,
        email: None,
        mobile: Some(to),
        source: NewContactSource::WhatsApp,
        help_center_status: "not_invited",
        owner: owner.as_ref(),
    };
    let c = insert_from_channel(conn, new, None).await?;
    let backend = conn.get_database_backend();
    let mut rows = identities::rows_of(&c, &[], now);
    rows.push(identities::row(c.id, IdentityKind::WhatsApp, to.as_str(), false, now));
    let mut statements = vec![crate::entities::contact_identity::Entity::insert_many(rows).build(backend)];
    statements.extend(search_terms::index_statement(backend, &c, None));
    statements.extend(fragments::refresh_statements(backend, &[c.id]));
    let created = crate::services::contacts::write::created_event(
        events::Actor::Agent(actor.id()),
        &c,
        &[],
        crate::services::contacts::write::Names { account: None, owner: owner.as_ref().map(|o| o.name.as_str()) },
        now,
    );
    statements.extend(events::statement(backend, &[created]));
    execute_all(conn, statements).await?;
    Ok(c)
}

/// What the agent reads after sending.
#[must_use]
pub fn outcome(sent: &Sent, problem: Option<&str>) -> String {
    let what = match (sent.contactless, sent.contact_created) {
        (true, _) => "WhatsApp message sent. No contact was created: your profile may not create contacts.",
        (false, true) => "WhatsApp message sent and contact created.",
        (false, false) => "WhatsApp message sent.",
    };
    match problem {
        None => what.to_owned(),
        Some(problem) => format!("{} But it has not gone out: {problem}.", what.trim_end_matches('.')),
    }
}
