//! Adding and editing contacts: the actor's permissions (module and fields), validation, account
//! and owner lookup, uniqueness of the email, search words and the event of the change, in one
//! transaction.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::{detail::find_row, identities, search_terms, ContactRow, HELP_CENTER_USER_STATUSES};
use crate::db::Db;
use crate::domain::{Action, ContactForm, ContactInput, FieldRules, Module, PersonName, PhoneParser};
use crate::entities::contact_identity::IdentityKind;
use crate::entities::{account, agent, contact};
use crate::services::events::{self, Event, Field};
use crate::services::{Actor, ServiceError, ServiceResult};

/// How a contact came to exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewContactSource {
    Agent,
    Email,
    WhatsApp,
    HelpCenter,
    Import,
}

impl NewContactSource {
    pub(crate) fn key(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::Email => "email",
            Self::WhatsApp => "whatsapp",
            Self::HelpCenter => "help_center",
            Self::Import => "import",
        }
    }
}

/// The form as the contact stands now, for comparing read-only fields and for the edit page.
#[must_use]
pub fn form_of(row: &ContactRow, secondary_emails: &[String]) -> ContactForm {
    ContactForm {
        first_name: row.first_name.clone(),
        last_name: Some(row.last_name.clone()),
        email: row.email.clone(),
        secondary_emails: Some(secondary_emails.join("\n")),
        phone: row.phone.clone(),
        mobile: row.mobile.clone(),
        account: row.account_name.clone(),
        owner: row.owner_id.map(|id| id.to_string()),
        title: row.title.clone(),
        description: row.description.clone(),
    }
}

/// Screens and parses a form, collecting every message.
fn validate(
    rules: &FieldRules,
    form: ContactForm,
    current: Option<&ContactForm>,
    phones: &PhoneParser,
) -> ServiceResult<ContactInput> {
    rules.screen_and_parse(form, current, |f| f.parse(phones)).map_err(ServiceError::Invalid)
}

/// The account an agent typed the name of: exactly one live account must have it.
async fn find_account<C: ConnectionTrait>(conn: &C, name: &str) -> ServiceResult<account::Model> {
    let found = account::Entity::find()
        .filter(account::Column::NameSort.eq(name.trim().to_lowercase()))
        .filter(account::Column::Trashed.eq(false))
        .all(conn)
        .await?;
    match found.len() {
        1 => Ok(found.into_iter().next().ok_or(ServiceError::NotFound)?),
        0 => Err(ServiceError::field(
            "account",
            "No account has this name. Check the spelling, or add the account under Accounts first.",
        )),
        _ => Err(ServiceError::field(
            "account",
            "Several accounts have this name; open the account and add the contact from there.",
        )),
    }
}

async fn find_owner<C: ConnectionTrait>(conn: &C, id: i64) -> ServiceResult<agent::Model> {
    agent::Entity::find_by_id(id)
        .filter(agent::Column::Active.eq(true))
        .one(conn)
        .await?
        .ok_or_else(|| ServiceError::field("owner", "Choose an active agent."))
}

/// The form of contact `id` as `actor`'s profile lets it see it, for the Edit Contact page.
///
/// # Errors
/// `Forbidden` without the contacts edit permission; `NotFound`; database errors.
pub async fn edit_form(conn: &sea_orm::DatabaseConnection, actor: &Actor, id: i64) -> ServiceResult<ContactForm> {
    actor.may(Module::Contacts, Action::Edit)?;
    let rules = &actor.fields(Module::Contacts);
    let row = super::detail::redacted(conn, rules, id).await?;
    let mut form = form_of(&row, &identities::secondary_emails(conn, id).await?);
    if !rules.shows("email") {
        form.secondary_emails = None;
    }
    Ok(form)
}

/// The addresses of a validated form, as stored.
fn addresses(emails: &[crate::domain::Email]) -> Vec<String> {
    emails.iter().map(|e| e.as_str().to_owned()).collect()
}

