//! Settings → Channels (administrators only): where tickets come from and replies go out.
//! Each channel has its own page: Email (`email`: support addresses polled over IMAP, the
//! quarantine) and WhatsApp (`whatsapp`: numbers connected through Meta's Cloud API, their
//! Test connection and templates).

pub mod email;
pub mod whatsapp;

use actix_web::web;

use crate::routes::page;

/// Registers the routes of every channel.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/channels", web::get().to(|| async { page::see_other(email::LIST) }))
        .configure(email::configure)
        .configure(whatsapp::configure);
}
