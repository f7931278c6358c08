//! A template sent on an existing WhatsApp ticket (after its 24-hour window closed, the only way
//! to write to the customer again): it joins the ticket's thread and goes to the conversation's
//! customer from the conversation's number.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use super::form::{OnTicket, ParamField, TemplateChoice};
use super::{record_opt_in, thread_message, with_ticket_number, Sent};
use crate::channels::whatsapp::outgoing::{self, Content, Outgoing};
use crate::db::{execute_all, Db};
use crate::services::events;
use crate::services::tickets::{self, thread};
use crate::services::{Actor, ServiceResult};

/// Writes the template into ticket `on`'s thread and queues it, with `params` (the ticket's own
/// number for a ticket-number parameter); our id of the delivery.
///
/// # Errors
/// `NotFound` when the ticket was deleted meanwhile; database errors.
pub(super) async fn write(
    db: &Db,
    actor: &Actor,
    on: &OnTicket,
    template: &TemplateChoice,
    params: &[ParamField],
    opt_in: bool,
    now: DateTime<Utc>,
) -> ServiceResult<(Sent, String)> {
    let delivery = outgoing::new_id();
    let values = with_ticket_number(params, on.number);
    let preview = template.template.content.preview(&values);
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let t = tickets::find_live(&txn, on.number, None).await?;
    let (entry, replied) = thread_message(&txn, actor, &t, &preview, &delivery, now).await?;
    let backend = txn.get_database_backend();
    let mut statements = Vec::from_iter(events::statement(backend, &[replied]));
    let message = Outgoing {
        number_id: on.route.number_id,
        to: on.route.to.clone(),
        content: Content::Template { template: template.template.send_object(&values), preview },
        ticket_id: Some(t.id),
        message_id: Some(entry.id),
    };
    statements.extend(outgoing::enqueue_statements(backend, &delivery, message, now));
    // An opt-in belongs to a contact: a ticket that has none yet records none.
    if let (true, Some(contact_id)) = (opt_in, t.contact_id) {
        statements.push(record_opt_in(backend, contact_id, on.route.to.as_str(), actor, now));
    }
    execute_all(&txn, statements).await?;
    let number = t.number;
    thread::save(&txn, t, None, now).await?;
    txn.commit().await?;
    Ok((Sent { ticket: Some(number), contact_created: false, contactless: false }, delivery))
}