/// Adds a contact on behalf of `actor` (the Contact Owner unless the form names another). A
/// field its profile hides is ignored; a read-only one must be posted empty or not at all.
///
/// # Errors
/// `Forbidden` without the contacts create permission; `Invalid` with messages per field;
/// `DuplicateEmail` naming the contact that has the address.
pub async fn create(db: &Db, actor: &Actor, form: ContactForm, phones: &PhoneParser) -> ServiceResult<i64> {
    actor.may(Module::Contacts, Action::Create)?;
    let rules = &actor.fields(Module::Contacts);
    let actor_id = actor.id();
    let input = validate(rules, form, None, phones)?;
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let account = match input.account_name.clone().flatten() {
        Some(name) => Some(find_account(&txn, &name).await?),
        None => None,
    };
    let owner = find_owner(&txn, input.owner_id.flatten().unwrap_or(actor_id)).await?;
    let email = input.email.clone().flatten();
    let secondary = addresses(input.secondary_emails.as_deref().unwrap_or_default());
    let secondary: Vec<String> =
        secondary.into_iter().filter(|s| Some(s.as_str()) != email.as_ref().map(|e| e.as_str())).collect();
    identities::check_free(&txn, email.as_ref().map(|e| e.as_str()), &secondary, None).await?;
    let now = Utc::now();
    let first_name = input.first_name.clone().flatten();
    let last_name = input.last_name.as_str().to_owned();
    let row = contact::ActiveModel {
        name_sort: Set(PersonName { first: first_name.as_deref(), last: &last_name }.sort_key()),
        first_name: Set(first_name),
        last_name: Set(last_name),
        email_sort: Set(email.as_ref().map(|e| e.as_str().to_owned()).unwrap_or_default()),
        email: Set(email.map(|e| e.as_str().to_owned())),
        phone: Set(input.phone.clone().flatten().map(|p| p.as_str().to_owned())),
        mobile: Set(input.mobile.clone().flatten().map(|p| p.as_str().to_owned())),
        account_id: Set(account.as_ref().map(|a| a.id)),
        account_sort: Set(account.as_ref().map(|a| a.name_sort.clone()).unwrap_or_default()),
        owner_id: Set(Some(owner.id)),
        owner_sort: Set(owner.name_sort.clone()),
        title: Set(input.title.clone().flatten()),
        description: Set(input.description.clone().flatten()),
        source: Set(NewContactSource::Agent.key().to_owned()),
        help_center_status: Set("not_invited".to_owned()),
        created_by: Set(Some(actor_id)),
        created_at: Set(now),
        updated_at: Set(now),
        trashed: Set(false),
        recycle_entry_id: Set(None),
        ..Default::default()
    };
    let saved = row.insert(&txn).await.map_err(|e| identities::address_taken(e, "email"))?;
    if let Some(insert) = identities::insert_statement(txn.get_database_backend(), &saved, &secondary, now) {
        txn.execute(insert).await.map_err(|e| identities::address_taken(e, "secondary_emails"))?;
    }
    search_terms::index(&txn, &saved, account.as_ref().map(|a| a.name.as_str())).await?;
    let names = Names { account: account.as_ref().map(|a| a.name.as_str()), owner: Some(&owner.name) };
    let created = created_event(events::Actor::Agent(actor_id), &saved, &secondary, names, now);
    events::record(&txn, &[created]).await?;
    txn.commit().await?;
    Ok(saved.id)
}

