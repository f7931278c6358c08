//! Domain events: every change to a contact, an account, a ticket or a message is one row of
//! `events`, written in the transaction of the change: what happened (`action`), to what
//! (`subject_kind`, `subject_id`), by whom (`actor_kind`, `actor_id`), when, and the changed
//! fields as JSON (`[{"field": "title", "old": null, "new": "CTO"}]`). History pages read it,
//! and later webhooks and the API.
//!
//! `contact_id` is the contact whose History shows the event (its own changes, its tickets' and
//! their messages'), read newest first on `(contact_id, id)`; `ticket_id` is the ticket a
//! ticket's or a message's event concerns. Both follow their contact when it is purged (the
//! foreign key cascades, as `contact_history` did); events about a subject alone are found on
//! `(subject_kind, subject_id, id)`. A webhook cursor reads on the primary key.
//!
//! Every line of `contact_history` becomes an event, keeping its id (so the order of the
//! History is kept), its time and its agent; then the table goes. The lines' labels become
//! field keys ("First Name" → `first_name`), the Help Center's labels its stored statuses, and
//! a ticket's lines ("Ticket #1001 status") events of that ticket. A reply's line names no
//! message, so it becomes a `replied` event of its ticket. A line of any other shape is kept
//! as a change of the contact with its label as the field.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

use crate::columns::{id, index, timestamp};
use crate::m0007_contacts::Contacts;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum Events {
    Table,
    Id,
    OccurredAt,
    ActorKind,
    ActorId,
    SubjectKind,
    SubjectId,
    Action,
    ContactId,
    TicketId,
    Changes,
}

/// The labels of `contact_history` that were a contact's fields, and their keys.
const CONTACT_FIELDS: [(&str, &str); 10] = [
    ("First Name", "first_name"),
    ("Last Name", "last_name"),
    ("Email", "email"),
    ("Secondary Email", "secondary_email"),
    ("Phone", "phone"),
    ("Mobile", "mobile"),
    ("Account Name", "account"),
    ("Contact Owner", "owner"),
    ("Title", "title"),
    ("Description", "description"),
];

/// Help Center statuses as the history wrote them, and as contacts store them.
const HELP_CENTER: [(&str, &str); 5] = [
    ("Not invited", "not_invited"),
    ("Invited", "invited"),
    ("Active", "active"),
    ("Active (signed up)", "active"),
    ("Deactivated", "deactivated"),
];

/// Ticket channels as the history wrote them ("Created (Help Center)"), and their keys.
const CHANNELS: [(&str, &str); 5] =
    [("Email", "email"), ("Web", "web"), ("Help Center", "help_center"), ("WhatsApp", "whatsapp"), ("Phone", "phone")];

/// The columns every backfill statement fills, in this order.
const COLUMNS: &str =
    "INSERT INTO events (id, occurred_at, actor_kind, actor_id, subject_kind, subject_id, action, contact_id, ticket_id, changes)";

