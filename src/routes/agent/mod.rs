//! The agent console, under `/agent`.

pub mod accounts;
pub mod articles;
pub mod channels;
pub mod contact_delete;
pub mod contact_export;
pub mod contact_import;
pub mod contact_merge;
pub mod contacts;
pub mod help_center_access;
pub mod help_center_settings;
pub mod login;
pub mod login_locks;
pub mod password;
pub mod recycle_bin;
pub mod settings;
pub mod ticket_contact;
pub mod tickets;
pub mod whatsapp;

use actix_web::web;

use crate::routes::page;

/// Registers the console's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("", web::get().to(|| async { page::see_other("/agent/contacts") }))
        .route("/", web::get().to(|| async { page::see_other("/agent/contacts") }))
        .service(web::resource("/login").route(web::get().to(login::form)).route(web::post().to(login::submit)))
        .route("/logout", web::post().to(login::logout))
        .service(
            web::resource("/password").route(web::get().to(password::form)).route(web::post().to(password::submit)),
        )
        .route("/password-reset", web::get().to(password::reset))
        // Before the contacts' routes: `/contacts/{id}` would take `/contacts/import`,
        // `/contacts/export` and `/contacts/merge`.
        .configure(contact_import::configure)
        .configure(contact_export::configure)
        .configure(contact_merge::configure)
        .configure(contacts::configure)
        .configure(accounts::configure)
        .configure(articles::configure)
        .configure(recycle_bin::configure)
        .configure(settings::configure)
        .configure(login_locks::configure)
        .configure(help_center_settings::configure)
        .configure(channels::configure)
        .configure(whatsapp::configure)
        .configure(tickets::configure)
        .configure(ticket_contact::configure);
}
