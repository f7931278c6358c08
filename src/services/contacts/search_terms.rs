//! Keeping a contact's search words in step with its fields: the words of its names and its
//! account's name here, each found by any prefix (a search word of one or two characters, such
//! as the "o" of "ann o"), and its fragments in `fragments`. Addresses and numbers are found by
//! fragments of three characters or more alone: a one- or two-character start of an address
//! or a number finds nobody in particular, and their words cost a contact six more rows in an
//! index written at random places (a fifth of what an import of a million rows wrote).

use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryTrait, Set, Statement};

use crate::domain::search::words;
use crate::entities::{contact, contact_search_term};

/// The (field, word) pairs a contact is found by.
pub(crate) fn terms_of(contact: &contact::Model, account_name: Option<&str>) -> Vec<(&'static str, String)> {
    let mut terms: Vec<(&'static str, String)> = Vec::new();
    let mut add = |field: &'static str, term: String| {
        if !term.is_empty() && !terms.iter().any(|(f, t)| *f == field && *t == term) {
            terms.push((field, term.chars().take(100).collect()));
        }
    };
    // The first name has a field of its own, so that a profile hiding it cannot find contacts
    // by it either.
    for w in words(contact.first_name.as_deref().unwrap_or("")) {
        add("first_name", w);
    }
    for w in words(&contact.last_name) {
        add("name", w);
    }
    for w in words(account_name.unwrap_or("")) {
        add("account", w);
    }
    terms
}

/// Replaces the contact's search words.
///
/// # Errors
/// Database errors.
pub async fn reindex<C: ConnectionTrait>(
    conn: &C,
    contact: &contact::Model,
    account_name: Option<&str>,
) -> Result<(), DbErr> {
    contact_search_term::Entity::delete_many()
        .filter(contact_search_term::Column::ContactId.eq(contact.id))
        .exec(conn)
        .await?;
    index(conn, contact, account_name).await
}

/// Writes the search words of a contact that has none yet (one just created).
///
/// # Errors
/// Database errors.
pub async fn index<C: ConnectionTrait>(
    conn: &C,
    contact: &contact::Model,
    account_name: Option<&str>,
) -> Result<(), DbErr> {
    if let Some(insert) = index_statement(conn.get_database_backend(), contact, account_name) {
        conn.execute(insert).await?;
    }
    super::fragments::refresh(conn, &[contact.id]).await
}

/// [`index`]'s prefix words as a statement, for a caller that runs it together with others
/// ([`crate::db::execute_all`]) and the contact's fragments
/// ([`super::fragments::refresh_statements`]); `None` when the contact has no words to be found
/// by.
#[must_use]
pub fn index_statement(backend: DbBackend, contact: &contact::Model, account_name: Option<&str>) -> Option<Statement> {
    let rows = rows(contact, account_name);
    (!rows.is_empty()).then(|| contact_search_term::Entity::insert_many(rows).build(backend))
}

/// The rows of [`index_statement`], for a caller that inserts many contacts' words at once.
#[must_use]
pub fn rows(contact: &contact::Model, account_name: Option<&str>) -> Vec<contact_search_term::ActiveModel> {
    terms_of(contact, account_name)
        .into_iter()
        .map(|(field, term)| contact_search_term::ActiveModel {
            term: Set(term),
            field: Set(field.to_owned()),
            contact_id: Set(contact.id),
        })
        .collect()
}
