//! Map Fields and Import Mode: checking the agent's choices against the file and the profile,
//! then starting a Test run or the import (the runner takes it from there).

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use super::{get, Mode};
use crate::db::Db;
use crate::domain::import_fields::ImportField;
use crate::domain::{Action, Module};
use crate::entities::{contact_import, contact_import_reject};
use crate::services::{Actor, ServiceError};

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
        let needs = match mode {
            Some(Mode::Add) => vec![Action::Create],
            Some(Mode::Update) => vec![Action::Edit],
            Some(Mode::AddUpdate) => vec![Action::Create, Action::Edit],
            None => vec![],
        };
        for action in needs {
            if let Err(ServiceError::Forbidden(why)) = actor.may(Module::Contacts, action) {
                form.push(why);
            }
        }
        if self.create_accounts {
            if let Err(ServiceError::Forbidden(why)) = actor.may(Module::Accounts, Action::Create) {
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
    if import.running() || import.imported() {
        return Err(ServiceError::Conflict(
            "This import has already run; start a new one from Import Contacts.".into(),
        )
        .into());
    }
    let mode = setup.check(actor, import.headers().len())?;
    let mapping: Vec<Option<&str>> = setup.mapping.iter().map(|f| f.map(ImportField::key)).collect();
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await?;
    contact_import_reject::Entity::delete_many()
        .filter(contact_import_reject::Column::ImportId.eq(id))
        .exec(&txn)
        .await?;
    let mut row: contact_import::ActiveModel = import.row.into();
    row.mapping = Set(Some(serde_json::to_string(&mapping).unwrap_or_else(|_| "[]".into())));
    row.mode = Set(Some(mode.key().to_owned()));
    row.create_accounts = Set(setup.create_accounts);
    row.status = Set(if test { "testing" } else { "importing" }.to_owned());
    row.agent_id = Set(actor.id());
    for count in [&mut row.done_rows, &mut row.created, &mut row.updated, &mut row.skipped, &mut row.rejected] {
        *count = Set(0);
    }
    row.started_at = Set(Some(Utc::now()));
    row.finished_at = Set(None);
    row.lease_until = Set(None);
    row.error = Set(None);
    row.update(&txn).await?;
    txn.commit().await?;
    Ok(())
}
