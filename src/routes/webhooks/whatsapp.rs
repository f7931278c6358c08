//! `/webhooks/whatsapp/{key}`, which Meta calls: `GET` is the registration handshake, `POST`
//! carries signed messages and statuses. The body is read as bytes, at most [`MAX_BODY`], since
//! the signature covers the exact bytes; the channel checks it before anything is parsed.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;

use crate::channels::whatsapp::webhook::{self, Handshake, Received};
use crate::startup::AppState;

/// The largest webhook body taken (Meta's are a few KB; a batch stays well under this).
pub const MAX_BODY: usize = 1024 * 1024;

#[derive(serde::Deserialize)]
pub struct HandshakeQuery {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

fn plain(status: StatusCode, body: impl Into<String>) -> HttpResponse {
    HttpResponse::build(status).content_type("text/plain; charset=utf-8").body(body.into())
}

/// `GET`: the challenge back for the number's Verify Token, 403 otherwise, 404 for an unknown key.
pub async fn handshake(
    state: web::Data<AppState>,
    key: web::Path<String>,
    query: Option<web::Query<HandshakeQuery>>,
) -> HttpResponse {
    let q = query.map(web::Query::into_inner);
    let (mode, token, challenge) = match &q {
        Some(q) => (q.mode.as_deref(), q.verify_token.as_deref(), q.challenge.as_deref()),
        None => (None, None, None),
    };
    match webhook::handshake(&state.db, &key, mode, token, challenge).await {
        Ok(Handshake::Accepted(challenge)) => plain(StatusCode::OK, challenge),
        Ok(Handshake::Refused) => plain(StatusCode::FORBIDDEN, "forbidden"),
        Ok(Handshake::UnknownKey) => plain(StatusCode::NOT_FOUND, "not found"),
        Err(e) => unavailable(&e),
    }
}

/// `POST`: 200 once handled (ignored events too), 401 for a bad signature, 413 past the size.
pub async fn receive(
    state: web::Data<AppState>,
    key: web::Path<String>,
    request: HttpRequest,
    mut payload: web::Payload,
) -> HttpResponse {
    let announced = request.headers().get("content-length").and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if announced.is_some_and(|n| n > MAX_BODY) {
        return plain(StatusCode::PAYLOAD_TOO_LARGE, "too large");
    }
    let mut body = Vec::with_capacity(announced.unwrap_or(0).min(MAX_BODY));
    while let Some(chunk) = payload.next().await {
        let Ok(chunk) = chunk else { return plain(StatusCode::BAD_REQUEST, "the body could not be read") };
        if body.len() + chunk.len() > MAX_BODY {
            return plain(StatusCode::PAYLOAD_TOO_LARGE, "too large");
        }
        body.extend_from_slice(&chunk);
    }
    let signature = request.headers().get("x-hub-signature-256").and_then(|v| v.to_str().ok());
    let ctx = state.whatsapp_context();
    match webhook::receive(ctx, &key, signature, &body, chrono::Utc::now()).await {
        Ok(Received::Handled) => plain(StatusCode::OK, "ok"),
        Ok(Received::BadSignature) => plain(StatusCode::UNAUTHORIZED, "bad signature"),
        Ok(Received::UnknownKey) => plain(StatusCode::NOT_FOUND, "not found"),
        Err(e) => unavailable(&e),
    }
}

/// The database failed: Meta retries later, and nothing is stored twice.
fn unavailable(e: &sea_orm::DbErr) -> HttpResponse {
    tracing::error!(error = %e, "a WhatsApp webhook could not be handled");
    plain(StatusCode::SERVICE_UNAVAILABLE, "try again later")
}
