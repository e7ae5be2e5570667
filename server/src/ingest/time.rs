//! The server's reading of a record's time: anchored to a time it gave the
//! device, or not.

use punch_model::ledger::record::PunchRecord;
use punch_model::ledger::trusted_time::{self, RecordClock, TimeVerdict};
use punch_model::rules::policy::Settings;
use punch_model::text::serde_name;

use crate::time_token::TimeTokens;

/// Time status, trusted time and skew of an authentic record.
pub(super) struct JudgedTime {
    pub(super) status: String,
    pub(super) trusted_time_ms: Option<i64>,
    pub(super) skew_ms: Option<i64>,
}

impl JudgedTime {
    fn unanchored(status: String) -> Self {
        JudgedTime {
            status,
            trusted_time_ms: None,
            skew_ms: None,
        }
    }
}

pub(super) fn judge_time(
    record: &RecordClock<'_>,
    device_id: &str,
    settings: &Settings,
    tokens: &TimeTokens,
    received_at_ms: i64,
) -> JudgedTime {
    if let Some(anchor) = record.anchor
        && !tokens.check(device_id, anchor.server_time_ms, &anchor.token)
    {
        // The server never said this time to this device: a forged anchor.
        return JudgedTime::unanchored("bad_anchor".into());
    }
    // `as` saturates; settings were validated (1 s ..= 1 day) when published.
    let max_skew_ms = (settings.max_clock_skew_s * 1000.0) as i64;
    match trusted_time::judge_clock(record, max_skew_ms) {
        TimeVerdict::Anchored {
            trusted_time_ms,
            skew_ms,
            clock_moved,
        } => {
            // A punch cannot have happened after the server received it: the
            // device's monotonic clock (or its report of it) was tampered with.
            let status = if trusted_time_ms > received_at_ms.saturating_add(max_skew_ms) {
                "after_receipt"
            } else if clock_moved {
                "clock_moved"
            } else {
                "anchored"
            };
            JudgedTime {
                status: status.into(),
                trusted_time_ms: Some(trusted_time_ms),
                skew_ms: Some(skew_ms),
            }
        }
        TimeVerdict::Unanchored { why } => {
            JudgedTime::unanchored(format!("unanchored:{}", serde_name(&why)))
        }
    }
}

/// When a punch happened by the server's reading: its trusted time, or
/// (unanchored, e.g. after a reboot) the wall clock, but never before a
/// server time the device provably saw.
pub(super) fn punch_time(
    record: &PunchRecord,
    trusted_time_ms: Option<i64>,
    device_id: &str,
    tokens: &TimeTokens,
) -> i64 {
    let seen = record
        .anchor
        .as_ref()
        .filter(|a| tokens.check(device_id, a.server_time_ms, &a.token))
        .map(|a| a.server_time_ms);
    trusted_time_ms
        .unwrap_or_else(|| seen.map_or(record.wall_time_ms, |t| t.max(record.wall_time_ms)))
}
