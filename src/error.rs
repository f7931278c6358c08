//! One error type for the HTTP layer. Each variant maps to one status and one error page; the
//! cause of an internal error is logged, never shown.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Not there, or not this actor's to see: both look the same from outside.
    #[error("not found")]
    NotFound,
    /// The agent's profile lacks a permission; the text says which.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// A form post without a valid CSRF token.
    #[error("invalid CSRF token")]
    Csrf,
    /// No session: go and log in (or set up the first administrator).
    #[error("login required")]
    LoginRequired { location: String },
    /// The request asks for something the current state refuses (e.g. deleting a Help Center
    /// user); the text says why and what to do.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Too many failed attempts.
    #[error("too many requests")]
    TooManyRequests(String),
    /// A form posted as something other than a form (`text/plain`, JSON...).
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// A malformed request (bad query string, body too large).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Anything else: logged, shown as a generic page.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Internal(err.into())
    }
}

impl From<askama::Error> for AppError {
    fn from(err: askama::Error) -> Self {
        Self::Internal(err.into())
    }
}

#[derive(Template)]
#[template(path = "errors/error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Forbidden(_) | Self::Csrf => StatusCode::FORBIDDEN,
            // The answer is a 303 to the login page (see `error_response`); 401 here is what
            // request logs see, so that an anonymous visit is logged as a client error and not
            // as a server error.
            Self::LoginRequired { .. } => StatusCode::UNAUTHORIZED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let (title, message): (&str, String) = match self {
            Self::LoginRequired { location } => {
                return HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, location.as_str()))
                    .finish();
            }
            Self::NotFound => ("Not found", "There is nothing here, or it is not yours to see.".into()),
            Self::Forbidden(what) => ("Permission denied", what.clone()),
            Self::Csrf => (
                "Form expired",
                "This form was not accepted because its security token is missing or out of date. Go back, reload the page and try again.".into(),
            ),
            Self::Conflict(why) => ("Not possible", why.clone()),
            Self::TooManyRequests(why) => ("Too many attempts", why.clone()),
            Self::UnsupportedMediaType => (
                "Not a form",
                "This was not sent as a form (application/x-www-form-urlencoded or multipart/form-data), so nothing was saved.".into(),
            ),
            Self::BadRequest(why) => ("Bad request", why.clone()),
            Self::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                ("Something went wrong", "The error has been logged. Please try again.".into())
            }
        };
        let page = ErrorPage { status: status.as_u16(), title, message: &message };
        let body = page.render().unwrap_or_else(|_| message.clone());
        HttpResponse::build(status).content_type("text/html; charset=utf-8").body(body)
    }
}

/// Result of a handler.
pub type AppResult<T> = Result<T, AppError>;
