//! The words a contact can be found by (names, email, phone digits, account name), one row each
//! with the field it comes from (so a field hidden from a profile is not searched for it), so that the list's search is a prefix range over one index rather than a scan.

use sea_orm_migration::prelude::*;

use crate::columns::{index, sort_key};
use crate::m0007_contacts::Contacts;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum ContactSearchTerms {
    Table,
    Term,
    Field,
    ContactId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ContactSearchTerms::Table)
                    .col(sort_key(manager, ContactSearchTerms::Term))
                    .col(ColumnDef::new(ContactSearchTerms::Field).string().not_null())
                    .col(ColumnDef::new(ContactSearchTerms::ContactId).big_integer().not_null())
                    .primary_key(
                        Index::create()
                            .col(ContactSearchTerms::Term)
                            .col(ContactSearchTerms::Field)
                            .col(ContactSearchTerms::ContactId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ContactSearchTerms::Table, ContactSearchTerms::ContactId)
                            .to(Contacts::Table, Contacts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_contact_search_terms_contact",
            ContactSearchTerms::Table,
            vec![ContactSearchTerms::ContactId],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ContactSearchTerms::Table).to_owned()).await
    }
}
