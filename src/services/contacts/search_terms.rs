//! Keeping a contact's search words in step with its fields: the prefixes of its words here,
//! its fragments in `fragments`.

use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryTrait, Set, Statement};

use crate::domain::search::words;
use crate::entities::{contact, contact_search_term};

/// The (field, word) pairs a contact is found by.
pub(crate) fn terms_of(
    contact: &contact::Model,
    secondary_emails: &[String],
    account_name: Option<&str>,
) -> Vec<(&'static str, String)> {
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
    for email in contact.email.iter().chain(secondary_emails) {
        add("email", email.clone());
        if let Some((local, _)) = email.split_once('@') {
            add("email", local.to_owned());
        }
    }
    for (field, number) in [("phone", &contact.phone), ("mobile", &contact.mobile)] {
        if let Some(number) = number {
            let digits: String = number.chars().filter(char::is_ascii_digit).collect();
            // Found by the full international digits and by the digits people type locally.
            for skip in 0..digits.len().min(4) {
                add(field, digits[skip..].to_owned());
            }
        }
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
    secondary_emails: &[String],
    account_name: Option<&str>,
) -> Result<(), DbErr> {
    contact_search_term::Entity::delete_many()
        .filter(contact_search_term::Column::ContactId.eq(contact.id))
        .exec(conn)
        .await?;
    index(conn, contact, secondary_emails, account_name).await
}

/// Writes the search words of a contact that has none yet (one just created).
///
/// # Errors
/// Database errors.
pub async fn index<C: ConnectionTrait>(
    conn: &C,
    contact: &contact::Model,
    secondary_emails: &[String],
    account_name: Option<&str>,
) -> Result<(), DbErr> {
    if let Some(insert) = index_statement(conn.get_database_backend(), contact, secondary_emails, account_name) {
        conn.execute(insert).await?;
    }
    super::fragments::refresh(conn, &[contact.id]).await
}

/// [`index`]'s prefix words as a statement, for a caller that runs it together with others
/// ([`crate::db::execute_all`]) and the contact's fragments
/// ([`super::fragments::refresh_statements`]); `None` when the contact has no words to be found
/// by.
#[must_use]
pub fn index_statement(
    backend: DbBackend,
    contact: &contact::Model,
    secondary_emails: &[String],
    account_name: Option<&str>,
) -> Option<Statement> {
    let rows = rows(contact, secondary_emails, account_name);
    (!rows.is_empty()).then(|| contact_search_term::Entity::insert_many(rows).build(backend))
}

/// The rows of [`index_statement`], for a caller that inserts many contacts' words at once.
#[must_use]
pub fn rows(
    contact: &contact::Model,
    secondary_emails: &[String],
    account_name: Option<&str>,
) -> Vec<contact_search_term::ActiveModel> {
    terms_of(contact, secondary_emails, account_name)
        .into_iter()
        .map(|(field, term)| contact_search_term::ActiveModel {
            term: Set(term),
            field: Set(field.to_owned()),
            contact_id: Set(contact.id),
        })
        .collect()
}
