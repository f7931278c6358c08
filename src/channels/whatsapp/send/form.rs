//! The Send WhatsApp Message form: what it offers the acting agent (the chosen contact's numbers
//! its profile shows, whether it may type one, the approved templates, their parameters and
//! the preview, the contact's opt-in) as far as the agent has filled it in.
//!
//! A media header's link is prefilled with the example Meta stored with the template when that
//! is an `https://` link: Meta's review saw that file, and a template whose header is always the
//! same picture (a banner, a logo) then needs nothing typed. The hint says where it came from,
//! since Meta's links can expire: a link the agent gives is checked the same way.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;

use super::prefill::{prefill, Prefill};
use crate::channels::whatsapp::conversations::{self, Route};
use crate::channels::whatsapp::templates::model::{is_link, Content, HeaderMedia, Slot, Values};
use crate::channels::whatsapp::templates::Template;
use crate::db::Db;
use crate::domain::{Action, Module};
use crate::entities::{whatsapp_number, whatsapp_opt_in, whatsapp_template};
use crate::services::contacts::{self, ContactRow};
use crate::services::{tickets, Actor, ServiceError, ServiceResult};

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
    /// A WhatsApp ticket's number: the template goes into its conversation (after its 24-hour
    /// window closed) instead of opening a ticket.
    pub ticket: String,
    /// "The customer agreed to receive WhatsApp messages": records the opt-in.
    pub opt_in: Option<String>,
    /// The parameters, by `Parameter::field` (`body_1`); other fields are ignored.
    #[serde(flatten)]
    pub rest: HashMap<String, String>,
}

/// An approved template the form offers, with the connected number it goes from.
#[derive(Clone, Debug)]
pub struct TemplateChoice {
    pub template: Template,
    pub label: String,
    /// Why the number cannot send now (its token was refused).
    pub token_error: Option<String>,
}

impl TemplateChoice {
    #[must_use]
    pub fn id(&self) -> i64 {
        self.template.id
    }
}

/// One input of the form for a template parameter.
#[derive(Clone, Debug)]
pub struct ParamField {
    pub name: String,
    pub label: String,
    pub value: String,
    /// What is wrong with the value, or "".
    pub error: String,
    /// Filled in when the message's ticket is known: no input.
    pub ticket_number: bool,
    /// The input's HTML type (`text`, `url`).
    pub input_type: &'static str,
    pub required: bool,
    /// What the agent reads under the input, or "".
    pub hint: String,
}

impl ParamField {
    fn text(name: String, label: String, value: String, ticket_number: bool) -> Self {
        Self {
            name,
            label,
            value,
            error: String::new(),
            ticket_number,
            input_type: "text",
            required: true,
            hint: String::new(),
        }
    }
}

/// The file a media header carries, as the preview shows it: a link, never the file itself
/// (the page loads nothing from elsewhere).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderShown {
    /// `Image`, `Document`, `Location`.
    pub what: &'static str,
    /// The link, when it is one the form accepts.
    pub link: Option<String>,
    /// What the link reads, or the place.
    pub text: String,
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
    /// The message's text as the customer will read it.
    pub preview: Option<String>,
    /// The media header's file or place, above the text.
    pub preview_header: Option<HeaderShown>,
    /// The contact's recorded opt-in, in words.
    pub opt_in: Option<String>,
    /// The WhatsApp ticket the template goes to, when sent from one.
    pub ticket: Option<OnTicket>,
}

/// A WhatsApp ticket a template is sent on: its conversation decides the number and customer.
#[derive(Clone, Debug)]
pub struct OnTicket {
    pub number: i64,
    pub subject: String,
    pub route: Route,
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
    let ticket = match form.ticket.trim().parse::<i64>() {
        Ok(number) => Some(on_ticket(db, actor, number).await?),
        Err(_) => None,
    };
    let contact_id = match &ticket {
        Some((_, contact_id)) => *contact_id,
        None => form.contact_id.trim().parse::<i64>().ok(),
    };
    let ticket = ticket.map(|(t, _)| t);
    let contact = match contact_id {
        Some(id) => Some(contacts::get(&db.conn, actor, id).await?),
        None => None,
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
        (Some(c), false) => [("mobile", "Mobile", &c.mobile), ("phone", "Phone", &c.phone)]
            .into_iter()
            .filter(|(field, _, _)| rules.shows(field))
            .filter_map(|(field, label, value)| value.clone().map(|v| (field, label, v)))
            .collect(),
        _ => Vec::new(),
    };
    let (numbers, may_type_number) = match &ticket {
        // The conversation says where it goes.
        Some(_) => (Vec::new(), false),
        None => (numbers, !restricted && (contact.is_none() || rules.edits("mobile") || rules.edits("phone"))),
    };
    let mut templates = approved(db).await?;
    if let Some(t) = &ticket {
        templates.retain(|choice| choice.template.number_id == t.route.number_id);
    }
    let template = form.template_id.trim().parse::<i64>().ok().and_then(|id| templates.iter().find(|t| t.id() == id));
    let first_name = contact.as_ref().and_then(|c| c.first_name.clone()).unwrap_or_default();
    let params: Vec<ParamField> = template
        .map(|t| {
            let texts = t.template.parameters().into_iter().map(|p| {
                let name = p.field();
                let typed = form.rest.get(&name).cloned();
                let known = prefill(&t.template.content, &p);
                let value = match known {
                    Some(Prefill::TicketNumber) => "#(the new ticket's number)".to_owned(),
                    Some(Prefill::FirstName) => typed.unwrap_or_else(|| first_name.clone()),
                    None => typed.unwrap_or_default(),
                };
                ParamField::text(name, p.label(), value, known == Some(Prefill::TicketNumber))
            });
            // In the message's order: the header's file or place, the texts, the buttons' codes.
            let (codes, header): (Vec<Slot>, Vec<Slot>) =
                t.template.content.slots().into_iter().partition(|slot| matches!(slot, Slot::Code(_)));
            let field = |slot| slot_field(t.template.content.header_media.as_ref(), slot, form);
            header.into_iter().map(field).chain(texts).chain(codes.into_iter().map(field)).collect()
        })
        .unwrap_or_default();
    let values = values_of(&params);
    let preview = template.map(|t| t.template.content.preview_text(&values));
    let preview_header = template.and_then(|t| header_shown(&t.template.content, &values));
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
        preview_header,
        opt_in,
        ticket,
    })
}