/// Edits a contact on behalf of `actor`. A field its profile hides is ignored; a read-only one
/// must be posted unchanged or not at all. The fields that changed are the changes of its event.
///
/// # Errors
/// `Forbidden` without the contacts edit permission; `NotFound`; `Invalid` with messages per
/// field (including read-only fields the post tried to change); `DuplicateEmail`.
pub async fn update(
    db: &Db,
    actor: &Actor,
    contact_id: i64,
    form: ContactForm,
    phones: &PhoneParser,
) -> ServiceResult<()> {
    actor.may(Module::Contacts, Action::Edit)?;
    let rules = &actor.fields(Module::Contacts);
    let actor_id = actor.id();
    let current = find_row(&db.conn, contact_id).await?.ok_or(ServiceError::NotFound)?;
    let current_secondary = identities::secondary_emails(&db.conn, contact_id).await?;
    let input = validate(rules, form, Some(&form_of(&current, &current_secondary)), phones)?;
    let now = Utc::now();
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let Some(model) =
        contact::Entity::find_by_id(contact_id).filter(contact::Column::Trashed.eq(false)).one(&txn).await?
    else {
        return Err(ServiceError::NotFound);
    };
    let mut changes: Vec<events::Change> = Vec::new();
    let mut row: contact::ActiveModel = model.clone().into();
    let mut change = |field: Field, old: &Option<String>, new: &Option<String>| {
        if old != new {
            changes.push(events::Change::new(field, old.clone(), new.clone()));
            true
        } else {
            false
        }
    };

    let first_name = input.first_name.clone().unwrap_or(model.first_name.clone());
    change(Field::FirstName, &model.first_name, &first_name);
    let last_name = input.last_name.as_str().to_owned();
    change(Field::LastName, &Some(model.last_name.clone()), &Some(last_name.clone()));
    row.name_sort = Set(PersonName { first: first_name.as_deref(), last: &last_name }.sort_key());
    row.first_name = Set(first_name);
    row.last_name = Set(last_name);

    let mut secondary = current_secondary.clone();
    let mut identity_changes = Vec::new();
    if let Some(email) = input.email.clone() {
        let email = email.map(|e| e.as_str().to_owned());
        let posted_secondary = input.secondary_emails.as_deref().map(addresses);
        let primary_changed = change(Field::Email, &model.email, &email);
        if primary_changed || posted_secondary.as_ref().is_some_and(|s| *s != current_secondary) {
            if let Some(posted) = posted_secondary {
                secondary = posted;
            }
            identity_changes = identities::set_emails(&txn, contact_id, email.as_deref(), &secondary, now).await?;
            secondary.retain(|s| Some(s) != email.as_ref());
        }
        if primary_changed {
            if email.is_none() && HELP_CENTER_USER_STATUSES.contains(&model.help_center_status.as_str()) {
                return Err(ServiceError::field(
                    "email",
                    "A Help Center user needs an email address. Remove its Help Center access first.",
                ));
            }
            identities::login_changed(&txn, &model, now).await?;
            row.email_sort = Set(email.clone().unwrap_or_default());
            row.email = Set(email);
        }
    }
    for (field, kind, posted, old, slot) in [
        (Field::Phone, IdentityKind::Phone, &input.phone, &model.phone, &mut row.phone),
        (Field::Mobile, IdentityKind::Mobile, &input.mobile, &model.mobile, &mut row.mobile),
    ] {
        if let Some(number) = posted {
            let number = number.as_ref().map(|p| p.as_str().to_owned());
            if change(field, old, &number) {
                identities::set_number(&txn, contact_id, kind, number.as_deref(), now).await?;
            }
            *slot = Set(number);
        }
    }
    for (field, posted, old, slot) in [
        (Field::Title, &input.title, &model.title, &mut row.title),
        (Field::Description, &input.description, &model.description, &mut row.description),
    ] {
        if let Some(text) = posted {
            change(field, old, text);
            *slot = Set(text.clone());
        }
    }
    let mut account_name = current.account_name.clone();
    if let Some(name) = &input.account_name {
        if name.as_deref().map(str::to_lowercase) != current.account_name.as_deref().map(str::to_lowercase) {
            let account = match name {
                Some(name) => Some(find_account(&txn, name).await?),
                None => None,
            };
            account_name = account.as_ref().map(|a| a.name.clone());
            change(Field::Account, &current.account_name, &account_name);
            row.account_sort = Set(account.as_ref().map(|a| a.name_sort.clone()).unwrap_or_default());
            row.account_id = Set(account.map(|a| a.id));
        }
    }
    if let Some(Some(owner_id)) = input.owner_id {
        if Some(owner_id) != model.owner_id {
            let owner = find_owner(&txn, owner_id).await?;
            change(Field::Owner, &current.owner_name, &Some(owner.name.clone()));
            row.owner_sort = Set(owner.name_sort);
            row.owner_id = Set(Some(owner.id));
        }
    }
    if changes.is_empty() && identity_changes.is_empty() {
        return Ok(());
    }
    row.updated_at = Set(now);
    let saved = row.update(&txn).await.map_err(|e| identities::address_taken(e, "email"))?;
    search_terms::reindex(&txn, &saved, account_name.as_deref()).await?;
    let updated = Event::contact(events::Actor::Agent(actor_id), contact_id, events::Action::Updated, now)
        .with(changes)
        .with(identity_changes);
    events::record(&txn, &[updated]).await?;
    txn.commit().await?;
    Ok(())
}

/// The names a new contact's event records its account and owner by.
#[derive(Clone, Copy, Debug, Default)]
pub struct Names<'a> {
    pub account: Option<&'a str>,
    pub owner: Option<&'a str>,
}

