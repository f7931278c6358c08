//! `GET /healthz`: the process is up and the database answers.

use actix_web::{web, HttpResponse};
use sea_orm::ConnectionTrait;

use crate::startup::AppState;

/// 200 "ok" when the database answers a trivial query, 503 otherwise.
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let backend = state.db.backend();
    let ping = sea_orm::Statement::from_string(backend, "SELECT 1");
    match state.db.conn.execute(ping).await {
        Ok(_) => HttpResponse::Ok().content_type("text/plain").body("ok"),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database unavailable");
            HttpResponse::ServiceUnavailable().content_type("text/plain").body("database unavailable")
        }
    }
}
