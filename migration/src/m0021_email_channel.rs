//! The email channel: support mailboxes polled over IMAP, what inbound mail brings (the sender
//! on each message, its sanitised HTML, attachments, the people copied on a ticket), the
//! quarantine for mail that cannot be ingested, and what outgoing mail needs to be sent from the
//! address the customer wrote to.

use sea_orm_migration::prelude::*;

use crate::columns::{id, index, timestamp};
use crate::m0009_tickets::Tickets;
use crate::m0010_messages::Messages;
use crate::m0015_outbox::Outbox;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Mailboxes {
    Table,
    Id,
    Address,
    ImapHost,
    ImapPort,
    ImapSecurity,
    ImapUser,
    ImapPassword,
    Folder,
    PollSeconds,
    Active,
    LeaseUntil,
    LeaseHolder,
    LastPolledAt,
    LastError,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Attachments {
    Table,
    Id,
    TicketId,
    MessageId,
    Filename,
    ContentType,
    SizeBytes,
    Data,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Quarantine {
    Table,
    Id,
    Reason,
    Source,
    Sender,
    Subject,
    SizeBytes,
    Raw,
    Attempts,
    ReceivedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum TicketParticipants {
    Table,
    TicketId,
    Email,
}

#[derive(DeriveIden, Clone, Copy)]
enum Extra {
    FromAddress,
    BodyHtml,
    SupportAddress,
    Kind,
}

async fn add_column<T: IntoIden + 'static>(manager: &SchemaManager<'_>, table: T, col: ColumnDef) -> Result<(), DbErr> {
    manager.alter_table(Table::alter().table(table).add_column(col).to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Mailboxes::Table)
                    .col(id(Mailboxes::Id))
                    .col(ColumnDef::new(Mailboxes::Address).string().not_null().unique_key())
                    .col(ColumnDef::new(Mailboxes::ImapHost).string().not_null())
                    .col(ColumnDef::new(Mailboxes::ImapPort).integer().not_null())
                    .col(ColumnDef::new(Mailboxes::ImapSecurity).string().not_null())
                    .col(ColumnDef::new(Mailboxes::ImapUser).string().not_null())
                    // Sealed with the instance's secret key (see `crate::secrets`), never in clear.
                    .col(ColumnDef::new(Mailboxes::ImapPassword).text().not_null())
                    .col(ColumnDef::new(Mailboxes::Folder).string().not_null())
                    .col(ColumnDef::new(Mailboxes::PollSeconds).integer().not_null())
                    .col(ColumnDef::new(Mailboxes::Active).boolean().not_null().default(true))
                    .col(ColumnDef::new(Mailboxes::LeaseUntil).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Mailboxes::LeaseHolder).string().null())
                    .col(ColumnDef::new(Mailboxes::LastPolledAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Mailboxes::LastError).text().null())
                    .col(timestamp(Mailboxes::CreatedAt))
                    .col(timestamp(Mailboxes::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        add_column(manager, Messages::Table, ColumnDef::new(Extra::FromAddress).string().null().to_owned()).await?;
        add_column(manager, Messages::Table, ColumnDef::new(Extra::BodyHtml).text().null().to_owned()).await?;
        add_column(manager, Tickets::Table, ColumnDef::new(Extra::SupportAddress).string().null().to_owned()).await?;
        add_column(manager, Outbox::Table, ColumnDef::new(Extra::FromAddress).string().null().to_owned()).await?;
        add_column(manager, Outbox::Table, ColumnDef::new(Extra::Kind).string().null().to_owned()).await?;
        // Acknowledgements sent to one address in the last hour: the loop brake counts them.
        index(
            manager,
            "idx_outbox_recipient",
            Outbox::Table,
            vec![Outbox::ToAddress.into_iden(), Extra::Kind.into_iden(), Outbox::CreatedAt.into_iden()],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Attachments::Table)
                    .col(id(Attachments::Id))
                    .col(ColumnDef::new(Attachments::TicketId).big_integer().not_null())
                    .col(ColumnDef::new(Attachments::MessageId).big_integer().not_null())
                    .col(ColumnDef::new(Attachments::Filename).string().not_null())
                    .col(ColumnDef::new(Attachments::ContentType).string().not_null())
                    .col(ColumnDef::new(Attachments::SizeBytes).big_integer().not_null())
                    .col(ColumnDef::new(Attachments::Data).binary().not_null())
                    .col(timestamp(Attachments::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Attachments::Table, Attachments::MessageId)
                            .to(Messages::Table, Messages::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_attachments_message", Attachments::Table, vec![Attachments::MessageId]).await?;
        index(manager, "idx_attachments_ticket", Attachments::Table, vec![Attachments::TicketId]).await?;
        manager
            .create_table(
                Table::create()
                    .table(Quarantine::Table)
                    .col(id(Quarantine::Id))
                    .col(ColumnDef::new(Quarantine::Reason).text().not_null())
                    .col(ColumnDef::new(Quarantine::Source).string().not_null())
                    .col(ColumnDef::new(Quarantine::Sender).string().null())
                    .col(ColumnDef::new(Quarantine::Subject).string().null())
                    .col(ColumnDef::new(Quarantine::SizeBytes).big_integer().not_null())
                    .col(ColumnDef::new(Quarantine::Raw).binary().not_null())
                    .col(ColumnDef::new(Quarantine::Attempts).integer().not_null().default(1))
                    .col(timestamp(Quarantine::ReceivedAt))
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_quarantine_received", Quarantine::Table, vec![Quarantine::ReceivedAt, Quarantine::Id])
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TicketParticipants::Table)
                    .col(ColumnDef::new(TicketParticipants::TicketId).big_integer().not_null())
                    .col(ColumnDef::new(TicketParticipants::Email).string().not_null())
                    .primary_key(Index::create().col(TicketParticipants::TicketId).col(TicketParticipants::Email))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TicketParticipants::Table, TicketParticipants::TicketId)
                            .to(Tickets::Table, Tickets::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["ticket_participants", "quarantine", "attachments", "mailboxes"] {
            manager.drop_table(Table::drop().table(Alias::new(table)).to_owned()).await?;
        }
        manager.drop_index(Index::drop().name("idx_outbox_recipient").table(Outbox::Table).to_owned()).await?;
        for (table, column) in [
            (Outbox::Table.into_iden(), Extra::Kind),
            (Outbox::Table.into_iden(), Extra::FromAddress),
            (Tickets::Table.into_iden(), Extra::SupportAddress),
            (Messages::Table.into_iden(), Extra::BodyHtml),
            (Messages::Table.into_iden(), Extra::FromAddress),
        ] {
            manager.alter_table(Table::alter().table(table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
