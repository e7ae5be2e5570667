//! Trusted time for a punch: the last server time the device saw, plus the
//! monotonic time elapsed since, valid only within the same boot.

use serde::{Deserialize, Serialize};

use crate::record::PunchRecord;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum TimeVerdict {
    /// Trusted time exists; `clock_moved` when the wall clock disagrees beyond tolerance.
    Anchored {
        trusted_time_ms: i64,
        /// wall − trusted (positive: the device clock runs ahead).
        skew_ms: i64,
        clock_moved: bool,
    },
    /// No usable anchor; only the device's wall clock is known.
    Unanchored { why: UnanchoredWhy },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnanchoredWhy {
    /// The device never completed an exchange before this punch.
    NoAnchor,
    /// The device rebooted since its last exchange.
    DifferentBoot,
    /// The monotonic clock is behind the anchor's: impossible within one boot.
    MonotonicBackwards,
}

/// Judges a record's time against its anchor. The caller must already have
/// checked that the anchor's server time is genuine (its token).
pub fn judge(record: &PunchRecord, max_skew_ms: i64) -> TimeVerdict {
    let Some(anchor) = &record.anchor else {
        return TimeVerdict::Unanchored {
            why: UnanchoredWhy::NoAnchor,
        };
    };
    if anchor.boot_id != record.boot_id {
        return TimeVerdict::Unanchored {
            why: UnanchoredWhy::DifferentBoot,
        };
    }
    let Some(elapsed) = record.monotonic_ms.checked_sub(anchor.monotonic_ms) else {
        return TimeVerdict::Unanchored {
            why: UnanchoredWhy::MonotonicBackwards,
        };
    };
    let trusted_time_ms = anchor
        .server_time_ms
        .saturating_add(i64::try_from(elapsed).unwrap_or(i64::MAX));
    let skew_ms = record.wall_time_ms.saturating_sub(trusted_time_ms);
    TimeVerdict::Anchored {
        trusted_time_ms,
        skew_ms,
        clock_moved: skew_ms.saturating_abs() > max_skew_ms,
    }
}
