//! Who sent a mail in a ticket's thread: the display name of its From address (`from_name`),
//! whether the ticket's contact was among its recipients (`contact_copied`: then the contact saw
//! the sender's address, and its Help Center may show it), and a third author kind,
//! `participant`, for mail from anyone other than the contact (a colleague copied, someone the
//! mail was forwarded to), which was stored as the contact's before.
//!
//! Existing mail from an address that is none of the ticket's contact's becomes a participant's.
//! The contact's history no longer names the sender's address ("Email from a@example.com"), which
//! profiles that hide Email read too: existing lines become "Customer replied by email" or
//! "Someone else replied by email", as new ones are written.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::m0010_messages::Messages;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Extra {
    FromName,
    ContactCopied,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            ColumnDef::new(Extra::FromName).string().null().to_owned(),
            ColumnDef::new(Extra::ContactCopied).boolean().not_null().default(false).to_owned(),
        ] {
            manager.alter_table(Table::alter().table(Messages::Table).add_column(col).to_owned()).await?;
        }
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE messages SET author_kind = 'participant' \
                 WHERE author_kind = 'contact' AND from_address IS NOT NULL AND NOT EXISTS ( \
                   SELECT 1 FROM contact_identities i JOIN tickets t ON t.contact_id = i.contact_id \
                   WHERE t.id = messages.ticket_id AND i.kind = 'email' AND i.value = messages.from_address)",
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE contact_history SET new_value = CASE WHEN EXISTS ( \
                   SELECT 1 FROM contact_identities i WHERE i.contact_id = contact_history.contact_id \
                   AND i.kind = 'email' AND 'Email from ' || i.value = contact_history.new_value) \
                 THEN 'Customer replied by email' ELSE 'Someone else replied by email' END \
                 WHERE field LIKE 'Ticket #%' AND new_value LIKE 'Email from %'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("UPDATE messages SET author_kind = 'contact' WHERE author_kind = 'participant'")
            .await?;
        for col in [Extra::ContactCopied, Extra::FromName] {
            manager.alter_table(Table::alter().table(Messages::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
