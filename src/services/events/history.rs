//! A History: the events of a contact (its own, its tickets' and their messages') or of an
//! account, newest first, as lines in the words the pages used before there were events
//! ("changed Title from “” to “CTO”", "created the contact"), without the fields the reader's
//! profile hides.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveEnum, ConnectionTrait, FromQueryResult, Statement, Value};
use serde::Deserialize;

use super::{Action, Field};
use crate::domain::ticket::channel_label;
use crate::domain::FieldRules;
use crate::entities::event::{ActorKind, SubjectKind};

/// How many events a History shows, the newest.
pub const LIMIT: u64 = 50;

/// One line of a History.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryLine {
    pub at: DateTime<Utc>,
    /// The agent's name, "Customer" (the contact itself) or "System".
    pub who: String,
    /// What was done, when it was not a field that changed: "created the contact".
    pub did: Option<&'static str>,
    /// The field as people read it: "Title", "Ticket #1001 status".
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

impl HistoryLine {
    #[must_use]
    pub fn when(&self) -> String {
        self.at.format("%b %-d, %Y %H:%M UTC").to_string()
    }
}

/// An event as a History reads it: with its agent's name and its ticket's number.
#[derive(Clone, Debug, FromQueryResult)]
pub struct EventRow {
    pub occurred_at: DateTime<Utc>,
    pub actor_kind: String,
    pub agent_name: Option<String>,
    pub subject_kind: String,
    pub action: String,
    pub ticket_number: Option<i64>,
    pub changes: String,
}

/// A stored field: one of ours, or the label of a history line from before events that had
/// no field of ours (kept as it was).
#[derive(Deserialize)]
#[serde(untagged)]
enum StoredField {
    Known(Field),
    Other(String),
}

#[derive(Deserialize)]
struct StoredChange {
    field: StoredField,
    old: Option<String>,
    new: Option<String>,
}

/// The newest [`LIMIT`] events of account `$1`, on `idx_events_subject`.
const OF_ACCOUNT: &str = "SELECT e.occurred_at, e.actor_kind, g.name AS agent_name, e.subject_kind, e.action, \
     CAST(NULL AS BIGINT) AS ticket_number, e.changes \
     FROM events e LEFT JOIN agents g ON e.actor_kind = 'agent' AND g.id = e.actor_id \
     WHERE e.subject_kind = 'account' AND e.subject_id = $1 ORDER BY e.id DESC LIMIT 50";

/// The History of account `id` as `rules` (the account fields') let the agent read it, in one
/// query.
///
/// # Errors
/// Database errors.
pub async fn of_account<C: ConnectionTrait>(
    conn: &C,
    rules: &FieldRules,
    id: i64,
) -> Result<Vec<HistoryLine>, sea_orm::DbErr> {
    let statement = Statement::from_sql_and_values(conn.get_database_backend(), OF_ACCOUNT, [Value::from(id)]);
    let rows = EventRow::find_by_statement(statement).all(conn).await?;
    Ok(rows.iter().flat_map(|row| lines(row, rules)).collect())
}

