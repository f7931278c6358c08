//! `whatsapp_numbers`: the WhatsApp business numbers connected through the Cloud API.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "whatsapp_numbers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub phone_number_id: String,
    pub waba_id: String,
    /// Sealed with the instance's secret key.
    pub access_token: String,
    /// Sealed with the instance's secret key.
    pub app_secret: String,
    pub graph_version: String,
    /// The path segment of the Callback URL (`/webhooks/whatsapp/{key}`).
    pub webhook_key: String,
    pub verify_token: String,
    pub display_phone_number: Option<String>,
    pub verified_name: Option<String>,
    pub quality_rating: Option<String>,
    /// Meta refused the token (codes 0, 190): what it said.
    pub token_error: Option<String>,
    pub templates_synced_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
