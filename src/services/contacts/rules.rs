//! Removing what a profile may not see from a contact row.

use super::ContactRow;
use crate::domain::FieldRules;

/// Clears every field of `row` that `rules` hide.
pub fn redact(rules: &FieldRules, row: &mut ContactRow) {
    if !rules.shows("first_name") {
        row.first_name = None;
    }
    if !rules.shows("email") {
        row.email = None;
    }
    if !rules.shows("phone") {
        row.phone = None;
    }
    if !rules.shows("mobile") {
        row.mobile = None;
    }
    if !rules.shows("account") {
        row.account_id = None;
        row.account_name = None;
    }
    if !rules.shows("owner") {
        row.owner_id = None;
        row.owner_name = None;
    }
    if !rules.shows("title") {
        row.title = None;
    }
    if !rules.shows("description") {
        row.description = None;
    }
}
