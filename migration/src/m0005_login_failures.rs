//! Failed login attempts, counted per account and per client address to throttle guessing.

use sea_orm_migration::prelude::*;

use crate::columns::{id, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum LoginFailures {
    Table,
    Id,
    Email,
    ClientIp,
    At,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginFailures::Table)
                    .col(id(LoginFailures::Id))
                    .col(ColumnDef::new(LoginFailures::Email).string().not_null())
                    .col(ColumnDef::new(LoginFailures::ClientIp).string().not_null())
                    .col(timestamp(LoginFailures::At))
                    .to_owned(),
            )
            .await?;
        for (name, col) in
            [("idx_login_failures_email", LoginFailures::Email), ("idx_login_failures_ip", LoginFailures::ClientIp)]
        {
            manager
                .create_index(
                    Index::create().name(name).table(LoginFailures::Table).col(col).col(LoginFailures::At).to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(LoginFailures::Table).to_owned()).await
    }
}
