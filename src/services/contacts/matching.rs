//! The search of Contacts Home: which contacts every word of a search matches, read from the
//! search-word and trigram indexes at a bounded cost whatever the size of the database, and
//! those matches as a query the list then filters, sorts and pages.

use sea_orm::sea_query::{Alias, Asterisk, Expr, Func, JoinType, Query, SelectStatement};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect, QueryTrait};

use super::fragments;
use crate::db::inline_limit;
use crate::domain::search::prefix_end;
use crate::domain::FieldRules;
use crate::entities::{contact, contact_search_term};
use crate::services::ServiceResult;

/// The contacts `ids` (the matches of a search) as a query to filter and sort: driven by the ids,
/// each contact looked up by its key. Left to itself, SQLite's planner walks the sort's index
/// over every contact instead, checking each against the list (53 ms at 100,000 contacts for
/// 167 matches), since an index in the list's order spares it a sort.
pub(super) fn among(backend: DbBackend, ids: &[i64]) -> SelectStatement {
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let mut select = Query::select();
    select.column((contact::Entity, Asterisk));
    if backend == DbBackend::Postgres {
        select.from(contact::Entity).and_where(Expr::cust_with_values(
            r#""contacts"."id" = ANY(CAST($1 AS bigint[]))"#,
            [format!("{{{list}}}")],
        ));
    } else {
        // CROSS JOIN keeps the list as the outer loop: SQLite's way of fixing a join order.
        let m = Alias::new("m");
        select.from_function(Func::cust(Alias::new("json_each")).arg(format!("[{list}]")), m.clone()).join(
            JoinType::CrossJoin,
            contact::Entity,
            Expr::col((contact::Entity, contact::Column::Id)).equals((m, Alias::new("value"))),
        );
    }
    select
}

/// The name of the common table expression [`matches_cte`] writes.
const MATCHES: &str = "m";

/// Whether every word of a search is a fragment (three characters or more), found by the
/// trigram index alone: its matches can then be read by the page's own statement
/// ([`matches_cte`], [`among_matches`]) instead of a query of their own.
pub(super) fn all_fragments(terms: &[String]) -> bool {
    terms.iter().all(|w| w.chars().count() >= fragments::MIN_FRAGMENT)
}

/// `WITH m(value) AS MATERIALIZED (…)` on SQLite: the contacts (at most `cap + 1`) having every
/// one of `terms` (all fragments, see [`all_fragments`]) in a field `rules` show, to begin a
/// statement; its values come before the statement's own.
pub(super) fn matches_cte(terms: &[String], rules: &FieldRules, cap: usize) -> (String, Vec<sea_orm::Value>) {
    let words: Vec<&str> = terms.iter().map(String::as_str).collect();
    let fields = searchable_fields(rules);
    let (sql, values) = fragments::matching_sql(DbBackend::Sqlite, &words, &fields, cap as u64 + 1);
    (format!("WITH {MATCHES}(value) AS MATERIALIZED ({sql}) "), values)
}

/// The contacts of [`matches_cte`] as a query to filter and sort, like [`among`].
pub(super) fn among_matches() -> SelectStatement {
    let m = Alias::new(MATCHES);
    let mut select = Query::select();
    select.column((contact::Entity, Asterisk)).from(m.clone()).join(
        JoinType::CrossJoin,
        contact::Entity,
        Expr::col((contact::Entity, contact::Column::Id)).equals((m, Alias::new("value"))),
    );
    select
}

/// How many contacts [`matches_cte`] found, as a column of the page.
pub(super) fn matches_count() -> String {
    format!("(SELECT COUNT(*) FROM {MATCHES})")
}

/// The contacts a search matches.
pub(super) enum Matches {
    Ids(Vec<i64>),
    TooBroad,
}

/// The fields a search looks in: those the agent may see.
fn searchable_fields(rules: &FieldRules) -> Vec<&'static str> {
    ["name", "first_name", "email", "phone", "mobile", "account"]
        .into_iter()
        .filter(|f| *f == "name" || rules.shows(f))
        .collect()
}

