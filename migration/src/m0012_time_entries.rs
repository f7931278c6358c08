//! Time entries: time agents spent on a ticket, kept against its contact too.

use sea_orm_migration::prelude::*;

use crate::columns::{id, index, timestamp, trashed};
use crate::m0007_contacts::Contacts;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum TimeEntries {
    Table,
    Id,
    ContactId,
    TicketId,
    AgentId,
    Minutes,
    Note,
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
                    .table(TimeEntries::Table)
                    .col(id(TimeEntries::Id))
                    .col(ColumnDef::new(TimeEntries::ContactId).big_integer().not_null())
                    .col(ColumnDef::new(TimeEntries::TicketId).big_integer().null())
                    .col(ColumnDef::new(TimeEntries::AgentId).big_integer().null())
                    .col(ColumnDef::new(TimeEntries::Minutes).integer().not_null())
                    .col(ColumnDef::new(TimeEntries::Note).string().null())
                    .col(timestamp(TimeEntries::CreatedAt))
                    .col(trashed(TimeEntries::Trashed))
                    .col(ColumnDef::new(TimeEntries::RecycleEntryId).big_integer().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(TimeEntries::Table, TimeEntries::ContactId)
                            .to(Contacts::Table, Contacts::Id),
                    )
                    .to_owned(),
            )
            .await?;
        indexes(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(TimeEntries::Table).to_owned()).await
    }
}

/// The indexes behind every filter and sort the pages offer.
async fn indexes(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use TimeEntries::*;
    index(manager, "idx_time_entries_contact", Table, vec![ContactId, Trashed, CreatedAt]).await?;
    index(manager, "idx_time_entries_recycle", Table, vec![RecycleEntryId]).await
}
