//! What the people around the punches leave in the store: staff accounts,
//! their sessions and API tokens, employees' teams, review verdicts on
//! punches, acknowledged chain breaks, and the hash-chained audit log.
//! One trait apart from [`crate::store::StoreTx`] (reached through
//! `StoreTx::people`), so this concern's statements live in their own files.

use serde::Serialize;

use crate::error::Result;

/// A person who signs in to the admin API or the reviewer page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRow {
    pub username: String,
    pub display_name: String,
    /// `staff::Role` in snake_case.
    pub role: String,
    /// The team a manager manages (None for the other roles).
    pub team: Option<String>,
    /// Argon2id, PHC string.
    pub password_hash: String,
    /// The RFC 6238 shared secret (raw bytes).
    pub totp_secret: Vec<u8>,
    /// The last TOTP time step accepted: a code is never accepted twice.
    pub totp_last_step: i64,
    pub failed_signins: u32,
    pub locked_until_ms: Option<i64>,
    pub created_at_ms: i64,
    pub disabled: bool,
}

/// A signed-in browser session; the cookie's value is kept only as its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub id_hash: String,
    pub username: String,
    /// Sent back in `x-csrf-token` on every state-changing request.
    pub csrf_token: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
}

/// An API token for an integration, kept only as its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenRow {
    pub token_hash: String,
    /// The public half, shown in lists and the audit log.
    pub token_id: String,
    /// The staff member it acts for (its role bounds the scopes).
    pub username: String,
    pub name: String,
    /// `staff::Permission` names in snake_case.
    pub scopes: Vec<String>,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

/// An employee with the team they are in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonRow {
    pub employee_id: String,
    pub name: String,
    pub team: Option<String>,
}

/// A reviewer's verdict on an accepted punch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PunchReviewRow {
    pub device_id: String,
    pub seq: u64,
    /// "approved" or "rejected".
    pub verdict: String,
    pub comment: String,
    pub reviewer: String,
    pub at_ms: i64,
}

/// HR's acknowledgement of a device's broken chain: the device starts a new
/// segment anchored to (`head_seq`, `head_hash`), the head the server had
/// accepted when HR acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainAckRow {
    pub id: i64,
    pub device_id: String,
    pub head_seq: u64,
    pub head_hash: String,
    pub reason: String,
    pub acknowledged_by: String,
    pub at_ms: i64,
    /// Set when the device reported that it started the new segment.
    pub applied_at_ms: Option<i64>,
}

/// One audit record as stored: `hash` = SHA-256 over the other fields and
/// `prev_hash` (see `audit::chain`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRow {
    pub seq: u64,
    pub at_ms: i64,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub target: String,
    pub reason: String,
    /// JSON text, hashed as stored.
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The primitive operations of this concern, inside the caller's transaction.
pub trait PeopleTx {
    fn upsert_staff(&self, staff: &StaffRow) -> Result<()>;
    fn staff(&self, username: &str) -> Result<Option<StaffRow>>;
    fn staff_list(&self) -> Result<Vec<StaffRow>>;
    /// Records a sign-in outcome: the failure count, the lockout, the TOTP step.
    fn set_signin_state(
        &self,
        username: &str,
        failed: u32,
        locked_until_ms: Option<i64>,
        totp_last_step: i64,
    ) -> Result<()>;

    fn insert_session(&self, session: &SessionRow) -> Result<()>;
    fn session(&self, id_hash: &str) -> Result<Option<SessionRow>>;
    fn delete_session(&self, id_hash: &str) -> Result<()>;
    /// Ends every session of one staff member; answers how many.
    fn delete_sessions_of(&self, username: &str) -> Result<u64>;

    fn insert_api_token(&self, token: &ApiTokenRow) -> Result<()>;
    fn api_token(&self, token_hash: &str) -> Result<Option<ApiTokenRow>>;
    /// Tokens (one member's, or everyone's), oldest first.
    fn api_tokens(&self, username: Option<&str>) -> Result<Vec<ApiTokenRow>>;
    /// Revokes a member's live tokens (only `token_id`, if given); answers
    /// how many.
    fn revoke_api_tokens(&self, username: &str, token_id: Option<&str>, now_ms: i64)
    -> Result<u64>;

    /// Sets (or with None clears) the employee's team; false if unknown.
    fn set_team(&self, employee_id: &str, team: Option<&str>) -> Result<bool>;
    /// Every employee with their team, by id.
    fn people(&self) -> Result<Vec<PersonRow>>;
    /// At most `limit` employees by id after `after`, of `team` if given:
    /// one page of the employee list.
    fn people_page(
        &self,
        after: Option<&str>,
        team: Option<&str>,
        limit: usize,
    ) -> Result<Vec<PersonRow>>;
    /// One employee's team (None: no team, or no such employee): one
    /// indexed read where a single punch or person is concerned.
    fn team_of(&self, employee_id: &str) -> Result<Option<String>>;

    /// Replaces the verdict on (device, seq).
    fn set_punch_review(&self, review: &PunchReviewRow) -> Result<()>;
    fn punch_reviews(&self) -> Result<Vec<PunchReviewRow>>;
    /// The verdict on one punch, if any.
    fn punch_review(&self, device_id: &str, seq: u64) -> Result<Option<PunchReviewRow>>;

    /// Returns the new row's id.
    fn insert_chain_ack(&self, ack: &ChainAckRow) -> Result<i64>;
    /// The device's latest acknowledgement, if any.
    fn latest_chain_ack(&self, device_id: &str) -> Result<Option<ChainAckRow>>;
    /// Every acknowledgement of the device, oldest first (the chain audit).
    fn chain_acks(&self, device_id: &str) -> Result<Vec<ChainAckRow>>;
    fn mark_chain_ack_applied(&self, id: i64, now_ms: i64) -> Result<()>;

    /// The audit head, locked until the transaction ends so appends from
    /// several servers take turns.
    fn lock_audit_head(&self) -> Result<Option<(u64, String)>>;
    fn append_audit(&self, row: &AuditRow) -> Result<()>;
    /// Rows after `after_seq`, oldest first, at most `limit`.
    fn audit_rows(&self, after_seq: u64, limit: u32) -> Result<Vec<AuditRow>>;
}
