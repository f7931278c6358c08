//! Forms that carry files (`multipart/form-data`), CSRF-checked like every other form. The
//! files are read into memory up to the configured limits; a file over the limit is read to its
//! end and dropped, so the form can be shown again with a message instead of a broken upload.

use actix_session::SessionExt;
use actix_web::dev::Payload;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::web::{Bytes, Data};
use actix_web::{FromRequest, HttpRequest};
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

impl FromRequest for CsrfUpload {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let session = req.get_session();
        let multipart = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
        let limits = req.app_data::<Data<AppState>>().map_or(Limits { file: 10 << 20, total: 25 << 20 }, |s| Limits {
            file: s.settings.max_attachment_mb as usize * 1024 * 1024,
            total: s.settings.max_mail_mb as usize * 1024 * 1024,
        });
        let body = if multipart {
            Err(actix_multipart::Multipart::new(req.headers(), payload.take()))
        } else {
            Ok(Bytes::from_request(req, payload))
        };
        Box::pin(async move {
            let upload = match body {
                Ok(bytes) => {
                    let bytes = bytes.await.map_err(|e| AppError::BadRequest(format!("unreadable form: {e}")))?;
                    let fields = serde_urlencoded::from_bytes(&bytes)
                        .map_err(|_| AppError::BadRequest("unreadable form".into()))?;
                    CsrfUpload { fields, ..CsrfUpload::default() }
                }
                Err(parts) => read_parts(parts, &limits).await?,
            };
            let sent = upload.fields.iter().find(|(k, _)| k == FIELD).map(|(_, v)| v.as_str());
            let expected = session.get::<String>(keys::CSRF).ok().flatten();
            match (sent, expected) {
                (Some(sent), Some(expected)) if same(sent, &expected) => Ok(upload),
                _ => Err(AppError::Csrf),
            }
        })
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
                let text = String::from_utf8(data).map_err(|_| AppError::BadRequest("the form is not UTF-8".into()))?;
                upload.fields.push((name, text));
            }
        }
    }
    Ok(upload)
}
