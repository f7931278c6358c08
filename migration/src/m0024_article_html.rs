//! Each article's sanitised HTML, stored when the article is saved, so that a view prints it
//! instead of rendering the Markdown and sanitising the result again (an article can be made
//! to cost seconds of CPU to render, and the Help Center shows articles to anyone).
//!
//! The column is NULL where the HTML is still to be made: in the rows that exist when this
//! migration runs (it cannot call the application's renderer), and in a row whose body is
//! changed by a writer that does not know the column (an instance of the previous version
//! still running during an upgrade, or SQL typed by hand): a trigger empties the column when
//! the body changes and the HTML does not. The application renders a NULL column when it
//! shows the article, and its housekeeping fills the rest, found through a partial index that
//! holds only those rows.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

use crate::m0019_articles::Articles;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum ArticleHtml {
    Html,
}

const INDEX: &str = "idx_articles_html_missing";

/// SQLite: recursive triggers are off, and the trigger's own update does not change the body,
/// so it does not fire again.
const SQLITE_UP: &[&str] = &["CREATE TRIGGER articles_html_stale AFTER UPDATE OF body ON articles \
     WHEN new.body IS NOT old.body AND new.html IS old.html \
     BEGIN UPDATE articles SET html = NULL WHERE id = new.id; END"];

const SQLITE_DOWN: &[&str] = &["DROP TRIGGER IF EXISTS articles_html_stale"];

const POSTGRES_UP: &[&str] = &[
    "CREATE FUNCTION articles_html_stale() RETURNS trigger LANGUAGE plpgsql AS \
     $$ BEGIN NEW.html := NULL; RETURN NEW; END $$",
    "CREATE TRIGGER articles_html_stale BEFORE UPDATE OF body ON articles FOR EACH ROW \
     WHEN (NEW.body IS DISTINCT FROM OLD.body AND NEW.html IS NOT DISTINCT FROM OLD.html) \
     EXECUTE FUNCTION articles_html_stale()",
];

const POSTGRES_DOWN: &[&str] =
    &["DROP TRIGGER IF EXISTS articles_html_stale ON articles", "DROP FUNCTION IF EXISTS articles_html_stale()"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Articles::Table)
                    .add_column(ColumnDef::new(ArticleHtml::Html).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Articles::Table)
                    .col(Articles::Id)
                    .and_where(Expr::col(ArticleHtml::Html).is_null())
                    .to_owned(),
            )
            .await?;
        run(manager, SQLITE_UP, POSTGRES_UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, SQLITE_DOWN, POSTGRES_DOWN).await?;
        manager.drop_index(Index::drop().name(INDEX).table(Articles::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(Articles::Table).drop_column(ArticleHtml::Html).to_owned()).await
    }
}

async fn run(manager: &SchemaManager<'_>, sqlite: &[&str], postgres: &[&str]) -> Result<(), DbErr> {
    let statements = match manager.get_database_backend() {
        DatabaseBackend::Sqlite => sqlite,
        DatabaseBackend::Postgres => postgres,
        DatabaseBackend::MySql => return Err(DbErr::Migration("MySQL is not supported".into())),
    };
    for sql in statements {
        manager.get_connection().execute_unprepared(sql).await?;
    }
    Ok(())
}
