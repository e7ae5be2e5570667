//! What sync tells the app: the report of one call, the status for a UI,
//! and the listener that hears of changes.

use serde::{Deserialize, Serialize};

use punch_model::wire::RejectReason;

use super::error::SyncError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
/// A record the server refused.
pub struct RejectedPunch {
    /// The record.
    pub seq: u64,
    /// The server's typed reason.
    pub reason: Option<RejectReason>,
    /// What it said.
    pub detail: Option<String>,
}

/// What one `sync()` did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SyncReport {
    /// Records the server accepted.
    pub uploaded: u64,
    /// Records the server had already.
    pub duplicates: u64,
    /// Records acknowledged before that the server no longer had, sent again.
    pub resent: u64,
    /// Records the server refused.
    pub rejected: Vec<RejectedPunch>,
    /// Records still waiting for upload.
    pub remaining: u64,
    /// Request decisions that came back.
    pub requests: u32,
    /// Set when a newer policy was installed.
    pub policy_installed: Option<u64>,
    /// Why the sync stopped, if it did.
    pub error: Option<SyncError>,
    /// When the next attempt should happen (backoff / Retry-After), epoch ms.
    pub next_retry_ms: Option<i64>,
    /// True when the call did nothing because a backoff is still running.
    pub deferred: bool,
    /// The server holds, at this seq, a record this device never had: the
    /// chains diverged (a restored or copied database): tell the employer.
    pub server_head_mismatch: Option<u64>,
    /// The employer acknowledged this device's chain break: this many
    /// refused records were set aside as evidence and the next punch starts
    /// a new segment linked to the acknowledged head.
    #[serde(default)]
    pub chain_reset: Option<u64>,
    /// The server holds the punch-key rotation at this seq for HR's
    /// approval: the records after it stay pending until it is approved.
    #[serde(default)]
    pub key_rotation_pending: Option<u64>,
}

/// For the UI: how the queue stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStatus {
    /// Records waiting for upload.
    pub pending: u64,
    /// Records the server accepted.
    pub uploaded: u64,
    /// Records the server refused.
    pub rejected: u64,
    /// When a sync last succeeded (epoch ms).
    pub last_success_ms: Option<i64>,
    /// Why the last sync failed, until one succeeds.
    pub last_error: Option<SyncError>,
    /// When the next attempt is due (backoff / Retry-After), epoch ms.
    pub next_attempt_ms: Option<i64>,
    /// Failed syncs in a row.
    pub consecutive_failures: u32,
    /// The installed policy's version.
    pub policy_version: Option<u64>,
    /// Whether punches taken now carry a usable time anchor.
    pub anchored: bool,
    /// See [`SyncReport::server_head_mismatch`]; kept until a sync finds the heads agree.
    pub server_head_mismatch: Option<u64>,
}

/// Called (on the calling thread, with no engine lock held) whenever the
/// status may have changed.
pub trait SyncListener: Send + Sync {
    /// The status now.
    fn on_status(&self, status: &SyncStatus);
}
