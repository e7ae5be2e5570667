//! What PIN resets rest on (`crate::pin`): each employee's reset profile and
//! the reset codes sent, kept only as their MACs. One trait apart from
//! [`crate::store::StoreTx`] (reached through `StoreTx::pin`).

use crate::error::Result;

/// What an employee's PIN resets rest on (`crate::pin`): where codes go,
/// the identity secret for self-service (a salted slow hash), and a reset
/// an admin ordered that the device has not fetched yet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PinProfile {
    pub employee_id: String,
    /// "email" or "phone".
    pub channel: Option<String>,
    pub address: Option<String>,
    /// JSON `punch_model::pin::Verifier` of the employer-set secret.
    pub identity_verifier: Option<String>,
    pub admin_reset_at_ms: Option<i64>,
}

/// A PIN reset code sent to an employee, kept only as its MAC (hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinCodeRow {
    pub code_hash: String,
    pub employee_id: String,
    /// The device that asked for it (only that device may redeem it).
    pub device_id: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub used_at_ms: Option<i64>,
    /// Set when a newer code was sent to the employee: this one no longer works.
    pub superseded_at_ms: Option<i64>,
}

/// This transaction's PIN reset operations.
pub trait PinTx {
    /// The employee's PIN reset profile (locked in a write transaction).
    fn pin_profile(&self, employee_id: &str) -> Result<Option<PinProfile>>;
    fn upsert_pin_profile(&self, profile: &PinProfile) -> Result<()>;
    fn insert_pin_code(&self, code: &PinCodeRow) -> Result<()>;
    /// Marks the employee's unused, not yet superseded codes as replaced by
    /// a newer one; returns how many.
    fn supersede_pin_codes(&self, employee_id: &str, now_ms: i64) -> Result<u64>;
    /// Deletes every PIN code that expired before `before_ms`.
    fn prune_pin_codes(&self, before_ms: i64) -> Result<u64>;
    /// The code with this MAC (locked in a write transaction).
    fn pin_code(&self, code_hash: &str) -> Result<Option<PinCodeRow>>;
    /// Uses the code up; false when it already was.
    fn mark_pin_code_used(&self, code_hash: &str, now_ms: i64) -> Result<bool>;
}
