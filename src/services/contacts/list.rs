//! Contacts Home: views, sorts, search and keyset pagination. Every sort is backed by an index
//! that starts with the view's equality columns and ends with `id`, and the next/previous page is
//! found from the last/first row's sort key, so page 4,000 costs what page 1 costs: one query.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Alias, Asterisk, BinOper, Expr, Func, JoinType, Query, SelectStatement, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, FromQueryResult, Order,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Statement,
};

use super::fragments;
use super::{redact, with_row_columns, ContactRow, HELP_CENTER_USER_STATUSES};
use crate::db::inline_limit;
use crate::domain::search::{prefix_end, query_terms};
use crate::domain::{Action, FieldRules, Module};
use crate::entities::{contact, contact_search_term};
use crate::services::{Actor, ServiceResult};

/// Rows per page.
pub const PAGE_SIZE: u64 = 25;

/// The list views of Contacts Home.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum View {
    #[default]
    All,
    Mine,
    HelpCenter,
    Recent,
}

impl View {
    pub const ALL: [Self; 4] = [Self::All, Self::Mine, Self::HelpCenter, Self::Recent];

    /// Parses the `view` query parameter; anything unknown is All Contacts.
    #[must_use]
    pub fn from_key(key: &str) -> Self {
        Self::ALL.into_iter().find(|v| v.key() == key).unwrap_or_default()
    }

    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Mine => "mine",
            Self::HelpCenter => "help_center",
            Self::Recent => "recent",
        }
    }

    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::All => "All Contacts",
            Self::Mine => "My Contacts",
            Self::HelpCenter => "Help Center Users",
            Self::Recent => "Recently Created Contacts",
        }
    }
}

/// The columns the list sorts by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sort {
    Name,
    Email,
    Account,
    Owner,
    Created,
}

impl Sort {
    pub const ALL: [Self; 5] = [Self::Name, Self::Email, Self::Account, Self::Owner, Self::Created];

    #[must_use]
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key() == key)
    }

    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Email => "email",
            Self::Account => "account",
            Self::Owner => "owner",
            Self::Created => "created",
        }
    }

    /// The contact field whose visibility the sort needs (sorting by a hidden field would leak
    /// its order).
    #[must_use]
    pub fn field(self) -> Option<&'static str> {
        match self {
            Self::Email => Some("email"),
            Self::Account => Some("account"),
            Self::Owner => Some("owner"),
            Self::Name | Self::Created => None,
        }
    }

    fn column(self) -> contact::Column {
        match self {
            Self::Name => contact::Column::NameSort,
            Self::Email => contact::Column::EmailSort,
            Self::Account => contact::Column::AccountSort,
            Self::Owner => contact::Column::OwnerSort,
            Self::Created => contact::Column::CreatedAt,
        }
    }
}

/// What the list is asked for.
#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    pub view: View,
    pub sort: Option<Sort>,
    pub descending: Option<bool>,
    pub search: String,
    /// A page after this cursor (from "Next").
    pub after: Option<String>,
    /// A page before this cursor (from "Previous").
    pub before: Option<String>,
    /// The most contacts one search word may match and still drive the search (0: the default,
    /// [`SEARCH_CAP`]).
    pub search_cap: usize,
}

/// The most contacts a search word may match and still drive the search. A search costs at
/// most this many index entries per word, whatever the size of the database.
pub const SEARCH_CAP: usize = 5_000;

/// One page of contacts.
#[derive(Debug)]
pub struct ContactList {
    pub rows: Vec<ContactRow>,
    pub sort: Sort,
    pub descending: bool,
    pub next: Option<String>,
    pub previous: Option<String>,
    /// Every word of the search matches more than [`ListQuery::search_cap`] contacts: nothing is
    /// listed, and the page asks for a narrower search.
    pub too_broad: bool,
}

/// A cursor names only the row it starts after or before; its sort key is looked up on the
/// server, so that a cursor never carries a field the agent may not see (a hidden first name
/// is part of the name sort key).
fn encode_cursor(id: i64) -> String {
    id.to_string()
}

