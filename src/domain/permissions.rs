//! What a profile allows: per module (view, create, edit, delete) and per field of a contact or
//! an account (read-write, read-only, hidden). Stored as JSON on the profile.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A part of the console that permissions are given for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Module {
    Contacts,
    Accounts,
    Tickets,
    Articles,
}

impl Module {
    /// Every module, in the order the settings page lists them.
    pub const ALL: [Self; 4] = [Self::Contacts, Self::Accounts, Self::Tickets, Self::Articles];

    /// The key used in forms and JSON.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::Contacts => "contacts",
            Self::Accounts => "accounts",
            Self::Tickets => "tickets",
            Self::Articles => "articles",
        }
    }

    /// The label people read.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Contacts => "Contacts",
            Self::Accounts => "Accounts",
            Self::Tickets => "Tickets",
            Self::Articles => "Articles",
        }
    }
}

/// Something an agent does in a module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    View,
    Create,
    Edit,
    Delete,
}

impl Action {
    /// Every action, in the order the settings page lists them.
    pub const ALL: [Self; 4] = [Self::View, Self::Create, Self::Edit, Self::Delete];

    /// The key used in forms.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::View => "view",
            Self::Create => "create",
            Self::Edit => "edit",
            Self::Delete => "delete",
        }
    }

    /// The label people read.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::View => "View",
            Self::Create => "Create",
            Self::Edit => "Edit",
            Self::Delete => "Delete",
        }
    }
}

/// What a profile may do in one module.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleRights {
    pub view: bool,
    pub create: bool,
    pub edit: bool,
    pub delete: bool,
}

impl ModuleRights {
    const ALL: Self = Self { view: true, create: true, edit: true, delete: true };
    const VIEW: Self = Self { view: true, create: false, edit: false, delete: false };

    /// Whether `action` is allowed.
    #[must_use]
    pub fn allows(self, action: Action) -> bool {
        match action {
            Action::View => self.view,
            Action::Create => self.create,
            Action::Edit => self.edit,
            Action::Delete => self.delete,
        }
    }
}

/// How a profile sees one field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldAccess {
    #[default]
    ReadWrite,
    ReadOnly,
    Hidden,
}

impl FieldAccess {
    /// Every level, in the order the settings page offers them.
    pub const ALL: [Self; 3] = [Self::ReadWrite, Self::ReadOnly, Self::Hidden];

    /// The key used in forms and JSON.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::ReadWrite => "read_write",
            Self::ReadOnly => "read_only",
            Self::Hidden => "hidden",
        }
    }

    /// The label people read.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::ReadWrite => "Read and write",
            Self::ReadOnly => "Read only",
            Self::Hidden => "Hidden",
        }
    }

    /// Parses a form value.
    #[must_use]
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.key() == key)
    }

    /// Whether the field is shown at all.
    #[must_use]
    pub fn visible(self) -> bool {
        self != Self::Hidden
    }

    /// Whether the field may be changed.
    #[must_use]
    pub fn writable(self) -> bool {
        self == Self::ReadWrite
    }
}

/// Contact fields a profile can restrict, with their labels. The last name is mandatory and so
/// always read-write, as in Zoho Desk.
pub const CONTACT_FIELDS: [(&str, &str); 8] = [
    ("first_name", "First Name"),
    ("email", "Email"),
    ("phone", "Phone"),
    ("mobile", "Mobile"),
    ("account", "Account Name"),
    ("owner", "Contact Owner"),
    ("title", "Title"),
    ("description", "Description"),
];

/// Account fields a profile can restrict (the account name is mandatory).
pub const ACCOUNT_FIELDS: [(&str, &str); 4] =
    [("website", "Website"), ("phone", "Phone"), ("owner", "Account Owner"), ("description", "Description")];

/// Everything a profile allows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permissions {
    /// Administrators may do everything, including settings and purging the Recycle Bin.
    #[serde(default)]
    pub admin: bool,
    #[serde(default)]
    pub contacts: ModuleRights,
    #[serde(default)]
    pub accounts: ModuleRights,
    #[serde(default)]
    pub tickets: ModuleRights,
    #[serde(default)]
    pub articles: ModuleRights,
    /// Restricted contact fields; a field not listed is read-write.
    #[serde(default)]
    pub contact_fields: BTreeMap<String, FieldAccess>,
    /// Restricted account fields; a field not listed is read-write.
    #[serde(default)]
    pub account_fields: BTreeMap<String, FieldAccess>,
    /// May import contacts from a file (Contacts Home → Import Contacts).
    #[serde(default)]
    pub import_contacts: bool,
    /// May export contacts as CSV (Contacts Home → Export Contacts).
    #[serde(default)]
    pub export_contacts: bool,
}

