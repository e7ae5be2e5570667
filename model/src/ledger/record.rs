//! The punch record: built once, serialised once. Its exact bytes are what is
//! signed, hashed into the chain, stored and sent; verification parses those
//! bytes and never re-serialises them.

use serde::{Deserialize, Serialize};
pub use uuid::Uuid;

use crate::rules::evaluate::Evaluation;

/// Version of the record layout inside the signed bytes.
pub const RECORD_FORMAT: u32 = 1;
/// `prev_hash` of the first record of a device.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PunchKind {
    ClockIn,
    ClockOut,
    BreakStart,
    BreakEnd,
}

impl std::str::FromStr for PunchKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.replace('-', "_").as_str() {
            "clock_in" | "in" => Ok(PunchKind::ClockIn),
            "clock_out" | "out" => Ok(PunchKind::ClockOut),
            "break_start" => Ok(PunchKind::BreakStart),
            "break_end" => Ok(PunchKind::BreakEnd),
            _ => Err(format!(
                "unknown punch kind {s:?} (clock_in, clock_out, break_start, break_end)"
            )),
        }
    }
}

/// The server time seen at the last successful exchange, tied to the
/// monotonic clock of one boot: the basis of trusted offline time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeAnchor {
    pub server_time_ms: i64,
    pub monotonic_ms: u64,
    pub boot_id: String,
    /// The server's MAC over (device id, server time): proves the server
    /// really said this time, so a device cannot invent its own anchor.
    #[serde(default)]
    pub token: String,
}

/// The minimum evidence kept with a punch (privacy: nearby networks that
/// matched no site are counted, not stored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RecordedEvidence {
    pub gps: Option<crate::rules::evidence::ValidFix>,
    /// Access points that matched a site, as "bssid" or "bssid ssid".
    pub wifi_matched: Vec<String>,
    pub wifi_seen: usize,
    /// Device addresses that fell in a site's range.
    pub ip_matched: Vec<String>,
    pub ip_seen: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PunchRecord {
    pub format: u32,
    pub punch_id: Uuid,
    pub device_id: String,
    pub employee_id: String,
    /// Gapless per device, from 1.
    pub seq: u64,
    pub kind: PunchKind,
    /// The device's wall clock (UTC) and its UTC offset at punch time.
    pub wall_time_ms: i64,
    pub utc_offset_min: i32,
    /// The platform's monotonic clock since boot, and which boot.
    pub monotonic_ms: u64,
    pub boot_id: String,
    pub anchor: Option<TimeAnchor>,
    pub policy_version: u64,
    pub evidence: RecordedEvidence,
    pub evaluation: Evaluation,
    /// Hex SHA-256 of the previous record's bytes (GENESIS_HASH for seq 1).
    pub prev_hash: String,
}

impl PunchRecord {
    /// The canonical bytes: produced once, then only ever copied.
    pub fn to_bytes(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<PunchRecord, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}
