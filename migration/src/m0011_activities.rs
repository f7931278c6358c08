//! Activities: calls, tasks, events and notes logged against a contact (and maybe a ticket).

use sea_orm_migration::prelude::*;

use crate::columns::{id, index, timestamp, trashed};
use crate::m0007_contacts::Contacts;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum Activities {
    Table,
    Id,
    ContactId,
    TicketId,
    Kind,
    Subject,
    DueAt,
    Done,
    CreatedBy,
    CreatedAt,
    Trashed,
    RecycleEntryId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Activities::Table)
                    .col(id(Activities::Id))
                    .col(ColumnDef::new(Activities::ContactId).big_integer().not_null())
                    .col(ColumnDef::new(Activities::TicketId).big_integer().null())
                    .col(ColumnDef::new(Activities::Kind).string().not_null())
                    .col(ColumnDef::new(Activities::Subject).string().not_null())
                    .col(ColumnDef::new(Activities::DueAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Activities::Done).boolean().not_null().default(false))
                    .col(ColumnDef::new(Activities::CreatedBy).big_integer().null())
                    .col(timestamp(Activities::CreatedAt))
                    .col(trashed(Activities::Trashed))
                    .col(ColumnDef::new(Activities::RecycleEntryId).big_integer().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Activities::Table, Activities::ContactId)
                            .to(Contacts::Table, Contacts::Id),
                    )
                    .to_owned(),
            )
            .await?;
        indexes(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Activities::Table).to_owned()).await
    }
}

/// The indexes behind every filter and sort the pages offer.
async fn indexes(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use Activities::*;
    index(manager, "idx_activities_contact", Table, vec![ContactId, Trashed, CreatedAt]).await?;
    index(manager, "idx_activities_recycle", Table, vec![RecycleEntryId]).await
}
