//! Accounts: list, add, detail (with its contacts and their tickets), edit, each as the acting
//! agent's profile allows (the module's permissions and the account fields' rules, the contact
//! fields' rules for the account's contacts). Deleting lives in the Recycle Bin service.

use chrono::Utc;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult,
    JoinType, QueryFilter, QueryOrder, QuerySelect, Statement, Value,
};

use super::{Actor, ServiceError, ServiceResult};
use crate::db::Db;
use crate::domain::search::words;
use crate::domain::{AccountForm, AccountInput, Action, FieldRules, Module, PhoneParser};
use crate::entities::{account, agent, contact, contact_search_term, ticket};
use crate::services::events::history::{self, HistoryLine};
use crate::services::events::{self, Event, Field};

/// Accounts per page.
pub const PAGE_SIZE: u64 = 50;

/// An account with its owner's name.
#[derive(Clone, Debug, sea_orm::FromQueryResult)]
pub struct AccountRow {
    pub id: i64,
    pub name: String,
    pub name_sort: String,
    pub website: Option<String>,
    pub phone: Option<String>,
    pub owner_id: Option<i64>,
    pub owner_name: Option<String>,
    pub description: Option<String>,
    pub created_at: chrono::DateTime<Utc>,
}

/// Clears what `rules` hide.
fn redact(rules: &FieldRules, row: &mut AccountRow) {
    if !rules.shows("website") {
        row.website = None;
    }
    if !rules.shows("phone") {
        row.phone = None;
    }
    if !rules.shows("owner") {
        row.owner_id = None;
        row.owner_name = None;
    }
    if !rules.shows("description") {
        row.description = None;
    }
}

/// `select` with the columns of [`AccountRow`] and the owner's name joined in.
fn rows_of(select: sea_orm::Select<account::Entity>) -> sea_orm::Selector<sea_orm::SelectModel<AccountRow>> {
    select
        .select_only()
        .columns([
            account::Column::Id,
            account::Column::Name,
            account::Column::NameSort,
            account::Column::Website,
            account::Column::Phone,
            account::Column::OwnerId,
            account::Column::Description,
            account::Column::CreatedAt,
        ])
        .column_as(agent::Column::Name, "owner_name")
        .join(
            JoinType::LeftJoin,
            sea_orm::RelationDef::from(
                account::Entity::belongs_to(agent::Entity).from(account::Column::OwnerId).to(agent::Column::Id),
            ),
        )
        .filter(account::Column::Trashed.eq(false))
        .into_model::<AccountRow>()
}

/// One page of accounts by name, after the name/id cursor `after`, optionally filtered to
/// names starting with `prefix`, as `actor`'s profile lets it see them.
///
/// # Errors
/// `Forbidden` without the accounts view permission; database errors.
pub async fn list(
    conn: &DatabaseConnection,
    actor: &Actor,
    prefix: &str,
    after: Option<(String, i64)>,
) -> ServiceResult<(Vec<AccountRow>, Option<(String, i64)>)> {
    actor.may(Module::Accounts, Action::View)?;
    let rules = &actor.fields(Module::Accounts);
    let mut select = account::Entity::find().filter(account::Column::Trashed.eq(false));
    let prefix = prefix.trim().to_lowercase();
    if !prefix.is_empty() {
        select = select
            .filter(account::Column::NameSort.gte(prefix.as_str()))
            .filter(account::Column::NameSort.lt(crate::domain::search::prefix_end(&prefix)));
    }
    if let Some((name, id)) = after {
        select = select.filter(
            Expr::tuple([
                Expr::col((account::Entity, account::Column::NameSort)).into(),
                Expr::col((account::Entity, account::Column::Id)).into(),
            ])
            .gt(Expr::tuple([Expr::val(name).into(), Expr::val(id).into()])),
        );
    }
    let mut rows: Vec<AccountRow> =
        rows_of(select.order_by_asc(account::Column::NameSort).order_by_asc(account::Column::Id).limit(PAGE_SIZE + 1))
            .all(conn)
            .await?;
    let next = crate::db::next_page(&mut rows, PAGE_SIZE, |r| (r.name_sort.clone(), r.id));
    for row in &mut rows {
        redact(rules, row);
    }
    Ok((rows, next))
}

