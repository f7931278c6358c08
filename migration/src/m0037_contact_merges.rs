//! Merged contacts, remembered so that a merge can be undone: `contact_merges` is one merge
//! (the master, who merged, when, the master's fields and Help Center state before it, and when
//! it was undone), `contact_merge_rows` every row the merge moved to the master with the contact
//! it came from (tickets, activities, time entries, events, identities, WhatsApp conversations
//! and opt-ins, Help Center links) and one row per merged contact (`kind = 'contact'`, with what
//! the merge changed on it). Undo moves the rows back with one `UPDATE … WHERE id IN (SELECT …)`
//! per table, read on `(merge_id, kind, row_id)`; an old contact's page finds the master it was
//! merged into on `(kind, row_id)`. Purging the master drops its merges (`ON DELETE CASCADE`).

use sea_orm_migration::prelude::*;

use crate::columns::{id, index, timestamp};
use crate::m0007_contacts::Contacts;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum ContactMerges {
    Table,
    Id,
    MasterId,
    MergedBy,
    MergedAt,
    MasterBefore,
    UndoneAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ContactMergeRows {
    Table,
    Id,
    MergeId,
    Kind,
    RowId,
    ContactId,
    Flag,
    Detail,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ContactMergeRows as R;
        use ContactMerges as M;
        manager
            .create_table(
                Table::create()
                    .table(M::Table)
                    .col(id(M::Id))
                    .col(ColumnDef::new(M::MasterId).big_integer().not_null())
                    .col(ColumnDef::new(M::MergedBy).big_integer().null())
                    .col(timestamp(M::MergedAt))
                    // JSON: the master's fields and Help Center state before the merge.
                    .col(ColumnDef::new(M::MasterBefore).text().not_null())
                    .col(ColumnDef::new(M::UndoneAt).timestamp_with_time_zone().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(M::Table, M::MasterId)
                            .to(Contacts::Table, Contacts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_contact_merges_master", M::Table, vec![M::MasterId, M::Id]).await?;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .col(id(R::Id))
                    .col(ColumnDef::new(R::MergeId).big_integer().not_null())
                    // `contact`, `ticket`, `activity`, `time_entry`, `event`, `identity`,
                    // `conversation`, `opt_in`, `token`.
                    .col(ColumnDef::new(R::Kind).string().not_null())
                    // The moved row's key (a ticket's id for a WhatsApp conversation).
                    .col(ColumnDef::new(R::RowId).big_integer().not_null())
                    // The contact it came from.
                    .col(ColumnDef::new(R::ContactId).big_integer().not_null())
                    // An identity's primary flag before the merge.
                    .col(ColumnDef::new(R::Flag).boolean().null())
                    // A merged contact's own values the merge changed (JSON).
                    .col(ColumnDef::new(R::Detail).text().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(R::Table, R::MergeId)
                            .to(M::Table, M::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_contact_merge_rows_merge", R::Table, vec![R::MergeId, R::Kind, R::RowId]).await?;
        index(manager, "idx_contact_merge_rows_row", R::Table, vec![R::Kind, R::RowId]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ContactMergeRows::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(ContactMerges::Table).to_owned()).await
    }
}
