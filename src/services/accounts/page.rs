//! The account's page: the account, its contacts and their tickets, the counts and its
//! History, as the reader's profile lets it see them; the delete confirmation's counts.

use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, Statement, Value,
};

use crate::domain::{Action, Module};
use crate::entities::{contact, ticket};
use crate::services::events::history::{self, HistoryLine};
use crate::services::{Actor, ServiceResult};

use super::{redacted, AccountRow};

/// A contact of an account, for the account page.
#[derive(Debug, sea_orm::FromQueryResult)]
pub struct AccountContact {
    pub id: i64,
    pub first_name: Option<String>,
    pub last_name: String,
    pub email: Option<String>,
}

impl AccountContact {
    #[must_use]
    pub fn name(&self) -> String {
        crate::domain::PersonName { first: self.first_name.as_deref(), last: &self.last_name }.to_string()
    }
}

/// How many contacts and tickets the account page lists.
pub const RELATED_LIMIT: u64 = 100;

/// One of the tickets of an account's contacts, for the account page.
#[derive(Clone, Debug)]
pub struct AccountTicket {
    pub number: i64,
    pub subject: String,
    pub status: String,
}

/// The account page: the account, the first of its contacts and of their tickets, and how
/// many there are of each (which may be more than the lists hold), and its History.
#[derive(Debug)]
pub struct AccountDetail {
    pub account: AccountRow,
    pub contacts: Vec<AccountContact>,
    pub tickets: Vec<AccountTicket>,
    pub counts: AccountCounts,
    pub history: Vec<HistoryLine>,
    /// Whether the reader may see which contacts the account has (the contacts view permission
    /// and their Account Name field); `contacts` is empty otherwise.
    pub shows_contacts: bool,
    /// Whether the reader may see their tickets (the tickets view permission and the contacts'
    /// Account Name field); `tickets` is empty otherwise.
    pub shows_tickets: bool,
}

/// How many live contacts an account has, and how many live tickets they have.
#[derive(Clone, Copy, Debug, Default, sea_orm::FromQueryResult)]
pub struct AccountCounts {
    pub contacts: i64,
    pub tickets: i64,
}

/// The account page's counts, read on `idx_contacts_account` and, per contact, on a
/// `(contact_id, trashed, ...)` index of tickets, without reading a row; the same contacts and
/// tickets as the lists.
const COUNTS: &str = "SELECT \
     (SELECT COUNT(*) FROM contacts WHERE account_id = $1 AND trashed = false) AS contacts, \
     (SELECT COUNT(*) FROM tickets WHERE trashed = false \
       AND contact_id IN (SELECT id FROM contacts WHERE account_id = $1)) AS tickets";

/// The account page's data as `actor`'s profile lets it see it, in five queries: the account,
/// its contacts (sorted by name), their tickets (newest first), the counts and its History.
///
/// # Errors
/// `Forbidden` without the accounts view permission; `NotFound`.
pub async fn detail(conn: &DatabaseConnection, actor: &Actor, id: i64) -> ServiceResult<AccountDetail> {
    actor.may(Module::Accounts, Action::View)?;
    let contact_rules = &actor.fields(Module::Contacts);
    let account = redacted(conn, &actor.fields(Module::Accounts), id).await?;
    let mut contacts: Vec<AccountContact> = contact::Entity::find()
        .select_only()
        .columns([contact::Column::Id, contact::Column::FirstName, contact::Column::LastName, contact::Column::Email])
        .filter(contact::Column::AccountId.eq(id))
        .filter(contact::Column::Trashed.eq(false))
        .order_by_asc(contact::Column::NameSort)
        .limit(RELATED_LIMIT)
        .into_model::<AccountContact>()
        .all(conn)
        .await?;
    for c in &mut contacts {
        if !contact_rules.shows("email") {
            c.email = None;
        }
        if !contact_rules.shows("first_name") {
            c.first_name = None;
        }
    }
    // The contacts' tickets looked up contact by contact on `idx_tickets_contact`; as a join,
    // SQLite walked every live ticket of the desk to find the account's.
    let tickets = ticket::Entity::find()
        .filter(ticket::Column::ContactId.in_subquery(of_account(id)))
        .filter(ticket::Column::Trashed.eq(false))
        .order_by_desc(ticket::Column::CreatedAt)
        .limit(RELATED_LIMIT)
        .all(conn)
        .await?;
    let statement = Statement::from_sql_and_values(conn.get_database_backend(), COUNTS, [Value::from(id)]);
    let counts = AccountCounts::find_by_statement(statement).one(conn).await?.unwrap_or_default();
    // Which contacts belong to the account is their Account Name field.
    let linked = contact_rules.shows("account");
    let shows_contacts = linked && actor.can(Module::Contacts, Action::View);
    let shows_tickets = linked && actor.can(Module::Tickets, Action::View);
    if !shows_contacts {
        contacts.clear();
    }
    let tickets = if shows_tickets {
        tickets.into_iter().map(|t| AccountTicket { number: t.number, subject: t.subject, status: t.status }).collect()
    } else {
        Vec::new()
    };
    let history = history::of_account(conn, &actor.fields(Module::Accounts), id).await?;
    Ok(AccountDetail { account, contacts, tickets, counts, shows_contacts, shows_tickets, history })
}

/// One account as `actor`'s profile lets it see it, and how many contacts it has (they are
/// kept, unlinked): the delete confirmation, in two queries.
///
/// # Errors
/// `Forbidden` without the accounts delete permission; `NotFound`.
pub async fn with_counts(
    conn: &DatabaseConnection,
    actor: &Actor,
    id: i64,
) -> ServiceResult<(AccountRow, AccountCounts)> {
    actor.may(Module::Accounts, Action::Delete)?;
    let account = redacted(conn, &actor.fields(Module::Accounts), id).await?;
    let statement = Statement::from_sql_and_values(conn.get_database_backend(), COUNTS, [Value::from(id)]);
    let counts = AccountCounts::find_by_statement(statement).one(conn).await?.unwrap_or_default();
    Ok((account, counts))
}

/// The ids of the account's contacts (live or not, as their tickets follow them to the bin).
fn of_account(id: i64) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(contact::Column::Id)
        .from(contact::Entity)
        .and_where(contact::Column::AccountId.eq(id))
        .to_owned()
}
