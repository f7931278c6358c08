//! What keeps inbound mail from being fetched twice or retried half: each mailbox remembers the
//! last IMAP UID it ingested (with the folder's UIDVALIDITY, which says whether UIDs still mean
//! the same messages), so a message someone read in a mail client before the poll is still
//! ingested; and a quarantined mail says whether it was kept whole or only its headers were.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Mailboxes {
    Table,
    UidValidity,
    LastUid,
}

#[derive(DeriveIden, Clone, Copy)]
enum Quarantine {
    Table,
    Whole,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one added column per ALTER TABLE.
        for col in [Mailboxes::UidValidity, Mailboxes::LastUid] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Mailboxes::Table)
                        .add_column(ColumnDef::new(col).big_integer().null())
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Quarantine::Table)
                    .add_column(ColumnDef::new(Quarantine::Whole).boolean().not_null().default(true))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Quarantine::Table).drop_column(Quarantine::Whole).to_owned()).await?;
        for col in [Mailboxes::LastUid, Mailboxes::UidValidity] {
            manager.alter_table(Table::alter().table(Mailboxes::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