/// The actor of a line: its agent, or Frontdesk itself.
const ACTOR: &str = "CASE WHEN h.agent_id IS NULL THEN 'system' ELSE 'agent' END, h.agent_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Events::{Action, ActorId, ActorKind, Changes, ContactId, OccurredAt, SubjectId, SubjectKind, TicketId};
        let table = Events::Table;
        manager
            .create_table(
                Table::create()
                    .table(table)
                    .col(id(Events::Id))
                    .col(timestamp(OccurredAt))
                    .col(ColumnDef::new(ActorKind).string().not_null())
                    .col(ColumnDef::new(ActorId).big_integer().null())
                    .col(ColumnDef::new(SubjectKind).string().not_null())
                    .col(ColumnDef::new(SubjectId).big_integer().not_null())
                    .col(ColumnDef::new(Action).string().not_null())
                    .col(ColumnDef::new(ContactId).big_integer().null())
                    .col(ColumnDef::new(TicketId).big_integer().null())
                    .col(ColumnDef::new(Changes).text().not_null().default("[]"))
                    .foreign_key(
                        ForeignKey::create()
                            .from(table, ContactId)
                            .to(Contacts::Table, Contacts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_events_contact", table, vec![ContactId, Events::Id]).await?;
        index(manager, "idx_events_subject", table, vec![SubjectKind, SubjectId, Events::Id]).await?;
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        for sql in backfill(backend) {
            db.execute_unprepared(&sql).await?;
        }
        if backend == DatabaseBackend::Postgres {
            // The backfill gave ids of its own; new events follow them.
            db.execute_unprepared(
                "SELECT setval(pg_get_serial_sequence('events', 'id'), COALESCE((SELECT MAX(id) FROM events), 0) + 1, false)",
            )
            .await?;
        }
        manager.drop_table(Table::drop().table(Alias::new("contact_history")).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The table comes back empty: events written since have no line to go back to.
        crate::m0013_contact_history::Migration.up(manager).await?;
        manager.drop_table(Table::drop().table(Events::Table).to_owned()).await
    }
}

/// `value` as a JSON string (or `null`), in SQL.
fn json(backend: DatabaseBackend, value: &str) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("COALESCE(to_json(CAST({value} AS TEXT))::text, 'null')"),
        _ => format!("json_quote({value})"),
    }
}

/// A SQL `CASE` turning `value` into the second of the pair whose first it is.
fn case(value: &str, pairs: &[(&str, &str)], otherwise: &str) -> String {
    let whens: String = pairs.iter().map(|(from, to)| format!("WHEN '{from}' THEN '{to}' ")).collect();
    format!("CASE {value} {whens}ELSE {otherwise} END")
}

/// One change as a JSON list, in SQL: `field` and the SQL of the old and new values.
fn change(backend: DatabaseBackend, field: &str, old: &str, new: &str) -> String {
    format!(
        "'[{{\"field\":' || {} || ',\"old\":' || {} || ',\"new\":' || {} || '}}]'",
        field,
        json(backend, old),
        json(backend, new)
    )
}

