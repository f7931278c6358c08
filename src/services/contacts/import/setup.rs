//! Map Fields and Import Mode: checking the agent's choices against the file and the profile,
//! then starting a Test run or the import (the runner takes it from there).

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{get, Mode};
use crate::db::Db;
use crate::domain::import_fields::ImportField;
use crate::domain::{Action, Module};
use crate::entities::{contact_import, contact_import_reject};
use crate::services::{Actor, ServiceError};

/// The states a Test run or the import may start from: nothing was written yet.
pub const START_FROM: [&str; 2] = ["uploaded", "tested"];

/// The agent's choices on the mapping page.
#[derive(Clone, Debug)]
pub struct Setup {
    pub mapping: Vec<Option<ImportField>>,
    pub mode: Option<Mode>,
    pub create_accounts: bool,
}

/// Why the choices cannot run, for the mapping page.
#[derive(Debug)]
pub enum SetupError {
    /// Not allowed, not there, or a database error.
    Refused(ServiceError),
    /// Messages for the page: per column ("" for none) and for the whole form.
    Invalid { columns: Vec<String>, form: Vec<String> },
}

impl From<ServiceError> for SetupError {
    fn from(e: ServiceError) -> Self {
        Self::Refused(e)
    }
}

impl From<sea_orm::DbErr> for SetupError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Refused(e.into())
    }
}

/// Why `actor`'s profile cannot import into `field`, if it cannot.
#[must_use]
pub fn field_refusal(actor: &Actor, field: ImportField) -> Option<&'static str> {
    let rules = actor.fields(Module::Contacts);
    let key = field.permission_key()?;
    if !rules.shows(key) {
        Some("hidden from your profile")
    } else if !rules.edits(key) {
        Some("read-only for your profile")
    } else {
        None
    }
}

/// Whether `actor` may run an import in `mode` (creating accounts if `create_accounts`): the
/// Import permission, Create on contacts to add, Edit to update, Create on accounts.
///
/// # Errors
/// The refusal, in the words of the console's 403 page.
pub fn may_run(actor: &Actor, mode: Mode, create_accounts: bool) -> Result<(), String> {
    let mut needs = vec![(Module::Contacts, Action::Create), (Module::Contacts, Action::Edit)];
    match mode {
        Mode::Add => needs.truncate(1),
        Mode::Update => {
            needs.remove(0);
        }
        Mode::AddUpdate => {}
    }
    if create_accounts {
        needs.push((Module::Accounts, Action::Create));
    }
    let refusal = |e: ServiceError| match e {
        ServiceError::Forbidden(why) => why,
        other => other.to_string(),
    };
    actor.may_import_contacts().map_err(refusal)?;
    for (module, action) in needs {
        actor.may(module, action).map_err(refusal)?;
    }
    Ok(())
}

impl Setup {
    /// Checks the choices for a file with `columns` columns.
    fn check(&self, actor: &Actor, columns: usize) -> Result<Mode, SetupError> {
        let mut per_column = vec![String::new(); columns];
        let mut form = Vec::new();
        if self.mapping.len() != columns {
            form.push("The form does not match the file's columns; open the import again.".to_owned());
        }
        for (i, field) in self.mapping.iter().enumerate().take(columns) {
            let Some(field) = field else { continue };
            if let Some(why) = field_refusal(actor, *field) {
                per_column[i] = format!("{} cannot be imported: it is {why}.", field.label());
            } else if self.mapping[..i].contains(&Some(*field)) {
                per_column[i] = format!("{} is already mapped to another column.", field.label());
            }
        }
        let mapped = |f| self.mapping.contains(&Some(f));
        let mode = self.mode;
        match mode {
            None => form.push("Choose an Import Mode.".to_owned()),
            Some(Mode::Add | Mode::AddUpdate) if !mapped(ImportField::LastName) && !mapped(ImportField::FullName) => {
                form.push("Map a column to Last Name (or Full Name): every contact needs one.".to_owned());
            }
            _ => {}
        }
        if matches!(mode, Some(Mode::Update | Mode::AddUpdate))
            && !mapped(ImportField::Email)
            && !mapped(ImportField::SecondaryEmail)
            && !mapped(ImportField::ExternalId)
        {
            form.push("To update contacts, map a column to Email or External ID: rows are matched by them.".to_owned());
        }
        if let Some(mode) = mode {
            if let Err(why) = may_run(actor, mode, self.create_accounts) {
                form.push(why);
            }
        }
        match mode {
            Some(mode) if form.is_empty() && per_column.iter().all(String::is_empty) => Ok(mode),
            _ => Err(SetupError::Invalid { columns: per_column, form }),
        }
    }
}

/// Saves the choices for import `id` and starts its Test run (`test`) or the import itself.
///
/// # Errors
/// `Refused` without the permissions, for an import not there or already imported;
/// `Invalid` with the page's messages.
pub async fn start(db: &Db, actor: &Actor, id: i64, setup: Setup, test: bool) -> Result<(), SetupError> {
    let import = get(&db.conn, actor, id).await?;
    let already_ran =
        || ServiceError::Conflict("This import has already run; start a new one from Import Contacts.".into());
    if !import.can_start() {
        return Err(already_ran().into());
    }
    let mode = setup.check(actor, import.headers().len())?;
    let mapping: Vec<Option<&str>> = setup.mapping.iter().map(|f| f.map(ImportField::key)).collect();
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    use contact_import::Column as C;
    // Only from a state where nothing was written: a second post of the form (or one racing
    // the runner) changes nothing.
    let started = contact_import::Entity::update_many()
        .col_expr(C::Mapping, Expr::value(serde_json::to_string(&mapping).unwrap_or_else(|_| "[]".into())))
        .col_expr(C::Mode, Expr::value(mode.key()))
        .col_expr(C::CreateAccounts, Expr::value(setup.create_accounts))
        .col_expr(C::Status, Expr::value(if test { "testing" } else { "importing" }))
        .col_expr(C::AgentId, Expr::value(actor.id()))
        .col_expr(C::DoneRows, Expr::value(0))
        .col_expr(C::Created, Expr::value(0))
        .col_expr(C::Updated, Expr::value(0))
        .col_expr(C::Skipped, Expr::value(0))
        .col_expr(C::Rejected, Expr::value(0))
        .col_expr(C::StartedAt, Expr::value(Utc::now()))
        .col_expr(C::FinishedAt, Expr::value(Option::<chrono::DateTime<Utc>>::None))
        .col_expr(C::LeaseUntil, Expr::value(Option::<chrono::DateTime<Utc>>::None))
        .col_expr(C::Error, Expr::value(Option::<String>::None))
        .filter(C::Id.eq(id))
        .filter(C::Status.is_in(START_FROM))
        .exec(&txn)
        .await?;
    if started.rows_affected != 1 {
        return Err(already_ran().into());
    }
    contact_import_reject::Entity::delete_many()
        .filter(contact_import_reject::Column::ImportId.eq(id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}
