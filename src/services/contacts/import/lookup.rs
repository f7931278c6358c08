//! What a chunk of rows finds stored, in a few queries for the whole chunk: the contacts its
//! addresses and external ids belong to (with what the import may compare and change), the
//! accounts its rows name, and the agents who may own contacts.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

use crate::domain::ContactForm;
use crate::entities::contact_identity::IdentityKind;
use crate::entities::{account, agent, contact, contact_identity};

/// A contact a row matched, as the import reads and changes it.
#[derive(Clone, Debug)]
pub struct Matched {
    pub model: contact::Model,
    pub account_name: Option<String>,
    pub secondary: Vec<String>,
}

impl Matched {
    /// Its values as the contact form holds them.
    #[must_use]
    pub fn form(&self) -> ContactForm {
        let m = &self.model;
        ContactForm {
            first_name: m.first_name.clone(),
            last_name: Some(m.last_name.clone()),
            email: m.email.clone(),
            secondary_emails: Some(self.secondary.join("\n")),
            phone: m.phone.clone(),
            mobile: m.mobile.clone(),
            account: self.account_name.clone(),
            owner: m.owner_id.map(|id| id.to_string()),
            title: m.title.clone(),
            description: m.description.clone(),
        }
    }
}

/// The live contacts the chunk's addresses and external ids belong to.
#[derive(Debug, Default)]
pub struct Stored {
    pub by_email: HashMap<String, i64>,
    pub by_external: HashMap<String, i64>,
    pub contacts: HashMap<i64, Matched>,
    /// Live accounts by lowercased name (several when names repeat).
    pub accounts: HashMap<String, Vec<account::Model>>,
    /// Addresses of contacts in the Recycle Bin: they stay theirs.
    pub binned: std::collections::HashSet<String>,
}

/// Values an `IN (…)` list takes at most per statement, well within both databases' limits on
/// parameters (SQLite 32,766, PostgreSQL 65,535).
const IN_LIST: usize = 5_000;

impl Stored {
    /// Looks up `emails` (lowercase), `external` ids and account `names` (lowercase).
    ///
    /// # Errors
    /// Database errors.
    pub async fn find<C: ConnectionTrait>(
        conn: &C,
        emails: Vec<String>,
        external: Vec<String>,
        names: Vec<String>,
    ) -> Result<Self, DbErr> {
        let mut stored = Self::default();
        for slice in emails.chunks(IN_LIST) {
            stored.by_email.extend(contacts_by_email(conn, slice).await?);
        }
        for slice in external.chunks(IN_LIST) {
            let found: Vec<(Option<String>, i64)> = contact::Entity::find()
                .select_only()
                .columns([contact::Column::ExternalId, contact::Column::Id])
                .filter(contact::Column::ExternalId.is_in(slice.iter().cloned()))
                .filter(contact::Column::Trashed.eq(false))
                .into_tuple()
                .all(conn)
                .await?;
            stored.by_external.extend(found.into_iter().filter_map(|(e, id)| e.map(|e| (e, id))));
        }
        let mut ids: Vec<i64> = stored.by_email.values().chain(stored.by_external.values()).copied().collect();
        ids.sort_unstable();
        ids.dedup();
        for slice in ids.chunks(IN_LIST) {
            stored.load_contacts(conn, slice).await?;
        }
        stored.set_binned();
        for slice in names.chunks(IN_LIST) {
            let found = account::Entity::find()
                .filter(account::Column::NameSort.is_in(slice.iter().cloned()))
                .filter(account::Column::Trashed.eq(false))
                .all(conn)
                .await?;
            for a in found {
                stored.accounts.entry(a.name_sort.clone()).or_default().push(a);
            }
        }
        Ok(stored)
    }

