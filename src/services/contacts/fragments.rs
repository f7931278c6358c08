//! Finding contacts by fragments: any three characters or more of a name, an address (any of a
//! contact's), a number or the account's name, as agents remember them (`findme`,
//! `example.net`, `ortiz@`, the last digits `0134`). Each contact has one row of trigram-indexed
//! text per searchable field (migration m0028: FTS5 on SQLite, `pg_trgm` on PostgreSQL),
//! rebuilt from what is stored whenever a change touches the contact, and searched only in the
//! fields the agent's profile shows.

use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::db::Db;

/// The shortest fragment the trigram index can find; shorter words are matched as the prefix
/// of a word (`search_terms`).
pub const MIN_FRAGMENT: usize = 3;

/// The fields a contact's fragments are kept for, each a column of `contact_fragments`.
pub const FIELDS: [&str; 6] = ["first_name", "name", "email", "phone", "mobile", "account"];

/// The statements that index contacts `ids` again from what is stored (their fields, their
/// addresses, their account's name).
#[must_use]
pub fn refresh_statements(backend: DbBackend, ids: &[i64]) -> Vec<Statement> {
    if ids.is_empty() {
        return Vec::new();
    }
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
    let key = if backend == DbBackend::Postgres { "contact_id" } else { "rowid" };
    vec![
        Statement::from_string(backend, format!("DELETE FROM contact_fragments WHERE {key} IN ({list})")),
        Statement::from_string(backend, migration::fragments_insert(backend, &format!("c.id IN ({list})"))),
    ]
}

/// Indexes contacts `ids` again (see [`refresh_statements`]).
///
/// # Errors
/// Database errors.
pub async fn refresh<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> Result<(), sea_orm::DbErr> {
    // An import's chunk (10,000 contacts) in one pass: in pieces of 500 the same import took
    // half as long again.
    for chunk in ids.chunks(10_000) {
        for statement in refresh_statements(conn.get_database_backend(), chunk) {
            // Unprepared: the ids are in the text, so the driver's cache of prepared statements
            // would keep each one (an import's thousands, megabytes each) and never use it again.
            conn.execute_unprepared(&statement.sql).await?;
        }
    }
    Ok(())
}

/// The contacts (at most `limit`) that have every one of `words` (each at least
/// [`MIN_FRAGMENT`] characters, lowercase) somewhere in one of `fields`.
///
/// # Errors
/// Database errors.
pub async fn matching<C: ConnectionTrait>(
    conn: &C,
    words: &[&str],
    fields: &[&str],
    limit: u64,
) -> Result<Vec<i64>, sea_orm::DbErr> {
    let backend = conn.get_database_backend();
    let (sql, values) = matching_sql(backend, words, fields, limit);
    let statement = Statement::from_sql_and_values(backend, sql, values);
    conn.query_all(statement).await?.iter().map(|row| row.try_get_by_index::<i64>(0)).collect()
}

/// [`matching`] as a query of one column and its values, for a statement that reads the
/// matches itself (SQLite's placeholder is a plain `?`, numbered by its place in the text).
#[must_use]
pub fn matching_sql(backend: DbBackend, words: &[&str], fields: &[&str], limit: u64) -> (String, Vec<sea_orm::Value>) {
    // A profile that shows every field searches all of the text: no per-field check, which
    // doubles the cost of a common word on SQLite (FTS5 filters each match's positions by column).
    let every_field = FIELDS.iter().all(|f| fields.contains(f));
    match backend {
        DbBackend::Postgres => {
            // All the words in one scan of the GIN index over all the text (its trigrams ANDed
            // in the index); the visible fields decide when some are hidden.
            let mut conditions = Vec::new();
            let mut values = Vec::new();
            for word in words {
                values.push(format!("%{}%", like_escaped(word)).into());
                let n = values.len();
                conditions.push(format!("all_text LIKE ${n}"));
                if !every_field {
                    let fields = fields.iter().map(|f| format!("{f} LIKE ${n}")).collect::<Vec<_>>().join(" OR ");
                    conditions.push(format!("({fields})"));
                }
            }
            let sql =
                format!("SELECT contact_id FROM contact_fragments WHERE {} LIMIT {limit}", conditions.join(" AND "));
            (sql, values)
        }
        _ => {
            // One MATCH for all the words, each a phrase of its trigrams.
            let filter = if every_field { String::new() } else { format!("{{{}}} : ", fields.join(" ")) };
            let expression =
                words.iter().map(|w| format!("{filter}\"{}\"", w.replace('"', "\"\""))).collect::<Vec<_>>();
            let sql = format!("SELECT rowid FROM contact_fragments WHERE contact_fragments MATCH ? LIMIT {limit}");
            (sql, vec![expression.join(" AND ").into()])
        }
    }
}

/// Pages of the SQLite index one housekeeping round merges: about 4 MB written, 0.15 s at a
/// million contacts (whose index is about 69,000 pages).
const MERGE_PAGES: u32 = 1_000;

/// On SQLite, merges the fragment index a bounded step towards a single segment (each round
/// goes on where the last stopped; once it is one segment with nothing deleted, a round does
/// nothing). FTS5 writes a segment per transaction and merges segments only four of a size
/// at a time, so an index grown a contact at a time, or by the seed's batches, is a dozen
/// segments, and a word is looked up in each: one customer's address took 1.3 ms of CPU at
/// 100,000 contacts in 6 segments and 0.25 ms in one (1.5 and 0.6 ms at a million).
/// PostgreSQL's GIN index needs nothing of the kind.
///
/// # Errors
/// Database errors.
pub async fn merge_step(db: &Db) -> Result<(), sea_orm::DbErr> {
    // A negative count merges segments of every size, as 'optimize' does, that many pages at a time.
    merge(db, &format!("INSERT INTO contact_fragments (contact_fragments, rank) VALUES ('merge', -{MERGE_PAGES})"))
        .await
}

/// On SQLite, merges the whole fragment index into one segment at once: after a bulk load.
///
/// # Errors
/// Database errors.
pub async fn optimize(db: &Db) -> Result<(), sea_orm::DbErr> {
    merge(db, "INSERT INTO contact_fragments (contact_fragments) VALUES ('optimize')").await
}

async fn merge(db: &Db, sql: &str) -> Result<(), sea_orm::DbErr> {
    if db.backend() != DbBackend::Sqlite {
        return Ok(());
    }
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    txn.execute_unprepared(sql).await?;
    txn.commit().await
}

/// `word` with LIKE's wildcards and its escape character taken literally.
fn like_escaped(word: &str) -> String {
    word.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}
