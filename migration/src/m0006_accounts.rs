//! Accounts: the customers' companies.

use sea_orm_migration::prelude::*;

use crate::columns::{id, index, sort_key, timestamp, trashed};
use crate::m0003_agents::Agents;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum Accounts {
    Table,
    Id,
    Name,
    NameSort,
    Website,
    Phone,
    OwnerId,
    Description,
    CreatedBy,
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
                    .table(Accounts::Table)
                    .col(id(Accounts::Id))
                    .col(ColumnDef::new(Accounts::Name).string().not_null())
                    .col(sort_key(manager, Accounts::NameSort))
                    .col(ColumnDef::new(Accounts::Website).string().null())
                    .col(ColumnDef::new(Accounts::Phone).string().null())
                    .col(ColumnDef::new(Accounts::OwnerId).big_integer().null())
                    .col(ColumnDef::new(Accounts::Description).text().null())
                    .col(ColumnDef::new(Accounts::CreatedBy).big_integer().null())
                    .col(timestamp(Accounts::CreatedAt))
                    .col(timestamp(Accounts::UpdatedAt))
                    .col(trashed(Accounts::Trashed))
                    .col(ColumnDef::new(Accounts::RecycleEntryId).big_integer().null())
                    .foreign_key(
                        ForeignKey::create().from(Accounts::Table, Accounts::OwnerId).to(Agents::Table, Agents::Id),
                    )
                    .to_owned(),
            )
            .await?;
        indexes(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Accounts::Table).to_owned()).await
    }
}

/// The indexes behind every filter and sort the pages offer.
async fn indexes(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use Accounts::*;
    index(manager, "idx_accounts_name", Table, vec![Trashed, NameSort, Id]).await?;
    index(manager, "idx_accounts_created", Table, vec![Trashed, CreatedAt, Id]).await?;
    index(manager, "idx_accounts_recycle", Table, vec![RecycleEntryId]).await
}