    async fn load_contacts<C: ConnectionTrait>(&mut self, conn: &C, ids: &[i64]) -> Result<(), DbErr> {
        let models = contact::Entity::find()
            .filter(contact::Column::Id.is_in(ids.iter().copied()))
            .filter(contact::Column::Trashed.eq(false))
            .all(conn)
            .await?;
        let account_ids: Vec<i64> = models.iter().filter_map(|m| m.account_id).collect();
        let names: HashMap<i64, String> = if account_ids.is_empty() {
            HashMap::new()
        } else {
            account::Entity::find()
                .select_only()
                .columns([account::Column::Id, account::Column::Name])
                .filter(account::Column::Id.is_in(account_ids))
                .into_tuple()
                .all(conn)
                .await?
                .into_iter()
                .collect()
        };
        let secondary: Vec<(i64, String)> = contact_identity::Entity::find()
            .select_only()
            .columns([contact_identity::Column::ContactId, contact_identity::Column::Value])
            .filter(contact_identity::Column::ContactId.is_in(ids.iter().copied()))
            .filter(contact_identity::Column::Kind.eq(IdentityKind::Email))
            .filter(contact_identity::Column::IsPrimary.eq(false))
            .into_tuple()
            .all(conn)
            .await?;
        for model in models {
            let account_name = model.account_id.and_then(|id| names.get(&id).cloned());
            let secondary = secondary.iter().filter(|(c, _)| *c == model.id).map(|(_, e)| e.clone()).collect();
            self.contacts.insert(model.id, Matched { model, account_name, secondary });
        }
        Ok(())
    }

    /// An address of a contact in the Recycle Bin matches nothing live, and no one else may
    /// take it while the contact can still be restored.
    fn set_binned(&mut self) {
        let live = &self.contacts;
        let binned = &mut self.binned;
        self.by_email.retain(|email, id| {
            let keep = live.contains_key(id);
            if !keep {
                binned.insert(email.clone());
            }
            keep
        });
    }
}

/// The contacts `emails` (lowercase, none holding whitespace) belong to. On PostgreSQL each
/// address is looked up on its own through the identities' index: a long `IN (…)` list over a
/// table that grows with the import (and whose statistics lag behind it) is planned as a scan
/// of the whole table, once per chunk.
async fn contacts_by_email<C: ConnectionTrait>(conn: &C, emails: &[String]) -> Result<Vec<(String, i64)>, DbErr> {
    let backend = conn.get_database_backend();
    if backend != sea_orm::DbBackend::Postgres {
        return contact_identity::Entity::find()
            .select_only()
            .columns([contact_identity::Column::Value, contact_identity::Column::ContactId])
            .filter(contact_identity::Column::Kind.eq(IdentityKind::Email))
            .filter(contact_identity::Column::Value.is_in(emails.iter().cloned()))
            .into_tuple()
            .all(conn)
            .await;
    }
    let rows = conn
        .query_all(sea_orm::Statement::from_sql_and_values(
            backend,
            "SELECT v.value, (SELECT i.contact_id FROM contact_identities i \
               WHERE i.kind = 'email' AND i.value = v.value LIMIT 1) AS contact_id \
             FROM unnest(string_to_array($1, ' ')) AS v(value)",
            [emails.join(" ").into()],
        ))
        .await?;
    let mut found = Vec::new();
    for row in rows {
        if let Some(id) = row.try_get::<Option<i64>>("", "contact_id")? {
            found.push((row.try_get::<String>("", "value")?, id));
        }
    }
    Ok(found)
}

/// The active agents a row may name as Contact Owner, by address or by name.
#[derive(Debug, Default)]
pub struct Owners {
    by_email: HashMap<String, agent::Model>,
    by_name: HashMap<String, Vec<agent::Model>>,
}

impl Owners {
    /// Every active agent (a help desk has tens or hundreds).
    ///
    /// # Errors
    /// Database errors.
    pub async fn load<C: ConnectionTrait>(conn: &C) -> Result<Self, DbErr> {
        let mut owners = Self::default();
        for a in agent::Entity::find().filter(agent::Column::Active.eq(true)).all(conn).await? {
            owners.by_name.entry(a.name.trim().to_lowercase()).or_default().push(a.clone());
            owners.by_email.insert(a.email.to_lowercase(), a);
        }
        Ok(owners)
    }

    /// The agent `text` names, by address or by name.
    ///
    /// # Errors
    /// Why no single agent is meant.
    pub fn find(&self, text: &str) -> Result<&agent::Model, String> {
        let key = text.trim().to_lowercase();
        if let Some(a) = self.by_email.get(&key) {
            return Ok(a);
        }
        match self.by_name.get(&key).map(Vec::as_slice) {
            Some([one]) => Ok(one),
            Some([_, _, ..]) => {
                Err(format!("Several agents are named \u{201c}{text}\u{201d}; use the agent's email address."))
            }
            _ => Err(format!("No active agent has the address or name \u{201c}{text}\u{201d}.")),
        }
    }

    /// The agent with id `id`, if active.
    #[must_use]
    pub fn by_id(&self, id: i64) -> Option<&agent::Model> {
        self.by_email.values().find(|a| a.id == id)
    }
}
