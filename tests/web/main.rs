#![allow(clippy::unwrap_used, clippy::expect_used)]

//! Integration tests: the real application on a random port with a fresh database per test
//! (a temporary SQLite file, or a new PostgreSQL database when `TEST_DATABASE_URL` is set),
//! driven over HTTP like a browser would.

mod helpers;

mod agent_accounts;
mod agent_articles;
mod agent_contact_totals;
mod agent_contacts;
mod agent_login;
mod agent_profiles;
mod article_html;
mod contact_export;
mod contact_identities;
mod contact_import;
mod contact_import_revert;
mod contact_merge;
mod contact_search;
mod csrf;
mod database_files;
mod deliveries;
mod events;
mod executable;
mod form_input;
mod health;
mod help_center;
mod hostile_mail;
mod imap_mail;
mod inbound_mail;
mod instances;
mod intake;
mod login_throttle;
mod mail;
mod outbox;
mod password_throttle;
mod permissions;
mod planted_files;
mod quarantine;
mod recycle_bin;
mod secret_key;
mod seed;
mod setup;
mod smtp_sink;
mod thread_senders;
mod whatsapp;
