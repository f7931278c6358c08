//! Column shapes shared by several tables.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

/// An auto-incrementing 64-bit primary key.
pub fn id<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().auto_increment().primary_key().to_owned()
}

/// A key used for sorting and prefix search. On PostgreSQL it gets the "C" collation so that it
/// sorts bytewise, exactly as SQLite's BINARY collation does, and so that a prefix range
/// (`term >= 'ab' AND term < 'ab\u{10ffff}'`) is answered from a plain b-tree index whatever
/// the database's locale.
pub fn sort_key<T: IntoIden>(manager: &SchemaManager, name: T) -> ColumnDef {
    let mut col = ColumnDef::new(name);
    col.string().not_null().default("");
    if manager.get_database_backend() == DatabaseBackend::Postgres {
        col.extra("COLLATE \"C\"");
    }
    col
}

/// A timestamp with time zone, stored as UTC.
pub fn timestamp<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).timestamp_with_time_zone().not_null().to_owned()
}

/// Whether a row sits in the Recycle Bin. Not null, so that `trashed = false` is an equality an
/// index can lead with on both databases.
pub fn trashed<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).boolean().not_null().default(false).to_owned()
}

/// Creates a plain (non-unique) index over `cols` of `table`.
pub async fn index<T, C>(manager: &SchemaManager<'_>, name: &str, table: T, cols: Vec<C>) -> Result<(), DbErr>
where
    T: IntoIden + Copy + 'static,
    C: IntoIden + 'static,
{
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in cols {
        stmt.col(col);
    }
    manager.create_index(stmt.to_owned()).await
}
