//! The states of outgoing WhatsApp messages, as Meta's status webhooks report them. Statuses
//! arrive late, twice, or out of order, so a state only moves forward (accepted → sent →
//! delivered → read); `failed` ends it, but never undoes a read. Each change is one conditional
//! update, so two instances handling two statuses of one message at once cannot move it back.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};

use super::api::ErrorKind;
use crate::db::Db;
use crate::entities::whatsapp_message::{self, Direction, State};

/// One status of an outgoing message, as a webhook reports it.
#[derive(Clone, Debug, Default)]
pub struct Status {
    /// Meta's id of the message.
    pub wamid: String,
    /// `sent`, `delivered`, `read` or `failed`; anything else is ignored.
    pub status: String,
    pub timestamp: Option<DateTime<Utc>>,
    /// Our id of the message, echoed back (`biz_opaque_callback_data`).
    pub callback_data: Option<String>,
    /// The first error of a failed message: Meta's code and its words.
    pub error_code: Option<i64>,
    pub error_message: Option<String>,
}

/// The states a message may be in for `next` to replace it.
fn predecessors(next: State) -> &'static [State] {
    match next {
        State::Queued => &[],
        State::Accepted => &[State::Queued],
        State::Sent => &[State::Queued, State::Accepted],
        State::Delivered => &[State::Queued, State::Accepted, State::Sent],
        State::Read => &[State::Queued, State::Accepted, State::Sent, State::Delivered],
        State::Failed => &[State::Queued, State::Accepted, State::Sent, State::Delivered],
    }
}

fn parse(status: &str) -> Option<State> {
    match status {
        "sent" => Some(State::Sent),
        "delivered" => Some(State::Delivered),
        "read" => Some(State::Read),
        "failed" => Some(State::Failed),
        _ => None,
    }
}

/// The reason shown for a failed message: what it means for the agent, then Meta's words.
#[must_use]
pub fn reason(code: Option<i64>, message: Option<&str>) -> String {
    let meaning = code.map(|c| ErrorKind::from_code(c).in_words());
    match (meaning, message.filter(|m| !m.is_empty())) {
        (Some(meaning), Some(message)) => format!("{meaning} ({message}, code {})", code.unwrap_or_default()),
        (Some(meaning), None) => meaning.to_owned(),
        (None, Some(message)) => message.to_owned(),
        (None, None) => "WhatsApp could not deliver the message".to_owned(),
    }
}

/// Moves `number_id`'s outgoing messages forward by `statuses`; a status of a message we do not
/// know (sent from elsewhere, or purged) is ignored. Gives how many changed a state.
///
/// # Errors
/// Database errors.
pub async fn record(db: &Db, number_id: i64, statuses: &[Status], now: DateTime<Utc>) -> Result<u64, sea_orm::DbErr> {
    let mut changed = 0;
    for status in statuses {
        let Some(next) = parse(&status.status) else { continue };
        // By our own id when Meta echoes it (a status can arrive before the send's answer gave
        // us the wamid), else by the wamid.
        let which = match status.callback_data.as_deref().filter(|d| !d.is_empty()) {
            Some(ours) => Condition::any()
                .add(whatsapp_message::Column::DeliveryId.eq(ours))
                .add(whatsapp_message::Column::Wamid.eq(status.wamid.as_str())),
            None => Condition::all().add(whatsapp_message::Column::Wamid.eq(status.wamid.as_str())),
        };
        let mut update = whatsapp_message::Entity::update_many()
            .col_expr(whatsapp_message::Column::State, Expr::value(next))
            .col_expr(whatsapp_message::Column::UpdatedAt, Expr::value(now))
            .col_expr(whatsapp_message::Column::Wamid, Expr::value(status.wamid.clone()));
        if let Some(at) = status.timestamp {
            update = update.col_expr(whatsapp_message::Column::SentAt, Expr::value(at));
        }
        if next == State::Failed {
            let reason = reason(status.error_code, status.error_message.as_deref());
            update = update
                .col_expr(whatsapp_message::Column::ErrorCode, Expr::value(status.error_code))
                .col_expr(whatsapp_message::Column::ErrorReason, Expr::value(reason));
        }
        let _gate = db.write_gate().await;
        let result = update
            .filter(which)
            .filter(whatsapp_message::Column::NumberId.eq(number_id))
            .filter(whatsapp_message::Column::Direction.eq(Direction::Outbound))
            .filter(whatsapp_message::Column::State.is_in(predecessors(next).iter().copied()))
            .exec(&db.conn)
            .await?;
        changed += result.rows_affected;
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_moves_forward_only_and_failed_never_undoes_a_read() {
        assert!(predecessors(State::Read).contains(&State::Delivered));
        assert!(!predecessors(State::Delivered).contains(&State::Read));
        assert!(!predecessors(State::Failed).contains(&State::Read));
        assert!(!predecessors(State::Sent).contains(&State::Failed));
        assert_eq!(parse("deleted"), None);
    }

    #[test]
    fn a_failure_reads_as_what_it_means_then_metas_words() {
        assert_eq!(
            reason(Some(131_047), Some("Re-engagement message")),
            "the 24-hour window is closed: only a template can be sent (Re-engagement message, code 131047)"
        );
        assert_eq!(reason(None, None), "WhatsApp could not deliver the message");
    }
}
