//! Field permissions applied in one place: which fields of a contact or an account the acting
//! profile sees and may change, and screening a posted form against that.

use super::permissions::{ACCOUNT_FIELDS, CONTACT_FIELDS};
use super::{FieldAccess, FieldErrors, Module, Permissions};

/// A posted form whose fields can be screened by permission key.
pub trait ScreenedForm {
    /// The submitted text of `field` ("" when absent).
    fn value(&self, field: &str) -> &str;
    /// Whether `field` was in the post at all.
    fn posted(&self, field: &str) -> bool;
    /// Forgets `field`, as if it had not been posted.
    fn drop_field(&mut self, field: &str);
}

/// How the acting profile sees each restrictable field of one kind of record.
#[derive(Clone, Debug)]
pub struct FieldRules {
    access: Vec<(&'static str, &'static str, FieldAccess)>,
}

impl FieldRules {
    /// The rules for the fields of `module`'s records: contacts and accounts have restrictable
    /// fields; the other modules' fields are all read-write.
    #[must_use]
    pub fn of(permissions: &Permissions, module: Module) -> Self {
        match module {
            Module::Contacts => Self::contacts(permissions),
            Module::Accounts => Self::accounts(permissions),
            Module::Tickets | Module::Articles => Self { access: Vec::new() },
        }
    }

    /// The rules for contact fields.
    #[must_use]
    pub fn contacts(permissions: &Permissions) -> Self {
        Self { access: CONTACT_FIELDS.iter().map(|(f, label)| (*f, *label, permissions.contact_field(f))).collect() }
    }

    /// The rules for account fields.
    #[must_use]
    pub fn accounts(permissions: &Permissions) -> Self {
        Self { access: ACCOUNT_FIELDS.iter().map(|(f, label)| (*f, *label, permissions.account_field(f))).collect() }
    }

    fn access(&self, field: &str) -> FieldAccess {
        self.access.iter().find(|(f, _, _)| *f == field).map_or(FieldAccess::ReadWrite, |(_, _, a)| *a)
    }

    /// Whether `field` is shown.
    #[must_use]
    pub fn shows(&self, field: &str) -> bool {
        self.access(field).visible()
    }

    /// Whether `field` may be changed.
    #[must_use]
    pub fn edits(&self, field: &str) -> bool {
        self.access(field).writable()
    }

    /// Screens a posted form, then parses it with `parse`: the messages of both steps together.
    ///
    /// # Errors
    /// Every field's message, from screening and from parsing.
    pub fn screen_and_parse<F: ScreenedForm, T>(
        &self,
        mut form: F,
        current: Option<&F>,
        parse: impl FnOnce(&F) -> Result<T, FieldErrors>,
    ) -> Result<T, FieldErrors> {
        let screened = self.screen(&mut form, current);
        match (screened, parse(&form)) {
            (Ok(()), Ok(value)) => Ok(value),
            (screen, parsed) => {
                let mut errors = screen.err().unwrap_or_default();
                for (field, message) in parsed.err().unwrap_or_default().iter() {
                    errors.add(field, message.to_owned());
                }
                Err(errors)
            }
        }
    }

    /// Screens a posted form: a hidden field is dropped (ignored, as if not posted); a read-only
    /// field may be posted only with the value it has (`current`, or empty for a new record),
    /// else the post is refused with a message next to it.
    ///
    /// # Errors
    /// Messages for read-only fields whose value the post tries to change.
    pub fn screen<F: ScreenedForm>(&self, form: &mut F, current: Option<&F>) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::default();
        for (field, label, access) in &self.access {
            match access {
                FieldAccess::ReadWrite => {}
                FieldAccess::Hidden => form.drop_field(field),
                FieldAccess::ReadOnly => {
                    let now = current.map_or("", |c| c.value(field)).trim();
                    if form.posted(field) && form.value(field).trim() != now {
                        errors.add(field, format!("{label} is read-only for your profile and cannot be changed."));
                    }
                    form.drop_field(field);
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}
