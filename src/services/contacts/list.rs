//! Contacts Home: views, sorts, search and keyset pagination. Every sort is backed by an index
//! that starts with the view's equality columns and ends with `id`, and the next/previous page is
//! found from the last/first row's sort key, so page 4,000 costs what page 1 costs: one query.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{BinOper, Expr, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, FromQueryResult, Order,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Statement,
};

use super::matching::{all_fragments, among, among_matches, matches_count, matches_cte, matching_ids, Matches};
use super::{redact, with_row_columns, ContactRow, HELP_CENTER_USER_STATUSES};
use crate::db::inline_limit;
use crate::domain::search::query_terms;
use crate::domain::{Action, FieldRules, Module};
use crate::entities::contact;
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
async fn cursor_exists<C: ConnectionTrait>(conn: &C, id: i64) -> Result<bool, sea_orm::DbErr> {
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
    one_page(conn, actor.id(), &actor.fields(Module::Contacts), query, now, PAGE_SIZE).await
}

/// The sort and direction the list uses for `query`: the one asked for when `rules` show its
/// field, else the view's own.
pub(super) fn effective_sort(query: &ListQuery, rules: &FieldRules) -> (Sort, bool) {
    let default_sort = if query.view == View::Recent { Sort::Created } else { Sort::Name };
    let sort = query.sort.filter(|s| s.field().is_none_or(|f| rules.shows(f))).unwrap_or(default_sort);
    (sort, query.descending.unwrap_or(sort == Sort::Created))
}

/// Up to `size` rows of the list from `query.after` on, as [`list`] gives them (the checks and
/// field rules are the caller's): how an export walks the whole list, a large page at a time.
pub(super) async fn one_page<C: ConnectionTrait>(
    conn: &C,
    agent_id: i64,
    rules: &FieldRules,
    query: &ListQuery,
    now: DateTime<Utc>,
    size: u64,
) -> ServiceResult<ContactList> {
    let (sort, descending) = effective_sort(query, rules);
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
    let cap = if query.search_cap == 0 { SEARCH_CAP } else { query.search_cap };
    // On SQLite a search of fragments alone is one statement, its matches and then the page
    // among them: a query less is a round trip less to a connection's thread (a sixth more
    // searches a second). PostgreSQL then plans the statement afresh each time and is slower
    // with it than with two.
    let inline = backend == DbBackend::Sqlite && !terms.is_empty() && all_fragments(&terms);
    let page = if terms.is_empty() {
        with_row_columns(contact::Entity::find())
            .filter(conditions)
            .order_by(sort.column(), order.clone())
            .order_by(contact::Column::Id, order)
            .limit(size + 1)
            .build(backend)
    } else {
        let mut chosen = if inline {
            among_matches()
        } else {
            match matching_ids(conn, &terms, rules, cap).await? {
                Matches::TooBroad => return Ok(ContactList::empty(sort, descending, true)),
                Matches::Ids(ids) if ids.is_empty() => return Ok(ContactList::empty(sort, descending, false)),
                Matches::Ids(ids) => among(backend, &ids),
            }
        };
        // The page is chosen among the matches alone, then joined with the account's and the
        // owner's names: 26 rows looked up, not one per match.
        chosen
            .cond_where(conditions)
            .order_by((contact::Entity, sort.column()), order.clone())
            .order_by((contact::Entity, contact::Column::Id), order.clone())
            .limit(size + 1);
        let chosen = inline_limit(backend.build(&chosen));
        let mut outer = with_row_columns(contact::Entity::find());
        if inline {
            outer = outer.column_as(Expr::cust(matches_count()), "matched");
        }
        let rows = outer.order_by(sort.column(), order.clone()).order_by(contact::Column::Id, order).build(backend);
        // The subquery's text goes in place of the table: sea-query would bind its LIMIT, and
        // PostgreSQL then plans the statement afresh each time (see `inline_limit`).
        let table = r#"FROM "contacts""#;
        let mut sql = rows.sql.replacen(table, &format!(r#"FROM ({}) AS "contacts""#, chosen.sql), 1);
        let mut values = chosen.values.map(|v| v.0).unwrap_or_default();
        if inline {
            // SQLite numbers its plain `?` by their place in the text: the CTE's come first.
            let (cte, cte_values) = matches_cte(&terms, rules, cap);
            sql = format!("{cte}{sql}");
            values.splice(0..0, cte_values);
        }
        Statement::from_sql_and_values(backend, sql, values)
    };
    let found = conn.query_all(inline_limit(page)).await?;
    let matched = found.first().and_then(|r| r.try_get::<i64>("", "matched").ok());
    if matched.is_some_and(|n| usize::try_from(n).unwrap_or(usize::MAX) > cap) {
        return Ok(ContactList::empty(sort, descending, true));
    }
    let mut rows = found.iter().map(|r| ContactRow::from_query_result(r, "")).collect::<Result<Vec<_>, _>>()?;
    if rows.is_empty() {
        if inline {
            // An empty page of a search read in one statement: too broad (more matches than
            // the cap, none of them in the view) or no match at all.
            if matches!(matching_ids(conn, &terms, rules, cap).await?, Matches::TooBroad) {
                return Ok(ContactList::empty(sort, descending, true));
            }
        }
        if let Some(id) = cursor {
            // A cursor whose row is gone for good (deleted permanently) matches nothing: start over.
            if !cursor_exists(conn, id).await? {
                let fresh = ListQuery { after: None, before: None, ..query.clone() };
                return Box::pin(one_page(conn, agent_id, rules, &fresh, now, size)).await;
            }
        }
    }

    let more = rows.len() as u64 > size;
    rows.truncate(size as usize);
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
