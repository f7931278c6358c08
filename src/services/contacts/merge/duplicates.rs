//! Find Duplicates: the contacts that may be the same person as one contact, because they share
//! an email address (the same address but for a `+tag`, as `ann+shop@example.com` and
//! `ann@example.com`: addresses themselves are unique), a phone, mobile or WhatsApp number, or
//! the same first and last name. Only by what the agent's profile shows: a hidden field finds
//! nothing. A fixed number of queries, each on an index: the contact, its identities, the
//! identities that match, the contacts of the same name, and the matches' rows.

use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::domain::{Action, FieldRules, Module, PersonName};
use crate::entities::contact;
use crate::entities::contact_identity::{self, IdentityKind};
use crate::services::contacts::{redact, with_row_columns, ContactRow};
use crate::services::{Actor, ServiceError, ServiceResult};

/// The most duplicates the page lists.
pub const LIMIT: u64 = 50;

/// A contact that may be a duplicate, and why.
#[derive(Clone, Debug)]
pub struct Duplicate {
    pub contact: ContactRow,
    /// "Same email", "Same phone number", "Same name".
    pub reasons: Vec<&'static str>,
}

/// Contact `id` and its possible duplicates, as `actor`'s profile lets it see them.
///
/// # Errors
/// `Forbidden` without the contacts view permission; `NotFound` for a contact not live;
/// database errors.
pub async fn duplicates<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: i64,
) -> ServiceResult<(ContactRow, Vec<Duplicate>)> {
    actor.may(Module::Contacts, Action::View)?;
    let rules = actor.fields(Module::Contacts);
    let mut me = with_row_columns(contact::Entity::find_by_id(id))
        .filter(contact::Column::Trashed.eq(false))
        .into_model::<ContactRow>()
        .one(conn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let mine = contact_identity::Entity::find().filter(contact_identity::Column::ContactId.eq(id)).all(conn).await?;
    let mut found: Vec<(i64, &'static str)> = Vec::new();
    let emails: Vec<String> = if rules.shows("email") {
        mine.iter().filter(|i| i.kind == IdentityKind::Email).filter_map(|i| untagged(&i.value)).collect()
    } else {
        Vec::new()
    };
    let numbers: Vec<String> = mine.iter().filter(|i| number_shown(&rules, i.kind)).map(|i| i.value.clone()).collect();
    if !emails.is_empty() || !numbers.is_empty() {
        let shown_kinds: Vec<IdentityKind> = [IdentityKind::Phone, IdentityKind::Mobile, IdentityKind::WhatsApp]
            .into_iter()
            .filter(|k| number_shown(&rules, *k))
            .collect();
        let matching = Condition::any()
            .add(
                Condition::all()
                    .add(contact_identity::Column::Kind.eq(IdentityKind::Email))
                    .add(contact_identity::Column::Value.is_in(emails)),
            )
            .add(
                Condition::all()
                    .add(contact_identity::Column::Kind.is_in(shown_kinds))
                    .add(contact_identity::Column::Value.is_in(numbers)),
            );
        let rows: Vec<(i64, IdentityKind)> = contact_identity::Entity::find()
            .select_only()
            .columns([contact_identity::Column::ContactId, contact_identity::Column::Kind])
            .filter(matching)
            .filter(contact_identity::Column::ContactId.ne(id))
            .limit(LIMIT * 4)
            .into_tuple()
            .all(conn)
            .await?;
        for (contact_id, kind) in rows {
            found.push((contact_id, if kind == IdentityKind::Email { "Same email" } else { "Same phone number" }));
        }
    }
    if rules.shows("first_name") && me.first_name.is_some() {
        let key = PersonName { first: me.first_name.as_deref(), last: &me.last_name }.sort_key();
        let same: Vec<i64> = contact::Entity::find()
            .select_only()
            .column(contact::Column::Id)
            .filter(contact::Column::Trashed.eq(false))
            .filter(contact::Column::NameSort.eq(key))
            .filter(contact::Column::Id.ne(id))
            .limit(LIMIT)
            .into_tuple()
            .all(conn)
            .await?;
        found.extend(same.into_iter().map(|c| (c, "Same name")));
    }
    let mut ids: Vec<i64> = found.iter().map(|(c, _)| *c).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.truncate(usize::try_from(LIMIT).unwrap_or(50));
    let rows = with_row_columns(contact::Entity::find())
        .filter(contact::Column::Id.is_in(ids))
        .filter(contact::Column::Trashed.eq(false))
        .into_model::<ContactRow>()
        .all(conn)
        .await?;
    let list = rows
        .into_iter()
        .map(|mut c| {
            let mut reasons: Vec<&'static str> =
                found.iter().filter(|(id, _)| *id == c.id).map(|(_, why)| *why).collect();
            reasons.dedup();
            redact(&rules, &mut c);
            Duplicate { contact: c, reasons }
        })
        .collect();
    redact(&rules, &mut me);
    Ok((me, list))
}

/// Whether the profile shows numbers of `kind` (WhatsApp numbers go with Mobile).
fn number_shown(rules: &FieldRules, kind: IdentityKind) -> bool {
    match kind {
        IdentityKind::Phone => rules.shows("phone"),
        IdentityKind::Mobile | IdentityKind::WhatsApp => rules.shows("mobile"),
        _ => false,
    }
}

/// `address` without the `+tag` of its local part, when it has one: another contact may have
/// the plain address.
fn untagged(address: &str) -> Option<String> {
    let (local, domain) = address.split_once('@')?;
    let (plain, _) = local.split_once('+')?;
    (!plain.is_empty()).then(|| format!("{plain}@{domain}"))
}

#[cfg(test)]
mod tests {
    use super::untagged;

    #[test]
    fn a_tagged_address_is_found_by_its_plain_form() {
        assert_eq!(untagged("ann+shop@example.com").as_deref(), Some("ann@example.com"));
        assert_eq!(untagged("ann@example.com"), None);
        assert_eq!(untagged("+x@example.com"), None);
    }
}