fn decode_cursor(cursor: &str) -> Option<i64> {
    cursor.parse().ok().filter(|id| *id > 0)
}

/// Whether the cursor's row exists (deleted or not: its place in the order is what counts).
async fn cursor_exists(conn: &DatabaseConnection, id: i64) -> Result<bool, sea_orm::DbErr> {
    Ok(contact::Entity::find_by_id(id)
        .select_only()
        .column(contact::Column::Id)
        .into_tuple::<i64>()
        .one(conn)
        .await?
        .is_some())
}

/// Rows after (`forward`) or before the cursor's row in `sort` order: the cursor's sort key is
/// read by a subquery of the page's own query, so a deep page costs one query like page 1.
fn beyond(sort: Sort, cursor: i64, forward: bool) -> SimpleExpr {
    let row = Expr::tuple([
        Expr::col((contact::Entity, sort.column())).into(),
        Expr::col((contact::Entity, contact::Column::Id)).into(),
    ]);
    let at = Query::select()
        .columns([sort.column(), contact::Column::Id])
        .from(contact::Entity)
        .and_where(Expr::col(contact::Column::Id).eq(cursor))
        .to_owned();
    row.binary(
        if forward { BinOper::GreaterThan } else { BinOper::SmallerThan },
        SimpleExpr::SubQuery(None, Box::new(at.into_sub_query_statement())),
    )
}

/// One page of the list for `actor` (the owner of My Contacts), searched and sorted only by the
/// fields its profile shows, those it hides cleared.
///
/// # Errors
/// `Forbidden` without the contacts view permission; database errors. A bad cursor is treated
/// as no cursor.
pub async fn list(
    conn: &DatabaseConnection,
    actor: &Actor,
    query: &ListQuery,
    now: DateTime<Utc>,
) -> ServiceResult<ContactList> {
    actor.may(Module::Contacts, Action::View)?;
    one_page(conn, actor.id(), &actor.fields(Module::Contacts), query, now).await
}

