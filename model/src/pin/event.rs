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
    /// The commitment ([`super::verifier::commitment`]) to the verifier in
    /// force after this event (`set`, `changed`): what every later
    /// verification names, so the server sees a verifier the chain never
    /// set. Absent from app versions before it (the server then has nothing
    /// to bind to).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verifier: Option<String>,
}

/// A PIN verified on the device: each success is chained as each failure
/// is, naming the verifier that matched and the count it cleared, so the
/// server can tell whether it follows from the device's own events (a
/// verifier or lock state edited in the phone's database does not).
/// Filed with the PIN events (`types::PIN`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinVerified {
    pub employee_id: String,
    /// The commitment to the verifier that matched.
    pub verifier: String,
    /// Consecutive failures and locks the device held before this success.
    #[serde(default)]
    pub failures: u32,
    #[serde(default)]
    pub locks: u32,
}

impl PinVerified {
    pub fn check_ranges(&self) -> Result<(), crate::ledger::record::RecordCheck> {
        PinEvent::new(PinEventKind::UserVerified, &self.employee_id).check_ranges()?;
        if self.verifier.len() != 64 || !self.verifier.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(crate::ledger::record::RecordCheck::OutOfRange {
                field: "event.verifier",
                detail: "not a SHA-256 in hex".into(),
            });
        }
        if self.failures > 100 || self.locks > 1000 {
            return Err(crate::ledger::record::RecordCheck::OutOfRange {
                field: "event",
                detail: "failures or locks beyond any policy".into(),
            });
        }
        Ok(())
    }
}

impl PinEvent {
    /// What no phone writes: an empty or huge employee id or token id, more
    /// failures than any policy allows, a lock longer than a week.
    pub fn check_ranges(&self) -> Result<(), crate::ledger::record::RecordCheck> {
        let out = |field: &'static str, detail: &str| {
            Err(crate::ledger::record::RecordCheck::OutOfRange {
                field,
                detail: detail.into(),
            })
        };
        let id = &self.employee_id;
        if id.is_empty() || id.len() > 128 || id.chars().any(char::is_control) {
            return out(
                "event.employee_id",
                "empty, longer than 128 bytes or with controls",
            );
        }
        if self.token_id.as_ref().is_some_and(|t| t.len() > 128) {
            return out("event.token_id", "longer than 128 bytes");
        }
        if self.verifier.as_ref().is_some_and(|v| v.len() != 64) {
            return out("event.verifier", "not a SHA-256 in hex");
        }
        if self.failures > 100 || self.lock_ms.is_some_and(|ms| ms > 7 * 86_400_000) {
            return out("event", "failures or lock beyond any policy");
        }
        Ok(())
    }

    pub fn new(kind: PinEventKind, employee_id: &str) -> PinEvent {
        PinEvent {
            kind,
            employee_id: employee_id.into(),
            failures: 0,
            locks: 0,
            lock_ms: None,
            reset_path: None,
            token_id: None,
            verifier: None,
        }
    }
}
