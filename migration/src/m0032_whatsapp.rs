//! The WhatsApp channel: the connected business numbers (their Access Token and App Secret
//! sealed with the instance's key), the approved templates read from Meta, every WhatsApp
//! message in or out with Meta's id (`wamid`, stored once) and its state, one conversation per
//! WhatsApp ticket (which number, which customer, when the customer last wrote: the 24-hour
//! window), and the opt-ins contacts gave for business-initiated messages.
//!
//! A business-scoped user id (`whatsapp_user`, WhatsApp's usernames) names one person like an
//! email address does: the unique index over identities gains that kind.

use sea_orm_migration::prelude::*;

use crate::columns::{id, index, timestamp};
use crate::m0007_contacts::Contacts;
use crate::m0009_tickets::Tickets;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum WhatsappNumbers {
    Table,
    Id,
    Name,
    PhoneNumberId,
    WabaId,
    AccessToken,
    AppSecret,
    GraphVersion,
    WebhookKey,
    VerifyToken,
    DisplayPhoneNumber,
    VerifiedName,
    QualityRating,
    TokenError,
    TemplatesSyncedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum WhatsappTemplates {
    Table,
    Id,
    NumberId,
    Name,
    Language,
    Category,
    Status,
    ParameterFormat,
    Components,
    SyncedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum WhatsappMessages {
    Table,
    Id,
    Wamid,
    NumberId,
    TicketId,
    MessageId,
    DeliveryId,
    Direction,
    Kind,
    State,
    ErrorCode,
    ErrorReason,
    MediaId,
    MediaState,
    MediaAttempts,
    MediaNextAt,
    SentAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum WhatsappConversations {
    Table,
    TicketId,
    NumberId,
    ContactId,
    Customer,
    LastInboundAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum WhatsappOptIns {
    Table,
    Id,
    ContactId,
    Customer,
    GivenAt,
    How,
    AgentId,
}

fn cascade<T: IntoIden + 'static, C: IntoIden + 'static>(
    from: T,
    column: C,
    to: impl IntoIden + 'static,
) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from, column).to(to, Alias::new("id")).on_delete(ForeignKeyAction::Cascade).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use WhatsappNumbers as N;
        manager
            .create_table(
                Table::create()
                    .table(N::Table)
                    .col(id(N::Id))
                    .col(ColumnDef::new(N::Name).string().not_null())
                    .col(ColumnDef::new(N::PhoneNumberId).string().not_null().unique_key())
                    .col(ColumnDef::new(N::WabaId).string().not_null())
                    // Both sealed with the instance's secret key (see `crate::secrets`).
                    .col(ColumnDef::new(N::AccessToken).text().not_null())
                    .col(ColumnDef::new(N::AppSecret).text().not_null())
                    .col(ColumnDef::new(N::GraphVersion).string().not_null())
                    // The unguessable path segment of the number's Callback URL.
                    .col(ColumnDef::new(N::WebhookKey).string().not_null().unique_key())
                    .col(ColumnDef::new(N::VerifyToken).string().not_null())
                    .col(ColumnDef::new(N::DisplayPhoneNumber).string().null())
                    .col(ColumnDef::new(N::VerifiedName).string().null())
                    .col(ColumnDef::new(N::QualityRating).string().null())
                    // Set when Meta refused the token (codes 0, 190): the number needs a new one.
                    .col(ColumnDef::new(N::TokenError).text().null())
                    .col(ColumnDef::new(N::TemplatesSyncedAt).timestamp_with_time_zone().null())
                    .col(timestamp(N::CreatedAt))
                    .col(timestamp(N::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        use WhatsappTemplates as T;
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .col(id(T::Id))
                    .col(ColumnDef::new(T::NumberId).big_integer().not_null())
                    .col(ColumnDef::new(T::Name).string().not_null())
                    .col(ColumnDef::new(T::Language).string().not_null())
                    .col(ColumnDef::new(T::Category).string().not_null())
                    .col(ColumnDef::new(T::Status).string().not_null())
                    .col(ColumnDef::new(T::ParameterFormat).string().not_null())
                    // The template's components as Meta gave them (JSON).
                    .col(ColumnDef::new(T::Components).text().not_null())
                    .col(timestamp(T::SyncedAt))
                    .foreign_key(&mut cascade(T::Table, T::NumberId, N::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_whatsapp_templates_unique")
                    .table(T::Table)
                    .col(T::NumberId)
                    .col(T::Name)
                    .col(T::Language)
                    .unique()
                    .to_owned(),
            )
            .await?;

        use WhatsappMessages as M;
        manager
            .create_table(
                Table::create()
                    .table(M::Table)
                    .col(id(M::Id))
                    // Meta's id: unique, so a message delivered twice is stored once; null for an
                    // outgoing message until Meta accepts it.
                    .col(ColumnDef::new(M::Wamid).string().null().unique_key())
                    .col(ColumnDef::new(M::NumberId).big_integer().not_null())
                    .col(ColumnDef::new(M::TicketId).big_integer().null())
                    // The thread's message it is shown as.
                    .col(ColumnDef::new(M::MessageId).big_integer().null())
                    // Our id of an outgoing message (the outbox row's), echoed back by Meta in
                    // `biz_opaque_callback_data`.
                    .col(ColumnDef::new(M::DeliveryId).string().null().unique_key())
                    .col(ColumnDef::new(M::Direction).string().not_null())
                    .col(ColumnDef::new(M::Kind).string().not_null())
                    // Outgoing: queued, accepted, sent, delivered, read, failed.
                    .col(ColumnDef::new(M::State).string().null())
                    .col(ColumnDef::new(M::ErrorCode).big_integer().null())
                    .col(ColumnDef::new(M::ErrorReason).text().null())
                    // Media to fetch from the API: its id, and pending / stored / failed.
                    .col(ColumnDef::new(M::MediaId).string().null())
                    .col(ColumnDef::new(M::MediaState).string().null())
                    .col(ColumnDef::new(M::MediaAttempts).integer().not_null().default(0))
                    .col(ColumnDef::new(M::MediaNextAt).timestamp_with_time_zone().null())
                    // Meta's timestamp of the message or of its latest state.
                    .col(ColumnDef::new(M::SentAt).timestamp_with_time_zone().null())
                    .col(timestamp(M::CreatedAt))
                    .col(timestamp(M::UpdatedAt))
                    .foreign_key(&mut cascade(M::Table, M::NumberId, N::Table))
                    .foreign_key(&mut cascade(M::Table, M::TicketId, Tickets::Table))
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_whatsapp_messages_ticket", M::Table, vec![M::TicketId]).await?;
        index(manager, "idx_whatsapp_messages_message", M::Table, vec![M::MessageId]).await?;
        index(manager, "idx_whatsapp_messages_media", M::Table, vec![M::MediaState, M::MediaNextAt]).await?;

        use WhatsappConversations as C;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .col(ColumnDef::new(C::TicketId).big_integer().not_null().primary_key())
                    .col(ColumnDef::new(C::NumberId).big_integer().not_null())
                    .col(ColumnDef::new(C::ContactId).big_integer().not_null())
                    // Whom replies go to: an E.164 number, or a business-scoped user id.
                    .col(ColumnDef::new(C::Customer).string().not_null())
                    // The customer's latest message (Meta's timestamp): the 24-hour window.
                    .col(ColumnDef::new(C::LastInboundAt).timestamp_with_time_zone().null())
                    .foreign_key(&mut cascade(C::Table, C::TicketId, Tickets::Table))
                    .foreign_key(&mut cascade(C::Table, C::NumberId, N::Table))
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_whatsapp_conversations_customer", C::Table, vec![C::NumberId, C::Customer]).await?;
        index(manager, "idx_whatsapp_conversations_contact", C::Table, vec![C::ContactId]).await?;

        use WhatsappOptIns as O;
        manager
            .create_table(
                Table::create()
                    .table(O::Table)
                    .col(id(O::Id))
                    .col(ColumnDef::new(O::ContactId).big_integer().not_null())
                    .col(ColumnDef::new(O::Customer).string().not_null())
                    .col(timestamp(O::GivenAt))
                    .col(ColumnDef::new(O::How).text().not_null())
                    .col(ColumnDef::new(O::AgentId).big_integer().null())
                    .foreign_key(&mut cascade(O::Table, O::ContactId, Contacts::Table))
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_whatsapp_opt_ins_contact", O::Table, vec![O::ContactId, O::Customer]).await?;
        index(manager, "idx_whatsapp_opt_ins_customer", O::Table, vec![O::Customer]).await?;

        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX idx_contact_identities_unique").await?;
        // IF NOT EXISTS: on SQLite, sqlx steps a statement again when the schema changed under
        // it (the DROP just before), and a second CREATE of the same name would fail.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX IF NOT EXISTS idx_contact_identities_unique ON contact_identities (kind, value) \
             WHERE kind IN ('email', 'whatsapp', 'whatsapp_user')",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX idx_contact_identities_unique").await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX IF NOT EXISTS idx_contact_identities_unique ON contact_identities (kind, value) \
             WHERE kind IN ('email', 'whatsapp')",
        )
        .await?;
        for table in [
            "whatsapp_opt_ins",
            "whatsapp_conversations",
            "whatsapp_messages",
            "whatsapp_templates",
            "whatsapp_numbers",
        ] {
            manager.drop_table(Table::drop().table(Alias::new(table)).to_owned()).await?;
        }
        Ok(())
    }
}
