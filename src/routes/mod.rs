//! The HTTP layer. Handlers parse input, call one service and choose a response; the route
//! table below is the one place that says which URL goes where.

pub mod agent;
pub mod attachment;
pub mod health;
pub mod help_center;
pub mod page;
pub mod setup;
pub mod static_files;
pub mod throttle;
pub mod webhooks;

use actix_web::{web, HttpResponse};

use crate::error::AppError;

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/static/{path:.*}", web::get().to(static_files::serve))
        .route("/", web::get().to(|| async { page::see_other("/agent") }))
        .service(web::resource("/setup").route(web::get().to(setup::form)).route(web::post().to(setup::submit)))
        .service(web::scope("/agent").configure(agent::configure))
        .default_service(web::to(|| async { Err::<HttpResponse, _>(AppError::NotFound) }));
}
