//! Send WhatsApp Message (the console's `w+`, a contact's More Actions): an agent sends an
//! approved template to a contact's Phone or Mobile, or to a number typed for a new contact.
//! Sending opens a WhatsApp ticket for the contact with the message first in its thread, and
//! sends it at once through the outbox (so the answer can say what WhatsApp did).
//!
//! Who may do what, checked here for the form and the post alike: without View on contacts,
//! nothing (403); Phone and Mobile hidden by the profile: nothing, with an alert that says
//! "restricted field permission" (and the number is never shown); Phone and Mobile read-only:
//! only the contact's own numbers, never one typed; without Create on contacts a message to a
//! new number is sent and no contact is created — and then, as a ticket needs a contact, no
//! ticket either: the customer's answer opens one through the intake.

pub mod params;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QueryTrait,
};
use serde::Deserialize;

use self::params::{Auto, Body, MAX_PARAM};
use super::outgoing::{self, Content, Outgoing, Recipient};
use crate::db::{execute_all, Db};
use crate::domain::phone::{Phone, PhoneParser};
use crate::domain::{Action, Channel, FieldErrors, FieldRules, Module};
use crate::entities::contact_identity::IdentityKind;
use crate::entities::{contact, message, whatsapp_conversation, whatsapp_number, whatsapp_opt_in, whatsapp_template};
use crate::services::contacts::write::{insert_from_channel, ChannelContact, NewContactSource};
use crate::services::contacts::{self, fragments, identities, search_terms, ContactRow};
use crate::services::events::{self, Event, Subject};
use crate::services::tickets::{opening, Author};
use crate::services::{Actor, ServiceResult};

/// The words of the alert when the profile hides both numbers.
pub const RESTRICTED: &str =
    "You cannot send WhatsApp messages: Phone and Mobile are hidden for your profile (restricted field permission).";

/// The form as posted (or as the page's query string gives it).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct SendForm {
    pub contact_id: String,
    /// A new contact's name, or what to find an existing one by.
    pub contact_name: String,
    /// `phone`, `mobile` or `new`.
    pub number: String,
    pub new_number: String,
    pub template_id: String,
    /// "The customer agreed to receive WhatsApp messages": records the opt-in.
    pub opt_in: Option<String>,
    /// The parameters, as `param_<key>`; other fields are ignored.
    #[serde(flatten)]
    pub rest: HashMap<String, String>,
}

/// An approved template the form offers, with the connected number it goes from.
#[derive(Clone, Debug)]
pub struct TemplateChoice {
    pub id: i64,
    pub number_id: i64,
    pub label: String,
    pub name: String,
    pub language: String,
    pub body: Body,
    /// Why the number cannot send now (its token was refused).
    pub token_error: Option<String>,
}

/// One input of the form for a template parameter.
#[derive(Clone, Debug)]
pub struct ParamField {
    pub name: String,
    pub label: String,
    pub value: String,
    /// Filled in when the ticket is opened: no input.
    pub ticket_number: bool,
}

/// What the form shows.
#[derive(Clone, Debug, Default)]
pub struct Prepared {
    pub contact: Option<ContactRow>,
    /// Contacts matching `contact_name`, to choose from.
    pub matches: Vec<ContactRow>,
    /// (key, label, number) of the chosen contact's numbers the profile shows.
    pub numbers: Vec<(&'static str, &'static str, String)>,
    /// Whether a number may be typed (a new contact, or numbers the profile lets edit).
    pub may_type_number: bool,
    /// Phone and Mobile hidden by the profile.
    pub restricted: bool,
    pub may_create: bool,
    pub templates: Vec<TemplateChoice>,
    pub template: Option<TemplateChoice>,
    pub params: Vec<ParamField>,
    /// The message as the customer will read it.
    pub preview: Option<String>,
    /// The contact's recorded opt-in, in words.
    pub opt_in: Option<String>,
}

/// What sending did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    /// The ticket it opened (none when no contact could be created).
    pub ticket: Option<i64>,
    pub contact_created: bool,
    /// What WhatsApp answered: `None` when it accepted the message, else the reason (the
    /// message stays queued, or failed).
    pub problem: Option<String>,
}

fn param_name(key: &str) -> String {
    format!("param_{key}")
}

