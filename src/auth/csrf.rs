//! CSRF protection: a random token per session, printed in every form, checked before a form's
//! body is used. A post without the right token gets 403 and changes nothing.

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use super::keys;
use crate::error::AppError;

/// The name of the hidden form field.
pub const FIELD: &str = "csrf_token";

/// The session's token, made on first use.
///
/// # Errors
/// When the session cannot be written.
pub fn token(session: &Session) -> Result<String, AppError> {
    if let Ok(Some(token)) = session.get::<String>(keys::CSRF) {
        return Ok(token);
    }
    let token = super::random_token(43);
    session.insert(keys::CSRF, &token).map_err(|e| AppError::Internal(anyhow::anyhow!("session insert: {e}")))?;
    Ok(token)
}

/// Compares without leaking, through timing, how much of the token was right.
pub(crate) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A url-encoded form body whose CSRF token has been checked.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let session = req.get_session();
        let body = Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = body.await.map_err(|e| AppError::BadRequest(format!("unreadable form: {e}")))?;
            let pairs: Vec<(String, String)> =
                serde_urlencoded::from_bytes(&bytes).map_err(|_| AppError::BadRequest("unreadable form".into()))?;
            let sent = pairs.iter().find(|(k, _)| k == FIELD).map(|(_, v)| v.as_str());
            let expected = session.get::<String>(keys::CSRF).ok().flatten();
            match (sent, expected) {
                (Some(sent), Some(expected)) if same(sent, &expected) => {}
                _ => return Err(AppError::Csrf),
            }
            serde_urlencoded::from_bytes::<T>(&bytes)
                .map(CsrfForm)
                .map_err(|e| AppError::BadRequest(format!("unreadable form: {e}")))
        })
    }
}
