//! Schema migrations, one table or change per file, written in the SeaQuery DSL so that the same
//! set runs on SQLite and PostgreSQL. They run at start-up (`Migrator::up`).

pub use sea_orm_migration::prelude::*;

pub use m0028_contact_fragments::fragments_insert;

mod columns;
mod m0001_settings;
mod m0002_profiles;
mod m0003_agents;
mod m0004_sessions;
mod m0005_login_failures;
mod m0006_accounts;
mod m0007_contacts;
mod m0008_contact_search_terms;
mod m0009_tickets;
mod m0010_messages;
mod m0011_activities;
mod m0012_time_entries;
mod m0013_contact_history;
mod m0014_recycle_bin;
mod m0015_outbox;
mod m0016_help_center;
mod m0018_article_categories;
mod m0019_articles;
mod m0020_ticket_search;
mod m0021_email_channel;
mod m0022_mail_marks;
mod m0023_session_changes;
mod m0024_article_html;
mod m0026_contact_identities;
mod m0027_login_failure_purposes;
mod m0028_contact_fragments;
mod m0029_message_sender_name;
mod m0030_events;
mod m0031_delivery_channels;
mod m0032_whatsapp;
mod m0033_contactless_tickets;
mod m0034_whatsapp_held;
mod m0035_contact_imports;
mod m0036_contact_exports;
mod m0037_contact_merges;
mod m0038_name_search_terms;

/// Every migration of the project, in the order they apply.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_settings::Migration),
            Box::new(m0002_profiles::Migration),
            Box::new(m0003_agents::Migration),
            Box::new(m0004_sessions::Migration),
            Box::new(m0005_login_failures::Migration),
            Box::new(m0006_accounts::Migration),
            Box::new(m0007_contacts::Migration),
            Box::new(m0008_contact_search_terms::Migration),
            Box::new(m0009_tickets::Migration),
            Box::new(m0010_messages::Migration),
            Box::new(m0011_activities::Migration),
            Box::new(m0012_time_entries::Migration),
            Box::new(m0013_contact_history::Migration),
            Box::new(m0014_recycle_bin::Migration),
            Box::new(m0015_outbox::Migration),
            Box::new(m0016_help_center::Migration),
            Box::new(m0018_article_categories::Migration),
            Box::new(m0019_articles::Migration),
            Box::new(m0020_ticket_search::Migration),
            Box::new(m0021_email_channel::Migration),
            Box::new(m0022_mail_marks::Migration),
            Box::new(m0023_session_changes::Migration),
            Box::new(m0024_article_html::Migration),
            Box::new(m0026_contact_identities::Migration),
            Box::new(m0027_login_failure_purposes::Migration),
            Box::new(m0028_contact_fragments::Migration),
            Box::new(m0029_message_sender_name::Migration),
            Box::new(m0030_events::Migration),
            Box::new(m0031_delivery_channels::Migration),
            Box::new(m0032_whatsapp::Migration),
            Box::new(m0033_contactless_tickets::Migration),
            Box::new(m0034_whatsapp_held::Migration),
            Box::new(m0035_contact_imports::Migration),
            Box::new(m0036_contact_exports::Migration),
            Box::new(m0037_contact_merges::Migration),
            Box::new(m0038_name_search_terms::Migration),
        ]
    }
}