async fn one_page(
    conn: &DatabaseConnection,
    agent_id: i64,
    rules: &FieldRules,
    query: &ListQuery,
    now: DateTime<Utc>,
) -> ServiceResult<ContactList> {
    let default_sort = if query.view == View::Recent { Sort::Created } else { Sort::Name };
    let sort = query.sort.filter(|s| s.field().is_none_or(|f| rules.shows(f))).unwrap_or(default_sort);
    let descending = query.descending.unwrap_or(sort == Sort::Created);
    let backwards = query.before.is_some() && query.after.is_none();
    let cursor = query.after.as_deref().or(query.before.as_deref()).and_then(decode_cursor);

    let mut conditions = Condition::all().add(contact::Column::Trashed.eq(false));
    conditions = match query.view {
        View::All => conditions,
        View::Mine => conditions.add(contact::Column::OwnerId.eq(agent_id)),
        View::HelpCenter => conditions.add(contact::Column::HelpCenterStatus.is_in(HELP_CENTER_USER_STATUSES)),
        View::Recent => conditions.add(contact::Column::CreatedAt.gte(now - Duration::days(30))),
    };
    if let Some(id) = cursor {
        // Forward in the list's order, or backward for "Previous".
        conditions = conditions.add(beyond(sort, id, descending == backwards));
    }
    let order = if descending != backwards { Order::Desc } else { Order::Asc };

    let terms = query_terms(&query.search);
    let backend = conn.get_database_backend();
    let page = if terms.is_empty() {
        with_row_columns(contact::Entity::find())
            .filter(conditions)
            .order_by(sort.column(), order.clone())
            .order_by(contact::Column::Id, order)
            .limit(PAGE_SIZE + 1)
            .build(backend)
    } else {
        let cap = if query.search_cap == 0 { SEARCH_CAP } else { query.search_cap };
        let ids = match matching_ids(conn, &terms, rules, cap).await? {
            Matches::TooBroad => return Ok(ContactList::empty(sort, descending, true)),
            Matches::Ids(ids) if ids.is_empty() => return Ok(ContactList::empty(sort, descending, false)),
            Matches::Ids(ids) => ids,
        };
        // The page is chosen among the matches alone, then joined with the account's and the
        // owner's names: 26 rows looked up, not one per match.
        let mut chosen = among(backend, &ids);
        chosen
            .cond_where(conditions)
            .order_by((contact::Entity, sort.column()), order.clone())
            .order_by((contact::Entity, contact::Column::Id), order.clone())
            .limit(PAGE_SIZE + 1);
        let chosen = inline_limit(backend.build(&chosen));
        let rows = with_row_columns(contact::Entity::find())
            .order_by(sort.column(), order.clone())
            .order_by(contact::Column::Id, order)
            .build(backend);
        // The subquery's text goes in place of the table: sea-query would bind its LIMIT, and
        // PostgreSQL then plans the statement afresh each time (see `inline_limit`).
        let table = r#"FROM "contacts""#;
        Statement { sql: rows.sql.replacen(table, &format!(r#"FROM ({}) AS "contacts""#, chosen.sql), 1), ..chosen }
    };
    let mut rows: Vec<ContactRow> = ContactRow::find_by_statement(inline_limit(page)).all(conn).await?;
    if rows.is_empty() {
        if let Some(id) = cursor {
            // A cursor whose row is gone for good (deleted permanently) matches nothing: start over.
            if !cursor_exists(conn, id).await? {
                let fresh = ListQuery { after: None, before: None, ..query.clone() };
                return Box::pin(one_page(conn, agent_id, rules, &fresh, now)).await;
            }
        }
    }

    let more = rows.len() as u64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    if backwards {
        rows.reverse();
    }
    let first = rows.first().map(|r| encode_cursor(r.id));
    let last = rows.last().map(|r| encode_cursor(r.id));
    let (next, previous) = if backwards {
        (last, if more { first } else { None })
    } else {
        (if more { last } else { None }, if cursor.is_some() { first } else { None })
    };
    for row in &mut rows {
        redact(rules, row);
    }
    Ok(ContactList { rows, sort, descending, next, previous, too_broad: false })
}

impl ContactList {
    fn empty(sort: Sort, descending: bool, too_broad: bool) -> Self {
        Self { rows: Vec::new(), sort, descending, next: None, previous: None, too_broad }
    }
}

/// The contacts `ids` (the matches of a search) as a query to filter and sort: driven by the ids,
/// each contact looked up by its key. Left to itself, SQLite's planner walks the sort's index
/// over every contact instead, checking each against the list (53 ms at 100,000 contacts for
/// 167 matches), since an index in the list's order spares it a sort.
fn among(backend: DbBackend, ids: &[i64]) -> SelectStatement {
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

/// The contacts a search matches.
enum Matches {
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
async fn count_entries(
    conn: &DatabaseConnection,
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
/// name and its email alike), and how many entries were read for them (at most `limit`).
async fn contacts_with(
    conn: &DatabaseConnection,
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

/// How many index entries a contact may have for one word (first name, last name, email and
/// its local part, account): the entry budget per word is this times the contact cap.
const ENTRIES_PER_CONTACT: u64 = 4;

/// The contacts having, for every term, a word that starts with it. The narrowest term drives:
/// its matches (at most `cap`) are checked against the other terms, so a search reads a bounded
/// number of index entries however common its words are. When every term matches more than
/// `cap` contacts the search is too broad to list in order at that cost.
async fn matching_ids(
    conn: &DatabaseConnection,
    terms: &[String],
    rules: &FieldRules,
    cap: usize,
) -> ServiceResult<Matches> {
    let fields = searchable_fields(rules);
    // Words of three characters or more are found anywhere in a field, through the trigram
    // index, all of them in one query; shorter ones only as the start of a word.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_is_a_row_id_and_nothing_else() {
        assert_eq!(decode_cursor(&encode_cursor(42)), Some(42));
        for bad in ["not a cursor!", "-3", "0", ""] {
            assert_eq!(decode_cursor(bad), None, "{bad:?}");
        }
    }
}
