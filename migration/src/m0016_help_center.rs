//! The Help Center: contacts get a password and sessions of their own; single-use tokens for
//! invitations and password resets; pending self sign-ups (a contact is only touched once the
//! address is verified, by someone who also knows the password chosen at sign-up); and the
//! counter that hands out ticket numbers.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};

use crate::columns::{id, index, timestamp};
use crate::m0004_sessions::Sessions;
use crate::m0007_contacts::Contacts;
use crate::m0009_tickets::Tickets;
use crate::m0015_outbox::Outbox;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum HelpCenterTokens {
    Table,
    Id,
    TokenHash,
    Purpose,
    ContactId,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Signups {
    Table,
    Id,
    TokenHash,
    FirstName,
    LastName,
    Email,
    PasswordHash,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Counters {
    Table,
    Name,
    Value,
}

#[derive(DeriveIden, Clone, Copy)]
enum Extra {
    ContactId,
    PasswordHash,
    TicketId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(ColumnDef::new(Extra::ContactId).big_integer().null())
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_sessions_contact", Sessions::Table, vec![Extra::ContactId]).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Contacts::Table)
                    .add_column(ColumnDef::new(Extra::PasswordHash).string().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(HelpCenterTokens::Table)
                    .col(id(HelpCenterTokens::Id))
                    .col(ColumnDef::new(HelpCenterTokens::TokenHash).string().not_null().unique_key())
                    .col(ColumnDef::new(HelpCenterTokens::Purpose).string().not_null())
                    .col(ColumnDef::new(HelpCenterTokens::ContactId).big_integer().not_null())
                    .col(timestamp(HelpCenterTokens::ExpiresAt))
                    .col(ColumnDef::new(HelpCenterTokens::UsedAt).timestamp_with_time_zone().null())
                    .col(timestamp(HelpCenterTokens::CreatedAt))
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_help_center_tokens_contact", HelpCenterTokens::Table, vec![HelpCenterTokens::ContactId])
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Signups::Table)
                    .col(id(Signups::Id))
                    .col(ColumnDef::new(Signups::TokenHash).string().not_null().unique_key())
                    .col(ColumnDef::new(Signups::FirstName).string().null())
                    .col(ColumnDef::new(Signups::LastName).string().not_null())
                    .col(ColumnDef::new(Signups::Email).string().not_null())
                    .col(ColumnDef::new(Signups::PasswordHash).string().not_null())
                    .col(timestamp(Signups::ExpiresAt))
                    .col(ColumnDef::new(Signups::UsedAt).timestamp_with_time_zone().null())
                    .col(timestamp(Signups::CreatedAt))
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_signups_expires", Signups::Table, vec![Signups::ExpiresAt]).await?;
        manager
            .create_table(
                Table::create()
                    .table(Counters::Table)
                    .col(ColumnDef::new(Counters::Name).string().not_null().primary_key())
                    .col(ColumnDef::new(Counters::Value).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        // The next number follows the highest one already handed out (seeded databases). On
        // PostgreSQL a sequence hands them out: it takes no row lock, so concurrent tickets do not
        // wait for each other's commit (a rolled-back ticket leaves a gap, as in every help desk).
        // SQLite has one writer at a time anyway; a counter row does.
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        db.execute(Statement::from_string(
            backend,
            "INSERT INTO counters (name, value) SELECT 'ticket_number', COALESCE(MAX(number), 1000) FROM tickets",
        ))
        .await?;
        if backend == sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
            db.execute_unprepared("CREATE SEQUENCE ticket_numbers").await?;
            db.execute_unprepared("SELECT setval('ticket_numbers', (SELECT COALESCE(MAX(number), 1000) FROM tickets))")
                .await?;
        }
        // My Tickets in the Help Center, and the console's views by assignee, by status and over
        // all tickets: each ends with the id, the list's tie-breaker, so that a page is read in
        // index order and never sorted (a contact may have thousands of tickets).
        let t = Tickets::Table;
        use Tickets::{AssigneeId, ContactId, Id, Status, Trashed, UpdatedAt};
        index(manager, "idx_tickets_contact_activity", t, vec![ContactId, Trashed, UpdatedAt, Id]).await?;
        index(manager, "idx_tickets_assignee", t, vec![Trashed, AssigneeId, UpdatedAt, Id]).await?;
        index(manager, "idx_tickets_status_activity", t, vec![Trashed, Status, UpdatedAt, Id]).await?;
        index(manager, "idx_tickets_activity", t, vec![Trashed, UpdatedAt, Id]).await?;
        manager.drop_index(Index::drop().name("idx_tickets_status").table(t).to_owned()).await?;
        // Mail we send about a ticket remembers it, so that a reply to it finds its way back.
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .add_column(ColumnDef::new(Extra::TicketId).big_integer().null())
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_outbox_ticket", Outbox::Table, vec![Extra::TicketId]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["counters", "signups", "help_center_tokens"] {
            manager.drop_table(Table::drop().table(Alias::new(table)).to_owned()).await?;
        }
        if manager.get_database_backend() == sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared("DROP SEQUENCE IF EXISTS ticket_numbers").await?;
        }
        for (name, table) in [
            ("idx_outbox_ticket", Outbox::Table.into_iden()),
            ("idx_tickets_activity", Tickets::Table.into_iden()),
            ("idx_tickets_status_activity", Tickets::Table.into_iden()),
            ("idx_tickets_assignee", Tickets::Table.into_iden()),
            ("idx_tickets_contact_activity", Tickets::Table.into_iden()),
            ("idx_sessions_contact", Sessions::Table.into_iden()),
        ] {
            manager.drop_index(Index::drop().name(name).table(table).to_owned()).await?;
        }
        use Tickets::{Status, Trashed, UpdatedAt};
        index(manager, "idx_tickets_status", Tickets::Table, vec![Trashed, Status, UpdatedAt]).await?;
        for (table, column) in [
            (Outbox::Table.into_iden(), Extra::TicketId),
            (Contacts::Table.into_iden(), Extra::PasswordHash),
            (Sessions::Table.into_iden(), Extra::ContactId),
        ] {
            manager.alter_table(Table::alter().table(table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
