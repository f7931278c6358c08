//! A WhatsApp ticket's conversation: which connected number it is on, whom replies go to, and
//! the 24-hour customer service window (free text only within 24 hours of the customer's
//! latest message; templates any time).

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::outgoing::Recipient;
use crate::entities::whatsapp_message::{self, Direction, State};
use crate::entities::{ticket, whatsapp_conversation, whatsapp_number};
use crate::services::contacts::identities;

/// How long after the customer's latest message free text may be sent.
pub const WINDOW_HOURS: i64 = 24;

/// Where a reply on a WhatsApp ticket goes.
#[derive(Clone, Debug)]
pub struct Route {
    pub number_id: i64,
    pub to: Recipient,
    /// The customer's latest message through this channel; `None` when none came in (a ticket
    /// opened another way): the window is then unknown, and Meta decides.
    pub last_inbound_at: Option<DateTime<Utc>>,
}

/// The 24-hour window of a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// Free text may be sent until then.
    OpenUntil(DateTime<Utc>),
    /// Closed since then: only templates.
    ClosedSince(DateTime<Utc>),
    /// The customer never wrote through this channel.
    Unknown,
}

impl Route {
    /// The window at `now`.
    #[must_use]
    pub fn window(&self, now: DateTime<Utc>) -> Window {
        window(self.last_inbound_at, now)
    }
}

/// The window at `now` after the customer's latest message at `last_inbound_at`.
#[must_use]
pub fn window(last_inbound_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Window {
    match last_inbound_at.map(|at| at + Duration::hours(WINDOW_HOURS)) {
        Some(until) if until > now => Window::OpenUntil(until),
        Some(until) => Window::ClosedSince(until),
        None => Window::Unknown,
    }
}

/// Where replies on WhatsApp ticket `t` go: its conversation's number and customer; for a
/// WhatsApp ticket with no conversation (opened another way), the contact's WhatsApp number
/// from the first connected number. `None` when there is nowhere to send (no WhatsApp identity
/// or no connected number).
///
/// # Errors
/// Database errors.
pub async fn route<C: ConnectionTrait>(conn: &C, t: &ticket::Model) -> Result<Option<Route>, sea_orm::DbErr> {
    if let Some(c) = whatsapp_conversation::Entity::find_by_id(t.id).one(conn).await? {
        return Ok(Some(Route {
            number_id: c.number_id,
            to: Recipient::from_stored(&c.customer),
            last_inbound_at: c.last_inbound_at,
        }));
    }
    let Some(contact_id) = t.contact_id else { return Ok(None) };
    let Some(number) = identities::whatsapp_of(conn, contact_id).await? else { return Ok(None) };
    let first = whatsapp_number::Entity::find()
        .select_only()
        .column(whatsapp_number::Column::Id)
        .order_by_asc(whatsapp_number::Column::Id)
        .into_tuple::<i64>()
        .one(conn)
        .await?;
    Ok(first.map(|number_id| Route { number_id, to: Recipient::Number(number), last_inbound_at: None }))
}

/// What a WhatsApp ticket's page shows beside its thread: the window and each outgoing
/// message's state.
#[derive(Clone, Debug)]
pub struct TicketView {
    pub window: Window,
    /// (thread message id, state, reason when it failed), for the outgoing messages.
    pub deliveries: Vec<(i64, State, Option<String>)>,
}

impl TicketView {
    /// The state of thread message `id`, in words, and the reason it failed.
    #[must_use]
    pub fn delivery_of(&self, id: &i64) -> Option<(&'static str, Option<&str>)> {
        self.deliveries.iter().find(|(m, _, _)| m == id).map(|(_, state, reason)| match (state, reason) {
            // Not gone yet because of something that passes: it is tried again.
            (State::Queued, Some(reason)) => ("Queued, will be retried", Some(reason.as_str())),
            (state, reason) => (label(*state), reason.as_deref()),
        })
    }

    /// Whether free text may be sent now.
    #[must_use]
    pub fn closed(&self) -> bool {
        matches!(self.window, Window::ClosedSince(_))
    }

    /// The window, in words.
    #[must_use]
    pub fn window_text(&self) -> String {
        let at = |t: &DateTime<Utc>| t.format("%b %-d, %Y %H:%M UTC").to_string();
        match &self.window {
            Window::OpenUntil(until) => format!("open until {}", at(until)),
            Window::ClosedSince(since) => format!("closed since {}: only a template can be sent", at(since)),
            Window::Unknown => "not open: the customer has not written on WhatsApp yet".to_owned(),
        }
    }
}

/// A state as the thread shows it.
#[must_use]
pub fn label(state: State) -> &'static str {
    match state {
        State::Queued => "Queued",
        State::Accepted => "Accepted by WhatsApp",
        State::Sent => "Sent",
        State::Delivered => "Delivered",
        State::Read => "Read",
        State::Failed => "Failed",
    }
}

/// What WhatsApp ticket `t`'s page shows at `now` (two queries); `None` for another channel.
///
/// # Errors
/// Database errors.
pub async fn ticket_view<C: ConnectionTrait>(
    conn: &C,
    t: &ticket::Model,
    now: DateTime<Utc>,
) -> Result<Option<TicketView>, sea_orm::DbErr> {
    if t.channel != crate::domain::Channel::WhatsApp.key() {
        return Ok(None);
    }
    let last_inbound_at = whatsapp_conversation::Entity::find_by_id(t.id)
        .select_only()
        .column(whatsapp_conversation::Column::LastInboundAt)
        .into_tuple::<Option<DateTime<Utc>>>()
        .one(conn)
        .await?
        .flatten();
    let deliveries = whatsapp_message::Entity::find()
        .select_only()
        .columns([
            whatsapp_message::Column::MessageId,
            whatsapp_message::Column::State,
            whatsapp_message::Column::ErrorReason,
        ])
        .filter(whatsapp_message::Column::TicketId.eq(t.id))
        .filter(whatsapp_message::Column::Direction.eq(Direction::Outbound))
        .into_tuple::<(Option<i64>, Option<State>, Option<String>)>()
        .all(conn)
        .await?
        .into_iter()
        .filter_map(|(message, state, reason)| Some((message?, state?, reason)))
        .collect();
    Ok(Some(TicketView { window: window(last_inbound_at, now), deliveries }))
}
