//! Frontdesk: a help desk for contacts, accounts, tickets and a customer Help Center.

/// Sessions, password hashing, CSRF and the extractors that say who is asking.
pub mod auth;
/// The ways customers reach the desk: email (reading, IMAP, the pipe, the outbox).
pub mod channels;
/// Settings from flags and environment variables.
pub mod config;
/// Connecting to SQLite or PostgreSQL and running migrations.
pub mod db;
/// Pure domain types: validated values, permissions, form errors.
pub mod domain;
/// SeaORM entities, one per table.
pub mod entities;
/// The application error type and how it turns into an HTTP answer.
pub mod error;
/// Files and sockets another local user could have planted: who owns them, who may change them.
pub mod file_trust;
/// The HTTP layer: thin handlers per area.
pub mod routes;
/// Secrets stored sealed (IMAP passwords).
pub mod secrets;
/// `frontdesk seed`: demo and benchmark data.
pub mod seed;
/// Use-cases: everything that reads or writes the database on behalf of someone.
pub mod services;
/// Building and running the HTTP server.
pub mod startup;
/// Logging set-up.
pub mod telemetry;
