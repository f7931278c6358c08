//! Profiles: what their agents may do, per module and per field.

use sea_orm_migration::prelude::*;

use crate::columns::{id, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Profiles {
    Table,
    Id,
    Name,
    BuiltIn,
    Permissions,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Profiles::Table)
                    .col(id(Profiles::Id))
                    .col(ColumnDef::new(Profiles::Name).string().not_null().unique_key())
                    .col(ColumnDef::new(Profiles::BuiltIn).string().null().unique_key())
                    .col(ColumnDef::new(Profiles::Permissions).text().not_null())
                    .col(timestamp(Profiles::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Profiles::Table).to_owned()).await
    }
}
