//! One chunk of an import's rows, decided and written in one transaction together with the
//! import's progress, so that a run stopped anywhere (kill -9 included) resumes after the last
//! chunk written and imports no row twice. A test run decides the same way and writes only its
//! progress and the rejected rows.
//!
//! Each row is checked as Add Contact and Edit Contact check a form (`ContactForm::parse`, with
//! the importing agent's field permissions). New contacts are written a table at a time (ids
//! reserved, one multi-row insert per table); an existing contact's changes are written one
//! contact at a time, with what they were before, for Revert.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryTrait, Statement};
use sea_orm::{ColumnTrait, DatabaseTransaction};

use super::file::Row;
use super::lookup::{Matched, Owners, Stored};
use super::row::{first_problem, Values};
use super::{write, Mode};
use crate::domain::contact::MAX_SECONDARY_EMAILS;
use crate::domain::import_fields::ImportField;
use crate::domain::{ContactInput, FieldRules, PhoneParser};
use crate::entities::{contact_import, contact_import_reject};
use crate::services::Actor;

/// What stays the same for every chunk of a run.
pub struct Run {
    pub import_id: i64,
    pub actor: Actor,
    pub rules: FieldRules,
    pub mapping: Vec<Option<ImportField>>,
    pub mode: Mode,
    pub create_accounts: bool,
    /// A test run: decide, write nothing but the progress and the rejected rows.
    pub test: bool,
    pub owners: Owners,
    /// The addresses and external ids of the rows taken so far (hashed), with their line: a
    /// later row with one of them is a duplicate of that line.
    seen: HashMap<u64, u64>,
    /// Rows this run has written since it took the import.
    pub rows_written: i64,
}

/// How many rows of a chunk went which way.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    pub created: i64,
    pub updated: i64,
    pub skipped: i64,
    pub rejected: i64,
}

/// A row not taken.
#[derive(Clone, Debug)]
pub struct Reject {
    pub line: u64,
    pub field: &'static str,
    pub reason: String,
}

/// The account a row's contact goes to.
#[derive(Clone, Debug)]
pub enum AccountRef {
    None,
    Existing {
        id: i64,
        name: String,
        sort: String,
    },
    /// To be created by this chunk, by its name as first written.
    New(String),
}

/// What a row does.
pub enum Planned {
    Create { input: ContactInput, account: AccountRef, owner: i64, external: Option<String> },
    Update { matched: Box<Matched>, input: ContactInput, account: AccountRef, external: Option<String> },
}

fn key(kind: char, value: &str) -> u64 {
    let mut h = DefaultHasher::new();
    (kind, value).hash(&mut h);
    h.finish()
}

impl Run {
    #[allow(clippy::too_many_arguments)]
    #[must_use]
    pub fn new(
        import_id: i64,
        actor: Actor,
        mapping: Vec<Option<ImportField>>,
        mode: Mode,
        create_accounts: bool,
        test: bool,
        owners: Owners,
    ) -> Self {
        let rules = actor.fields(crate::domain::Module::Contacts);
        Self {
            import_id,
            actor,
            rules,
            mapping,
            mode,
            create_accounts,
            test,
            owners,
            seen: HashMap::new(),
            rows_written: 0,
        }
    }

    fn keys(&self, values: &Values) -> Vec<u64> {
        let external = values.get(ImportField::ExternalId).map(|x| key('x', x));
        values.emails().iter().map(|e| key('e', e)).chain(external).collect()
    }

    /// Remembers a row done before a restart (and not rejected then), so that a later
    /// duplicate of it is still found. Its contact is not known here: a later row matching the
    /// same contact by another address is taken as a second update.
    pub fn remember(&mut self, row: &Row) {
        let values = Values::of(&self.mapping, &row.cells);
        for k in self.keys(&values) {
            self.seen.entry(k).or_insert(row.line);
        }
    }

