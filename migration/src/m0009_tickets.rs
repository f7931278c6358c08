//! Tickets: requests from a contact.

use sea_orm_migration::prelude::*;

use crate::columns::{id, index, timestamp, trashed};
use crate::m0003_agents::Agents;
use crate::m0007_contacts::Contacts;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum Tickets {
    Table,
    Id,
    Number,
    ContactId,
    AccountId,
    Subject,
    Status,
    Channel,
    Priority,
    AssigneeId,
    CreatedAt,
    UpdatedAt,
    Trashed,
    RecycleEntryId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tickets::Table)
                    .col(id(Tickets::Id))
                    .col(ColumnDef::new(Tickets::Number).big_integer().not_null().unique_key())
                    .col(ColumnDef::new(Tickets::ContactId).big_integer().not_null())
                    .col(ColumnDef::new(Tickets::AccountId).big_integer().null())
                    .col(ColumnDef::new(Tickets::Subject).string().not_null())
                    .col(ColumnDef::new(Tickets::Status).string().not_null())
                    .col(ColumnDef::new(Tickets::Channel).string().not_null())
                    .col(ColumnDef::new(Tickets::Priority).string().not_null())
                    .col(ColumnDef::new(Tickets::AssigneeId).big_integer().null())
                    .col(timestamp(Tickets::CreatedAt))
                    .col(timestamp(Tickets::UpdatedAt))
                    .col(trashed(Tickets::Trashed))
                    .col(ColumnDef::new(Tickets::RecycleEntryId).big_integer().null())
                    .foreign_key(
                        ForeignKey::create().from(Tickets::Table, Tickets::ContactId).to(Contacts::Table, Contacts::Id),
                    )
                    .foreign_key(
                        ForeignKey::create().from(Tickets::Table, Tickets::AssigneeId).to(Agents::Table, Agents::Id),
                    )
                    .to_owned(),
            )
            .await?;
        indexes(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Tickets::Table).to_owned()).await
    }
}

/// The indexes behind every filter and sort the pages offer.
async fn indexes(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use Tickets::*;
    index(manager, "idx_tickets_contact", Table, vec![ContactId, Trashed, CreatedAt]).await?;
    index(manager, "idx_tickets_account", Table, vec![AccountId, Trashed, CreatedAt]).await?;
    index(manager, "idx_tickets_status", Table, vec![Trashed, Status, UpdatedAt]).await?;
    index(manager, "idx_tickets_recycle", Table, vec![RecycleEntryId]).await
}
