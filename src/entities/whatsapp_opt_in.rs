//! `whatsapp_opt_ins`: a contact's consent to business-initiated WhatsApp messages.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "whatsapp_opt_ins")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub contact_id: i64,
    /// The WhatsApp identity it covers: an E.164 number or a business-scoped user id.
    pub customer: String,
    pub given_at: DateTimeUtc,
    /// How it was given, in words.
    pub how: String,
    /// The agent who recorded it; `None` when a message asked for it.
    pub agent_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
