//! Contact imports (Import Contacts): the uploaded file, kept in the database so that any
//! instance can run the import and a restarted one can resume it; the rows an import or its
//! test run rejected, with line, field and reason; the values an import changed on existing
//! contacts, for Revert. A contact remembers the import that created it (Revert moves those to
//! the Recycle Bin) and may carry an external id, the other system's id it is matched by.

use sea_orm_migration::prelude::*;

use crate::columns::{id, index, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum ContactImports {
    Table,
    Id,
    AgentId,
    FileName,
    FileKind,
    FileBytes,
    Headers,
    Mapping,
    Mode,
    CreateAccounts,
    Status,
    TotalRows,
    DoneRows,
    Created,
    Updated,
    Skipped,
    Rejected,
    CreatedAt,
    StartedAt,
    FinishedAt,
    RevertedAt,
    LeaseUntil,
    Error,
    RevertNotes,
}

#[derive(DeriveIden, Clone, Copy)]
enum ContactImportFiles {
    Table,
    Id,
    ImportId,
    Seq,
    Data,
}

#[derive(DeriveIden, Clone, Copy)]
enum ContactImportRejects {
    Table,
    Id,
    ImportId,
    Line,
    Field,
    Reason,
}

#[derive(DeriveIden, Clone, Copy)]
enum ContactImportChanges {
    Table,
    Id,
    ImportId,
    ContactId,
    Before,
    After,
}

#[derive(DeriveIden, Clone, Copy)]
enum Contacts {
    Table,
    ImportId,
    ExternalId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Agents {
    Table,
    Id,
}

fn cascade_to_import<T: IntoIden + Copy + 'static>(table: T, column: T) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(ContactImports::Table, ContactImports::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ContactImports as I;
        let count = |c: I| ColumnDef::new(c).big_integer().not_null().default(0).to_owned();
        manager
            .create_table(
                Table::create()
                    .table(I::Table)
                    .col(id(I::Id))
                    .col(ColumnDef::new(I::AgentId).big_integer().not_null())
                    .col(ColumnDef::new(I::FileName).string().not_null())
                    .col(ColumnDef::new(I::FileKind).string().not_null())
                    .col(ColumnDef::new(I::FileBytes).big_integer().not_null())
                    // The header row (JSON array), read once at upload for the mapping page.
                    .col(ColumnDef::new(I::Headers).text().not_null())
                    // The field of each column (JSON array, null for "do not import").
                    .col(ColumnDef::new(I::Mapping).text().null())
                    .col(ColumnDef::new(I::Mode).string().null())
                    .col(ColumnDef::new(I::CreateAccounts).boolean().not_null().default(false))
                    .col(ColumnDef::new(I::Status).string().not_null())
                    .col(count(I::TotalRows))
                    // The data rows done: a run resumes after them, and they are written in the
                    // transaction of the rows themselves, so none is imported twice.
                    .col(count(I::DoneRows))
                    .col(count(I::Created))
                    .col(count(I::Updated))
                    .col(count(I::Skipped))
                    .col(count(I::Rejected))
                    .col(timestamp(I::CreatedAt))
                    .col(ColumnDef::new(I::StartedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(I::FinishedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(I::RevertedAt).timestamp_with_time_zone().null())
                    // An instance running it holds it until then; past it, another takes over.
                    .col(ColumnDef::new(I::LeaseUntil).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(I::Error).text().null())
                    // What Revert left as it was (contacts edited since), as lines for people.
                    .col(ColumnDef::new(I::RevertNotes).text().null())
                    .foreign_key(ForeignKey::create().from(I::Table, I::AgentId).to(Agents::Table, Agents::Id))
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_contact_imports_status", I::Table, vec![I::Status]).await?;

        use ContactImportFiles as F;
        manager
            .create_table(
                Table::create()
                    .table(F::Table)
                    .col(id(F::Id))
                    .col(ColumnDef::new(F::ImportId).big_integer().not_null())
                    .col(ColumnDef::new(F::Seq).integer().not_null())
                    .col(ColumnDef::new(F::Data).blob().not_null())
                    .foreign_key(&mut cascade_to_import(F::Table, F::ImportId))
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_contact_import_files", F::Table, vec![F::ImportId, F::Seq]).await?;

        use ContactImportRejects as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .col(id(R::Id))
                    .col(ColumnDef::new(R::ImportId).big_integer().not_null())
                    .col(ColumnDef::new(R::Line).big_integer().not_null())
                    .col(ColumnDef::new(R::Field).string().not_null())
                    .col(ColumnDef::new(R::Reason).text().not_null())
                    .foreign_key(&mut cascade_to_import(R::Table, R::ImportId))
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_contact_import_rejects", R::Table, vec![R::ImportId, R::Line]).await?;

        use ContactImportChanges as C;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .col(id(C::Id))
                    .col(ColumnDef::new(C::ImportId).big_integer().not_null())
                    .col(ColumnDef::new(C::ContactId).big_integer().not_null())
                    // The fields' values before and after the import (JSON objects).
                    .col(ColumnDef::new(C::Before).text().not_null())
                    .col(ColumnDef::new(C::After).text().not_null())
                    .foreign_key(&mut cascade_to_import(C::Table, C::ImportId))
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_contact_import_changes", C::Table, vec![C::ImportId, C::Id]).await?;

        for column in [Contacts::ImportId, Contacts::ExternalId] {
            let mut def = ColumnDef::new(column);
            if matches!(column, Contacts::ImportId) {
                def.big_integer().null();
            } else {
                def.string().null();
            }
            manager.alter_table(Table::alter().table(Contacts::Table).add_column(def).to_owned()).await?;
        }
        index(manager, "idx_contacts_import", Contacts::Table, vec![Contacts::ImportId]).await?;
        index(manager, "idx_contacts_external_id", Contacts::Table, vec![Contacts::ExternalId]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, column) in
            [("idx_contacts_import", Contacts::ImportId), ("idx_contacts_external_id", Contacts::ExternalId)]
        {
            manager.drop_index(Index::drop().name(name).table(Contacts::Table).to_owned()).await?;
            manager.alter_table(Table::alter().table(Contacts::Table).drop_column(column).to_owned()).await?;
        }
        for table in [ContactImportChanges::Table.into_iden(), ContactImportRejects::Table.into_iden()] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        manager.drop_table(Table::drop().table(ContactImportFiles::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(ContactImports::Table).to_owned()).await
    }
}
