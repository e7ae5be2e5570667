//! Trusted time for a punch: the last server time the device saw, plus the
//! monotonic time elapsed since, valid only within the same boot.

use serde::{Deserialize, Serialize};

use crate::ledger::record::{PunchRecord, TimeAnchor};

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

/// Server time at a moment of one boot, by an anchor: the anchor's server
/// time plus the monotonic time elapsed since. Only within the anchor's boot.
pub fn anchored_time_ms(
    anchor: &TimeAnchor,
    boot_id: &str,
    monotonic_ms: u64,
) -> Result<i64, UnanchoredWhy> {
    if anchor.boot_id != boot_id {
        return Err(UnanchoredWhy::DifferentBoot);
    }
    let elapsed = monotonic_ms
        .checked_sub(anchor.monotonic_ms)
        .ok_or(UnanchoredWhy::MonotonicBackwards)?;
    Ok(anchor
        .server_time_ms
        .saturating_add(i64::try_from(elapsed).unwrap_or(i64::MAX)))
}

/// The device's best "now": anchored time within the anchor's boot;
/// otherwise the wall clock, but never earlier than the last server time
/// seen, so winding the clock back after a reboot cannot revive an expired
/// policy.
pub fn trusted_now_ms(
    anchor: Option<&TimeAnchor>,
    wall_time_ms: i64,
    boot_id: &str,
    monotonic_ms: u64,
) -> i64 {
    match anchor {
        Some(a) => anchored_time_ms(a, boot_id, monotonic_ms)
            .unwrap_or_else(|_| wall_time_ms.max(a.server_time_ms)),
        None => wall_time_ms,
    }
}

/// Judges a record's time against its anchor. The caller must already have
/// checked that the anchor's server time is genuine (its token).
pub fn judge(record: &PunchRecord, max_skew_ms: i64) -> TimeVerdict {
    judge_clock(&RecordClock::of_punch(record), max_skew_ms)
}

/// The clock readings a chain entry (punch or event) carries.
#[derive(Debug, Clone, Copy)]
pub struct RecordClock<'a> {
    pub anchor: Option<&'a TimeAnchor>,
    pub boot_id: &'a str,
    pub monotonic_ms: u64,
    pub wall_time_ms: i64,
}

impl<'a> RecordClock<'a> {
    pub fn of_punch(record: &'a PunchRecord) -> RecordClock<'a> {
        RecordClock {
            anchor: record.anchor.as_ref(),
            boot_id: &record.boot_id,
            monotonic_ms: record.monotonic_ms,
            wall_time_ms: record.wall_time_ms,
        }
    }
}

/// [`judge`] for any entry's clock readings.
pub fn judge_clock(record: &RecordClock<'_>, max_skew_ms: i64) -> TimeVerdict {
    let Some(anchor) = record.anchor else {
        return TimeVerdict::Unanchored {
            why: UnanchoredWhy::NoAnchor,
        };
    };
    let trusted_time_ms = match anchored_time_ms(anchor, record.boot_id, record.monotonic_ms) {
        Ok(t) => t,
        Err(why) => return TimeVerdict::Unanchored { why },
    };
    let skew_ms = record.wall_time_ms.saturating_sub(trusted_time_ms);
    TimeVerdict::Anchored {
        trusted_time_ms,
        skew_ms,
        clock_moved: skew_ms.saturating_abs() > max_skew_ms,
    }
}
