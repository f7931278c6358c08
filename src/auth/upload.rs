//! Reading a posted form, for every form of the application: [`CsrfUpload`] here and
//! [`super::CsrfForm`] both read through [`read_form`], so each post gets the same checks
//! before its fields are used:
//! - only the two form content types are read (`application/x-www-form-urlencoded` and
//!   `multipart/form-data`); anything else is 415, so that a cross-site `text/plain` post is
//!   not taken for a form;
//! - text must be UTF-8 (400), rather than decoded lossily into something other than what was
//!   sent;
//! - the CSRF token must match (403).
//!
//! The files of a multipart form are read into memory up to the configured limits; a file over
//! the limit is read to its end and dropped, so the form can be shown again with a message
//! instead of a broken upload.

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::web::{Bytes, Data};
use actix_web::{mime, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use super::csrf::{same, FIELD};
use super::keys;
use crate::domain::upload::{clean_filename, MAX_FILES};
use crate::domain::FileUpload;
use crate::error::AppError;
use crate::startup::AppState;

/// Longest text field accepted in a multipart form.
const MAX_TEXT: usize = 64 * 1024;

/// A posted form with its files, the CSRF token checked.
#[derive(Debug, Default)]
pub struct CsrfUpload {
    pub fields: Vec<(String, String)>,
    pub files: Vec<FileUpload>,
    /// Why some files were not kept (too large, too many), for the form's message.
    pub refused: Option<String>,
}

impl CsrfUpload {
    /// The text fields as a form struct.
    ///
    /// # Errors
    /// 400 when they do not fit `T`.
    pub fn form<T: DeserializeOwned>(&self) -> Result<T, AppError> {
        let encoded = serde_urlencoded::to_string(&self.fields).map_err(|e| AppError::BadRequest(e.to_string()))?;
        serde_urlencoded::from_str(&encoded).map_err(|e| AppError::BadRequest(format!("unreadable form: {e}")))
    }
}

struct Limits {
    file: usize,
    total: usize,
}

/// Marks a route whose file is an import (Import Contacts): its size is capped by the import
/// limit (`max_import_mb`) rather than the attachments' one.
#[derive(Clone, Copy, Debug)]
pub struct ImportFileRoute;

impl FromRequest for CsrfUpload {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        read_form(req, payload)
    }
}

/// Reads the posted form of `req`: its fields and files, once its content type, text encoding
/// and CSRF token have passed.
pub(crate) fn read_form(
    req: &HttpRequest,
    payload: &mut Payload,
) -> LocalBoxFuture<'static, Result<CsrfUpload, AppError>> {
    let session = req.get_session();
    let import = req.app_data::<ImportFileRoute>().is_some();
    let limits = req.app_data::<Data<AppState>>().map_or(Limits { file: 10 << 20, total: 25 << 20 }, |s| {
        if import {
            let file = s.settings.max_import_mb as usize * 1024 * 1024;
            Limits { file, total: file + MAX_TEXT * 4 }
        } else {
            Limits {
                file: s.settings.max_attachment_mb as usize * 1024 * 1024,
                total: s.settings.max_mail_mb as usize * 1024 * 1024,
            }
        }
    });
    let essence = req.mime_type().ok().flatten().map(|m| m.essence_str().to_owned());
    let body = match essence.as_deref() {
        Some(t) if t == mime::APPLICATION_WWW_FORM_URLENCODED.essence_str() => Ok(Bytes::from_request(req, payload)),
        Some(t) if t == mime::MULTIPART_FORM_DATA.essence_str() => {
            Err(actix_multipart::Multipart::new(req.headers(), payload.take()))
        }
        _ => return Box::pin(async { Err(AppError::UnsupportedMediaType) }),
    };
    Box::pin(async move {
        let upload = match body {
            Ok(bytes) => {
                let bytes = bytes.await.map_err(|e| AppError::BadRequest(format!("unreadable form: {e}")))?;
                CsrfUpload { fields: urlencoded_fields(&bytes)?, ..CsrfUpload::default() }
            }
            Err(parts) => read_parts(parts, &limits).await?,
        };
        check_token(&session, &upload.fields)?;
        Ok(upload)
    })
}

/// The answer to text that is not UTF-8.
fn not_utf8() -> AppError {
    AppError::BadRequest(
        "The form had invalid text encoding (it was not UTF-8), so nothing was saved. Check what was typed or pasted, and try again.".into(),
    )
}

/// The fields of a url-encoded body. `serde_urlencoded` decodes invalid UTF-8 lossily (into
/// U+FFFD), so the bytes are checked first: the body percent-decoded as a whole is UTF-8
/// exactly when every name and value is, as the separators between them are ASCII.
fn urlencoded_fields(bytes: &[u8]) -> Result<Vec<(String, String)>, AppError> {
    let decoded: Vec<u8> = percent_encoding::percent_decode(bytes).collect();
    std::str::from_utf8(&decoded).map_err(|_| not_utf8())?;
    serde_urlencoded::from_bytes(bytes).map_err(|_| AppError::BadRequest("unreadable form".into()))
}

/// 403 unless the form carries the session's CSRF token.
fn check_token(session: &Session, fields: &[(String, String)]) -> Result<(), AppError> {
    let sent = fields.iter().find(|(k, _)| k == FIELD).map(|(_, v)| v.as_str());
    let expected = session.get::<String>(keys::CSRF).ok().flatten();
    match (sent, expected) {
        (Some(sent), Some(expected)) if same(sent, &expected) => Ok(()),
        _ => Err(AppError::Csrf),
    }
}

async fn read_parts(mut parts: actix_multipart::Multipart, limits: &Limits) -> Result<CsrfUpload, AppError> {
    let unreadable = |e: actix_multipart::MultipartError| AppError::BadRequest(format!("unreadable form: {e}"));
    let mut upload = CsrfUpload::default();
    let mut total = 0usize;
    while let Some(part) = parts.next().await {
        let mut part = part.map_err(unreadable)?;
        let disposition = part.content_disposition().cloned();
        let name = disposition.as_ref().and_then(|d| d.get_name()).unwrap_or_default().to_owned();
        let filename = disposition.as_ref().and_then(|d| d.get_filename()).map(str::to_owned);
        let content_type =
            part.content_type().map_or_else(|| "application/octet-stream".to_owned(), ToString::to_string);
        let mut data = Vec::new();
        let mut dropped = false;
        let cap = if filename.is_some() { limits.file } else { MAX_TEXT };
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(unreadable)?;
            total += chunk.len();
            if dropped || data.len() + chunk.len() > cap || total > limits.total {
                dropped = true;
                data.clear();
                continue;
            }
            data.extend_from_slice(&chunk);
        }
        match filename {
            // A file input left empty sends a part with an empty name and no content.
            Some(f) if f.is_empty() && data.is_empty() && !dropped => {}
            Some(f) => {
                let shown = clean_filename(&f, "file");
                if dropped {
                    upload.refused = Some(format!(
                        "\"{shown}\" is larger than {} MB (or the files together are larger than {} MB). Choose smaller files.",
                        limits.file >> 20,
                        limits.total >> 20
                    ));
                } else if upload.files.len() >= MAX_FILES {
                    upload.refused = Some(format!("Attach at most {MAX_FILES} files."));
                } else {
                    upload.files.push(FileUpload { filename: shown, content_type: content_type.to_lowercase(), data });
                }
            }
            None if dropped => return Err(AppError::BadRequest(format!("the field {name} is too long"))),
            None => {
                let text = String::from_utf8(data).map_err(|_| not_utf8())?;
                upload.fields.push((name, text));
            }
        }
    }
    Ok(upload)
}
