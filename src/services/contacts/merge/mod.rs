//! Merging contacts (issue 23): two or three contacts become one, the **Master**, with per
//! field the value the agent chose; every ticket, message, activity, time entry, history line,
//! identity, WhatsApp conversation and opt-in of the others moves to it in one transaction, and
//! the others go to the Recycle Bin marked "merged into" the master. Everything a merge changes
//! is remembered (`contact_merges`, `contact_merge_rows`), so that **Undo merge** puts it back
//! while the merged contacts are still in the bin.
//!
//! Split by concept: what the merge page shows ([`preview`]), the merge itself ([`apply`]), the
//! set-based moves both ways ([`moves`]), undoing it ([`undo`]), Find Duplicates
//! ([`duplicates`]). Every use-case takes the acting agent and needs the contacts Edit and
//! Delete permissions; field permissions hold (a hidden field is neither shown nor chosen, a
//! read-only one keeps the master's value).

mod apply;
mod duplicates;
mod moves;
mod preview;
mod undo;
mod values;

pub use apply::{merge, Merged};
pub use duplicates::{duplicates, Duplicate};
pub use preview::{page, Counts, FieldChoice, MergePage};
pub use undo::{merged_into, undo, undoable, Undoable};
pub use values::Values;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::{Deserialize, Serialize};

use crate::domain::{Action, FieldErrors, FieldRules, Module};
use crate::entities::contact;
use crate::services::{Actor, ServiceError, ServiceResult};

/// The fields a merge keeps one value of: permission key and label. Last Name is not a
/// restrictable field (every profile sees and edits it).
pub const FIELDS: [(&str, &str); 9] = [
    ("first_name", "First Name"),
    ("last_name", "Last Name"),
    ("email", "Email"),
    ("phone", "Phone"),
    ("mobile", "Mobile"),
    ("account", "Account Name"),
    ("owner", "Contact Owner"),
    ("title", "Title"),
    ("description", "Description"),
];

/// How many contacts one merge takes.
pub const MIN_CONTACTS: usize = 2;
/// See [`MIN_CONTACTS`].
pub const MAX_CONTACTS: usize = 3;

/// What an agent asks to merge: the ticked contacts, the master, and per field the contact
/// whose value to keep (a field not given keeps the master's value, or the first one there is).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MergeRequest {
    pub ids: Vec<i64>,
    pub master: Option<i64>,
    pub keep: Vec<(String, i64)>,
}

impl MergeRequest {
    /// Reads the merge form (or the list's query string): `ids` repeated, `master`, and
    /// `keep_<field>` per field. Values that are not numbers are left out, and a repeated id
    /// counts once.
    #[must_use]
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut request = Self::default();
        for (key, value) in pairs {
            let Ok(id) = value.trim().parse::<i64>() else { continue };
            match key.as_str() {
                "ids" if !request.ids.contains(&id) => request.ids.push(id),
                "master" => request.master = Some(id),
                _ => {
                    if let Some(field) = key.strip_prefix("keep_") {
                        if FIELDS.iter().any(|(f, _)| *f == field) {
                            request.keep.push((field.to_owned(), id));
                        }
                    }
                }
            }
        }
        request
    }

    /// The master: the one asked for, else the first contact.
    #[must_use]
    pub fn master_id(&self) -> i64 {
        self.master.or_else(|| self.ids.first().copied()).unwrap_or_default()
    }

    /// The contact whose value of `field` was chosen, if one was.
    #[must_use]
    pub fn kept(&self, field: &str) -> Option<i64> {
        self.keep.iter().rev().find(|(f, _)| f == field).map(|(_, id)| *id)
    }

    /// Checks the number of contacts and the master.
    ///
    /// # Errors
    /// `Invalid`, with the message on `ids` (how many) or `master`.
    pub fn check_contacts(&self) -> ServiceResult<()> {
        let n = self.ids.len();
        if !(MIN_CONTACTS..=MAX_CONTACTS).contains(&n) {
            let ticked = if n == 1 { "was" } else { "were" };
            return Err(ServiceError::field(
                "ids",
                format!("Tick two or three contacts to merge; {n} {ticked} ticked."),
            ));
        }
        if !self.ids.contains(&self.master_id()) {
            return Err(ServiceError::field("master", "Choose the Master record among the contacts being merged."));
        }
        Ok(())
    }

    /// Checks the number of contacts, the master and the choices.
    ///
    /// # Errors
    /// `Invalid`, with the message on `ids` (how many), `master`, or the field chosen.
    pub fn check(&self) -> ServiceResult<()> {
        self.check_contacts()?;
        let mut errors = FieldErrors::default();
        for (field, id) in &self.keep {
            if !self.ids.contains(id) {
                errors.add(field_key(field), "Choose one of the contacts' values.");
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ServiceError::Invalid(errors))
        }
    }
}

