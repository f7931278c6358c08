//! Deliveries by channel: the outbox carries, besides mail, messages for other channels. Each
//! row says its channel (`email` for every row queued before) and, in `payload`, what that
//! channel needs beyond the recipient and the text (for WhatsApp, the Cloud API's message
//! object). `to_address` is the recipient on the channel: an address, or an E.164 number.
//!
//! The index the senders claim by gains the channel first: each channel's sender reads its own
//! due rows only.

use sea_orm_migration::prelude::*;

use crate::columns::index;
use crate::m0015_outbox::Outbox;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Extra {
    Channel,
    Payload,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            ColumnDef::new(Extra::Channel).string().not_null().default("email").to_owned(),
            ColumnDef::new(Extra::Payload).text().null().to_owned(),
        ] {
            manager.alter_table(Table::alter().table(Outbox::Table).add_column(col).to_owned()).await?;
        }
        manager.drop_index(Index::drop().name("idx_outbox_due").table(Outbox::Table).to_owned()).await?;
        index(
            manager,
            "idx_outbox_channel_due",
            Outbox::Table,
            vec![Extra::Channel.into_iden(), Outbox::Status.into_iden(), Outbox::NextAttemptAt.into_iden()],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("idx_outbox_channel_due").table(Outbox::Table).to_owned()).await?;
        index(manager, "idx_outbox_due", Outbox::Table, vec![Outbox::Status, Outbox::NextAttemptAt]).await?;
        for col in [Extra::Channel, Extra::Payload] {
            manager.alter_table(Table::alter().table(Outbox::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