impl Permissions {
    /// The built-in Administrator profile.
    #[must_use]
    pub fn administrator() -> Self {
        let all = ModuleRights::ALL;
        Self {
            admin: true,
            contacts: all,
            accounts: all,
            tickets: all,
            articles: all,
            import_contacts: true,
            export_contacts: true,
            ..Self::default()
        }
    }

    /// The built-in Agent profile: works every module, deletes contacts, accounts and tickets.
    #[must_use]
    pub fn agent() -> Self {
        let all = ModuleRights::ALL;
        let no_delete = ModuleRights { delete: false, ..all };
        Self { contacts: all, accounts: all, tickets: all, articles: no_delete, ..Self::default() }
    }

    /// The built-in Light Agent profile: view only.
    #[must_use]
    pub fn light_agent() -> Self {
        let view = ModuleRights::VIEW;
        Self { contacts: view, accounts: view, tickets: view, articles: view, ..Self::default() }
    }

    /// The rights in `module`.
    #[must_use]
    pub fn module(&self, module: Module) -> ModuleRights {
        match module {
            Module::Contacts => self.contacts,
            Module::Accounts => self.accounts,
            Module::Tickets => self.tickets,
            Module::Articles => self.articles,
        }
    }

    /// Mutable rights in `module`, for the settings form.
    pub fn module_mut(&mut self, module: Module) -> &mut ModuleRights {
        match module {
            Module::Contacts => &mut self.contacts,
            Module::Accounts => &mut self.accounts,
            Module::Tickets => &mut self.tickets,
            Module::Articles => &mut self.articles,
        }
    }

    /// Whether `action` is allowed in `module`.
    #[must_use]
    pub fn can(&self, module: Module, action: Action) -> bool {
        self.admin || self.module(module).allows(action)
    }

    /// Whether the profile may import contacts. Administrators may.
    #[must_use]
    pub fn can_import_contacts(&self) -> bool {
        self.admin || self.import_contacts
    }

    /// Whether the profile may export contacts. Administrators may.
    #[must_use]
    pub fn can_export_contacts(&self) -> bool {
        self.admin || self.export_contacts
    }

    /// How a contact field is seen. Administrators see everything.
    #[must_use]
    pub fn contact_field(&self, field: &str) -> FieldAccess {
        if self.admin {
            return FieldAccess::ReadWrite;
        }
        self.contact_fields.get(field).copied().unwrap_or_default()
    }

    /// How an account field is seen.
    #[must_use]
    pub fn account_field(&self, field: &str) -> FieldAccess {
        if self.admin {
            return FieldAccess::ReadWrite;
        }
        self.account_fields.get(field).copied().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_light_agent_only_views() {
        let p = Permissions::light_agent();
        assert!(p.can(Module::Contacts, Action::View));
        for action in [Action::Create, Action::Edit, Action::Delete] {
            assert!(!p.can(Module::Contacts, action));
        }
    }

    #[test]
    fn an_unlisted_field_is_read_write_and_admins_see_all() {
        let mut p = Permissions::agent();
        p.contact_fields.insert("email".into(), FieldAccess::Hidden);
        assert_eq!(p.contact_field("phone"), FieldAccess::ReadWrite);
        assert_eq!(p.contact_field("email"), FieldAccess::Hidden);
        let mut admin = Permissions::administrator();
        admin.contact_fields.insert("email".into(), FieldAccess::Hidden);
        assert_eq!(admin.contact_field("email"), FieldAccess::ReadWrite);
    }

    #[test]
    fn only_administrators_import_and_export_unless_the_profile_says_so() {
        let admin = Permissions { import_contacts: false, export_contacts: false, ..Permissions::administrator() };
        assert!(admin.can_import_contacts() && admin.can_export_contacts());
        for p in [Permissions::agent(), Permissions::light_agent()] {
            assert!(!p.can_import_contacts() && !p.can_export_contacts());
        }
        let exporter = Permissions { export_contacts: true, ..Permissions::light_agent() };
        assert!(exporter.can_export_contacts() && !exporter.can_import_contacts());
        // Profiles stored before these permissions existed read as neither.
        let old: Permissions =
            serde_json::from_str(r#"{"contacts":{"view":true,"create":false,"edit":false,"delete":false}}"#)
                .unwrap_or_default();
        assert!(old.contacts.view && !old.can_export_contacts() && !old.can_import_contacts());
    }

    #[test]
    fn permissions_survive_a_json_round_trip() {
        let mut p = Permissions::agent();
        p.account_fields.insert("website".into(), FieldAccess::ReadOnly);
        let json = serde_json::to_string(&p).unwrap_or_default();
        assert_eq!(serde_json::from_str::<Permissions>(&json).ok(), Some(p));
    }
}
