//! A contact's mergeable values, and writing them to the master: the account's and the owner's
//! names that its sort keys, search words and events need, read in one query each.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};

use crate::domain::PersonName;
use crate::entities::{account, agent, contact};
use crate::services::contacts::ContactRow;
use crate::services::events::{Change, Field};

/// A contact's values of [`FIELDS`] (account and owner by id), as a merge keeps and Undo merge
/// puts them back; with its Help Center state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Values {
    pub first_name: Option<String>,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub account_id: Option<i64>,
    pub owner_id: Option<i64>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub help_center_status: String,
    pub password_hash: Option<String>,
}

impl Values {
    /// What contact `c` holds.
    #[must_use]
    pub fn of(c: &contact::Model) -> Self {
        Self {
            first_name: c.first_name.clone(),
            last_name: c.last_name.clone(),
            email: c.email.clone(),
            phone: c.phone.clone(),
            mobile: c.mobile.clone(),
            account_id: c.account_id,
            owner_id: c.owner_id,
            title: c.title.clone(),
            description: c.description.clone(),
            help_center_status: c.help_center_status.clone(),
            password_hash: c.password_hash.clone(),
        }
    }

    /// What a contact row holds (without its password, which pages never read).
    #[must_use]
    pub fn of_row(c: &ContactRow) -> Self {
        Self {
            first_name: c.first_name.clone(),
            last_name: c.last_name.clone(),
            email: c.email.clone(),
            phone: c.phone.clone(),
            mobile: c.mobile.clone(),
            account_id: c.account_id,
            owner_id: c.owner_id,
            title: c.title.clone(),
            description: c.description.clone(),
            help_center_status: c.help_center_status.clone(),
            password_hash: None,
        }
    }

    /// Whether `field` has a value.
    #[must_use]
    pub fn has(&self, field: &str) -> bool {
        match field {
            "first_name" => self.first_name.is_some(),
            "last_name" => !self.last_name.is_empty(),
            "email" => self.email.is_some(),
            "phone" => self.phone.is_some(),
            "mobile" => self.mobile.is_some(),
            "account" => self.account_id.is_some(),
            "owner" => self.owner_id.is_some(),
            "title" => self.title.is_some(),
            "description" => self.description.is_some(),
            _ => false,
        }
    }

    /// Takes `field`'s value from `other`.
    pub fn take(&mut self, field: &str, other: &Self) {
        match field {
            "first_name" => self.first_name.clone_from(&other.first_name),
            "last_name" => self.last_name.clone_from(&other.last_name),
            "email" => self.email.clone_from(&other.email),
            "phone" => self.phone.clone_from(&other.phone),
            "mobile" => self.mobile.clone_from(&other.mobile),
            "account" => self.account_id = other.account_id,
            "owner" => self.owner_id = other.owner_id,
            "title" => self.title.clone_from(&other.title),
            "description" => self.description.clone_from(&other.description),
            _ => {}
        }
    }
}

/// The live accounts and the agents a merge's values name: (id, name, sort key).
#[derive(Clone, Debug, Default)]
pub(super) struct Names {
    accounts: Vec<(i64, String, String)>,
    agents: Vec<(i64, String, String)>,
}

impl Names {
    /// The names of the accounts and owners of `values` and of `also`.
    pub async fn load<C: ConnectionTrait>(
        conn: &C,
        values: &[(i64, Values)],
        also: &Values,
    ) -> Result<Self, sea_orm::DbErr> {
        let all = || values.iter().map(|(_, v)| v).chain(std::iter::once(also));
        let accounts = account::Entity::find()
            .filter(account::Column::Id.is_in(all().filter_map(|v| v.account_id).collect::<Vec<_>>()))
            .filter(account::Column::Trashed.eq(false))
            .all(conn)
            .await?;
        let agents = agent::Entity::find()
            .filter(agent::Column::Id.is_in(all().filter_map(|v| v.owner_id).collect::<Vec<_>>()))
            .all(conn)
            .await?;
        Ok(Self {
            accounts: accounts.into_iter().map(|a| (a.id, a.name, a.name_sort)).collect(),
            agents: agents.into_iter().map(|a| (a.id, a.name, a.name_sort)).collect(),
        })
    }

    fn find(list: &[(i64, String, String)], id: Option<i64>) -> Option<&(i64, String, String)> {
        id.and_then(|id| list.iter().find(|(i, _, _)| *i == id))
    }

    /// The name of live account `id`.
    pub fn account_name(&self, id: Option<i64>) -> Option<&str> {
        Self::find(&self.accounts, id).map(|a| a.1.as_str())
    }

    fn owner_name(&self, id: Option<i64>) -> Option<&str> {
        Self::find(&self.agents, id).map(|a| a.1.as_str())
    }

    /// The changes from `before` to `after`, as a contact's event records them (account and
    /// owner by name).
    pub fn changes(&self, before: &Values, after: &Values) -> Vec<Change> {
        let text = |v: Option<&str>| v.map(str::to_owned);
        let pairs = [
            (Field::FirstName, before.first_name.clone(), after.first_name.clone()),
            (Field::LastName, Some(before.last_name.clone()), Some(after.last_name.clone())),
            (Field::Email, before.email.clone(), after.email.clone()),
            (Field::Phone, before.phone.clone(), after.phone.clone()),
            (Field::Mobile, before.mobile.clone(), after.mobile.clone()),
            (Field::Account, text(self.account_name(before.account_id)), text(self.account_name(after.account_id))),
            (Field::Owner, text(self.owner_name(before.owner_id)), text(self.owner_name(after.owner_id))),
            (Field::Title, before.title.clone(), after.title.clone()),
            (Field::Description, before.description.clone(), after.description.clone()),
            (Field::HelpCenter, Some(before.help_center_status.clone()), Some(after.help_center_status.clone())),
        ];
        pairs.into_iter().filter(|(_, old, new)| old != new).map(|(f, old, new)| Change::new(f, old, new)).collect()
    }
}

/// Writes `values` to contact `c` with its sort keys (an account no longer live is left out);
/// the contact as saved.
pub(super) async fn save<C: ConnectionTrait>(
    conn: &C,
    c: contact::Model,
    values: &Values,
    names: &Names,
    now: DateTime<Utc>,
) -> Result<contact::Model, sea_orm::DbErr> {
    let account = Names::find(&names.accounts, values.account_id);
    let owner = Names::find(&names.agents, values.owner_id);
    let mut row: contact::ActiveModel = c.into();
    row.name_sort = Set(PersonName { first: values.first_name.as_deref(), last: &values.last_name }.sort_key());
    row.first_name = Set(values.first_name.clone());
    row.last_name = Set(values.last_name.clone());
    row.email_sort = Set(values.email.clone().unwrap_or_default());
    row.email = Set(values.email.clone());
    row.phone = Set(values.phone.clone());
    row.mobile = Set(values.mobile.clone());
    row.account_id = Set(account.map(|a| a.0));
    row.account_sort = Set(account.map(|a| a.2.clone()).unwrap_or_default());
    row.owner_id = Set(values.owner_id);
    row.owner_sort = Set(owner.map(|a| a.2.clone()).unwrap_or_default());
    row.title = Set(values.title.clone());
    row.description = Set(values.description.clone());
    row.help_center_status = Set(values.help_center_status.clone());
    row.password_hash = Set(values.password_hash.clone());
    row.updated_at = Set(now);
    row.update(conn).await
}
