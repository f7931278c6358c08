//! Use-cases. Each takes a connection, the acting agent where it matters (an [`Actor`], whose
//! profile it checks itself: a route, an import, an API call or a channel cannot skip that),
//! and validated input; it owns its transaction and the object-level checks (what this actor
//! may touch). A value another writer took first is a field error ([`ServiceError::from_unique`]).

pub mod accounts;
pub mod activities;
pub mod actor;
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

pub use actor::Actor;

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

    /// A database error as the form's message when it is a unique-constraint violation of one
    /// of `fields` (another writer took the value between the form's checks and the write):
    /// each is `(constraint, field, message)`, the first whose constraint the database names
    /// gives the field and its message. Any other error stays what it is, a violation of
    /// another constraint too: it is not the form's to explain.
    ///
    /// A constraint is named the way the databases name it when they refuse a row: a column's
    /// own `UNIQUE` as `table.column` (SQLite says `table.column`, PostgreSQL
    /// `table_column_key`), a unique index by its name (PostgreSQL says it; SQLite names the
    /// columns, so give those too).
    #[must_use]
    pub fn from_unique(err: sea_orm::DbErr, fields: &[(&str, &'static str, &str)]) -> Self {
        if let Some(sea_orm::SqlErr::UniqueConstraintViolation(refusal)) = err.sql_err() {
            if let Some((_, field, message)) = fields.iter().find(|(key, _, _)| names_constraint(&refusal, key)) {
                return Self::field(field, *message);
            }
        }
        err.into()
    }
}

/// Whether the database's `refusal` of a row names the unique constraint `key` (see
/// [`ServiceError::from_unique`]).
fn names_constraint(refusal: &str, key: &str) -> bool {
    let named = |name: &str| {
        refusal.match_indices(name).any(|(at, _)| {
            let part = |c: char| c.is_ascii_alphanumeric() || c == '_';
            let before = refusal[..at].chars().next_back().is_none_or(|c| !part(c));
            let after = refusal[at + name.len()..].chars().next().is_none_or(|c| !part(c));
            before && after
        })
    };
    named(key) || key.split_once('.').is_some_and(|(table, column)| named(&format!("{table}_{column}_key")))
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

#[cfg(test)]
mod tests {
    use super::names_constraint;

    #[test]
    fn a_constraint_is_known_by_the_name_either_database_gives_it() {
        let sqlite = "UNIQUE constraint failed: agents.email";
        let postgres = "duplicate key value violates unique constraint \"agents_email_key\"";
        for refusal in [sqlite, postgres] {
            assert!(names_constraint(refusal, "agents.email"), "{refusal}");
            assert!(!names_constraint(refusal, "agents.name"), "{refusal}");
            assert!(!names_constraint(refusal, "gents.email"), "{refusal}");
        }
        let partial = "UNIQUE constraint failed: contact_identities.kind, contact_identities.value";
        assert!(names_constraint(partial, "contact_identities.value"));
        let index = "duplicate key value violates unique constraint \"idx_contact_identities_unique\"";
        assert!(names_constraint(index, "idx_contact_identities_unique"));
        assert!(!names_constraint(index, "contact_identities.value"));
    }
}