/// The lines of one event, as `rules` (the fields of the event's subject) let the agent read
/// them: none for a change of a hidden field.
#[must_use]
pub fn lines(row: &EventRow, rules: &FieldRules) -> Vec<HistoryLine> {
    let (Ok(subject), Ok(action), Ok(actor)) = (
        SubjectKind::try_from_value(&row.subject_kind),
        Action::try_from_value(&row.action),
        ActorKind::try_from_value(&row.actor_kind),
    ) else {
        return vec![];
    };
    let changes: Vec<StoredChange> = serde_json::from_str(&row.changes).unwrap_or_default();
    let who = match actor {
        ActorKind::Agent => row.agent_name.clone().unwrap_or_else(|| "An agent".to_owned()),
        ActorKind::Contact => "Customer".to_owned(),
        ActorKind::System => "System".to_owned(),
    };
    let line = |did: Option<&'static str>, field: String, old: Option<String>, new: Option<String>| HistoryLine {
        at: row.occurred_at,
        who: who.clone(),
        did,
        field,
        old_value: old,
        new_value: new,
    };
    let did = |what: &'static str| vec![line(Some(what), String::new(), None, None)];
    let field_lines = |changes: Vec<StoredChange>| -> Vec<HistoryLine> {
        changes
            .into_iter()
            .filter(|c| visible(rules, subject, &c.field))
            .map(|c| {
                let shown = |value: Option<String>| value.map(|v| value_label(&c.field, action, v));
                line(None, field_label(subject, &c.field), shown(c.old), shown(c.new))
            })
            .collect()
    };
    let ticket = row.ticket_number.map_or_else(|| "Ticket".to_owned(), |n| format!("Ticket #{n}"));
    match (subject, action) {
        (_, Action::Purged) => vec![],
        (SubjectKind::Contact, Action::Created) => did("created the contact"),
        (SubjectKind::Contact, Action::Deleted) => did("deleted the contact"),
        (SubjectKind::Contact, Action::Restored) => did("restored the contact"),
        (SubjectKind::Account, Action::Created) => did("created the account"),
        (SubjectKind::Account, Action::Deleted) => did("deleted the account"),
        (SubjectKind::Account, Action::Restored) => did("restored the account"),
        (SubjectKind::Contact, Action::Invited) if changes.is_empty() => {
            vec![line(None, "Help Center".to_owned(), None, Some("Invitation sent again".to_owned()))]
        }
        (SubjectKind::Contact, Action::Merged | Action::MergeUndone) => {
            let what = if action == Action::Merged { "merged contacts into this one" } else { "undid a merge" };
            did(what).into_iter().chain(field_lines(changes)).collect()
        }
        (SubjectKind::Contact | SubjectKind::Account, _) => field_lines(changes),
        (SubjectKind::Ticket, Action::Created) => {
            let channel = find(&changes, Field::Channel).map(channel_label).unwrap_or_default();
            vec![line(None, ticket, None, Some(format!("Created ({channel})")))]
        }
        (SubjectKind::Ticket | SubjectKind::Message, Action::Replied | Action::Noted) => {
            vec![line(None, ticket, None, Some(said(action, &changes)))]
        }
        (SubjectKind::Ticket, Action::Deleted) => vec![line(None, ticket, None, Some("Deleted".to_owned()))],
        (SubjectKind::Ticket, Action::Restored) => vec![line(None, ticket, None, Some("Restored".to_owned()))],
        (SubjectKind::Ticket, _) => changes
            .into_iter()
            .map(|c| {
                let word = match &c.field {
                    StoredField::Known(f) => {
                        serde_json::to_value(f).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
                    }
                    StoredField::Other(label) => label.clone(),
                };
                line(None, format!("{ticket} {word}"), c.old, c.new)
            })
            .collect(),
        (SubjectKind::Message, _) => vec![],
    }
}

/// The new value of `field` among `changes`.
fn find(changes: &[StoredChange], field: Field) -> Option<&str> {
    changes.iter().find(|c| matches!(c.field, StoredField::Known(f) if f == field)).and_then(|c| c.new.as_deref())
}

/// What a message's line says: who wrote, and by which channel when it came by one (without
/// the sender's address, which a profile may hide; the thread keeps it).
fn said(action: Action, changes: &[StoredChange]) -> String {
    if action == Action::Noted {
        return "Agent added a note".to_owned();
    }
    let who = match find(changes, Field::Author) {
        Some("agent") => return "Agent replied".to_owned(),
        Some("contact") => "Customer replied",
        _ => "Someone else replied",
    };
    match find(changes, Field::Channel) {
        None => who.to_owned(),
        Some("email") => format!("{who} by email"),
        Some(channel) => format!("{who} by {}", channel_label(channel)),
    }
}

