//! The punch record: built once, serialised once. Its exact bytes are what is
//! signed, hashed into the chain, stored and sent; verification parses those
//! bytes and never re-serialises them.

use serde::{Deserialize, Serialize};
pub use uuid::Uuid;

use crate::rules::evaluate::Evaluation;
use crate::rules::privacy::LocationPrecision;

/// `prev_hash` of the first record of a device.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

pub use crate::rules::punch_kind::PunchKind;

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
    /// How precisely `gps` is kept (`ledger::minimise`); absent: exact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<LocationPrecision>,
    /// Verdict-only: the distance (m) from the fix to the fence of the site
    /// the punch is attributed to (or the nearest site), rounded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance_m: Option<f64>,
    /// Hex SHA-256 of the opening (salt + exact evidence) the phone keeps,
    /// when less than the exact evidence is signed: settles a dispute if the
    /// employee reveals it (`ledger::minimise::verify_opening`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commitment: Option<String>,
}

/// A record's personal payload, encrypted (`ledger::sealed`): when present,
/// `evidence` is empty and `evaluation` keeps only its verdict in clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedPayload {
    /// Which data key: the first 16 hex digits of SHA-256(key).
    pub key_id: String,
    /// Base64 of the 12-byte nonce.
    pub nonce: String,
    /// Base64 of AES-256-GCM(evidence + evaluation JSON), tag included.
    pub ciphertext: String,
}

/// The notice about data collection the employee acknowledged, carried by
/// the first punch under a policy version that names one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeAck {
    pub version: String,
    pub acknowledged_at_ms: i64,
}

/// A new punch id: a UUIDv7 stamped with the punch's own wall time (which
/// the record states anyway), so ids sort by time and a server's index on
/// them grows at one end instead of touching a random page per punch. The
/// low 74 bits stay random: ids remain unguessable and unique.
pub fn new_punch_id(wall_time_ms: i64) -> Uuid {
    // Before 1970 (a badly wrong clock) stamps the epoch: still a valid id.
    let ms = u64::try_from(wall_time_ms).unwrap_or(0);
    let nanos = u32::try_from(ms % 1000).unwrap_or(0) * 1_000_000;
    Uuid::new_v7(uuid::Timestamp::from_unix(
        uuid::NoContext,
        ms / 1000,
        nanos,
    ))
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<NoticeAck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<SealedPayload>,
    /// The photo taken at the punch (`rules::photo`): its hash, size and
    /// type; the bytes upload as an attachment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<crate::rules::photo::PhotoRef>,
    /// Whether the platform's biometric verification preceded the punch, as
    /// the app reported the platform's result (absent: not reported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biometric_verified: Option<bool>,
}

pub use crate::ledger::range_check::{
    MAX_ID_LEN, MAX_LIST, RECORD_FORMAT, RecordCheck, check_text,
};

/// UTC offsets in use span -12:00..+14:00; ±18 h is the ISO 8601 limit.
const MAX_UTC_OFFSET_MIN: i32 = 18 * 60;

/// The format a record's bytes declare, without parsing the rest (a newer
/// format may not parse as this one).
pub fn declared_format(bytes: &[u8]) -> Option<u64> {
    #[derive(Deserialize)]
    struct Format {
        format: u64,
    }
    serde_json::from_slice::<Format>(bytes)
        .ok()
        .map(|f| f.format)
}

/// The fields every chain entry (punch or event) starts with.
pub struct Header<'a> {
    pub format: u32,
    pub device_id: &'a str,
    pub employee_id: &'a str,
    pub wall_time_ms: i64,
    pub utc_offset_min: i32,
    pub boot_id: &'a str,
    pub anchor: Option<&'a TimeAnchor>,
    pub prev_hash: &'a str,
}

/// Range-checks the header by the rules the phone applies when it makes a
/// record.
pub fn check_header(h: &Header<'_>) -> Result<(), RecordCheck> {
    use crate::rules::evidence::PLAUSIBLE_TIME_MS;
    let out = |field: &'static str, detail: String| Err(RecordCheck::OutOfRange { field, detail });
    if u64::from(h.format) != u64::from(RECORD_FORMAT) {
        return Err(RecordCheck::UnknownFormat {
            found: u64::from(h.format),
        });
    }
    if h.utc_offset_min.abs() > MAX_UTC_OFFSET_MIN {
        return out(
            "utc_offset_min",
            format!("{} is beyond ±18 h", h.utc_offset_min),
        );
    }
    if !PLAUSIBLE_TIME_MS.contains(&h.wall_time_ms) {
        return out(
            "wall_time_ms",
            format!("{} is not 2000..2200", h.wall_time_ms),
        );
    }
    for (field, text) in [
        ("device_id", h.device_id),
        ("employee_id", h.employee_id),
        ("boot_id", h.boot_id),
    ] {
        if text.is_empty() || text.len() > MAX_ID_LEN || text.chars().any(char::is_control) {
            return out(
                field,
                "empty, longer than 128 bytes, or with control characters".into(),
            );
        }
    }
    if let Some(anchor) = h.anchor {
        if !PLAUSIBLE_TIME_MS.contains(&anchor.server_time_ms) {
            return out("anchor.server_time_ms", anchor.server_time_ms.to_string());
        }
        if anchor.boot_id.len() > MAX_ID_LEN || anchor.token.len() > 4 * MAX_ID_LEN {
            return out("anchor", "boot id or token too long".into());
        }
    }
    if h.prev_hash.len() != 64 || !h.prev_hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return out("prev_hash", "not 64 hex digits".into());
    }
    Ok(())
}