/// The search-word entries starting with `term` in a visible field, among `within` when given.
fn entries(
    term: &str,
    fields: &[&'static str],
    within: Option<&[i64]>,
) -> sea_orm::Select<contact_search_term::Entity> {
    let mut q = contact_search_term::Entity::find()
        .select_only()
        .column(contact_search_term::Column::ContactId)
        .filter(contact_search_term::Column::Term.gte(term))
        .filter(contact_search_term::Column::Term.lt(prefix_end(term)))
        .filter(contact_search_term::Column::Field.is_in(fields.iter().copied()));
    if let Some(ids) = within {
        q = q.filter(contact_search_term::Column::ContactId.is_in(ids.iter().copied()));
    }
    q
}

/// How many entries start with `term`, counting no further than `limit`: the database reads at
/// most `limit` index entries and sends one number.
async fn count_entries<C: ConnectionTrait>(
    conn: &C,
    term: &str,
    fields: &[&'static str],
    limit: u64,
) -> Result<u64, sea_orm::DbErr> {
    let capped = entries(term, fields, None).limit(limit).into_query();
    let mut count = sea_orm::sea_query::Query::select();
    count.expr(Expr::cust("COUNT(*)")).from_subquery(capped, sea_orm::sea_query::Alias::new("capped"));
    let stmt = conn.get_database_backend().build(&count);
    let row = conn.query_one(stmt).await?;
    Ok(row.and_then(|r| r.try_get_by_index::<i64>(0).ok()).unwrap_or_default().max(0) as u64)
}

/// The contacts having a word that starts with `term`, deduplicated (a contact is found by its
/// first name, its last name and its account's name alike), and how many entries were read for
/// them (at most `limit`).
async fn contacts_with<C: ConnectionTrait>(
    conn: &C,
    term: &str,
    fields: &[&'static str],
    within: Option<&[i64]>,
    limit: u64,
) -> Result<(Vec<i64>, u64), sea_orm::DbErr> {
    // The limit written into the text: PostgreSQL then keeps one plan for the statement
    // instead of planning each search afresh.
    let stmt = inline_limit(entries(term, fields, within).limit(limit).build(conn.get_database_backend()));
    let mut ids =
        conn.query_all(stmt).await?.iter().map(|r| r.try_get_by_index::<i64>(0)).collect::<Result<Vec<_>, _>>()?;
    let entries = ids.len() as u64;
    ids.sort_unstable();
    ids.dedup();
    Ok((ids, entries))
}

/// How many index entries a contact may have for one word (a word of its first name, of its
/// last name and of its account's name, with room for a name that repeats a word): the entry
/// budget per word is this times the contact cap.
const ENTRIES_PER_CONTACT: u64 = 4;

/// The contacts having, for every term, a word that starts with it. The narrowest term drives:
/// its matches (at most `cap`) are checked against the other terms, so a search reads a bounded
/// number of index entries however common its words are. When every term matches more than
/// `cap` contacts the search is too broad to list in order at that cost.
pub(super) async fn matching_ids<C: ConnectionTrait>(
    conn: &C,
    terms: &[String],
    rules: &FieldRules,
    cap: usize,
) -> ServiceResult<Matches> {
    let fields = searchable_fields(rules);
    // Words of three characters or more are found anywhere in a field, through the trigram
    // index, all of them in one query; shorter ones only as the start of a word of a name or
    // of an account's name.
    let (fragments, prefixes): (Vec<&str>, Vec<&str>) =
        terms.iter().map(String::as_str).partition(|w| w.chars().count() >= fragments::MIN_FRAGMENT);
    if !fragments.is_empty() {
        let mut ids = fragments::matching(conn, &fragments, &fields, cap as u64 + 1).await?;
        if ids.len() > cap {
            return Ok(Matches::TooBroad);
        }
        ids.sort_unstable();
        for word in prefixes {
            let mut kept = Vec::with_capacity(ids.len());
            for chunk in ids.chunks(500) {
                let limit = chunk.len() as u64 * ENTRIES_PER_CONTACT * 4;
                kept.extend(contacts_with(conn, word, &fields, Some(chunk), limit).await?.0);
            }
            ids = kept;
        }
        return Ok(Matches::Ids(ids));
    }
    let budget = cap as u64 * ENTRIES_PER_CONTACT;
    let mut words: Vec<&str> = terms.iter().map(String::as_str).collect();
    // Several words: count each (up to the budget) to find the narrowest. One word needs no
    // counting: reading its entries says whether it is too broad.
    if words.len() > 1 {
        let mut counted = Vec::with_capacity(words.len());
        for word in words {
            counted.push((count_entries(conn, word, &fields, budget).await?, word));
        }
        counted.sort_unstable();
        if counted.first().is_some_and(|&(count, _)| count >= budget) {
            return Ok(Matches::TooBroad);
        }
        words = counted.into_iter().map(|(_, word)| word).collect();
    }
    let Some((narrowest, others)) = words.split_first() else { return Ok(Matches::Ids(Vec::new())) };
    let (mut ids, read) = contacts_with(conn, narrowest, &fields, None, budget).await?;
    if read >= budget || ids.len() > cap {
        return Ok(Matches::TooBroad);
    }
    for word in others {
        let mut kept = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let limit = chunk.len() as u64 * ENTRIES_PER_CONTACT * 4;
            kept.extend(contacts_with(conn, word, &fields, Some(chunk), limit).await?.0);
        }
        ids = kept;
    }
    Ok(Matches::Ids(ids))
}
