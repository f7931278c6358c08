//! `contact_exports`: every export of contacts as CSV, who started it, when, what it asked for
//! (the view, search and sort of Contacts Home) and how many rows it wrote. The row is written
//! when the export starts (status `running`) and completed when it ends (`finished`, or
//! `interrupted` when the download stopped early), so that an export cut short is on record
//! too. Listed newest first by id (Export History); an agent's own through its index.

use sea_orm_migration::prelude::*;

use crate::columns::{id, index, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum ContactExports {
    Table,
    Id,
    AgentId,
    View,
    Sort,
    Descending,
    Search,
    RowCount,
    Status,
    StartedAt,
    FinishedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Agents {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ContactExports as E;
        manager
            .create_table(
                Table::create()
                    .table(E::Table)
                    .col(id(E::Id))
                    // Agents are deactivated, never deleted: the history keeps who exported.
                    .col(ColumnDef::new(E::AgentId).big_integer().not_null())
                    .col(ColumnDef::new(E::View).string().not_null())
                    .col(ColumnDef::new(E::Sort).string().not_null())
                    .col(ColumnDef::new(E::Descending).boolean().not_null())
                    .col(ColumnDef::new(E::Search).text().not_null().default(""))
                    .col(ColumnDef::new(E::RowCount).big_integer().not_null().default(0))
                    .col(ColumnDef::new(E::Status).string().not_null())
                    .col(timestamp(E::StartedAt))
                    .col(ColumnDef::new(E::FinishedAt).timestamp_with_time_zone().null())
                    .foreign_key(ForeignKey::create().from(E::Table, E::AgentId).to(Agents::Table, Agents::Id))
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_contact_exports_agent", E::Table, vec![E::AgentId, E::Id]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ContactExports::Table).to_owned()).await
    }
}
