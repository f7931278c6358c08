//! Merging contacts into their master, in one transaction: the master takes the chosen values;
//! every row of the others moves to it (`moves`), with every identity (a number the master has
//! already stays behind, so that it is not listed twice); the chosen primary Email is the
//! master's primary, the other addresses its Secondary Email; the others go to the Recycle Bin
//! marked "merged into" the master. One Help Center login survives: the master's, or the
//! other's when only that one had access (its links move along, and the contact is told by
//! email). Everything changed is remembered for Undo merge.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::values::{self, Names, Values};
use super::MergedInto;
use super::{live, login_from, may_merge, moves, source_of, MergeRequest, FIELDS};
use crate::channels::email::{enqueue, messages, OutgoingMail};
use crate::db::{execute_all, Db};
use crate::domain::{Email, Module, PersonName};
use crate::entities::contact_identity::{self, IdentityKind};
use crate::entities::{contact, contact_merge, contact_merge_row, help_center_token, recycle_bin};
use crate::services::contacts::search_terms;
use crate::services::events::{self, Change, Event, Field};
use crate::services::help_center::{self, MailContext};
use crate::services::recycle_bin::Details;
use crate::services::{Actor, ServiceError, ServiceResult};

/// What a merge did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Merged {
    pub master: i64,
    /// How many contacts went to the Recycle Bin.
    pub merged: usize,
    /// The contact whose Help Center login the master took, when it had none of its own.
    pub login_from: Option<i64>,
}

/// What the merge changed on a merged contact besides binning it, for Undo merge.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct MemberBefore {
    /// Its primary address (the column is cleared: the address moved to the master).
    pub email: Option<String>,
    /// Its Recycle Bin entry.
    pub entry_id: i64,
}

