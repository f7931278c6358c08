//! The acting agent, as every agent-facing use-case takes it: who it is and what its profile
//! allows. A use-case refuses on its own what the profile does not allow (`may`, `must_be_admin`)
//! and derives the field rules it screens input and redacts output with (`fields`), so that a
//! route, an import, an API call or a channel that reaches it cannot forget either. Handlers
//! still gate who may enter an area (`CurrentAgent::require`), with the same words.

use sea_orm::DatabaseConnection;

use super::{agents, ServiceError, ServiceResult};
use crate::domain::{Action, FieldRules, Module, Permissions};

/// An agent acting through a use-case, with its profile.
#[derive(Clone, Debug)]
pub struct Actor {
    id: i64,
    profile_name: String,
    permissions: Permissions,
}

impl Actor {
    /// The agent `id` whose profile `profile_name` allows `permissions` (as the session holds
    /// them).
    #[must_use]
    pub fn new(id: i64, profile_name: impl Into<String>, permissions: Permissions) -> Self {
        Self { id, profile_name: profile_name.into(), permissions }
    }

    /// The active agent `id` with its profile as stored: how a caller without a session (an
    /// import, a job, an API token) acts as an agent. `None` for an unknown or deactivated
    /// agent.
    ///
    /// # Errors
    /// Database errors.
    pub async fn load(conn: &DatabaseConnection, id: i64) -> ServiceResult<Option<Self>> {
        Ok(agents::find_active_with_profile(conn, id).await?.map(|(agent, profile)| {
            let permissions = serde_json::from_str(&profile.permissions).unwrap_or_default();
            Self::new(agent.id, profile.name, permissions)
        }))
    }

    /// The agent's id.
    #[must_use]
    pub fn id(&self) -> i64 {
        self.id
    }

    /// The name of the agent's profile.
    #[must_use]
    pub fn profile_name(&self) -> &str {
        &self.profile_name
    }

    /// What the profile allows.
    #[must_use]
    pub fn permissions(&self) -> &Permissions {
        &self.permissions
    }

    /// Whether the agent is an administrator.
    #[must_use]
    pub fn is_admin(&self) -> bool {
        self.permissions.admin
    }

    /// Whether the profile allows `action` in `module`.
    #[must_use]
    pub fn can(&self, module: Module, action: Action) -> bool {
        self.permissions.can(module, action)
    }

    /// Refuses, naming the missing permission, unless the profile allows `action` in `module`.
    ///
    /// # Errors
    /// `Forbidden`, with the words of the console's 403 page.
    pub fn may(&self, module: Module, action: Action) -> ServiceResult<()> {
        if self.can(module, action) {
            Ok(())
        } else {
            Err(ServiceError::Forbidden(format!(
                "Your profile ({}) does not have the {} permission for {}. Ask an administrator to change your profile.",
                self.profile_name,
                action.label(),
                module.label()
            )))
        }
    }

    /// Refuses, naming the missing permission, unless the profile may import contacts.
    ///
    /// # Errors
    /// `Forbidden`, with the words of the console's 403 page.
    pub fn may_import_contacts(&self) -> ServiceResult<()> {
        self.may_transfer(self.permissions.can_import_contacts(), "Import")
    }

    /// Refuses, naming the missing permission, unless the profile may export contacts.
    ///
    /// # Errors
    /// `Forbidden`, with the words of the console's 403 page.
    pub fn may_export_contacts(&self) -> ServiceResult<()> {
        self.may_transfer(self.permissions.can_export_contacts(), "Export")
    }

    fn may_transfer(&self, allowed: bool, permission: &str) -> ServiceResult<()> {
        if allowed {
            Ok(())
        } else {
            Err(ServiceError::Forbidden(format!(
                "Your profile ({}) does not have the {permission} permission for Contacts. Ask an administrator to change your profile.",
                self.profile_name
            )))
        }
    }

    /// Refuses anyone but an administrator.
    ///
    /// # Errors
    /// `Forbidden` for other profiles.
    pub fn must_be_admin(&self) -> ServiceResult<()> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ServiceError::Forbidden("Only administrators can do this.".into()))
        }
    }

    /// How the profile sees the fields of `module`'s records (contacts and accounts have
    /// restrictable fields; the other modules' are all read-write).
    #[must_use]
    pub fn fields(&self, module: Module) -> FieldRules {
        FieldRules::of(&self.permissions, module)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_the_profile_the_permission_and_the_module() {
        let light = Actor::new(7, "Light Agent", Permissions::light_agent());
        assert!(light.may(Module::Contacts, Action::View).is_ok());
        match light.may(Module::Contacts, Action::Edit) {
            Err(ServiceError::Forbidden(why)) => assert_eq!(
                why,
                "Your profile (Light Agent) does not have the Edit permission for Contacts. Ask an administrator to change your profile."
            ),
            other => panic!("expected Forbidden, got {other:?}"),
        }
        assert!(matches!(light.must_be_admin(), Err(ServiceError::Forbidden(_))));
        assert!(Actor::new(1, "Administrator", Permissions::administrator()).must_be_admin().is_ok());
    }

    #[test]
    fn field_rules_come_from_the_profile_of_the_module() {
        let mut permissions = Permissions::agent();
        permissions.contact_fields.insert("email".into(), crate::domain::FieldAccess::Hidden);
        permissions.account_fields.insert("website".into(), crate::domain::FieldAccess::ReadOnly);
        let actor = Actor::new(2, "Agent", permissions);
        assert!(!actor.fields(Module::Contacts).shows("email"));
        assert!(actor.fields(Module::Accounts).shows("website"));
        assert!(!actor.fields(Module::Accounts).edits("website"));
        assert!(actor.fields(Module::Tickets).edits("email"));
    }
}