/// The form of account `id` as `actor`'s profile lets it see it, for the Edit Account page.
///
/// # Errors
/// `Forbidden` without the accounts edit permission; `NotFound`.
pub async fn edit_form(conn: &DatabaseConnection, actor: &Actor, id: i64) -> ServiceResult<AccountForm> {
    actor.may(Module::Accounts, Action::Edit)?;
    Ok(form_of(&redacted(conn, &actor.fields(Module::Accounts), id).await?))
}

async fn redacted(conn: &DatabaseConnection, rules: &FieldRules, id: i64) -> ServiceResult<AccountRow> {
    let mut row = select_rows_by_id(conn, id).await?.ok_or(ServiceError::NotFound)?;
    redact(rules, &mut row);
    Ok(row)
}

async fn select_rows_by_id(conn: &DatabaseConnection, id: i64) -> Result<Option<AccountRow>, sea_orm::DbErr> {
    rows_of(account::Entity::find_by_id(id)).one(conn).await
}

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

/// The form as the account stands now.
#[must_use]
pub fn form_of(row: &AccountRow) -> AccountForm {
    AccountForm {
        name: Some(row.name.clone()),
        website: row.website.clone(),
        phone: row.phone.clone(),
        owner: row.owner_id.map(|id| id.to_string()),
        description: row.description.clone(),
    }
}

fn validate(
    rules: &FieldRules,
    form: AccountForm,
    current: Option<&AccountForm>,
    phones: &PhoneParser,
) -> ServiceResult<AccountInput> {
    rules.screen_and_parse(form, current, |f| f.parse(phones)).map_err(ServiceError::Invalid)
}

async fn active_owner<C: ConnectionTrait>(conn: &C, id: i64) -> ServiceResult<agent::Model> {
    agent::Entity::find_by_id(id)
        .filter(agent::Column::Active.eq(true))
        .one(conn)
        .await?
        .ok_or_else(|| ServiceError::field("owner", "Choose an active agent."))
}

/// Adds an account owned by `actor` unless the form names another owner. A field its profile
/// hides is ignored; a read-only one must be posted empty or not at all.
///
/// # Errors
/// `Forbidden` without the accounts create permission; `Invalid` with messages per field.
pub async fn create(db: &Db, actor: &Actor, form: AccountForm, phones: &PhoneParser) -> ServiceResult<i64> {
    actor.may(Module::Accounts, Action::Create)?;
    let rules = &actor.fields(Module::Accounts);
    let actor_id = actor.id();
    let input = validate(rules, form, None, phones)?;
    let owner = active_owner(&db.conn, input.owner_id.flatten().unwrap_or(actor_id)).await?;
    let now = Utc::now();
    let row = account::ActiveModel {
        name_sort: Set(input.name.to_lowercase()),
        name: Set(input.name),
        website: Set(input.website.flatten()),
        phone: Set(input.phone.flatten().map(|p| p.as_str().to_owned())),
        owner_id: Set(Some(owner.id)),
        description: Set(input.description.flatten()),
        created_by: Set(Some(actor_id)),
        created_at: Set(now),
        updated_at: Set(now),
        trashed: Set(false),
        recycle_entry_id: Set(None),
        ..Default::default()
    };
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let a = row.insert(&txn).await?;
    let created = Event::account(events::Actor::Agent(actor.id()), a.id, events::Action::Created, now)
        .set(Field::Name, Some(&a.name))
        .set(Field::Website, a.website.as_deref())
        .set(Field::Phone, a.phone.as_deref())
        .set(Field::Owner, Some(&owner.name))
        .set(Field::Description, a.description.as_deref());
    events::record(&txn, &[created]).await?;
    txn.commit().await?;
    Ok(a.id)
}

