//! `contact_identities`: every way to reach a contact (email addresses, phone numbers, WhatsApp
//! accounts), one row each.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contact_identities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub contact_id: i64,
    pub kind: IdentityKind,
    /// A lowercase email address, an E.164 number, a WhatsApp id.
    pub value: String,
    /// The contact's primary email (the one in `contacts.email`).
    pub is_primary: bool,
    pub created_at: DateTimeUtc,
}

/// What kind of identity a row is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum IdentityKind {
    #[sea_orm(string_value = "email")]
    Email,
    #[sea_orm(string_value = "phone")]
    Phone,
    #[sea_orm(string_value = "mobile")]
    Mobile,
    /// A WhatsApp account by its phone number (E.164).
    #[sea_orm(string_value = "whatsapp")]
    WhatsApp,
    /// A WhatsApp account by its business-scoped user id (`US.1349...`), for users who hide
    /// their number behind a username: stored verbatim, never a phone number.
    #[sea_orm(string_value = "whatsapp_user")]
    WhatsAppUser,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::contact::Entity", from = "Column::ContactId", to = "super::contact::Column::Id")]
    Contact,
}

impl Related<super::contact::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Contact.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