/// The form for `actor`, as far as `form` has been filled in.
///
/// # Errors
/// `Forbidden` without View on contacts; `NotFound` for a contact it may not see; database
/// errors.
pub async fn prepare(db: &Db, actor: &Actor, form: &SendForm, now: DateTime<Utc>) -> ServiceResult<Prepared> {
    actor.may(Module::Contacts, Action::View)?;
    let rules = actor.fields(Module::Contacts);
    let restricted = !rules.shows("phone") && !rules.shows("mobile");
    let contact = match form.contact_id.trim().parse::<i64>() {
        Ok(id) => Some(contacts::get(&db.conn, actor, id).await?),
        Err(_) => None,
    };
    let matches = match (&contact, form.contact_name.trim()) {
        (None, q) if q.chars().count() >= 2 => {
            let query = contacts::ListQuery { search: q.to_owned(), ..Default::default() };
            let mut found = contacts::list(&db.conn, actor, &query, now).await?.rows;
            found.truncate(10);
            found
        }
        _ => Vec::new(),
    };
    let numbers = match (&contact, restricted) {
        (Some(c), false) => [("phone", "Phone", &c.phone), ("mobile", "Mobile", &c.mobile)]
            .into_iter()
            .filter(|(field, _, _)| rules.shows(field))
            .filter_map(|(field, label, value)| value.clone().map(|v| (field, label, v)))
            .collect(),
        _ => Vec::new(),
    };
    let may_type_number = !restricted && (contact.is_none() || rules.edits("mobile") || rules.edits("phone"));
    let templates = approved(db).await?;
    let template = form.template_id.trim().parse::<i64>().ok().and_then(|id| templates.iter().find(|t| t.id == id));
    let first_name = contact.as_ref().and_then(|c| c.first_name.clone()).unwrap_or_default();
    let params: Vec<ParamField> = template
        .map(|t| {
            t.body
                .params
                .iter()
                .map(|p| {
                    let name = param_name(&p.key);
                    let typed = form.rest.get(&name).cloned();
                    let value = match p.auto {
                        Some(Auto::TicketNumber) => "#(the new ticket's number)".to_owned(),
                        Some(Auto::FirstName) => typed.unwrap_or_else(|| first_name.clone()),
                        None => typed.unwrap_or_default(),
                    };
                    let label =
                        if t.body.named { p.key.replace('_', " ") } else { format!("Parameter {{{{{}}}}}", p.key) };
                    ParamField { name, label, value, ticket_number: p.auto == Some(Auto::TicketNumber) }
                })
                .collect()
        })
        .unwrap_or_default();
    let preview = template.map(|t| t.body.render(&params.iter().map(|p| p.value.clone()).collect::<Vec<_>>()));
    let opt_in = match &contact {
        Some(c) => opt_in_of(&db.conn, c.id).await?,
        None => None,
    };
    Ok(Prepared {
        contact,
        matches,
        numbers,
        may_type_number,
        restricted,
        may_create: actor.can(Module::Contacts, Action::Create),
        templates: templates.clone(),
        template: template.cloned(),
        params,
        preview,
        opt_in,
    })
}

/// Every approved template the form can send (body parameters only), by channel and name.
async fn approved(db: &Db) -> Result<Vec<TemplateChoice>, sea_orm::DbErr> {
    let rows: Vec<(whatsapp_template::Model, Option<whatsapp_number::Model>)> = whatsapp_template::Entity::find()
        .find_also_related(whatsapp_number::Entity)
        .filter(whatsapp_template::Column::Status.eq("APPROVED"))
        .order_by_asc(whatsapp_template::Column::NumberId)
        .order_by_asc(whatsapp_template::Column::Name)
        .order_by_asc(whatsapp_template::Column::Language)
        .all(&db.conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(t, number)| {
            let number = number?;
            let body = params::body(&t.components, &t.parameter_format)?;
            Some(TemplateChoice {
                id: t.id,
                number_id: t.number_id,
                label: format!("{} — {} ({})", number.name, t.name, t.language),
                name: t.name,
                language: t.language,
                body,
                token_error: number.token_error,
            })
        })
        .collect())
}

/// The contact's latest recorded opt-in, in words.
async fn opt_in_of<C: ConnectionTrait>(conn: &C, contact_id: i64) -> Result<Option<String>, sea_orm::DbErr> {
    Ok(whatsapp_opt_in::Entity::find()
        .filter(whatsapp_opt_in::Column::ContactId.eq(contact_id))
        .order_by_desc(whatsapp_opt_in::Column::GivenAt)
        .one(conn)
        .await?
        .map(|o| format!("{} ({})", o.how, o.given_at.format("%b %-d, %Y"))))
}

