//! SeaORM entities: one module per table, column definitions and relations only, no logic.

pub mod account;
pub mod activity;
pub mod agent;
pub mod article;
pub mod article_category;
pub mod attachment;
pub mod contact;
pub mod contact_identity;
pub mod contact_search_term;
pub mod event;
pub mod help_center_token;
pub mod login_failure;
pub mod mailbox;
pub mod message;
pub mod outbox;
pub mod profile;
pub mod quarantine;
pub mod recycle_bin;
pub mod session;
pub mod setting;
pub mod signup;
pub mod ticket;
pub mod ticket_participant;
pub mod time_entry;
