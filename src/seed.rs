//! `frontdesk seed`.

use crate::config::{SeedArgs, Settings};

/// Fills the database.
///
/// # Errors
/// Database errors.
pub async fn run(_settings: &Settings, _args: &SeedArgs) -> anyhow::Result<()> {
    Ok(())
}
