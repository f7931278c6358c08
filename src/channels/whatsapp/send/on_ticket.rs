//! A template sent on an existing WhatsApp ticket (after its 24-hour window closed, the only way
//! to write to the customer again): it joins the ticket's thread and goes to the conversation's
//! customer from the conversation's number.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};

use super::form::{OnTicket, TemplateChoice};
use super::{record_opt_in, Sent};
use crate::channels::whatsapp::outgoing::{self, Content, Outgoing};
use crate::db::{execute_all, Db};
use crate::entities::message;
use crate::services::events::{self, Event, Subject};
use crate::services::tickets::{self, thread, Author};
use crate::services::{Actor, ServiceResult};

/// Writes the template into ticket `on`'s thread and queues it, with `values` for its
/// parameters (the ticket's own number for a ticket-number parameter); our id of the delivery.
///
/// # Errors
/// `NotFound` when the ticket was deleted meanwhile; database errors.
pub(super) async fn write(
    db: &Db,
    actor: &Actor,
    on: &OnTicket,
    template: &TemplateChoice,
    mut values: Vec<String>,
    opt_in: bool,
    now: DateTime<Utc>,
) -> ServiceResult<(Sent, String)> {
    let delivery = outgoing::new_id();
    for (value, p) in values.iter_mut().zip(&template.body.params) {
        if p.auto == Some(super::params::Auto::TicketNumber) {
            *value = format!("#{}", on.number);
        }
    }
    let preview = template.body.render(&values);
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let t = tickets::find_live(&txn, on.number, None).await?;
    let entry = message::ActiveModel {
        ticket_id: Set(t.id),
        author_kind: Set(Author::Agent(actor.id()).kind().to_owned()),
        author_agent_id: Set(Some(actor.id())),
        body: Set(preview.clone()),
        internal: Set(false),
        message_id: Set(Some(delivery.clone())),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let backend = txn.get_database_backend();
    let replied =
        Event::message(events::Actor::Agent(actor.id()), Subject::Message(entry.id), &t, events::Action::Replied, now);
    let mut statements = Vec::from_iter(events::statement(backend, &[replied]));
    let message = Outgoing {
        number_id: on.route.number_id,
        to: on.route.to.clone(),
        content: Content::Template {
            template: template.body.object(&template.name, &template.language, &values),
            preview,
        },
        ticket_id: Some(t.id),
        message_id: Some(entry.id),
    };
    statements.extend(outgoing::enqueue_statements(backend, &delivery, message, now));
    if opt_in {
        statements.push(record_opt_in(backend, t.contact_id, on.route.to.as_str(), actor, now));
    }
    execute_all(&txn, statements).await?;
    let number = t.number;
    thread::save(&txn, t, None, now).await?;
    txn.commit().await?;
    Ok((Sent { ticket: Some(number), contact_created: false, problem: None }, delivery))
}
