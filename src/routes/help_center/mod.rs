//! The Help Center, under `/help`: plain HTML for end-users, with its own session cookie (see
//! `startup`), so that it never shares a login with the console.

pub mod account;
pub mod articles;
pub mod home;
pub mod invitation;
pub mod page;
pub mod password_reset;
pub mod signup;
pub mod tickets;

use actix_web::{web, HttpResponse};

use crate::error::AppError;

/// Registers the Help Center's routes (inside the `/help` scope).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("", web::get().to(home::home))
        .route("/", web::get().to(home::home))
        .route("/theme.css", web::get().to(home::theme))
        .route("/articles", web::get().to(articles::search))
        .route("/articles/{slug}", web::get().to(articles::show))
        .route("/articles/{slug}/vote", web::post().to(articles::vote))
        .route("/categories/{slug}", web::get().to(articles::category))
        .service(web::resource("/login").route(web::get().to(account::form)).route(web::post().to(account::submit)))
        .route("/logout", web::post().to(account::logout))
        .service(web::resource("/signup").route(web::get().to(signup::form)).route(web::post().to(signup::submit)))
        .service(
            web::resource("/activate/{token}")
                .route(web::get().to(signup::confirm))
                .route(web::post().to(signup::activate)),
        )
        .service(
            web::resource("/invitation/{token}")
                .route(web::get().to(invitation::form))
                .route(web::post().to(invitation::submit)),
        )
        .service(
            web::resource("/password-reset")
                .route(web::get().to(password_reset::request_form))
                .route(web::post().to(password_reset::request)),
        )
        .service(
            web::resource("/password-reset/{token}")
                .route(web::get().to(password_reset::form))
                .route(web::post().to(password_reset::submit)),
        )
        .service(web::resource("/tickets").route(web::get().to(tickets::index)).route(web::post().to(tickets::create)))
        .route("/tickets/new", web::get().to(tickets::new))
        .route("/tickets/{number}", web::get().to(tickets::show))
        .route("/tickets/{number}/files/{id}", web::get().to(tickets::file))
        .route("/tickets/{number}/replies", web::post().to(tickets::reply))
        .route("/tickets/{number}/close", web::post().to(tickets::close))
        .default_service(web::to(|| async { Err::<HttpResponse, _>(AppError::NotFound) }));
}
