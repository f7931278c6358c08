//! Messages: the entries of a ticket's thread.

use sea_orm_migration::prelude::*;

use crate::columns::{id, index, timestamp};
use crate::m0009_tickets::Tickets;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum Messages {
    Table,
    Id,
    TicketId,
    AuthorKind,
    AuthorAgentId,
    Body,
    Internal,
    MessageId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Messages::Table)
                    .col(id(Messages::Id))
                    .col(ColumnDef::new(Messages::TicketId).big_integer().not_null())
                    .col(ColumnDef::new(Messages::AuthorKind).string().not_null())
                    .col(ColumnDef::new(Messages::AuthorAgentId).big_integer().null())
                    .col(ColumnDef::new(Messages::Body).text().not_null())
                    .col(ColumnDef::new(Messages::Internal).boolean().not_null().default(false))
                    .col(ColumnDef::new(Messages::MessageId).string().null().unique_key())
                    .col(timestamp(Messages::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Messages::Table, Messages::TicketId)
                            .to(Tickets::Table, Tickets::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_messages_ticket", Messages::Table, vec![Messages::TicketId, Messages::CreatedAt]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Messages::Table).to_owned()).await
    }
}