/// `field` as a `'static` key of [`FIELDS`].
fn field_key(field: &str) -> &'static str {
    FIELDS.iter().find(|(f, _)| *f == field).map_or("ids", |(f, _)| f)
}

/// Refuses an agent who may not both edit and delete contacts: a merge changes the master
/// and deletes the others.
///
/// # Errors
/// `Forbidden`, naming the permission missing.
pub fn may_merge(actor: &Actor) -> ServiceResult<()> {
    actor.may(Module::Contacts, Action::Edit)?;
    actor.may(Module::Contacts, Action::Delete)
}

/// Whether `rules` let the agent choose the value of `field` (a hidden or read-only field keeps
/// the master's).
#[must_use]
pub fn choosable(rules: &FieldRules, field: &str) -> bool {
    rules.shows(field) && rules.edits(field)
}

/// The live contacts `ids`, in that order, locked for the rest of the transaction (on
/// PostgreSQL; SQLite's write transaction holds the whole database), so that two merges of the
/// same contact at once cannot both take it.
///
/// # Errors
/// `NotFound` when one of them is not a live contact; database errors.
async fn live<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> ServiceResult<Vec<contact::Model>> {
    let rows = contact::Entity::find()
        .filter(contact::Column::Id.is_in(ids.to_vec()))
        .filter(contact::Column::Trashed.eq(false))
        .lock_exclusive()
        .all(conn)
        .await?;
    ids.iter().map(|id| rows.iter().find(|c| c.id == *id).cloned().ok_or(ServiceError::NotFound)).collect()
}

/// The contact whose value of `field` a merge keeps: the one chosen when `rules` let the agent
/// choose, else the master, or (when the master has none) the first contact that has one.
/// `contacts` holds each contact's id and values, the master among them.
#[must_use]
pub fn source_of(field: &str, rules: &FieldRules, request: &MergeRequest, contacts: &[(i64, Values)]) -> i64 {
    let master = request.master_id();
    let has = |id: i64| contacts.iter().any(|(c, v)| *c == id && v.has(field));
    // Every address moves to the master: it never ends up without a primary one while one of
    // them has an address, whatever was chosen and whatever the profile shows.
    if choosable(rules, field) {
        if let Some(id) = request.kept(field) {
            if field != "email" || has(id) {
                return id;
            }
        }
    } else if field != "email" || has(master) {
        return master;
    }
    if has(master) {
        return master;
    }
    contacts.iter().find(|(_, v)| v.has(field)).map_or(master, |(id, _)| *id)
}

/// The master a contact in the bin was merged into.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct MergedInto {
    pub id: i64,
    pub name: String,
    /// Shown instead of the name to profiles that hide the first name.
    pub last_name: String,
}

impl MergedInto {
    /// The master's name as an agent whose profile is `permissions` may read it.
    #[must_use]
    pub fn label_for(&self, permissions: &crate::domain::Permissions) -> &str {
        if permissions.contact_field("first_name").visible() {
            &self.name
        } else {
            &self.last_name
        }
    }
}

