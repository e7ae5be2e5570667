//! Who is asking: a signed-in staff member (session) or an integration
//! acting for one (API token, narrowed to its scopes). Every admin route
//! asks the actor two things: may you do this ([`Actor::allows`]), and may
//! you see this team's data ([`Actor::sees_team`]).

use serde::Serialize;

use crate::staff::role::{self, Permission, Role};
use crate::store::people::StaffRow;

/// Whose data an actor sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Every employee (HR admin, auditor).
    All,
    /// One team's employees only (a manager).
    Team(String),
}

/// How the actor proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// A browser session; state changes must carry its CSRF token.
    Session { csrf_token: String },
    /// An API token, limited to its scopes.
    Token {
        token_id: String,
        scopes: Vec<Permission>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub username: String,
    pub role: Role,
    pub scope: Scope,
    pub via: Via,
}

impl Actor {
    /// None for a disabled account or an unknown role.
    pub fn from_staff(staff: &StaffRow, via: Via) -> Option<Actor> {
        if staff.disabled {
            return None;
        }
        let role = Role::parse(&staff.role)?;
        let scope = match role {
            // A manager without a team sees nobody.
            Role::Manager => Scope::Team(staff.team.clone().unwrap_or_default()),
            Role::HrAdmin | Role::Auditor => Scope::All,
        };
        Some(Actor {
            username: staff.username.clone(),
            role,
            scope,
            via,
        })
    }

    pub fn allows(&self, permission: Permission) -> bool {
        role::allows(self.role, permission)
            && match &self.via {
                Via::Session { .. } => true,
                Via::Token { scopes, .. } => scopes.contains(&permission),
            }
    }

    /// Whether data of an employee in `team` is visible to this actor.
    pub fn sees_team(&self, team: Option<&str>) -> bool {
        match &self.scope {
            Scope::All => true,
            Scope::Team(mine) => !mine.is_empty() && team == Some(mine.as_str()),
        }
    }

    /// The team a manager is limited to.
    pub fn team(&self) -> Option<&str> {
        match &self.scope {
            Scope::All => None,
            Scope::Team(t) => Some(t),
        }
    }

    /// Who, as the audit log names them.
    pub fn label(&self) -> String {
        match &self.via {
            Via::Session { .. } => self.username.clone(),
            Via::Token { token_id, .. } => format!("{} (token {token_id})", self.username),
        }
    }
}
