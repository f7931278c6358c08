//! Writing a chunk's decided rows inside its transaction: accounts the import creates, new
//! contacts a table at a time (with their identities, search words, fragments and events, as
//! Add Contact writes them), and changes to existing contacts one at a time, each with the
//! values it replaced (for Revert) and its event.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait};
use sea_orm::{QueryTrait, Statement};
use serde_json::{Map, Value};

use super::chunk::{AccountRef, Planned};
use super::lookup::{Matched, Owners};
use crate::domain::{ContactInput, PersonName};
use crate::entities::contact_identity::IdentityKind;
use crate::entities::{account, contact, contact_identity, contact_import_change, contact_search_term};
use crate::services::contacts::write::{created_event, Names, NewContactSource};
use crate::services::contacts::{fragments, identities, search_terms};
use crate::services::events::{self, Event, Field};
use crate::services::Actor;

/// How many rows a chunk wrote which way.
#[derive(Clone, Copy, Debug, Default)]
pub struct Written {
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
}

/// One field an import changes on an existing contact: its event field, the key its old and
/// new values are kept under for Revert, and the values.
#[derive(Clone, Debug)]
pub struct FieldChange {
    pub field: Field,
    pub key: &'static str,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// The fields `input` changes on `m` (with `account` the account it names).
#[must_use]
pub fn changes(m: &Matched, input: &ContactInput, account: &AccountRef) -> Vec<FieldChange> {
    let c = &m.model;
    let mut out = Vec::new();
    let mut check = |field, key, old: Option<String>, new: Option<String>| {
        if old != new {
            out.push(FieldChange { field, key, old, new });
        }
    };
    if let Some(first) = &input.first_name {
        check(Field::FirstName, "first_name", c.first_name.clone(), first.clone());
    }
    check(Field::LastName, "last_name", Some(c.last_name.clone()), Some(input.last_name.as_str().to_owned()));
    for (field, key, old, new) in
        [(Field::Phone, "phone", &c.phone, &input.phone), (Field::Mobile, "mobile", &c.mobile, &input.mobile)]
    {
        if let Some(new) = new {
            check(field, key, old.clone(), new.as_ref().map(|p| p.as_str().to_owned()));
        }
    }
    for (field, key, old, new) in [
        (Field::Title, "title", &c.title, &input.title),
        (Field::Description, "description", &c.description, &input.description),
    ] {
        if let Some(new) = new {
            check(field, key, old.clone(), new.clone());
        }
    }
    let account_name = match account {
        AccountRef::None => None,
        AccountRef::Existing { name, .. } | AccountRef::New(name) => Some(name.clone()),
    };
    if account_name.is_some()
        && account_name.as_deref().map(str::to_lowercase) != m.account_name.as_deref().map(str::to_lowercase)
    {
        check(Field::Account, "account", m.account_name.clone(), account_name);
    }
    if let Some(Some(owner)) = input.owner_id {
        check(Field::Owner, "owner", c.owner_id.map(|id| id.to_string()), Some(owner.to_string()));
    }
    let primary = c.email.clone().unwrap_or_default();
    for email in input.secondary_emails.iter().flatten() {
        let email = email.as_str();
        if email != primary && !m.secondary.iter().any(|s| s == email) {
            check(Field::SecondaryEmail, "secondary_email", None, Some(email.to_owned()));
        }
    }
    out
}

/// Writes `planned` for import `import_id` on behalf of `actor`.
///
/// # Errors
/// Database errors.
pub async fn write(
    txn: &DatabaseTransaction,
    actor: &Actor,
    owners: &Owners,
    import_id: i64,
    planned: Vec<Planned>,
    now: DateTime<Utc>,
) -> Result<Written, DbErr> {
    let backend = txn.get_database_backend();
    let new_accounts = create_accounts(txn, actor, &planned, now).await?;
    let resolve = |account: &AccountRef| -> Option<(i64, String, String)> {
        match account {
            AccountRef::None => None,
            AccountRef::Existing { id, name, sort } => Some((*id, name.clone(), sort.clone())),
            AccountRef::New(name) => new_accounts.get(&name.to_lowercase()).cloned(),
        }
    };
    let creates = planned.iter().filter(|p| matches!(p, Planned::Create { .. })).count();
    let mut ids = crate::db::reserve_ids(txn, "contacts", creates).await?.into_iter();
    let mut written = Written::default();
    let (mut contacts, mut idents, mut terms, mut evs, mut created) = (vec![], vec![], vec![], vec![], vec![]);
    for plan in planned {
        match plan {
            Planned::Create { input, account, owner, external, .. } => {
                let Some(id) = ids.next() else { return Err(DbErr::Custom("no contact id reserved".into())) };
                let account = resolve(&account);
                let owner = owners.by_id(owner);
                let c = new_contact(id, &input, account.as_ref(), owner, actor.id(), import_id, external, now);
                let secondary = secondary_of(&input, c.email.as_deref());
                idents.extend(identities::rows_of(&c, &secondary, now));
                terms.extend(search_terms::rows(&c, account.as_ref().map(|a| a.1.as_str())));
                let names =
                    Names { account: account.as_ref().map(|a| a.1.as_str()), owner: owner.map(|o| o.name.as_str()) };
                evs.push(created_event(events::Actor::Agent(actor.id()), &c, &secondary, names, now));
                created.push(c.id);
                contacts.push(contact::ActiveModel::from(c));
                written.created += 1;
            }
            Planned::Update { matched, input, account, external, .. } => {
                let resolved = resolve(&account);
                let list = changes(&matched, &input, &account);
                let external_changed = external.is_some() && external != matched.model.external_id;
                if list.is_empty() && !external_changed {
                    written.unchanged += 1;
                    continue;
                }
                update(txn, actor, owners, import_id, &matched, &list, resolved, external, now).await?;
                written.updated += 1;
            }
        }
    }
    let mut statements: Vec<Statement> = Vec::new();
    for slice in contacts.chunks(500) {
        statements.push(contact::Entity::insert_many(slice.to_vec()).build(backend));
    }
    for slice in idents.chunks(2000) {
        statements.push(contact_identity::Entity::insert_many(slice.to_vec()).build(backend));
    }
    for slice in terms.chunks(5000) {
        statements.push(contact_search_term::Entity::insert_many(slice.to_vec()).build(backend));
    }
    for slice in evs.chunks(1000) {
        statements.extend(events::statement(backend, slice));
    }
    // One statement at a time rather than all of them as one text: the driver keeps each text
    // it prepares, and these (a full slice's) are the same from chunk to chunk, where the
    // chunk's whole text never is (a million rows kept 5 GB of prepared statements).
    for statement in statements {
        txn.execute(statement).await?;
    }
    fragments::refresh(txn, &created).await?;
    Ok(written)
}

/// The secondary addresses of a new contact (its primary one left out).
fn secondary_of(input: &ContactInput, primary: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in input.secondary_emails.iter().flatten() {
        if Some(e.as_str()) != primary && !out.iter().any(|s| s == e.as_str()) {
            out.push(e.as_str().to_owned());
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn new_contact(
    id: i64,
    input: &ContactInput,
    account: Option<&(i64, String, String)>,
    owner: Option<&crate::entities::agent::Model>,
    actor: i64,
    import_id: i64,
    external: Option<String>,
    now: DateTime<Utc>,
) -> contact::Model {
    let first_name = input.first_name.clone().flatten();
    let last_name = input.last_name.as_str().to_owned();
    let email = input.email.clone().flatten().map(|e| e.as_str().to_owned());
    contact::Model {
        id,
        name_sort: PersonName { first: first_name.as_deref(), last: &last_name }.sort_key(),
        first_name,
        last_name,
        email_sort: email.clone().unwrap_or_default(),
        email,
        phone: input.phone.clone().flatten().map(|p| p.as_str().to_owned()),
        mobile: input.mobile.clone().flatten().map(|p| p.as_str().to_owned()),
        account_id: account.map(|a| a.0),
        account_sort: account.map(|a| a.2.clone()).unwrap_or_default(),
        owner_id: owner.map(|o| o.id),
        owner_sort: owner.map(|o| o.name_sort.clone()).unwrap_or_default(),
        title: input.title.clone().flatten(),
        description: input.description.clone().flatten(),
        source: NewContactSource::Import.key().to_owned(),
        help_center_status: "not_invited".to_owned(),
        created_by: Some(actor),
        created_at: now,
        updated_at: now,
        trashed: false,
        recycle_entry_id: None,
        password_hash: None,
        import_id: Some(import_id),
        external_id: external,
    }
}

/// Creates the accounts the rows name that do not exist yet (when the agent allowed it): by
/// lowercased name, their id, name and sort key.
async fn create_accounts(
    txn: &DatabaseTransaction,
    actor: &Actor,
    planned: &[Planned],
    now: DateTime<Utc>,
) -> Result<HashMap<String, (i64, String, String)>, DbErr> {
    let mut made = HashMap::new();
    for plan in planned {
        let (Planned::Create { account: AccountRef::New(name), .. }
        | Planned::Update { account: AccountRef::New(name), .. }) = plan
        else {
            continue;
        };
        let sort = name.to_lowercase();
        if made.contains_key(&sort) {
            continue;
        }
        let row = account::ActiveModel {
            name_sort: Set(sort.clone()),
            name: Set(name.clone()),
            website: Set(None),
            phone: Set(None),
            owner_id: Set(Some(actor.id())),
            description: Set(None),
            created_by: Set(Some(actor.id())),
            created_at: Set(now),
            updated_at: Set(now),
            trashed: Set(false),
            recycle_entry_id: Set(None),
            ..Default::default()
        };
        let a = row.insert(txn).await?;
        let created = Event::account(events::Actor::Agent(actor.id()), a.id, events::Action::Created, now)
            .set(Field::Name, Some(&a.name));
        events::record(txn, &[created]).await?;
        made.insert(sort.clone(), (a.id, a.name, sort));
    }
    Ok(made)
}

/// Applies `list` to the matched contact, with the values it replaced kept for Revert.
#[allow(clippy::too_many_arguments)]
async fn update(
    txn: &DatabaseTransaction,
    actor: &Actor,
    owners: &Owners,
    import_id: i64,
    m: &Matched,
    list: &[FieldChange],
    account: Option<(i64, String, String)>,
    external: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let id = m.model.id;
    let mut row: contact::ActiveModel = m.model.clone().into();
    let (mut before, mut after) = (Map::new(), Map::new());
    let mut event_changes = Vec::new();
    for ch in list {
        let text = |v: &Option<String>| v.clone().map_or(Value::Null, Value::String);
        if ch.key == "secondary_email" {
            if let Some(email) = &ch.new {
                let add = identities::row(id, IdentityKind::Email, email, false, now);
                contact_identity::Entity::insert(add).exec(txn).await?;
                let list = after.entry("secondary_email").or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(list) = list {
                    list.push(Value::String(email.clone()));
                }
            }
            event_changes.push(events::Change::new(Field::SecondaryEmail, None, ch.new.clone()));
            continue;
        }
        before.insert(ch.key.to_owned(), text(&ch.old));
        after.insert(ch.key.to_owned(), text(&ch.new));
        let (mut old_shown, mut new_shown) = (ch.old.clone(), ch.new.clone());
        match ch.key {
            "first_name" => row.first_name = Set(ch.new.clone()),
            "last_name" => row.last_name = Set(ch.new.clone().unwrap_or_default()),
            "title" => row.title = Set(ch.new.clone()),
            "description" => row.description = Set(ch.new.clone()),
            "phone" | "mobile" => {
                let kind = if ch.key == "phone" { IdentityKind::Phone } else { IdentityKind::Mobile };
                identities::set_number(txn, id, kind, ch.new.as_deref(), now).await?;
                if ch.key == "phone" {
                    row.phone = Set(ch.new.clone());
                } else {
                    row.mobile = Set(ch.new.clone());
                }
            }
            "account" => {
                row.account_id = Set(account.as_ref().map(|a| a.0));
                row.account_sort = Set(account.as_ref().map(|a| a.2.clone()).unwrap_or_default());
            }
            "owner" => {
                let owner = ch.new.as_deref().and_then(|o| o.parse().ok()).and_then(|o| owners.by_id(o));
                row.owner_id = Set(owner.map(|o| o.id));
                row.owner_sort = Set(owner.map(|o| o.name_sort.clone()).unwrap_or_default());
                let name_of = |v: &Option<String>| {
                    v.as_deref().and_then(|o| o.parse().ok()).and_then(|o| owners.by_id(o)).map(|o| o.name.clone())
                };
                (old_shown, new_shown) = (name_of(&ch.old), name_of(&ch.new));
            }
            _ => {}
        }
        event_changes.push(events::Change::new(ch.field, old_shown, new_shown));
    }
    if let Some(external) = external.filter(|x| Some(x) != m.model.external_id.as_ref()) {
        before.insert("external_id".into(), m.model.external_id.clone().map_or(Value::Null, Value::String));
        after.insert("external_id".into(), Value::String(external.clone()));
        row.external_id = Set(Some(external));
    }
    let first = row.first_name.clone().unwrap();
    let last = row.last_name.clone().unwrap();
    row.name_sort = Set(PersonName { first: first.as_deref(), last: &last }.sort_key());
    row.updated_at = Set(now);
    let saved = row.update(txn).await?;
    let account_name = match &account {
        Some(a) => Some(a.1.clone()),
        None => m.account_name.clone(),
    };
    search_terms::reindex(txn, &saved, account_name.as_deref()).await?;
    if !event_changes.is_empty() {
        let updated =
            Event::contact(events::Actor::Agent(actor.id()), id, events::Action::Updated, now).with(event_changes);
        events::record(txn, &[updated]).await?;
    }
    let change = contact_import_change::ActiveModel {
        import_id: Set(import_id),
        contact_id: Set(id),
        before: Set(Value::Object(before).to_string()),
        after: Set(Value::Object(after).to_string()),
        ..Default::default()
    };
    contact_import_change::Entity::insert(change).exec(txn).await?;
    Ok(())
}
