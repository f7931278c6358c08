//! Server-side session state, so that logout and a password change end a session on every
//! instance.

use sea_orm_migration::prelude::*;

use crate::columns::timestamp;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum Sessions {
    Table,
    Id,
    AgentId,
    State,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(ColumnDef::new(Sessions::Id).string().not_null().primary_key())
                    .col(ColumnDef::new(Sessions::AgentId).big_integer().null())
                    .col(ColumnDef::new(Sessions::State).text().not_null())
                    .col(timestamp(Sessions::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [("idx_sessions_agent", Sessions::AgentId), ("idx_sessions_expires", Sessions::ExpiresAt)] {
            manager.create_index(Index::create().name(name).table(Sessions::Table).col(col).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Sessions::Table).to_owned()).await
    }
}
