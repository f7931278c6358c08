//! Failed attempts say what they tried to do (log in, sign up, ask for a password reset, set a
//! password), so that each has its own count per client address: twenty sign-ups from an
//! office's shared address must not stop its agents from logging in. Rows from before count
//! as logins; they are gone within a quarter of an hour anyway.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum LoginFailures {
    Table,
    ClientIp,
    Purpose,
    At,
}

const OLD_INDEX: &str = "idx_login_failures_ip";
const NEW_INDEX: &str = "idx_login_failures_ip_purpose";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(LoginFailures::Table)
                    .add_column(ColumnDef::new(LoginFailures::Purpose).string_len(16).not_null().default("login"))
                    .to_owned(),
            )
            .await?;
        manager.drop_index(Index::drop().name(OLD_INDEX).table(LoginFailures::Table).to_owned()).await?;
        manager
            .create_index(
                Index::create()
                    .name(NEW_INDEX)
                    .table(LoginFailures::Table)
                    .col(LoginFailures::ClientIp)
                    .col(LoginFailures::Purpose)
                    .col(LoginFailures::At)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(NEW_INDEX).table(LoginFailures::Table).to_owned()).await?;
        manager
            .create_index(
                Index::create()
                    .name(OLD_INDEX)
                    .table(LoginFailures::Table)
                    .col(LoginFailures::ClientIp)
                    .col(LoginFailures::At)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(Table::alter().table(LoginFailures::Table).drop_column(LoginFailures::Purpose).to_owned())
            .await
    }
}
