//! `contacts`: end-users, with denormalised sort keys for the list view.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contacts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub first_name: Option<String>,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub account_id: Option<i64>,
    pub owner_id: Option<i64>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub source: String,
    pub help_center_status: String,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub trashed: bool,
    pub recycle_entry_id: Option<i64>,
    pub name_sort: String,
    pub email_sort: String,
    pub account_sort: String,
    pub owner_sort: String,
    /// Argon2id hash of the Help Center password; none until the contact sets one.
    pub password_hash: Option<String>,
    /// The import that created it (Revert moves such contacts to the Recycle Bin).
    pub import_id: Option<i64>,
    /// Its id in the system it was imported from, which a later import matches it by.
    pub external_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::account::Entity", from = "Column::AccountId", to = "super::account::Column::Id")]
    Account,
    #[sea_orm(belongs_to = "super::agent::Entity", from = "Column::OwnerId", to = "super::agent::Column::Id")]
    Owner,
}

impl Related<super::account::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Account.def()
    }
}

impl Related<super::agent::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Owner.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