/// WhatsApp ticket `number` for a template from `actor` (who needs Edit on tickets, as for a
/// reply), and its contact's id (none until it is linked to a contact).
async fn on_ticket(db: &Db, actor: &Actor, number: i64) -> ServiceResult<(OnTicket, Option<i64>)> {
    actor.may(Module::Tickets, Action::Edit)?;
    let t = tickets::find_live(&db.conn, number, None).await?;
    let route = conversations::route(&db.conn, &t).await?.ok_or_else(|| {
        ServiceError::Conflict("This ticket has no WhatsApp conversation to send a template on.".into())
    })?;
    Ok((OnTicket { number: t.number, subject: t.subject, route }, t.contact_id))
}

/// The input for `slot` of a template whose header is `media`, with what `form` gave (or the
/// template's example link).
fn slot_field(media: Option<&HeaderMedia>, slot: Slot, form: &SendForm) -> ParamField {
    let name = slot.field();
    let example = match (media, slot) {
        (Some(HeaderMedia::File { example: Some(example), .. }), Slot::Link(_)) => Some(example.clone()),
        _ => None,
    };
    let value = form.rest.get(&name).cloned().or_else(|| example.clone()).unwrap_or_default();
    let hint = if example.as_ref() == Some(&value) {
        format!(
            "{} Prefilled with the example Meta stored with the template, whose link may expire: give your own \
             for a file that lasts.",
            slot.hint()
        )
    } else {
        slot.hint()
    };
    ParamField {
        name,
        label: slot.label(),
        value,
        error: String::new(),
        ticket_number: false,
        input_type: slot.input_type(),
        required: slot.required(),
        hint,
    }
}

/// The header's file or place as the preview shows it, with `values`.
fn header_shown(content: &Content, values: &Values) -> Option<HeaderShown> {
    let value = |slot: Slot| values.get(&slot.field()).map(|v| v.trim().to_owned()).unwrap_or_default();
    Some(match content.header_media.as_ref()? {
        HeaderMedia::File { kind, .. } => {
            let link = value(Slot::Link(*kind));
            let filename = value(Slot::Filename);
            let text = match (link.is_empty(), filename.is_empty()) {
                (true, _) => "no link yet".to_owned(),
                (false, false) => format!("{filename} ({link})"),
                (false, true) => link.clone(),
            };
            HeaderShown { what: kind.word(), link: Some(link).filter(|l| is_link(l)), text }
        }
        HeaderMedia::Location => HeaderShown { what: "Location", link: None, text: content.place(values)? },
    })
}

/// The parameters' values as the templates model takes them.
#[must_use]
pub fn values_of(params: &[ParamField]) -> Values {
    params.iter().map(|p| (p.name.clone(), p.value.clone())).collect()
}

/// Every approved template of every connected number the form can send (not those that need
/// what the form does not ask for: `Content::unsendable`), by channel, name and language.
async fn approved(db: &Db) -> Result<Vec<TemplateChoice>, sea_orm::DbErr> {
    let rows: Vec<(whatsapp_template::Model, Option<whatsapp_number::Model>)> = whatsapp_template::Entity::find()
        .find_also_related(whatsapp_number::Entity)
        .filter(whatsapp_template::Column::Status.eq(crate::channels::whatsapp::templates::APPROVED))
        .order_by_asc(whatsapp_template::Column::NumberId)
        .order_by_asc(whatsapp_template::Column::Name)
        .order_by_asc(whatsapp_template::Column::Language)
        .all(&db.conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(row, number)| {
            let number = number?;
            let template = Template::from(row);
            if let Some(why) = &template.content.unsendable {
                tracing::debug!(name = %template.name, why, "template not offered");
                return None;
            }
            let label = format!("{} — {} ({})", number.name, template.name, template.language);
            Some(TemplateChoice { template, label, token_error: number.token_error })
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

/// Whether an opt-in is recorded for WhatsApp account `customer`, whichever contact gave it.
pub(super) async fn opted_in_number<C: ConnectionTrait>(conn: &C, customer: &str) -> Result<bool, sea_orm::DbErr> {
    Ok(whatsapp_opt_in::Entity::find()
        .filter(whatsapp_opt_in::Column::Customer.eq(customer))
        .one(conn)
        .await?
        .is_some())
}
