//! Accepted punches: inserting them with their exact signed bytes (sealed at
//! rest), where a punch id is stored, one punch, one employee's, one page of
//! the ledger, and what an employee's latest clock-in left open. One trait
//! apart from [`crate::store::StoreTx`] (reached through `StoreTx::punches`).

use std::collections::HashMap;

use serde::Serialize;

use crate::error::Result;
use crate::store::punch_page;

/// An accepted punch with the server's judgement of its time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredPunchInfo {
    pub device_id: String,
    pub seq: u64,
    pub punch_id: String,
    pub employee_id: String,
    pub kind: String,
    /// The device's wall clock at the punch.
    pub wall_time_ms: i64,
    pub utc_offset_min: i32,
    /// Anchor + monotonic elapsed; None when unanchored. Wins over wall time.
    pub trusted_time_ms: Option<i64>,
    /// wall − trusted, when trusted exists.
    pub skew_ms: Option<i64>,
    /// "anchored", "server_clock" (a browser punch, received live),
    /// "clock_moved", "after_receipt" (trusted time later than
    /// the server received it), `unanchored:<why>` or "bad_anchor".
    pub time_status: String,
    pub policy_version: u64,
    /// The device's evaluation: "accepted" or "review".
    pub decision: String,
    pub site_id: Option<String>,
    /// Hex SHA-256 of the record bytes.
    pub hash: String,
    pub received_at_ms: i64,
    /// What the server's own checks found for a manager to look at: the
    /// evidence re-judged under the named policy disagrees with the device,
    /// or the policy had expired (empty: nothing to review).
    pub review_flags: Vec<punch_model::ledger::review::ReviewFlag>,
    /// The sending device's assurance level when the punch was stored.
    pub assurance: String,
    /// The server's own reading of the punch against the shifts, on trusted
    /// time (the device's is inside the signed record).
    pub attendance: Option<punch_model::rules::shift::Attendance>,
}

impl StoredPunchInfo {
    /// The time to believe: trusted where it exists, else the wall clock.
    pub fn effective_time_ms(&self) -> i64 {
        self.trusted_time_ms.unwrap_or(self.wall_time_ms)
    }
}

/// A new accepted punch, with its exact bytes.
#[derive(Debug, Clone)]
pub struct NewPunch<'a> {
    pub info: &'a StoredPunchInfo,
    pub record: &'a [u8],
    pub signature: &'a [u8],
}

/// This transaction's punch operations.
pub trait PunchesTx {
    fn insert_punch(&self, punch: &NewPunch<'_>) -> Result<()>;
    /// Several punches at once (one round trip where the backend can).
    fn insert_punches(&self, punches: &[NewPunch<'_>]) -> Result<()>;
    /// One accepted punch (the admin detail view: one indexed read).
    fn punch_info(&self, device_id: &str, seq: u64) -> Result<Option<StoredPunchInfo>>;
    /// One employee's punches, by (device, seq) (an indexed read: the
    /// employee's own export does not scan everyone's).
    fn punches_of(&self, employee_id: &str) -> Result<Vec<StoredPunchInfo>>;
    /// Every punch: for CLI commands only, never a request path.
    fn all_punches(&self) -> Result<Vec<StoredPunchInfo>>;
    /// One page of the ledger, filtered and newest first, in SQL
    /// ([`punch_page::PunchQuery`]): its work is its own rows.
    fn punch_page(&self, query: &punch_page::PunchQuery) -> Result<Vec<punch_page::PunchListRow>>;
    /// Where a punch id is stored: (device, seq).
    fn punch_location(&self, punch_id: &str) -> Result<Option<(String, u64)>>;
    /// Where each of these punch ids is stored (absent: nowhere).
    fn punch_locations(&self, punch_ids: &[String]) -> Result<HashMap<String, (String, u64)>>;
    /// The shift occurrence `employee_id`'s latest clock-in on the device
    /// (per the server's own attendance) left open, if their latest
    /// clock-in/out there is a clock-in. Per employee: a kiosk's punches
    /// name many.
    fn open_shift(
        &self,
        device_id: &str,
        employee_id: &str,
    ) -> Result<Option<punch_model::rules::shift::OpenShift>>;
}