/// Edits an account on behalf of `actor`. A field its profile hides is ignored; a read-only
/// one must be posted unchanged or not at all. A new name is carried to its contacts' sort keys
/// and search words. The fields that changed are the changes of its event.
///
/// # Errors
/// `Forbidden` without the accounts edit permission; `NotFound`; `Invalid` with messages per
/// field.
pub async fn update(db: &Db, actor: &Actor, id: i64, form: AccountForm, phones: &PhoneParser) -> ServiceResult<()> {
    actor.may(Module::Accounts, Action::Edit)?;
    let rules = &actor.fields(Module::Accounts);
    let current = select_rows_by_id(&db.conn, id).await?.ok_or(ServiceError::NotFound)?;
    let input = validate(rules, form, Some(&form_of(&current)), phones)?;
    let owner = match input.owner_id {
        Some(Some(owner)) => Some(active_owner(&db.conn, owner).await?),
        _ => None,
    };
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let model = account::Entity::find_by_id(id).one(&txn).await?.ok_or(ServiceError::NotFound)?;
    let renamed = model.name != input.name;
    let now = Utc::now();
    let mut event = Event::account(events::Actor::Agent(actor.id()), id, events::Action::Updated, now).changed(
        Field::Name,
        Some(model.name.clone()),
        Some(input.name.clone()),
    );
    let mut row: account::ActiveModel = model.clone().into();
    row.name_sort = Set(input.name.to_lowercase());
    row.name = Set(input.name.clone());
    if let Some(website) = input.website {
        event = event.changed(Field::Website, model.website.clone(), website.clone());
        row.website = Set(website);
    }
    if let Some(phone) = input.phone {
        let phone = phone.map(|p| p.as_str().to_owned());
        event = event.changed(Field::Phone, model.phone.clone(), phone.clone());
        row.phone = Set(phone);
    }
    if let Some(owner) = owner.filter(|o| Some(o.id) != model.owner_id) {
        event = event.changed(Field::Owner, current.owner_name.clone(), Some(owner.name));
        row.owner_id = Set(Some(owner.id));
    }
    if let Some(description) = input.description {
        event = event.changed(Field::Description, model.description.clone(), description.clone());
        row.description = Set(description);
    }
    if event.changes.is_empty() {
        return Ok(());
    }
    row.updated_at = Set(now);
    row.update(&txn).await?;
    events::record(&txn, &[event]).await?;
    if renamed {
        contact::Entity::update_many()
            .col_expr(contact::Column::AccountSort, Expr::value(input.name.to_lowercase()))
            .filter(contact::Column::AccountId.eq(id))
            .exec(&txn)
            .await?;
        let ids: Vec<i64> = contact::Entity::find()
            .select_only()
            .column(contact::Column::Id)
            .filter(contact::Column::AccountId.eq(id))
            .into_tuple()
            .all(&txn)
            .await?;
        drop_account_terms(&txn, &ids).await?;
        add_account_terms(&txn, &ids, id, &input.name).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Removes the account words from the search words of `contacts`.
///
/// # Errors
/// Database errors.
pub async fn drop_account_terms<C: ConnectionTrait>(conn: &C, contacts: &[i64]) -> Result<(), sea_orm::DbErr> {
    for chunk in contacts.chunks(500) {
        contact_search_term::Entity::delete_many()
            .filter(contact_search_term::Column::Field.eq("account"))
            .filter(contact_search_term::Column::ContactId.is_in(chunk.to_vec()))
            .exec(conn)
            .await?;
    }
    crate::services::contacts::fragments::refresh(conn, contacts).await
}

/// Adds the words of `name` to the search words of those of `contacts` linked to `account_id`.
///
/// # Errors
/// Database errors.
pub async fn add_account_terms<C: ConnectionTrait>(
    conn: &C,
    contacts: &[i64],
    account_id: i64,
    name: &str,
) -> Result<(), sea_orm::DbErr> {
    let mut terms: Vec<String> = words(name).collect();
    terms.dedup();
    for chunk in contacts.chunks(200) {
        let linked: Vec<i64> = contact::Entity::find()
            .select_only()
            .column(contact::Column::Id)
            .filter(contact::Column::Id.is_in(chunk.to_vec()))
            .filter(contact::Column::AccountId.eq(account_id))
            .into_tuple()
            .all(conn)
            .await?;
        let rows: Vec<contact_search_term::ActiveModel> = linked
            .iter()
            .flat_map(|id| {
                terms.iter().map(move |t| contact_search_term::ActiveModel {
                    term: Set(t.clone()),
                    field: Set("account".into()),
                    contact_id: Set(*id),
                })
            })
            .collect();
        if !rows.is_empty() {
            contact_search_term::Entity::insert_many(rows)
                .on_conflict(
                    sea_orm::sea_query::OnConflict::columns([
                        contact_search_term::Column::Term,
                        contact_search_term::Column::Field,
                        contact_search_term::Column::ContactId,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .do_nothing()
                .exec(conn)
                .await?;
        }
    }
    crate::services::contacts::fragments::refresh(conn, contacts).await
}