/// Range-checks recorded evidence and its evaluation (a punch's, or a
/// refused attempt's).
pub fn check_judged(e: &RecordedEvidence, evaluation: &Evaluation) -> Result<(), RecordCheck> {
    let out = |field: &'static str, detail: String| Err(RecordCheck::OutOfRange { field, detail });
    if let Some(fix) = &e.gps {
        fix.check()
            .or_else(|err| out("evidence.gps", err.to_string()))?;
    }
    let lists = [
        ("evidence.wifi_matched", e.wifi_matched.len()),
        ("evidence.ip_matched", e.ip_matched.len()),
        ("evaluation.sites", evaluation.sites.len()),
        ("evaluation.flags", evaluation.flags.len()),
        ("evaluation.reasons", evaluation.reasons.len()),
    ];
    for (field, len) in lists {
        if len > MAX_LIST {
            return out(field, format!("{len} entries"));
        }
    }
    if e.wifi_seen < e.wifi_matched.len() || e.ip_seen < e.ip_matched.len() {
        return out("evidence", "more matched than seen".into());
    }
    Ok(())
}

/// Range-checks a sealed payload's envelope (its content is checked once
/// opened, by whoever holds the key).
pub fn check_sealed(sealed: &SealedPayload) -> Result<(), RecordCheck> {
    if sealed.key_id.len() != 16 || sealed.ciphertext.len() > 64 * 1024 {
        return Err(RecordCheck::OutOfRange {
            field: "sealed",
            detail: "key id is not 16 hex digits, or too long".into(),
        });
    }
    Ok(())
}

impl PunchRecord {
    /// Range-checks every field by the rules the phone applies when it
    /// makes a record (`rules::evidence` for the fix), so a server refuses
    /// what only a modified app or a forger could have signed.
    pub fn check_ranges(&self) -> Result<(), RecordCheck> {
        check_header(&Header {
            format: self.format,
            device_id: &self.device_id,
            employee_id: &self.employee_id,
            wall_time_ms: self.wall_time_ms,
            utc_offset_min: self.utc_offset_min,
            boot_id: &self.boot_id,
            anchor: self.anchor.as_ref(),
            prev_hash: &self.prev_hash,
        })?;
        check_judged(&self.evidence, &self.evaluation)?;
        self.check_privacy()
    }

    /// The privacy fields (`ledger::minimise`, `ledger::sealed`, the notice).
    fn check_privacy(&self) -> Result<(), RecordCheck> {
        let out = |field: &'static str, detail: &str| {
            Err(RecordCheck::OutOfRange {
                field,
                detail: detail.into(),
            })
        };
        if let Some(notice) = &self.notice
            && (notice.version.is_empty()
                || notice.version.len() > 64
                || notice.version.chars().any(char::is_control))
        {
            return out(
                "notice.version",
                "empty, too long or with control characters",
            );
        }
        if let Some(sealed) = &self.sealed {
            check_sealed(sealed)?;
        }
        if let Some(Err(e)) = self.photo.as_ref().map(|p| p.check()) {
            return Err(RecordCheck::OutOfRange {
                field: "photo",
                detail: e.to_string(),
            });
        }
        if self
            .evidence
            .commitment
            .as_ref()
            .is_some_and(|c| c.len() != 64)
        {
            return out("evidence.commitment", "not a SHA-256");
        }
        Ok(())
    }

    /// The canonical bytes: produced once, then only ever copied.
    pub fn to_bytes(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<PunchRecord, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punch_ids_sort_by_the_punch_time_and_stay_random() {
        let earlier = new_punch_id(1_765_000_000_000);
        let later = new_punch_id(1_765_000_000_001);
        assert_eq!(earlier.get_version_num(), 7);
        assert!(earlier < later, "ids sort by wall time");
        assert!(earlier.to_string() < later.to_string(), "as text too");
        assert_ne!(
            new_punch_id(1),
            new_punch_id(1),
            "same millisecond, distinct ids"
        );
        // A clock before 1970 still gives a valid (epoch-stamped) id.
        assert_eq!(new_punch_id(-5).get_version_num(), 7);
        assert!(new_punch_id(-5) < new_punch_id(1));
    }
}