/// The permission key that hides `field` of `subject`, if any.
fn rule_key(subject: SubjectKind, field: Field) -> Option<&'static str> {
    match (subject, field) {
        (SubjectKind::Contact, Field::FirstName) => Some("first_name"),
        // A name with its first name: hidden with it.
        (SubjectKind::Ticket, Field::Contact) => Some("first_name"),
        (SubjectKind::Contact, Field::Email | Field::SecondaryEmail) => Some("email"),
        (SubjectKind::Contact, Field::Mobile | Field::WhatsApp) => Some("mobile"),
        (SubjectKind::Contact, Field::Account) => Some("account"),
        (SubjectKind::Contact, Field::Title) => Some("title"),
        (SubjectKind::Account, Field::Website) => Some("website"),
        (SubjectKind::Contact | SubjectKind::Account, Field::Phone) => Some("phone"),
        (SubjectKind::Contact | SubjectKind::Account, Field::Owner) => Some("owner"),
        (SubjectKind::Contact | SubjectKind::Account, Field::Description) => Some("description"),
        _ => None,
    }
}

/// Whether the change of `field` may be read: a hidden field's values would show.
fn visible(rules: &FieldRules, subject: SubjectKind, field: &StoredField) -> bool {
    match field {
        StoredField::Known(f) => rule_key(subject, *f).is_none_or(|key| rules.shows(key)),
        StoredField::Other(_) => true,
    }
}

/// A field as the pages name it.
fn field_label(subject: SubjectKind, field: &StoredField) -> String {
    let known = match field {
        StoredField::Known(f) => *f,
        StoredField::Other(label) => return label.clone(),
    };
    match known {
        Field::FirstName => "First Name",
        Field::LastName => "Last Name",
        Field::Email => "Email",
        Field::SecondaryEmail => crate::services::contacts::identities::SECONDARY_EMAIL,
        Field::Phone => "Phone",
        Field::Mobile => "Mobile",
        Field::Account | Field::Name => "Account Name",
        Field::Owner if subject == SubjectKind::Account => "Account Owner",
        Field::Owner => "Contact Owner",
        Field::Title => "Title",
        Field::Description => "Description",
        Field::HelpCenter => "Help Center",
        Field::Source => "Created From",
        Field::Website => "Website",
        Field::Subject => "Subject",
        Field::Status => "Status",
        Field::Priority => "Priority",
        Field::Assignee => "Assignee",
        Field::Contact => "Contact",
        Field::Channel => "Channel",
        Field::Author => "Author",
        Field::WhatsApp => "WhatsApp",
    }
    .to_owned()
}