/// Whether a Help Center status makes a Help Center user.
fn is_user(status: &str) -> bool {
    super::HELP_CENTER_USER_STATUSES.contains(&status)
}

/// Whose Help Center login the master keeps, given the master's status and, for each other
/// contact, its id, status and whether it has an address: none when the master is an active
/// user (or no one else has access), else the first other active user, else none when the
/// master is invited, else the first other invited one. A working login is never given up for
/// an invitation not yet accepted.
#[must_use]
pub fn login_from(master: &str, others: &[(i64, &str, bool)]) -> Option<i64> {
    if master == "active" {
        return None;
    }
    let first = |wanted: &dyn Fn(&str) -> bool| {
        others.iter().find(|(_, status, has_email)| *has_email && wanted(status)).map(|(id, _, _)| *id)
    };
    first(&|status| status == "active").or_else(|| if is_user(master) { None } else { first(&is_user) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Permissions;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn the_form_reads_ids_once_the_master_and_the_choices() {
        let r = MergeRequest::from_pairs(&pairs(&[
            ("csrf_token", "x"),
            ("ids", "3"),
            ("ids", "5"),
            ("ids", "3"),
            ("ids", "seven"),
            ("master", "5"),
            ("keep_email", "3"),
            ("keep_shoe_size", "3"),
        ]));
        assert_eq!(r.ids, [3, 5]);
        assert_eq!(r.master_id(), 5);
        assert_eq!(r.kept("email"), Some(3));
        assert_eq!(r.keep.len(), 1);
        assert!(r.check().is_ok());
    }

    #[test]
    fn one_or_four_contacts_and_a_stranger_as_master_are_refused() {
        for ids in [vec!["1"], vec!["1", "2", "3", "4"]] {
            let list: Vec<(&str, &str)> = ids.iter().map(|i| ("ids", *i)).collect();
            assert!(matches!(MergeRequest::from_pairs(&pairs(&list)).check(), Err(ServiceError::Invalid(_))));
        }
        let r = MergeRequest::from_pairs(&pairs(&[("ids", "1"), ("ids", "2"), ("master", "9")]));
        assert!(matches!(r.check(), Err(ServiceError::Invalid(e)) if !e.get("master").is_empty()));
    }

    #[test]
    fn the_master_keeps_its_login_unless_only_another_has_a_working_one() {
        assert_eq!(login_from("active", &[(2, "active", true)]), None);
        assert_eq!(login_from("invited", &[(2, "invited", true), (3, "active", true)]), Some(3));
        assert_eq!(login_from("invited", &[(2, "invited", true)]), None);
        assert_eq!(login_from("not_invited", &[(2, "deactivated", true), (3, "invited", true)]), Some(3));
        assert_eq!(login_from("deactivated", &[(2, "active", false)]), None, "no address, no login");
    }

    #[test]
    fn a_hidden_field_keeps_the_masters_value_and_an_empty_one_is_filled() {
        let mut hidden = Permissions::administrator();
        hidden.admin = false;
        hidden.contact_fields.insert("title".into(), crate::domain::FieldAccess::Hidden);
        let rules = FieldRules::contacts(&hidden);
        let a = Values { last_name: "A".into(), title: Some("CTO".into()), ..Values::default() };
        let b = Values { last_name: "B".into(), title: Some("CEO".into()), phone: Some("+1".into()), ..a.clone() };
        let contacts = [(1, a), (2, b)];
        let r = MergeRequest::from_pairs(&pairs(&[("ids", "1"), ("ids", "2"), ("keep_title", "2")]));
        assert_eq!(source_of("title", &rules, &r, &contacts), 1);
        assert_eq!(source_of("phone", &rules, &r, &contacts), 2, "the master has none");
        assert_eq!(source_of("last_name", &rules, &r, &contacts), 1);
    }
}
