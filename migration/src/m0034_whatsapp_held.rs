//! Inbound WhatsApp messages held back: a message that cannot become part of a ticket yet (its
//! sender is a contact in the Recycle Bin) is kept here, as Meta sent it, with the reason, until
//! an administrator retries it (or restoring the contact takes it) or deletes it. Meta's id is
//! unique, so a message Meta delivers again is held once. The sender's number and user id are
//! columns of their own so that restoring a contact finds its messages through an index.

use sea_orm_migration::prelude::*;

use crate::columns::{id, index, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum WhatsappHeldMessages {
    Table,
    Id,
    NumberId,
    Wamid,
    SenderPhone,
    SenderUserId,
    ProfileName,
    Raw,
    Reason,
    Attempts,
    ReceivedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum WhatsappNumbers {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use WhatsappHeldMessages as H;
        manager
            .create_table(
                Table::create()
                    .table(H::Table)
                    .col(id(H::Id))
                    // The number it came to: deleting the number deletes what it holds.
                    .col(ColumnDef::new(H::NumberId).big_integer().not_null())
                    .col(ColumnDef::new(H::Wamid).string().not_null().unique_key())
                    // E.164, as contact identities store it.
                    .col(ColumnDef::new(H::SenderPhone).string().null())
                    .col(ColumnDef::new(H::SenderUserId).string().null())
                    .col(ColumnDef::new(H::ProfileName).text().null())
                    // The message object as Meta sent it (JSON), part of a webhook body and so
                    // never larger than the largest body taken.
                    .col(ColumnDef::new(H::Raw).text().not_null())
                    .col(ColumnDef::new(H::Reason).text().not_null())
                    .col(ColumnDef::new(H::Attempts).integer().not_null().default(1))
                    .col(timestamp(H::ReceivedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(H::Table, H::NumberId)
                            .to(WhatsappNumbers::Table, WhatsappNumbers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_whatsapp_held_number", H::Table, vec![H::NumberId, H::Id]).await?;
        index(manager, "idx_whatsapp_held_phone", H::Table, vec![H::SenderPhone]).await?;
        index(manager, "idx_whatsapp_held_user", H::Table, vec![H::SenderUserId]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(WhatsappHeldMessages::Table).to_owned()).await
    }
}
