//! What a device records about its PIN: each event is a signed record in the
//! device's chain, so the server has the audit trail and can judge lockouts
//! itself (a reinstall keeps nothing to reset them).

use serde::{Deserialize, Serialize};

use super::token::ResetPath;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PinEventKind {
    Set,
    Changed,
    Failed,
    Locked,
    Unlocked,
    Reset,
    /// The platform's biometric or device-credential prompt succeeded.
    UserVerified,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinEvent {
    pub kind: PinEventKind,
    /// Whose PIN (on a kiosk, the employee who typed it).
    pub employee_id: String,
    /// Consecutive failures after this event.
    #[serde(default)]
    pub failures: u32,
    /// Locks since the last success, after this event.
    #[serde(default)]
    pub locks: u32,
    /// A lock's length (`locked`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_ms: Option<u64>,
    /// The reset path and the token used (`reset`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset_path: Option<ResetPath>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_id: Option<String>,
}

impl PinEvent {
    pub fn new(kind: PinEventKind, employee_id: &str) -> PinEvent {
        PinEvent {
            kind,
            employee_id: employee_id.into(),
            failures: 0,
            locks: 0,
            lock_ms: None,
            reset_path: None,
            token_id: None,
        }
    }
}
