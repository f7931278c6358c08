//! Contact identities: every way to reach a contact (email addresses, phone and mobile numbers,
//! later WhatsApp accounts), one row each, so that a message from any of them finds the contact.
//! An email address or a WhatsApp account belongs to at most one contact (a unique index over
//! those kinds only); phone numbers may be shared (a company switchboard). The contact's
//! primary email stays in `contacts.email` too, where the list sorts and the Help Center logs
//! in by it; the identity row marked primary is the same address.
//!
//! Existing data moves over without loss: every contact's email, phone and mobile becomes an
//! identity, the email the primary one.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::columns::{id, index, timestamp};
use crate::m0007_contacts::Contacts;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum ContactIdentities {
    Table,
    Id,
    ContactId,
    Kind,
    Value,
    IsPrimary,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ContactIdentities::{ContactId, CreatedAt, Id, IsPrimary, Kind, Value};
        let table = ContactIdentities::Table;
        manager
            .create_table(
                Table::create()
                    .table(table)
                    .col(id(Id))
                    .col(ColumnDef::new(ContactId).big_integer().not_null())
                    .col(ColumnDef::new(Kind).string().not_null())
                    .col(ColumnDef::new(Value).string().not_null())
                    .col(ColumnDef::new(IsPrimary).boolean().not_null().default(false))
                    .col(timestamp(CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(table, ContactId)
                            .to(Contacts::Table, Contacts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_contact_identities_lookup", table, vec![Kind, Value]).await?;
        index(manager, "idx_contact_identities_contact", table, vec![ContactId, Kind]).await?;
        let db = manager.get_connection();
        // A partial index, the same on both databases: unique for the kinds that name one
        // person, not for phone numbers.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX idx_contact_identities_unique ON contact_identities (kind, value) \
             WHERE kind IN ('email', 'whatsapp')",
        )
        .await?;
        for (kind, column, primary) in
            [("email", "email", "TRUE"), ("phone", "phone", "FALSE"), ("mobile", "mobile", "FALSE")]
        {
            db.execute_unprepared(&format!(
                "INSERT INTO contact_identities (contact_id, kind, value, is_primary, created_at) \
                 SELECT id, '{kind}', {column}, {primary}, created_at FROM contacts \
                 WHERE {column} IS NOT NULL AND {column} <> '' ORDER BY id"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ContactIdentities::Table).to_owned()).await
    }
}
