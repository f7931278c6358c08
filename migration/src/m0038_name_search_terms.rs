//! The prefix search words are kept for names and accounts' names only: addresses and numbers
//! are found by their fragments (m0028). Drops the words kept for them until now.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DELETE FROM contact_search_terms WHERE field IN ('email', 'phone', 'mobile')")
            .await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // The words come back as each contact is saved again.
        Ok(())
    }
}