/// The event of contact `c` created by `actor`: its fields' first values (with its secondary
/// addresses, `secondary`, and its account's and owner's names).
#[must_use]
pub fn created_event(
    actor: events::Actor,
    c: &contact::Model,
    secondary: &[String],
    names: Names<'_>,
    at: DateTime<Utc>,
) -> Event {
    Event::contact(actor, c.id, events::Action::Created, at)
        .set(Field::Source, Some(&c.source))
        .set(Field::FirstName, c.first_name.as_deref())
        .set(Field::LastName, Some(&c.last_name))
        .set(Field::Email, c.email.as_deref())
        .with(secondary.iter().map(|s| events::Change::new(Field::SecondaryEmail, None, Some(s.clone()))))
        .set(Field::Phone, c.phone.as_deref())
        .set(Field::Mobile, c.mobile.as_deref())
        .set(Field::Account, names.account)
        .set(Field::Owner, names.owner)
        .set(Field::Title, c.title.as_deref())
        .set(Field::Description, c.description.as_deref())
}

/// A contact that comes from a channel (Help Center sign-up, email, WhatsApp) rather than from
/// an agent's form: a name and an address, no owner.
#[derive(Clone, Debug)]
pub struct ChannelContact<'a> {
    pub first_name: Option<&'a str>,
    pub last_name: &'a str,
    pub email: Option<&'a crate::domain::Email>,
    pub mobile: Option<&'a crate::domain::phone::Phone>,
    pub source: NewContactSource,
    pub help_center_status: &'static str,
    /// The agent who owns contacts from this channel, if one is configured.
    pub owner: Option<&'a crate::entities::agent::Model>,
}

/// Creates a contact for a channel inside the caller's transaction. A concurrent creation of
/// the same address makes the insert fail on the unique email; the caller looks it up again.
///
/// # Errors
/// Database errors (a unique violation among them).
pub async fn create_from_channel<C: ConnectionTrait>(
    conn: &C,
    new: ChannelContact<'_>,
    password_hash: Option<String>,
) -> Result<contact::Model, sea_orm::DbErr> {
    let owner = new.owner.map(|a| a.name.clone());
    let saved = insert_from_channel(conn, new, password_hash).await?;
    if let Some(insert) = identities::insert_statement(conn.get_database_backend(), &saved, &[], saved.created_at) {
        conn.execute(insert).await?;
    }
    search_terms::index(conn, &saved, None).await?;
    events::record(conn, &[created_from(&saved, owner.as_deref())]).await?;
    Ok(saved)
}

/// The row of [`create_from_channel`] alone, for a caller that writes the rest together with
/// writes of its own: the contact's identities ([`identities::insert_statement`]), its search
/// words ([`search_terms::index_statement`]) and its event ([`created_from`]).
///
/// # Errors
/// Database errors (a unique violation among them).
pub async fn insert_from_channel<C: ConnectionTrait>(
    conn: &C,
    new: ChannelContact<'_>,
    password_hash: Option<String>,
) -> Result<contact::Model, sea_orm::DbErr> {
    channel_row(&new, password_hash, Utc::now()).insert(conn).await
}

/// The row of a contact from a channel, every column but its id set (a caller that reserved
/// the id sets it and has the whole model).
#[must_use]
pub fn channel_row(
    new: &ChannelContact<'_>,
    password_hash: Option<String>,
    now: DateTime<Utc>,
) -> contact::ActiveModel {
    let email = new.email.map(|e| e.as_str().to_owned());
    contact::ActiveModel {
        name_sort: Set(PersonName { first: new.first_name, last: new.last_name }.sort_key()),
        first_name: Set(new.first_name.map(str::to_owned)),
        last_name: Set(new.last_name.to_owned()),
        email_sort: Set(email.clone().unwrap_or_default()),
        email: Set(email),
        phone: Set(None),
        mobile: Set(new.mobile.map(|m| m.as_str().to_owned())),
        account_id: Set(None),
        owner_id: Set(new.owner.map(|a| a.id)),
        title: Set(None),
        description: Set(None),
        source: Set(new.source.key().to_owned()),
        help_center_status: Set(new.help_center_status.to_owned()),
        created_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        trashed: Set(false),
        recycle_entry_id: Set(None),
        account_sort: Set(String::new()),
        owner_sort: Set(new.owner.map(|a| a.name_sort.clone()).unwrap_or_default()),
        password_hash: Set(password_hash),
        import_id: Set(None),
        external_id: Set(None),
        ..Default::default()
    }
}

/// The event of contact `c` created from a channel, by Frontdesk, owned by the agent named
/// `owner`.
#[must_use]
pub fn created_from(c: &contact::Model, owner: Option<&str>) -> Event {
    created_event(events::Actor::System, c, &[], Names { account: None, owner }, c.created_at)
}
