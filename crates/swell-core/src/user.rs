//! Roles of users: what a person may do on a shared server (issue 15). Each use case of
//! swell-app declares the role it needs; a role allows what the roles below it allow.

use serde::{Deserialize, Serialize};

/// A user's role, from least to most allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    /// Reads dataflows, recipes, jobs, nodes, schedules, datasets and connections (never
    /// secrets).
    Viewer,
    /// A viewer who starts and stops jobs and syncs connections (Run Now).
    Operator,
    /// An operator who creates, changes and deletes dataflows, recipes, schedules and
    /// connected objects, and restores dataset versions.
    Editor,
    /// Everything: connections and their credentials, users and tokens.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Operator, Role::Editor, Role::Admin];

    /// The one spelling, stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    /// A role by name, in any case.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// Whether this role allows what `needed` allows.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_spelt_once() {
        assert!(Role::Admin.allows(Role::Editor) && Role::Editor.allows(Role::Operator));
        assert!(Role::Operator.allows(Role::Viewer) && !Role::Viewer.allows(Role::Operator));
        for r in Role::ALL {
            assert_eq!(Role::parse(&r.as_str().to_uppercase()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
