//! What enrolling a device rests on (`crate::enroll`): the employees the
//! admin registered, one-time enrollment codes (kept only as hashes) and the
//! attestation challenges handed out for them. One trait apart from
//! [`crate::store::StoreTx`] (reached through `StoreTx::enrollment`).

use serde::Serialize;

use crate::error::Result;

/// An employee the admin registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmployeeRow {
    pub employee_id: String,
    pub name: String,
    /// Set by `approve_rebind`; consumed by the next enrollment.
    pub rebind_approved_at_ms: Option<i64>,
}

/// A one-time enrollment code, kept only as its SHA-256 (hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRow {
    pub code_hash: String,
    pub employee_id: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub used_at_ms: Option<i64>,
    pub used_by_device: Option<String>,
}

/// A single-use attestation challenge handed out for an enrollment code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeRow {
    /// Hex SHA-256 of the challenge bytes.
    pub challenge_hash: String,
    /// The enrollment code it belongs to (hex SHA-256, as codes are kept).
    pub code_hash: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub used_at_ms: Option<i64>,
}

/// This transaction's employees, codes and challenges.
pub trait EnrollmentTx {
    fn upsert_employee(&self, employee_id: &str, name: &str, now_ms: i64) -> Result<()>;
    fn employee(&self, employee_id: &str) -> Result<Option<EmployeeRow>>;
    fn set_rebind_approved(&self, employee_id: &str, at_ms: Option<i64>) -> Result<()>;
    fn insert_code(&self, code: &CodeRow) -> Result<()>;
    fn code(&self, code_hash: &str) -> Result<Option<CodeRow>>;
    fn mark_code_used(&self, code_hash: &str, device_id: &str, now_ms: i64) -> Result<()>;
    fn insert_challenge(&self, challenge: &ChallengeRow) -> Result<()>;
    fn challenge(&self, challenge_hash: &str) -> Result<Option<ChallengeRow>>;
    fn mark_challenge_used(&self, challenge_hash: &str, now_ms: i64) -> Result<()>;
}
