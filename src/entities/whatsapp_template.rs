//! `whatsapp_templates`: message templates read from Meta for a connected number.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "whatsapp_templates")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub number_id: i64,
    pub name: String,
    /// Meta's language code (`en_US`).
    pub language: String,
    pub category: String,
    /// `APPROVED`, `PAUSED`, `REJECTED`...: only approved ones can be sent.
    pub status: String,
    /// `POSITIONAL` (`{{1}}`) or `NAMED` (`{{first_name}}`).
    pub parameter_format: String,
    /// The components as Meta gave them (JSON).
    pub components: String,
    pub synced_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::whatsapp_number::Entity",
        from = "Column::NumberId",
        to = "super::whatsapp_number::Column::Id"
    )]
    Number,
}

impl Related<super::whatsapp_number::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Number.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
