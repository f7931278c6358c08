//! Contacts: the end-users. Besides the fields people edit, each row carries sort keys for the
//! list view (lowercased, bytewise-collated) so that every sort the list offers is answered by an
//! index with keyset pagination.

use sea_orm_migration::prelude::*;

use crate::columns::{id, index, sort_key, timestamp, trashed};
use crate::m0003_agents::Agents;
use crate::m0006_accounts::Accounts;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum Contacts {
    Table,
    Id,
    FirstName,
    LastName,
    Email,
    Phone,
    Mobile,
    AccountId,
    OwnerId,
    Title,
    Description,
    Source,
    HelpCenterStatus,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    Trashed,
    RecycleEntryId,
    NameSort,
    EmailSort,
    AccountSort,
    OwnerSort,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Contacts::Table)
                    .col(id(Contacts::Id))
                    .col(ColumnDef::new(Contacts::FirstName).string().null())
                    .col(ColumnDef::new(Contacts::LastName).string().not_null())
                    .col(ColumnDef::new(Contacts::Email).string().null().unique_key())
                    .col(ColumnDef::new(Contacts::Phone).string().null())
                    .col(ColumnDef::new(Contacts::Mobile).string().null())
                    .col(ColumnDef::new(Contacts::AccountId).big_integer().null())
                    .col(ColumnDef::new(Contacts::OwnerId).big_integer().null())
                    .col(ColumnDef::new(Contacts::Title).string().null())
                    .col(ColumnDef::new(Contacts::Description).text().null())
                    .col(ColumnDef::new(Contacts::Source).string().not_null())
                    .col(ColumnDef::new(Contacts::HelpCenterStatus).string().not_null().default("not_invited"))
                    .col(ColumnDef::new(Contacts::CreatedBy).big_integer().null())
                    .col(timestamp(Contacts::CreatedAt))
                    .col(timestamp(Contacts::UpdatedAt))
                    .col(trashed(Contacts::Trashed))
                    .col(ColumnDef::new(Contacts::RecycleEntryId).big_integer().null())
                    .col(sort_key(manager, Contacts::NameSort))
                    .col(sort_key(manager, Contacts::EmailSort))
                    .col(sort_key(manager, Contacts::AccountSort))
                    .col(sort_key(manager, Contacts::OwnerSort))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Contacts::Table, Contacts::AccountId)
                            .to(Accounts::Table, Accounts::Id),
                    )
                    .foreign_key(
                        ForeignKey::create().from(Contacts::Table, Contacts::OwnerId).to(Agents::Table, Agents::Id),
                    )
                    .to_owned(),
            )
            .await?;
        indexes(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Contacts::Table).to_owned()).await
    }
}

/// The indexes behind every filter and sort the pages offer.
async fn indexes(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use Contacts::*;
    let t = Table;
    index(manager, "idx_contacts_name", t, vec![Trashed, NameSort, Id]).await?;
    index(manager, "idx_contacts_email", t, vec![Trashed, EmailSort, Id]).await?;
    index(manager, "idx_contacts_account_sort", t, vec![Trashed, AccountSort, Id]).await?;
    index(manager, "idx_contacts_owner_sort", t, vec![Trashed, OwnerSort, Id]).await?;
    index(manager, "idx_contacts_created", t, vec![Trashed, CreatedAt, Id]).await?;
    index(manager, "idx_contacts_mine_name", t, vec![OwnerId, Trashed, NameSort, Id]).await?;
    index(manager, "idx_contacts_mine_created", t, vec![OwnerId, Trashed, CreatedAt, Id]).await?;
    index(manager, "idx_contacts_help_center", t, vec![HelpCenterStatus, Trashed, NameSort, Id]).await?;
    index(manager, "idx_contacts_account", t, vec![AccountId, Trashed, NameSort]).await?;
    index(manager, "idx_contacts_phone", t, vec![Phone]).await?;
    index(manager, "idx_contacts_mobile", t, vec![Mobile]).await?;
    index(manager, "idx_contacts_recycle", t, vec![RecycleEntryId]).await
}
