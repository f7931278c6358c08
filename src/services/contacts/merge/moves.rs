//! The moves of a merge, both ways, as set-based statements: for each table that points at a
//! contact, one `INSERT … SELECT` that remembers which rows move and where from, and one
//! `UPDATE … WHERE contact_id IN (…)` that moves them; undoing is one `UPDATE` per table that
//! reads each row's old contact back from `contact_merge_rows` (on its `(merge_id, kind,
//! row_id)` index). Their number does not grow with the rows moved: merging two contacts with
//! 1,000 tickets each is the same dozen statements as merging two with none.
//!
//! The statements carry no bound values (ids are numbers written into the text), so that
//! `crate::db::execute_all` sends them in one round trip.

use sea_orm::{DbBackend, Statement};

/// A table whose rows belong to a contact by `contact_id`, and which moves whole.
struct Table {
    /// The kind its rows are remembered as.
    kind: &'static str,
    table: &'static str,
    /// Its key (a WhatsApp conversation's is its ticket's id).
    key: &'static str,
}

/// The tables every row of a merged contact moves from: tickets (their messages go with them),
/// activities, time entries, events (its History), WhatsApp conversations and opt-ins.
const WHOLE: [Table; 6] = [
    Table { kind: "ticket", table: "tickets", key: "id" },
    Table { kind: "activity", table: "activities", key: "id" },
    Table { kind: "time_entry", table: "time_entries", key: "id" },
    Table { kind: "event", table: "events", key: "id" },
    Table { kind: "conversation", table: "whatsapp_conversations", key: "ticket_id" },
    Table { kind: "opt_in", table: "whatsapp_opt_ins", key: "id" },
];

/// Identities move one by one as chosen (a number the master has already stays behind).
pub const IDENTITY: &str = "identity";
/// Help Center links move with the login they belong to.
pub const TOKEN: &str = "token";
/// A merged contact's own row (`contact_merge_rows.detail` says what the merge changed on it).
pub const CONTACT: &str = "contact";

fn list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
}

fn statement(backend: DbBackend, sql: String) -> Statement {
    Statement::from_string(backend, sql)
}

/// Remembers, then moves to `master`, every row of contacts `from` in the tables that move
/// whole.
#[must_use]
pub fn away(backend: DbBackend, merge_id: i64, master: i64, from: &[i64]) -> Vec<Statement> {
    if from.is_empty() {
        return Vec::new();
    }
    let from = list(from);
    WHOLE
        .iter()
        .flat_map(|t| {
            let Table { kind, table, key } = t;
            [
                statement(
                    backend,
                    format!(
                        "INSERT INTO contact_merge_rows (merge_id, kind, row_id, contact_id) \
                         SELECT {merge_id}, '{kind}', {key}, contact_id FROM {table} WHERE contact_id IN ({from})"
                    ),
                ),
                statement(backend, format!("UPDATE {table} SET contact_id = {master} WHERE contact_id IN ({from})")),
            ]
        })
        .collect()
}

/// Remembers, then moves to `master`, the identities `ids` (each as a secondary one: the
/// caller marks the primary) or, for [`TOKEN`], the Help Center links `ids`.
#[must_use]
pub fn chosen(backend: DbBackend, merge_id: i64, kind: &'static str, master: i64, ids: &[i64]) -> Vec<Statement> {
    if ids.is_empty() {
        return Vec::new();
    }
    let ids = list(ids);
    let (table, flag, reset) = if kind == IDENTITY {
        ("contact_identities", "is_primary", ", is_primary = FALSE")
    } else {
        ("help_center_tokens", "CAST(NULL AS BOOLEAN)", "")
    };
    vec![
        statement(
            backend,
            format!(
                "INSERT INTO contact_merge_rows (merge_id, kind, row_id, contact_id, flag) \
                 SELECT {merge_id}, '{kind}', id, contact_id, {flag} FROM {table} WHERE id IN ({ids})"
            ),
        ),
        statement(backend, format!("UPDATE {table} SET contact_id = {master}{reset} WHERE id IN ({ids})")),
    ]
}

/// Moves back from `master` everything merge `merge_id` moved to it, each row to the contact
/// it came from (identities with their primary flag), and the events of the tickets that went
/// back, written since too, to their tickets' contacts.
#[must_use]
pub fn back(backend: DbBackend, merge_id: i64, master: i64) -> Vec<Statement> {
    let moved =
        |kind: &str| format!("SELECT row_id FROM contact_merge_rows WHERE merge_id = {merge_id} AND kind = '{kind}'");
    let from = |kind: &str, table: &str, key: &str, column: &str| {
        format!(
            "(SELECT r.{column} FROM contact_merge_rows r \
              WHERE r.merge_id = {merge_id} AND r.kind = '{kind}' AND r.row_id = {table}.{key})"
        )
    };
    let mut statements: Vec<Statement> = WHOLE
        .iter()
        .map(|t| {
            let Table { kind, table, key } = t;
            let contact = from(kind, table, key, "contact_id");
            statement(
                backend,
                format!(
                    "UPDATE {table} SET contact_id = {contact} WHERE contact_id = {master} AND {key} IN ({})",
                    moved(kind)
                ),
            )
        })
        .collect();
    let contact = from(IDENTITY, "contact_identities", "id", "contact_id");
    let flag = from(IDENTITY, "contact_identities", "id", "flag");
    statements.push(statement(
        backend,
        format!(
            "UPDATE contact_identities SET contact_id = {contact}, is_primary = COALESCE({flag}, FALSE) \
             WHERE contact_id = {master} AND id IN ({})",
            moved(IDENTITY)
        ),
    ));
    let contact = from(TOKEN, "help_center_tokens", "id", "contact_id");
    statements.push(statement(
        backend,
        format!(
            "UPDATE help_center_tokens SET contact_id = {contact} WHERE contact_id = {master} AND id IN ({})",
            moved(TOKEN)
        ),
    ));
    statements.push(statement(
        backend,
        format!(
            "UPDATE events SET contact_id = (SELECT t.contact_id FROM tickets t WHERE t.id = events.ticket_id) \
             WHERE contact_id = {master} AND ticket_id IN ({})",
            moved("ticket")
        ),
    ));
    statements
}

/// Forgets what merge `merge_id` moved, once it is undone.
#[must_use]
pub fn forget(backend: DbBackend, merge_id: i64) -> Statement {
    statement(backend, format!("DELETE FROM contact_merge_rows WHERE merge_id = {merge_id}"))
}