/// The statements that turn `contact_history` into events, one shape of line each.
fn backfill(backend: DatabaseBackend) -> Vec<String> {
    let null = "CAST(NULL AS BIGINT)";
    let contact_fields: Vec<String> = CONTACT_FIELDS.iter().map(|(label, _)| format!("'{label}'")).collect();
    let field_key = case("h.field", &CONTACT_FIELDS, "h.field");
    let status_key = |value: &str| case(value, &HELP_CENTER, value);
    // The ticket's number in "Ticket #1001" or "Ticket #1001 status": SQLite's CAST reads the
    // leading digits; PostgreSQL's would refuse the rest.
    let number = match backend {
        DatabaseBackend::Postgres => "CAST(substring(h.field from '^Ticket #([0-9]+)') AS BIGINT)",
        _ => "CAST(substr(h.field, 9) AS INTEGER)",
    };
    let ticket_lines =
        format!("FROM contact_history h JOIN tickets t ON t.number = {number} WHERE h.field LIKE 'Ticket #%'");
    let channel = case(
        "substr(h.new_value, 10, length(h.new_value) - 10)",
        &CHANNELS,
        "substr(h.new_value, 10, length(h.new_value) - 10)",
    );
    let author = |kind: &str| format!("{{\"field\":\"author\",\"old\":null,\"new\":\"{kind}\"}}");
    let by = |key: &str| format!(",{{\"field\":\"channel\",\"old\":null,\"new\":\"{key}\"}}");
    let mut replies = vec![
        ("Customer replied".to_owned(), format!("[{}]", author("contact"))),
        ("Agent replied".to_owned(), format!("[{}]", author("agent"))),
    ];
    for (label, key) in CHANNELS {
        let said = if key == "email" { "email" } else { label };
        replies.push((format!("Customer replied by {said}"), format!("[{}{}]", author("contact"), by(key))));
        replies.push((format!("Someone else replied by {said}"), format!("[{}{}]", author("participant"), by(key))));
    }
    let reply_whens: String = replies.iter().map(|(said, json)| format!("WHEN '{said}' THEN '{json}' ")).collect();
    let reply_list: Vec<String> = replies.iter().map(|(said, _)| format!("'{said}'")).collect();
    vec![
        // "Contact: Created", "Contact: Created from an email".
        format!(
            "{COLUMNS} SELECT h.id, h.at, {ACTOR}, 'contact', h.contact_id, 'created', h.contact_id, {null}, '[]' \
             FROM contact_history h WHERE h.field = 'Contact'"
        ),
        // A change of one of the contact's fields.
        format!(
            "{COLUMNS} SELECT h.id, h.at, {ACTOR}, 'contact', h.contact_id, 'updated', h.contact_id, {null}, {} \
             FROM contact_history h WHERE h.field IN ({})",
            change(backend, &format!("'\"' || {field_key} || '\"'"), "h.old_value", "h.new_value"),
            contact_fields.join(", ")
        ),
        // The Help Center: an invitation sent again changed nothing.
        format!(
            "{COLUMNS} SELECT h.id, h.at, {ACTOR}, 'contact', h.contact_id, 'invited', h.contact_id, {null}, '[]' \
             FROM contact_history h WHERE h.field = 'Help Center' AND h.new_value = 'Invitation sent again'"
        ),
        format!(
            "{COLUMNS} SELECT h.id, h.at, {ACTOR}, 'contact', h.contact_id, \
               CASE h.new_value WHEN 'Invited' THEN 'invited' WHEN 'Active (signed up)' THEN 'signed_up' ELSE 'updated' END, \
               h.contact_id, {null}, {} \
             FROM contact_history h WHERE h.field = 'Help Center' AND h.new_value <> 'Invitation sent again'",
            change(backend, "'\"help_center\"'", &status_key("h.old_value"), &status_key("h.new_value")),
        ),
        // "Ticket #1001: Created (Email)".
        format!(
            "{COLUMNS} SELECT h.id, h.at, {ACTOR}, 'ticket', t.id, 'created', h.contact_id, t.id, {} \
             {ticket_lines} AND h.field = 'Ticket #' || t.number AND h.new_value LIKE 'Created (%)'",
            change(backend, "'\"channel\"'", "NULL", &channel),
        ),
        // "Ticket #1001 status", "… assignee", "… priority".
        format!(
            "{COLUMNS} SELECT h.id, h.at, {ACTOR}, 'ticket', t.id, 'updated', h.contact_id, t.id, {} \
             {ticket_lines} AND h.field IN ('Ticket #' || t.number || ' status', 'Ticket #' || t.number || ' assignee', \
               'Ticket #' || t.number || ' priority')",
            change(
                backend,
                "'\"' || substr(h.field, length('Ticket #' || t.number) + 2) || '\"'",
                "h.old_value",
                "h.new_value"
            ),
        ),
        // "Ticket #1001: Customer replied by email": which message is not known.
        format!(
            "{COLUMNS} SELECT h.id, h.at, {ACTOR}, 'ticket', t.id, 'replied', h.contact_id, t.id, \
               CASE h.new_value {reply_whens}END \
             {ticket_lines} AND h.field = 'Ticket #' || t.number AND h.new_value IN ({})",
            reply_list.join(", ")
        ),
        // Whatever else: a change of the contact, its label as the field.
        format!(
            "{COLUMNS} SELECT h.id, h.at, {ACTOR}, 'contact', h.contact_id, 'updated', h.contact_id, {null}, {} \
             FROM contact_history h WHERE h.id NOT IN (SELECT id FROM events)",
            change(backend, &json(backend, "h.field"), "h.old_value", "h.new_value"),
        ),
    ]
}