/// A stored value as the pages show it: statuses by their labels.
fn value_label(field: &StoredField, action: Action, value: String) -> String {
    match field {
        StoredField::Known(Field::HelpCenter) => match value.as_str() {
            "active" if action == Action::SignedUp => "Active (signed up)".to_owned(),
            "not_invited" | "invited" | "active" | "deactivated" => {
                crate::services::contacts::help_center_label(&value).to_owned()
            }
            _ => value,
        },
        StoredField::Known(Field::Channel) => channel_label(&value),
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Permissions;

    fn row(subject: &str, action: &str, changes: &str) -> EventRow {
        EventRow {
            occurred_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
            actor_kind: "agent".into(),
            agent_name: Some("Ann Agent".into()),
            subject_kind: subject.into(),
            action: action.into(),
            ticket_number: Some(1001),
            changes: changes.into(),
        }
    }

    fn said(line: &HistoryLine) -> String {
        match line.did {
            Some(did) => format!("{}: {did}", line.who),
            None => format!(
                "{}: {} “{}” → “{}”",
                line.who,
                line.field,
                line.old_value.as_deref().unwrap_or_default(),
                line.new_value.as_deref().unwrap_or_default()
            ),
        }
    }

    fn read(row: &EventRow, rules: &FieldRules) -> Vec<String> {
        lines(row, rules).iter().map(said).collect()
    }

    #[test]
    fn a_contact_edit_is_a_line_per_field_and_a_hidden_field_is_none() {
        let admin = FieldRules::contacts(&Permissions::administrator());
        let edit = row(
            "contact",
            "updated",
            r#"[{"field":"title","old":null,"new":"CTO"},{"field":"secondary_email","old":"a@example.com","new":null}]"#,
        );
        assert_eq!(
            read(&edit, &admin),
            ["Ann Agent: Title “” → “CTO”", "Ann Agent: Secondary Email “a@example.com” → “”"]
        );
        let mut no_email = Permissions::administrator();
        no_email.admin = false;
        no_email.contact_fields.insert("email".into(), crate::domain::FieldAccess::Hidden);
        assert_eq!(read(&edit, &FieldRules::contacts(&no_email)), ["Ann Agent: Title “” → “CTO”"]);
    }

    #[test]
    fn a_merge_and_its_undo_say_so_with_the_fields_they_changed() {
        let rules = FieldRules::contacts(&Permissions::administrator());
        let merged = row(
            "contact",
            "merged",
            r#"[{"field":"email","old":"a@example.com","new":"b@example.com"},{"field":"secondary_email","old":null,"new":"a@example.com"}]"#,
        );
        assert_eq!(
            read(&merged, &rules),
            [
                "Ann Agent: merged contacts into this one",
                "Ann Agent: Email “a@example.com” → “b@example.com”",
                "Ann Agent: Secondary Email “” → “a@example.com”"
            ]
        );
        assert_eq!(read(&row("contact", "merge_undone", "[]"), &rules), ["Ann Agent: undid a merge"]);
    }

    #[test]
    fn tickets_and_messages_read_as_they_always_did() {
        let rules = FieldRules::contacts(&Permissions::administrator());
        let cases = [
            (
                row("ticket", "created", r#"[{"field":"channel","old":null,"new":"email"}]"#),
                "Ticket #1001 “” → “Created (Email)”",
            ),
            (
                row("ticket", "updated", r#"[{"field":"status","old":"Open","new":"Closed"}]"#),
                "Ticket #1001 status “Open” → “Closed”",
            ),
            (
                row("message", "replied", r#"[{"field":"author","old":null,"new":"agent"}]"#),
                "Ticket #1001 “” → “Agent replied”",
            ),
            (
                row(
                    "message",
                    "replied",
                    r#"[{"field":"author","old":null,"new":"contact"},{"field":"channel","old":null,"new":"email"}]"#,
                ),
                "Ticket #1001 “” → “Customer replied by email”",
            ),
            (
                row(
                    "message",
                    "replied",
                    r#"[{"field":"author","old":null,"new":"participant"},{"field":"channel","old":null,"new":"whatsapp"}]"#,
                ),
                "Ticket #1001 “” → “Someone else replied by WhatsApp”",
            ),
            (
                row("message", "noted", r#"[{"field":"author","old":null,"new":"agent"}]"#),
                "Ticket #1001 “” → “Agent added a note”",
            ),
        ];
        for (event, expected) in cases {
            assert_eq!(read(&event, &rules), [format!("Ann Agent: {expected}")]);
        }
    }

    #[test]
    fn the_help_center_reads_its_labels_and_a_line_from_before_events_keeps_its_own() {
        let rules = FieldRules::contacts(&Permissions::administrator());
        let mut signed_up =
            row("contact", "signed_up", r#"[{"field":"help_center","old":"not_invited","new":"active"}]"#);
        signed_up.actor_kind = "contact".into();
        assert_eq!(read(&signed_up, &rules), ["Customer: Help Center “Not invited” → “Active (signed up)”"]);
        let again = row("contact", "invited", "[]");
        assert_eq!(read(&again, &rules), ["Ann Agent: Help Center “” → “Invitation sent again”"]);
        let odd = row("contact", "updated", r#"[{"field":"Shoe Size","old":"9","new":"10"}]"#);
        assert_eq!(read(&odd, &rules), ["Ann Agent: Shoe Size “9” → “10”"]);
        assert_eq!(
            read(&row("contact", "created", r#"[{"field":"email","old":null,"new":"a@example.com"}]"#), &rules),
            ["Ann Agent: created the contact"]
        );
    }
}
