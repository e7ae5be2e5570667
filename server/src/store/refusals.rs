//! Records the server refused, kept as evidence with their bytes (sealed at
//! rest): recording them, which refusals a hash has, and the chain-break
//! list's pages. One trait apart from [`crate::store::StoreTx`] (reached
//! through `StoreTx::refusals`).

use serde::Serialize;

use super::b64;
use crate::error::Result;

/// A refused record without its bytes (the chain-break list).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RefusedRow {
    pub seq: u64,
    pub reason: String,
    pub detail: String,
    pub hash: String,
    pub attempts: u64,
    pub first_received_at_ms: i64,
}

/// A record the server refused, kept as evidence (never dropped).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RejectedInfo {
    pub id: i64,
    /// The authenticated device that sent it.
    pub device_id: String,
    pub seq: u64,
    /// Read from the record when it parses.
    pub punch_id: Option<String>,
    /// The employee the sending device is bound to (who the evidence is about).
    pub employee_id: Option<String>,
    /// The employee the record itself names, when it parses (may be a lie).
    pub claimed_employee_id: Option<String>,
    /// A `wire::RejectReason` in snake_case.
    pub reason: String,
    pub detail: String,
    /// Hex SHA-256 of the record bytes.
    pub hash: String,
    #[serde(serialize_with = "b64")]
    pub record: Vec<u8>,
    #[serde(serialize_with = "b64")]
    pub signature: Vec<u8>,
    /// The same bytes refused for the same reason count as one row.
    pub attempts: u64,
    pub first_received_at_ms: i64,
    pub last_received_at_ms: i64,
}

/// This transaction's refused records.
pub trait RefusalsTx {
    fn record_rejected(&self, rejected: &RejectedInfo) -> Result<()>;
    /// (reason, detail) of every refusal kept with this hash at (device,
    /// seq), newest first: the caller decides which counts
    /// (`RejectReason::is_link`).
    fn refusals_with_hash(
        &self,
        device_id: &str,
        seq: u64,
        hash_hex: &str,
    ) -> Result<Vec<(String, String)>>;
    /// Every refused record with its bytes: for CLI commands only.
    fn all_rejected(&self) -> Result<Vec<RejectedInfo>>;
    /// The refused records about one employee (the device was theirs), by id.
    fn rejected_about(&self, employee_id: &str) -> Result<Vec<RejectedInfo>>;
    /// How many refused records a device has.
    fn refused_count(&self, device_id: &str) -> Result<u64>;
    /// Devices with refused records, by id after `after`, of `team` if
    /// given: one page of the chain-break list.
    fn refused_devices(
        &self,
        after: Option<&str>,
        team: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>>;
    /// A device's first `limit` refused records by seq, without their bytes.
    fn refused_of(&self, device_id: &str, limit: usize) -> Result<Vec<RefusedRow>>;
}