/// Whether an opt-in is recorded for number `to`, whichever contact it was given by.
async fn opted_in_number<C: ConnectionTrait>(conn: &C, to: &Phone) -> Result<bool, sea_orm::DbErr> {
    Ok(whatsapp_opt_in::Entity::find()
        .filter(whatsapp_opt_in::Column::Customer.eq(to.as_str()))
        .one(conn)
        .await?
        .is_some())
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
    let to = recipient(form, &prepared, phones, &mut errors);
    let name = form.contact_name.trim();
    if prepared.contact.is_none() && name.is_empty() {
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
    for p in prepared.params.iter().filter(|p| !p.ticket_number) {
        if p.value.trim().is_empty() {
            errors.add("params", format!("Fill in {}.", p.label));
        } else if p.value.chars().count() > MAX_PARAM {
            errors.add("params", format!("{}: use at most {MAX_PARAM} characters.", p.label));
        }
    }
    // A number typed for a new contact may be a known customer's, who opted in before.
    let opted_in = match (&prepared.opt_in, &to) {
        (Some(_), _) => true,
        (None, Some(to)) => opted_in_number(&db.conn, to).await?,
        (None, None) => false,
    };
    if !opted_in && form.opt_in.is_none() && errors.is_empty() {
        errors.add(
            "opt_in",
            "No opt-in is recorded for this customer: confirm that they agreed to receive WhatsApp messages.",
        );
    }
    let (Some(to), Some(template), true) = (to, prepared.template.clone(), errors.is_empty()) else {
        return Ok(Err((prepared, errors)));
    };
    let sent = write(db, actor, &prepared, &template, name, to, form.opt_in.is_some(), now).await?;
    Ok(Ok(sent))
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
    let mut values: Vec<String> = prepared.params.iter().map(|p| p.value.clone()).collect();
    let mut statements = Vec::new();
    let ticket = match c.as_ref().filter(|c| !c.trashed) {
        Some(c) => {
            let subject = format!("WhatsApp: {}", template.name);
            let t = opening::insert_one(&txn, c, &subject, Channel::WhatsApp, None, now).await?;
            for (value, p) in values.iter_mut().zip(&prepared.params) {
                if p.ticket_number {
                    *value = format!("#{}", t.number);
                }
            }
            let entry = message::ActiveModel {
                ticket_id: Set(t.id),
                author_kind: Set(Author::Agent(actor.id()).kind().to_owned()),
                author_agent_id: Set(Some(actor.id())),
                body: Set(template.body.render(&values)),
                internal: Set(false),
                message_id: Set(Some(delivery.clone())),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            let opened = opening::created(events::Actor::Agent(actor.id()), &t, now);
            let message = Event::message(
                events::Actor::Agent(actor.id()),
                Subject::Message(entry.id),
                &t,
                events::Action::Replied,
                now,
            );
            statements.extend(events::statement(backend, &[opened, message]));
            whatsapp_conversation::ActiveModel {
                ticket_id: Set(t.id),
                number_id: Set(template.number_id),
                contact_id: Set(c.id),
                customer: Set(to.as_str().to_owned()),
                last_inbound_at: Set(None),
            }
            .insert(&txn)
            .await?;
            if !identities::belongs_to(&txn, c.id, IdentityKind::WhatsApp, to.as_str()).await? && !contact_created {
                let row = identities::row(c.id, IdentityKind::WhatsApp, to.as_str(), false, now);
                statements.push(crate::entities::contact_identity::Entity::insert(row).build(backend));
            }
            if record_opt_in && prepared.opt_in.is_none() {
                whatsapp_opt_in::ActiveModel {
                    contact_id: Set(c.id),
                    customer: Set(to.as_str().to_owned()),
                    given_at: Set(now),
                    how: Set("Confirmed by the agent who sent a template".to_owned()),
                    agent_id: Set(Some(actor.id())),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
            }
            Some((t.id, t.number, entry.id))
        }
        None => None,
    };
    let preview = template.body.render(&values);
    let message = Outgoing {
        number_id: template.number_id,
        to: Recipient::Number(to),
        content: Content::Template {
            template: template.body.object(&template.name, &template.language, &values),
            preview,
        },
        ticket_id: ticket.map(|(id, _, _)| id),
        message_id: ticket.map(|(_, _, message)| message),
    };
    statements.extend(outgoing::enqueue_statements(backend, &delivery, message, now));
    execute_all(&txn, statements).await?;
    txn.commit().await?;
    Ok((Sent { ticket: ticket.map(|(_, number, _)| number), contact_created, problem: None }, delivery))
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
    statements.extend(search_terms::index_statement(backend, &c, &[], None));
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

/// Whether `rules` let the agent see a number at all (for the contact page's action).
#[must_use]
pub fn sees_a_number(rules: &FieldRules) -> bool {
    rules.shows("phone") || rules.shows("mobile")
}

// Joins templates to their numbers.
impl sea_orm::Related<whatsapp_number::Entity> for whatsapp_template::Entity {
    fn to() -> sea_orm::RelationDef {
        whatsapp_template::Entity::belongs_to(whatsapp_number::Entity)
            .from(whatsapp_template::Column::NumberId)
            .to(whatsapp_number::Column::Id)
            .into()
    }
}

/// What the agent reads after sending.
#[must_use]
pub fn outcome(sent: &Sent, problem: Option<&str>) -> String {
    let what = match (sent.ticket, sent.contact_created) {
        (Some(_), true) => "WhatsApp message sent and contact created.",
        (Some(_), false) => "WhatsApp message sent.",
        (None, _) => "WhatsApp message sent. No contact was created: your profile may not create contacts.",
    };
    match problem {
        None => what.to_owned(),
        Some(problem) => format!("{} But it has not gone out: {problem}.", what.trim_end_matches('.')),
    }
}
