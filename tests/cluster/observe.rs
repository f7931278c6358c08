//! What the test looks at once the journey is done: the database, through a connection of its
//! own, and the instances' logs, which say which instance sent each mail and fetched each
//! support mail.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use crate::cluster::Database;

/// Queries on the cluster's database.
pub struct Observer {
    conn: DatabaseConnection,
}

impl Observer {
    pub async fn connect(database: &Database) -> Self {
        Self { conn: database.connect().await }
    }

    async fn rows(&self, sql: &str) -> Vec<sea_orm::QueryResult> {
        let statement = Statement::from_string(self.conn.get_database_backend(), sql.to_owned());
        self.conn.query_all(statement).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The first column of the first row, a number.
    pub async fn number(&self, sql: &str) -> i64 {
        let rows = self.rows(sql).await;
        rows.first().and_then(|row| row.try_get_by_index::<i64>(0).ok()).unwrap_or_else(|| panic!("no number: {sql}"))
    }

    /// The first column of the first row, text or NULL.
    pub async fn text(&self, sql: &str) -> Option<String> {
        self.rows(sql).await.first().and_then(|row| row.try_get_by_index::<Option<String>>(0).ok()).flatten()
    }

    /// The first column of every row, text.
    pub async fn strings(&self, sql: &str) -> Vec<String> {
        self.rows(sql).await.iter().map(|row| row.try_get_by_index::<String>(0).expect("text")).collect()
    }

    /// Waits (up to 40 s) until `sql` counts `expected`.
    pub async fn wait_until(&self, what: &str, sql: &str, expected: i64) {
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            let n = self.number(sql).await;
            if n == expected {
                return;
            }
            assert!(Instant::now() < deadline, "not within 40 s: {what} ({sql} is {n}, not {expected})");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until a message with each of `ids` (Message-IDs) is stored.
    pub async fn wait_for_messages(&self, ids: &[&str]) {
        if ids.is_empty() {
            return;
        }
        let list: Vec<String> = ids.iter().map(|id| format!("'{id}'")).collect();
        let sql = format!("SELECT COUNT(DISTINCT message_id) FROM messages WHERE message_id IN ({})", list.join(", "));
        let expected = i64::try_from(ids.len()).expect("a few");
        self.wait_until("every support mail is stored", &sql, expected).await;
    }
}

/// The value of `key=` in a log line.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let start = line.find(&format!(" {key}="))? + key.len() + 2;
    line[start..].split_whitespace().next()
}

/// Which instance sent which outbox row (`mail sent outbox=N`), in `logs` of (instance, lines).
pub fn mail_senders(logs: &[(String, Vec<String>)]) -> Vec<(String, String)> {
    let mut sent = Vec::new();
    for (instance, lines) in logs {
        for line in lines.iter().filter(|l| l.contains(" mail sent outbox=")) {
            sent.push((instance.clone(), field(line, "outbox").expect("outbox=").to_owned()));
        }
    }
    sent
}

/// Which instance fetched each support mail (`inbound mail mailbox=A uid=N`), by mailbox and
/// UID; a mail fetched twice (by two instances polling at once, or one polling it again) fails.
pub fn fetched(logs: &[(String, Vec<String>)]) -> BTreeMap<(String, u32), String> {
    let mut fetched = BTreeMap::new();
    for (instance, lines) in logs {
        for line in lines.iter().filter(|l| l.contains(" inbound mail mailbox=")) {
            let mailbox = field(line, "mailbox").expect("mailbox=").to_owned();
            let uid = field(line, "uid").and_then(|u| u.parse().ok()).expect("uid=");
            if let Some(first) = fetched.insert((mailbox.clone(), uid), instance.clone()) {
                panic!("{mailbox} UID {uid} fetched by {first} and again by {instance}");
            }
        }
    }
    fetched
}
