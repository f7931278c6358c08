//! CSRF protection: a random token per session, printed in every form, checked before a form's
//! body is used. A post without the right token gets 403 and changes nothing.

use actix_session::Session;
use actix_web::dev::Payload;
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

/// A posted form whose content type, text encoding and CSRF token have been checked (see
/// [`super::upload::read_form`]), as `T`.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let form = super::upload::read_form(req, payload);
        Box::pin(async move { form.await?.form().map(CsrfForm) })
    }
}
