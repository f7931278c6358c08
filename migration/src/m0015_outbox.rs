//! The outbox: mail to send. A request that triggers an email only records it here; a worker
//! sends it with retries and back-off.

use sea_orm_migration::prelude::*;

use crate::columns::{id, index, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum Outbox {
    Table,
    Id,
    MessageId,
    ToAddress,
    ToName,
    Subject,
    BodyText,
    InReplyTo,
    References,
    Status,
    Attempts,
    NextAttemptAt,
    LockedUntil,
    LastError,
    CreatedAt,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(id(Outbox::Id))
                    .col(ColumnDef::new(Outbox::MessageId).string().not_null().unique_key())
                    .col(ColumnDef::new(Outbox::ToAddress).string().not_null())
                    .col(ColumnDef::new(Outbox::ToName).string().null())
                    .col(ColumnDef::new(Outbox::Subject).string().not_null())
                    .col(ColumnDef::new(Outbox::BodyText).text().not_null())
                    .col(ColumnDef::new(Outbox::InReplyTo).string().null())
                    .col(ColumnDef::new(Outbox::References).text().null())
                    .col(ColumnDef::new(Outbox::Status).string().not_null())
                    .col(ColumnDef::new(Outbox::Attempts).integer().not_null().default(0))
                    .col(timestamp(Outbox::NextAttemptAt))
                    .col(ColumnDef::new(Outbox::LockedUntil).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Outbox::LastError).text().null())
                    .col(timestamp(Outbox::CreatedAt))
                    .col(ColumnDef::new(Outbox::SentAt).timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_outbox_due", Outbox::Table, vec![Outbox::Status, Outbox::NextAttemptAt]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Outbox::Table).to_owned()).await
    }
}
