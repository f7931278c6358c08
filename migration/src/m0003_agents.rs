//! Agents: the support people who log into the console.

use sea_orm_migration::prelude::*;

use crate::columns::{id, sort_key, timestamp};
use crate::m0002_profiles::Profiles;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Agents {
    Table,
    Id,
    Name,
    NameSort,
    Email,
    PasswordHash,
    ProfileId,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Agents::Table)
                    .col(id(Agents::Id))
                    .col(ColumnDef::new(Agents::Name).string().not_null())
                    .col(sort_key(manager, Agents::NameSort))
                    .col(ColumnDef::new(Agents::Email).string().not_null().unique_key())
                    .col(ColumnDef::new(Agents::PasswordHash).string().not_null())
                    .col(ColumnDef::new(Agents::ProfileId).big_integer().not_null())
                    .col(ColumnDef::new(Agents::Active).boolean().not_null().default(true))
                    .col(timestamp(Agents::CreatedAt))
                    .col(timestamp(Agents::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create().from(Agents::Table, Agents::ProfileId).to(Profiles::Table, Profiles::Id),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Agents::Table).to_owned()).await
    }
}
