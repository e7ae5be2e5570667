//! Roles and the one permission table every admin route is checked against.

use serde::{Deserialize, Serialize};

/// What a staff member is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
    pub fn as_str(self) -> &'static str {
        match self {
            Role::HrAdmin => "hr_admin",
            Role::Manager => "manager",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        [Role::HrAdmin, Role::Manager, Role::Auditor]
            .into_iter()
            .find(|r| r.as_str() == text)
    }
}

/// One thing a route does. API token scopes are lists of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
    pub const ALL: [Permission; 16] = [
        Permission::ViewEmployees,
        Permission::ManageEmployees,
        Permission::ViewPunches,
        Permission::ReviewPunches,
        Permission::ViewDevices,
        Permission::ApproveRebind,
        Permission::ViewChainBreaks,
        Permission::AcknowledgeChainBreak,
        Permission::ExportAttendance,
        Permission::ViewAudit,
        Permission::PublishPolicy,
        Permission::ManageStaff,
        Permission::CreateTokens,
        Permission::ResetPin,
        Permission::ViewRequests,
        Permission::DecideRequests,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ViewEmployees => "view_employees",
            Permission::ManageEmployees => "manage_employees",
            Permission::ViewPunches => "view_punches",
            Permission::ReviewPunches => "review_punches",
            Permission::ViewDevices => "view_devices",
            Permission::ApproveRebind => "approve_rebind",
            Permission::ViewChainBreaks => "view_chain_breaks",
            Permission::AcknowledgeChainBreak => "acknowledge_chain_break",
            Permission::ExportAttendance => "export_attendance",
            Permission::ViewAudit => "view_audit",
            Permission::PublishPolicy => "publish_policy",
            Permission::ManageStaff => "manage_staff",
            Permission::CreateTokens => "create_tokens",
            Permission::ResetPin => "reset_pin",
            Permission::ViewRequests => "view_requests",
            Permission::DecideRequests => "decide_requests",
        }
    }

    pub fn parse(text: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.as_str() == text)
    }
}

/// The permission table. Managers' rights stop at their team (see
/// [`crate::staff::Scope`]); that is checked on the data, not here.
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
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
        }
        for r in [Role::HrAdmin, Role::Manager, Role::Auditor] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
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
