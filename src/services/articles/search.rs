//! Full-text search over published articles, ranked, behind one function for both databases:
//! SQLite's FTS5 (`bm25`, the title weighing ten times the body) and PostgreSQL's text search
//! (`ts_rank` over a tsvector whose title words weigh A and body words B).
//!
//! What people type is never handed to either query language: it is cut into words of letters
//! and digits, and FTS5 gets each word quoted (a phrase of one word), PostgreSQL the words for
//! `plainto_tsquery`. So quotes, `*`, `AND`/`OR`/`NOT`, `column:` filters and SQL all become
//! plain words (or nothing), never a syntax error; every word must match.

use sea_orm::{DbBackend, FromQueryResult, Statement, Value};

use crate::db::Db;
use crate::domain::markdown;
use crate::services::ServiceResult;

/// At most this many words of a query are used.
const MAX_WORDS: usize = 12;
/// Longer "words" are cut to this many characters.
const MAX_WORD_CHARS: usize = 64;

/// A search result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchHit {
    pub slug: String,
    pub title: String,
    /// Plain text around the matched words in the body (Markdown removed): show it escaped.
    pub snippet: String,
}

#[derive(FromQueryResult)]
struct HitRow {
    slug: String,
    title: String,
    snippet: Option<String>,
}

/// The words of a query: runs of letters and digits, at most [`MAX_WORDS`] of them.
fn query_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().take(MAX_WORD_CHARS).collect::<String>().to_lowercase())
        .take(MAX_WORDS)
        .collect()
}

/// The FTS5 MATCH expression for `words`: each word a quoted string, all of them required.
/// The words hold no `"` already; doubling any is how FTS5 escapes one, should that change.
fn fts5_query(words: &[String]) -> String {
    words.iter().map(|w| format!("\"{}\"", w.replace('"', "\"\""))).collect::<Vec<_>>().join(" ")
}

const SQLITE_SEARCH: &str = "SELECT a.slug AS slug, a.title AS title, \
     snippet(articles_fts, 1, '', '', '…', 24) AS snippet \
     FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid \
     WHERE articles_fts MATCH ? AND a.status = 'published' {visibility} \
     ORDER BY bm25(articles_fts, 10.0, 1.0), a.id DESC LIMIT ?";

const POSTGRES_SEARCH: &str = "SELECT a.slug AS slug, a.title AS title, \
     ts_headline('english', a.body, q, 'StartSel=\"\", StopSel=\"\", MaxWords=35, MinWords=15') AS snippet \
     FROM articles a, plainto_tsquery('english', $1) q \
     WHERE a.search @@ q AND a.status = 'published' {visibility} \
     ORDER BY ts_rank(a.search, q) DESC, a.id DESC LIMIT $2";

/// Published articles this viewer may read that contain every word of `query` in their title
/// or body, best match first, at most `limit`. A query with no words (blank, or only
/// punctuation) finds nothing.
///
/// # Errors
/// Database errors.
pub async fn search(db: &Db, query: &str, registered: bool, limit: u64) -> ServiceResult<Vec<SearchHit>> {
    let words = query_words(query);
    if words.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    // A fixed fragment, not user input: the visibility values are constants.
    let visibility = if registered { "" } else { "AND a.visibility = 'everyone'" };
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let backend = db.backend();
    let (sql, text) = match backend {
        DbBackend::Postgres => (POSTGRES_SEARCH, words.join(" ")),
        _ => (SQLITE_SEARCH, fts5_query(&words)),
    };
    let statement = Statement::from_sql_and_values(
        backend,
        sql.replace("{visibility}", visibility),
        [Value::from(text), Value::from(limit)],
    );
    let rows = HitRow::find_by_statement(statement).all(&db.conn).await?;
    Ok(rows
        .into_iter()
        .map(|r| SearchHit {
            slug: r.slug,
            title: r.title,
            snippet: markdown::plain_text(r.snippet.as_deref().unwrap_or_default()),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::{fts5_query, query_words};

    #[test]
    fn queries_become_plain_quoted_words() {
        assert_eq!(fts5_query(&query_words("Reset   password!")), "\"reset\" \"password\"");
        assert_eq!(fts5_query(&query_words("title:x AND \"y*\"")), "\"title\" \"x\" \"and\" \"y\"");
        assert_eq!(fts5_query(&query_words("'; DROP TABLE articles; --")), "\"drop\" \"table\" \"articles\"");
        for nothing in ["", "   ", "\"", "*", "()-+:^", "\u{0}"] {
            assert!(query_words(nothing).is_empty(), "{nothing:?}");
        }
        assert_eq!(query_words("Crème brûlée 東京"), ["crème", "brûlée", "東京"]);
        assert_eq!(query_words(&"w ".repeat(100)).len(), super::MAX_WORDS);
    }
}
