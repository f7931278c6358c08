//! Adding and editing an account: validation, its owner, its event, and its name carried to its
//! contacts' sort keys and search words.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};

use crate::db::Db;
use crate::domain::search::words;
use crate::domain::{AccountForm, AccountInput, Action, FieldRules, Module, PhoneParser};
use crate::entities::{account, agent, contact, contact_search_term};
use crate::services::events::{self, Event, Field};
use crate::services::{Actor, ServiceError, ServiceResult};

use super::{select_rows_by_id, AccountRow};

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