/// Merges contacts `request.ids` into `request.master` on behalf of `actor`.
///
/// # Errors
/// `Forbidden` without the contacts Edit and Delete permissions; `Invalid` for one or more than
/// three contacts, a master not among them or a choice of another contact's value; `NotFound`
/// when one of them is not a live contact; database errors.
pub async fn merge(
    db: &Db,
    mail: MailContext<'_>,
    actor: &Actor,
    request: &MergeRequest,
    now: DateTime<Utc>,
) -> ServiceResult<Merged> {
    may_merge(actor)?;
    request.check()?;
    let rules = actor.fields(Module::Contacts);
    let master_id = request.master_id();
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    let contacts = live(&txn, &request.ids).await?;
    let each: Vec<(i64, Values)> = contacts.iter().map(|c| (c.id, Values::of(c))).collect();
    let (master, others): (Vec<_>, Vec<_>) = contacts.into_iter().partition(|c| c.id == master_id);
    let master = master.into_iter().next().ok_or(ServiceError::NotFound)?;
    let other_ids: Vec<i64> = others.iter().map(|c| c.id).collect();

    let before = Values::of(&master);
    let statuses: Vec<(i64, &str, bool)> =
        others.iter().map(|c| (c.id, c.help_center_status.as_str(), c.email.is_some())).collect();
    let login = login_from(&master.help_center_status, &statuses).and_then(|id| others.iter().find(|c| c.id == id));
    let after = kept(&before, &rules, request, &each, login);

    let merge = contact_merge::ActiveModel {
        master_id: Set(master_id),
        merged_by: Set(Some(actor.id())),
        merged_at: Set(now),
        master_before: Set(serde_json::to_string(&before).map_err(anyhow::Error::from)?),
        undone_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;

    let (moving, added) = identities_moving(&txn, master_id, &request.ids).await?;
    // The address column is unique: the others give theirs up before the master takes one.
    contact::Entity::update_many()
        .col_expr(contact::Column::Email, Expr::value(Option::<String>::None))
        .col_expr(contact::Column::EmailSort, Expr::value(""))
        .filter(contact::Column::Id.is_in(other_ids.clone()))
        .exec(&txn)
        .await?;
    let backend = txn.get_database_backend();
    let mut statements = moves::away(backend, merge.id, master_id, &other_ids);
    statements.extend(moves::chosen(backend, merge.id, moves::IDENTITY, master_id, &moving));
    if let Some(l) = login {
        let tokens: Vec<i64> = help_center_token::Entity::find()
            .filter(help_center_token::Column::ContactId.eq(l.id))
            .all(&txn)
            .await?
            .into_iter()
            .map(|t| t.id)
            .collect();
        statements.extend(moves::chosen(backend, merge.id, moves::TOKEN, master_id, &tokens));
    }
    execute_all(&txn, statements).await?;
    mark_primary(&txn, master_id, after.email.as_deref()).await?;

    let names = Names::load(&txn, &each, &after).await?;
    let saved = values::save(&txn, master.clone(), &after, &names, now).await?;
    let mut secondary_added: Vec<String> = added;
    if let Some(old) = before.email.clone().filter(|old| after.email.as_ref() != Some(old)) {
        secondary_added.push(old);
    }
    secondary_added.retain(|e| after.email.as_ref() != Some(e));

    let mut written = bin_all(&txn, merge.id, actor, &others, &saved, login.map(|l| l.id), now).await?;
    let merged = Event::contact(events::Actor::Agent(actor.id()), master_id, events::Action::Merged, now)
        .with(names.changes(&before, &after))
        .with(secondary_added.into_iter().map(|e| Change::new(Field::SecondaryEmail, None, Some(e))));
    written.push(merged);
    events::record(&txn, &written).await?;

    // The merged contacts' addresses are the master's now: their fragments follow.
    search_terms::reindex(&txn, &saved, names.account_name(after.account_id)).await?;
    for c in &others {
        search_terms::reindex(&txn, c, names.account_name(c.account_id)).await?;
    }
    if let Some(l) = login {
        tell_login_moved(&txn, mail, l, now).await?;
    }
    txn.commit().await?;
    Ok(Merged { master: master_id, merged: others.len(), login_from: login.map(|l| l.id) })
}

/// The master's values after the merge: per field the one kept (see [`source_of`]), and the
/// Help Center login of `login` when it takes one.
fn kept(
    before: &Values,
    rules: &crate::domain::FieldRules,
    request: &MergeRequest,
    each: &[(i64, Values)],
    login: Option<&contact::Model>,
) -> Values {
    let mut after = before.clone();
    for (field, _) in FIELDS {
        let from = source_of(field, rules, request, each);
        if let Some((_, v)) = each.iter().find(|(id, _)| *id == from) {
            after.take(field, v);
        }
    }
    if let Some(l) = login {
        after.help_center_status.clone_from(&l.help_center_status);
        after.password_hash.clone_from(&l.password_hash);
    }
    after
}

/// Moves the merged contacts `others` to the Recycle Bin marked as merged into `master`,
/// remembers what Undo merge needs of them, and ends their Help Center sessions and links
/// (but the links of `login`, which moved to the master); their events.
async fn bin_all<C: ConnectionTrait>(
    conn: &C,
    merge_id: i64,
    actor: &Actor,
    others: &[contact::Model],
    master: &contact::Model,
    login: Option<i64>,
    now: DateTime<Utc>,
) -> ServiceResult<Vec<Event>> {
    let mut written = Vec::new();
    for c in others {
        let entry = bin(conn, actor, c, master, now).await?;
        let detail = MemberBefore { email: c.email.clone(), entry_id: entry };
        contact_merge_row::ActiveModel {
            merge_id: Set(merge_id),
            kind: Set(moves::CONTACT.to_owned()),
            row_id: Set(c.id),
            contact_id: Set(c.id),
            flag: Set(None),
            detail: Set(Some(serde_json::to_string(&detail).map_err(anyhow::Error::from)?)),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        if login != Some(c.id) {
            help_center::retire(conn, c.id, None, now).await?;
        }
        crate::auth::session_store::end_all_for_contact(conn, c.id).await?;
        written.push(Event::contact(events::Actor::Agent(actor.id()), c.id, events::Action::Deleted, now));
    }
    Ok(written)
}

/// The identities of the others that move to the master (every address and WhatsApp account;
/// a number the master, or one moving before it, has already stays behind: nothing is lost
/// and nothing is listed twice), and the addresses among them.
async fn identities_moving<C: ConnectionTrait>(
    conn: &C,
    master_id: i64,
    ids: &[i64],
) -> ServiceResult<(Vec<i64>, Vec<String>)> {
    let all = contact_identity::Entity::find()
        .filter(contact_identity::Column::ContactId.is_in(ids.to_vec()))
        .order_by_asc(contact_identity::Column::Id)
        .all(conn)
        .await?;
    let mut have: Vec<(IdentityKind, String)> =
        all.iter().filter(|i| i.contact_id == master_id).map(|i| (i.kind, i.value.clone())).collect();
    let (mut moving, mut emails) = (Vec::new(), Vec::new());
    for i in all.into_iter().filter(|i| i.contact_id != master_id) {
        let number = matches!(i.kind, IdentityKind::Phone | IdentityKind::Mobile);
        if number && have.iter().any(|(k, v)| *k == i.kind && *v == i.value) {
            continue;
        }
        if i.kind == IdentityKind::Email {
            emails.push(i.value.clone());
        }
        moving.push(i.id);
        have.push((i.kind, i.value));
    }
    Ok((moving, emails))
}

/// Makes `email` the primary address of contact `contact_id` and every other one secondary.
pub(super) async fn mark_primary<C: ConnectionTrait>(
    conn: &C,
    contact_id: i64,
    email: Option<&str>,
) -> Result<(), sea_orm::DbErr> {
    let flag = match email {
        Some(email) => Expr::col(contact_identity::Column::Value).eq(email),
        None => Expr::value(false),
    };
    contact_identity::Entity::update_many()
        .col_expr(contact_identity::Column::IsPrimary, flag)
        .filter(contact_identity::Column::ContactId.eq(contact_id))
        .filter(contact_identity::Column::Kind.eq(IdentityKind::Email))
        .exec(conn)
        .await?;
    Ok(())
}

/// Moves merged contact `c` to the Recycle Bin, marked as merged into `master`; its entry.
async fn bin<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    c: &contact::Model,
    master: &contact::Model,
    now: DateTime<Utc>,
) -> ServiceResult<i64> {
    let name = |first: &Option<String>, last: &str| PersonName { first: first.as_deref(), last }.to_string();
    let details = Details {
        last_name: Some(c.last_name.clone()),
        merged_into: Some(MergedInto {
            id: master.id,
            name: name(&master.first_name, &master.last_name),
            last_name: master.last_name.clone(),
        }),
        ..Details::default()
    };
    let entry = recycle_bin::ActiveModel {
        kind: Set("contact".to_owned()),
        item_id: Set(c.id),
        label: Set(name(&c.first_name, &c.last_name)),
        deleted_by: Set(Some(actor.id())),
        deleted_at: Set(now),
        details: Set(serde_json::to_string(&details).map_err(anyhow::Error::from)?),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    contact::Entity::update_many()
        .col_expr(contact::Column::Trashed, Expr::value(true))
        .col_expr(contact::Column::RecycleEntryId, Expr::value(entry.id))
        .filter(contact::Column::Id.eq(c.id))
        .exec(conn)
        .await?;
    Ok(entry.id)
}

/// Tells the Help Center user `l`, whose login the master took, that it still works.
async fn tell_login_moved<C: ConnectionTrait>(
    conn: &C,
    mail: MailContext<'_>,
    l: &contact::Model,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    let Some(to) = l.email.as_deref().and_then(|e| Email::parse(e).ok()) else { return Ok(()) };
    let name = PersonName { first: l.first_name.as_deref(), last: &l.last_name }.to_string();
    let link = format!("{}/help/login", mail.base_url);
    let text = messages::merged_login(&name, mail.company, to.as_str(), &link).map_err(anyhow::Error::from)?;
    enqueue(conn, OutgoingMail::new(to, Some(name), text.subject, text.body), mail.domain, now).await?;
    Ok(())
}
