//! Which ticket an inbound mail belongs to, if any.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::channels::email::read::{ticket_token, InboundMail};
use crate::entities::{message, outbox, ticket, ticket_participant};
use crate::services::contacts::identities;

/// The live ticket `mail` answers: the one holding the newest Message-ID it refers to (a mail
/// we stored or sent), else the one its subject's `[#1042]` names, when the sender is that
/// ticket's contact or a participant on it (a token alone is easy to guess).
pub(super) async fn find_ticket<C: ConnectionTrait>(
    conn: &C,
    mail: &InboundMail,
) -> Result<Option<ticket::Model>, sea_orm::DbErr> {
    if !mail.thread_ids.is_empty() {
        let mut found: HashMap<String, i64> = message::Entity::find()
            .select_only()
            .columns([message::Column::MessageId, message::Column::TicketId])
            .filter(message::Column::MessageId.is_in(mail.thread_ids.clone()))
            .into_tuple::<(Option<String>, i64)>()
            .all(conn)
            .await?
            .into_iter()
            .filter_map(|(id, ticket)| Some((id?, ticket)))
            .collect();
        let sent: Vec<(String, Option<i64>)> = outbox::Entity::find()
            .select_only()
            .columns([outbox::Column::MessageId, outbox::Column::TicketId])
            .filter(outbox::Column::MessageId.is_in(mail.thread_ids.clone()))
            .into_tuple()
            .all(conn)
            .await?;
        found.extend(sent.into_iter().filter_map(|(id, ticket)| Some((id, ticket?))));
        for id in &mail.thread_ids {
            if let Some(ticket_id) = found.get(id) {
                let live =
                    ticket::Entity::find_by_id(*ticket_id).filter(ticket::Column::Trashed.eq(false)).one(conn).await?;
                if live.is_some() {
                    return Ok(live);
                }
            }
        }
    }
    let Some(number) = ticket_token(&mail.subject) else { return Ok(None) };
    let Some(t) = ticket::Entity::find()
        .filter(ticket::Column::Number.eq(number))
        .filter(ticket::Column::Trashed.eq(false))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    if let Some(contact_id) = t.contact_id {
        if identities::has_email(conn, contact_id, mail.from.as_str()).await? {
            return Ok(Some(t));
        }
    }
    let participant = ticket_participant::Entity::find_by_id((t.id, mail.from.as_str().to_owned())).one(conn).await?;
    Ok(participant.map(|_| t))
}