    /// Decides `rows` and, unless this is a test run, writes them, all in `txn`, with the
    /// import's progress.
    ///
    /// # Errors
    /// Database errors: the chunk is then not written at all.
    pub async fn process(
        &mut self,
        txn: &DatabaseTransaction,
        phones: &PhoneParser,
        rows: &[Row],
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Tally, DbErr> {
        let values: Vec<Values> = rows.iter().map(|r| Values::of(&self.mapping, &r.cells)).collect();
        // A row with more addresses than a contact may have is refused by its check: its
        // addresses are not looked up (which keeps the lookup's size bounded).
        let mut emails: Vec<String> =
            values.iter().map(Values::emails).filter(|e| e.len() <= MAX_SECONDARY_EMAILS + 1).flatten().collect();
        emails.sort_unstable();
        emails.dedup();
        let external: Vec<String> =
            values.iter().filter_map(|v| v.get(ImportField::ExternalId)).map(str::to_owned).collect();
        let names: Vec<String> =
            values.iter().filter_map(|v| v.get(ImportField::Account)).map(|n| n.trim().to_lowercase()).collect();
        let stored = Stored::find(txn, emails, external, names).await?;
        let mut tally = Tally::default();
        let mut rejects = Vec::new();
        let mut planned = Vec::new();
        for (row, values) in rows.iter().zip(&values) {
            match self.decide(row.line, values, &stored, phones) {
                Ok(Some(plan)) => planned.push(plan),
                Ok(None) => tally.skipped += 1,
                Err((field, reason)) => rejects.push(Reject { line: row.line, field, reason }),
            }
        }
        tally.rejected = i64::try_from(rejects.len()).unwrap_or(i64::MAX);
        if !self.test {
            let written = write::write(txn, &self.actor, &self.owners, self.import_id, planned, now).await?;
            tally.created = written.created;
            tally.updated = written.updated;
            tally.skipped += written.unchanged;
        } else {
            for plan in &planned {
                match plan {
                    Planned::Create { .. } => tally.created += 1,
                    Planned::Update { matched, input, account, external } => {
                        let external_changed = external.is_some() && *external != matched.model.external_id;
                        if write::changes(matched, input, account).is_empty() && !external_changed {
                            tally.skipped += 1;
                        } else {
                            tally.updated += 1;
                        }
                    }
                }
            }
        }
        for statement in reject_rows(txn.get_database_backend(), self.import_id, &rejects) {
            txn.execute(statement).await?;
        }
        txn.execute(progress(txn.get_database_backend(), self.import_id, rows.len(), tally, lease_until)).await?;
        Ok(tally)
    }

    /// What row `line` does, `None` for a row skipped by the mode, or its first problem.
    fn decide(
        &mut self,
        line: u64,
        values: &Values,
        stored: &Stored,
        phones: &PhoneParser,
    ) -> Result<Option<Planned>, (&'static str, String)> {
        let mut keys = self.keys(values);
        if let Some(first) = keys.iter().find_map(|k| self.seen.get(k)) {
            let field = if values.get(ImportField::Email).is_some() { "Email" } else { "External ID" };
            return Err((field, format!("Duplicate of line {first}.")));
        }
        let emails = values.emails();
        if emails.iter().any(|e| stored.binned.contains(e)) {
            return Err((
                "Email",
                "A contact in the Recycle Bin has this address. Restore it from the Recycle Bin, or purge it first."
                    .into(),
            ));
        }
        let mut matches: Vec<i64> = emails.iter().filter_map(|e| stored.by_email.get(e).copied()).collect();
        matches.sort_unstable();
        matches.dedup();
        if matches.len() > 1 {
            return Err(("Email", "Its addresses belong to different contacts; merge them first.".into()));
        }
        let external = values.get(ImportField::ExternalId).map(str::to_owned);
        let matched = matches
            .first()
            .or_else(|| external.as_ref().and_then(|x| stored.by_external.get(x)))
            .and_then(|id| stored.contacts.get(id));
        if let Some(m) = matched {
            // Two rows for one contact (by different addresses, or by its External ID): the
            // second is a duplicate, not a second update from a stale copy.
            let contact = key('c', &m.model.id.to_string());
            if let Some(first) = self.seen.get(&contact) {
                return Err(("Email", format!("Duplicate of line {first}: the same contact.")));
            }
            keys.push(contact);
        }
        let owner = match values.get(ImportField::Owner) {
            Some(text) => Some(self.owners.find(text).map_err(|e| ("Contact Owner", e))?.id),
            None => None,
        };
        let plan = match (matched, self.mode) {
            (Some(_), Mode::Add) | (None, Mode::Update) => None,
            (None, _) => {
                let owner = owner.unwrap_or(self.actor.id());
                let input = self
                    .rules
                    .screen_and_parse(values.new_contact(Some(owner)), None, |f| f.parse(phones))
                    .map_err(|e| first_problem(&e))?;
                let account = self.account(&input, stored)?;
                Some(Planned::Create { input, account, owner, external })
            }
            (Some(m), _) => {
                let current = m.form();
                let input = self
                    .rules
                    .screen_and_parse(values.over(&current, owner), Some(&current), |f| f.parse(phones))
                    .map_err(|e| first_problem(&e))?;
                let account = self.account(&input, stored)?;
                Some(Planned::Update { matched: Box::new(m.clone()), input, account, external })
            }
        };
        // Every row not rejected is remembered (a resumed run remembers the same rows: those
        // before it that are not among the rejected ones).
        for k in keys {
            self.seen.insert(k, line);
        }
        Ok(plan)
    }

    /// The account `input` names: exactly one live account with that name, or one this import
    /// creates when the agent allowed it.
    fn account(&self, input: &ContactInput, stored: &Stored) -> Result<AccountRef, (&'static str, String)> {
        let Some(name) = input.account_name.clone().flatten() else { return Ok(AccountRef::None) };
        match stored.accounts.get(&name.trim().to_lowercase()).map(Vec::as_slice) {
            Some([one]) => Ok(AccountRef::Existing { id: one.id, name: one.name.clone(), sort: one.name_sort.clone() }),
            Some([_, _, ..]) => Err(("Account Name", format!("Several accounts are named \u{201c}{name}\u{201d}."))),
            _ if self.create_accounts => Ok(AccountRef::New(name.trim().to_owned())),
            _ => Err((
                "Account Name",
                format!("No account is named \u{201c}{name}\u{201d}. Add it under Accounts, or tick \u{201c}Create accounts that do not exist\u{201d}."),
            )),
        }
    }
}

/// The rejected rows as inserts, a few hundred rows a statement.
fn reject_rows(backend: sea_orm::DbBackend, import_id: i64, rejects: &[Reject]) -> Vec<Statement> {
    rejects
        .chunks(500)
        .map(|chunk| {
            let rows = chunk.iter().map(|r| contact_import_reject::ActiveModel {
                import_id: Set(import_id),
                line: Set(i64::try_from(r.line).unwrap_or(i64::MAX)),
                field: Set(r.field.to_owned()),
                reason: Set(r.reason.clone()),
                ..Default::default()
            });
            contact_import_reject::Entity::insert_many(rows).build(backend)
        })
        .collect()
}

/// The import's progress after a chunk of `rows` rows.
fn progress(
    backend: sea_orm::DbBackend,
    import_id: i64,
    rows: usize,
    t: Tally,
    lease_until: DateTime<Utc>,
) -> Statement {
    use contact_import::Column as C;
    let add = |c: C, n: i64| Expr::col(c).add(n);
    contact_import::Entity::update_many()
        .col_expr(C::DoneRows, add(C::DoneRows, i64::try_from(rows).unwrap_or(i64::MAX)))
        .col_expr(C::Created, add(C::Created, t.created))
        .col_expr(C::Updated, add(C::Updated, t.updated))
        .col_expr(C::Skipped, add(C::Skipped, t.skipped))
        .col_expr(C::Rejected, add(C::Rejected, t.rejected))
        .col_expr(C::LeaseUntil, Expr::value(lease_until))
        .filter(C::Id.eq(import_id))
        .build(backend)
}
