//! Recycle Bin entries: what was deleted, by whom, when, and what went with it.

use sea_orm_migration::prelude::*;

use crate::columns::{id, index, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum RecycleBin {
    Table,
    Id,
    Kind,
    ItemId,
    Label,
    DeletedBy,
    DeletedAt,
    Details,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RecycleBin::Table)
                    .col(id(RecycleBin::Id))
                    .col(ColumnDef::new(RecycleBin::Kind).string().not_null())
                    .col(ColumnDef::new(RecycleBin::ItemId).big_integer().not_null())
                    .col(ColumnDef::new(RecycleBin::Label).string().not_null())
                    .col(ColumnDef::new(RecycleBin::DeletedBy).big_integer().null())
                    .col(timestamp(RecycleBin::DeletedAt))
                    .col(ColumnDef::new(RecycleBin::Details).text().not_null())
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_recycle_bin_deleted_at", RecycleBin::Table, vec![RecycleBin::DeletedAt, RecycleBin::Id])
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(RecycleBin::Table).to_owned()).await
    }
}
