//! `whatsapp_conversations`: one per WhatsApp ticket: the business number, the customer and
//! when the customer last wrote (the 24-hour window).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "whatsapp_conversations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub ticket_id: i64,
    pub number_id: i64,
    /// None until the ticket is linked to a contact (a WhatsApp message to a new number sent by
    /// an agent who may not create contacts).
    pub contact_id: Option<i64>,
    /// Whom replies go to: an E.164 number or a business-scoped user id.
    pub customer: String,
    pub last_inbound_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
