//! Use-cases. Each takes a connection, the acting agent where it matters, and validated input;
//! it owns its transaction and the object-level checks (what this actor may touch).

pub mod accounts;
pub mod activities;
pub mod agents;
pub mod articles;
pub mod branding;
pub mod contacts;
pub mod deliveries;
pub mod events;
pub mod help_center;
pub mod intake;
pub mod login;
pub mod profiles;
pub mod recycle_bin;
pub mod settings;
pub mod setup;
pub mod throttle;
pub mod tickets;

use crate::domain::FieldErrors;
use crate::error::AppError;

/// What a use-case can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Not there, or not this actor's.
    #[error("not found")]
    NotFound,
    /// The actor may not do this; the text says why.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The current state refuses it; the text says why and what to do.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The input breaks a rule found only with the database (a duplicate email, a read-only
    /// field): messages per field, for the form.
    #[error("invalid input")]
    Invalid(FieldErrors),
    /// Another contact has this email already (its id, for a link to it).
    #[error("duplicate email")]
    DuplicateEmail(i64),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl ServiceError {
    /// A single field error.
    #[must_use]
    pub fn field(field: &'static str, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::default();
        errors.add(field, message);
        Self::Invalid(errors)
    }
}

impl From<ServiceError> for AppError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::NotFound => Self::NotFound,
            ServiceError::Forbidden(why) => Self::Forbidden(why),
            ServiceError::Conflict(why) => Self::Conflict(why),
            ServiceError::Invalid(errors) => Self::BadRequest(format!("invalid input: {errors:?}")),
            ServiceError::DuplicateEmail(_) => Self::Conflict("Another contact has this email already.".into()),
            ServiceError::Db(e) => Self::Internal(e.into()),
            ServiceError::Other(e) => Self::Internal(e),
        }
    }
}

/// Result of a use-case.
pub type ServiceResult<T> = Result<T, ServiceError>;

/// Whether a database error is a unique-constraint violation (on either backend).
#[must_use]
pub fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_)))
}

/// Whether a page lists fewer rows (`listed`) than there are (`count`): its heading gives the
/// count, and a line under it says the list is cut.
#[must_use]
pub fn more_than_listed(count: i64, listed: usize) -> bool {
    usize::try_from(count).is_ok_and(|count| count > listed)
}
