//! Routes other systems call, outside the console's sessions: no cookie, no CSRF token, each
//! request proving itself its own way (Meta signs its webhooks).

pub mod whatsapp;

use actix_web::web;

/// Registers `/webhooks/...`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/whatsapp/{key}")
            .route(web::get().to(whatsapp::handshake))
            .route(web::post().to(whatsapp::receive)),
    );
}
