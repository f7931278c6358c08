//! The history of changes to a contact: who changed which field from what to what, and when.

use sea_orm_migration::prelude::*;

use crate::columns::{id, index, timestamp};
use crate::m0007_contacts::Contacts;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum ContactHistory {
    Table,
    Id,
    ContactId,
    AgentId,
    Field,
    OldValue,
    NewValue,
    At,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ContactHistory::Table)
                    .col(id(ContactHistory::Id))
                    .col(ColumnDef::new(ContactHistory::ContactId).big_integer().not_null())
                    .col(ColumnDef::new(ContactHistory::AgentId).big_integer().null())
                    .col(ColumnDef::new(ContactHistory::Field).string().not_null())
                    .col(ColumnDef::new(ContactHistory::OldValue).text().null())
                    .col(ColumnDef::new(ContactHistory::NewValue).text().null())
                    .col(timestamp(ContactHistory::At))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ContactHistory::Table, ContactHistory::ContactId)
                            .to(Contacts::Table, Contacts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_contact_history_contact",
            ContactHistory::Table,
            vec![ContactHistory::ContactId, ContactHistory::At],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ContactHistory::Table).to_owned()).await
    }
}
