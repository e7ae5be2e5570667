//! Roles and the one permission table every admin route is checked against.

use serde::{Deserialize, Serialize};
use strum::VariantArray;

/// What a staff member is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Role {
    /// Everything for the employer.
    HrAdmin,
    /// Their own team: review flagged punches, approve requests, reset PINs
    /// (if the policy lets managers), export the team's attendance.
    Manager,
    /// Reads everything, changes nothing.
    Auditor,
}

impl Role {
    pub const ALL: &'static [Role] = Role::VARIANTS;

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(text: &str) -> Option<Role> {
        text.parse().ok()
    }
}

/// One thing a route does. API token scopes are lists of these.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Permission {
    ViewEmployees,
    ManageEmployees,
    ViewPunches,
    ReviewPunches,
    ViewDevices,
    ApproveRebind,
    ViewChainBreaks,
    AcknowledgeChainBreak,
    ExportAttendance,
    ViewAudit,
    PublishPolicy,
    ManageStaff,
    CreateTokens,
    /// For the PIN-reset routes (issue 10).
    ResetPin,
    /// For the make-up and field-work routes (issue 11).
    ViewRequests,
    DecideRequests,
}

impl Permission {
    pub const ALL: &'static [Permission] = Permission::VARIANTS;

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(text: &str) -> Option<Permission> {
        text.parse().ok()
    }
}

/// The permission table. Managers' rights stop at their team (see
/// `staff::actor::Scope`); that is checked on the data, not here.
pub fn allows(role: Role, permission: Permission) -> bool {
    use Permission as P;
    match role {
        Role::HrAdmin => true,
        Role::Manager => matches!(
            permission,
            P::ViewEmployees
                | P::ViewPunches
                | P::ReviewPunches
                | P::ViewDevices
                | P::ViewChainBreaks
                | P::ExportAttendance
                | P::CreateTokens
                | P::ResetPin
                | P::ViewRequests
                | P::DecideRequests
        ),
        Role::Auditor => matches!(
            permission,
            P::ViewEmployees
                | P::ViewPunches
                | P::ViewDevices
                | P::ViewChainBreaks
                | P::ExportAttendance
                | P::ViewAudit
                | P::ViewRequests
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_the_auditor_changes_nothing() {
        // One spelling: the API's (serde) and the database's (strum).
        for &p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
        assert_eq!(Permission::ALL.len(), 16);
        for &r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        assert_eq!(Role::parse("root"), None);
        for p in [
            Permission::ReviewPunches,
            Permission::ManageEmployees,
            Permission::ApproveRebind,
            Permission::AcknowledgeChainBreak,
            Permission::PublishPolicy,
            Permission::ManageStaff,
            Permission::ResetPin,
            Permission::DecideRequests,
            // A read-only role mints no credentials either.
            Permission::CreateTokens,
        ] {
            assert!(!allows(Role::Auditor, p), "{p:?}");
        }
        assert!(!allows(Role::Manager, Permission::ViewAudit));
        assert!(!allows(Role::Manager, Permission::PublishPolicy));
    }
}
