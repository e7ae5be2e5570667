//! "Where do I stand", as a punch screen shows it and every subscriber
//! hears it (`screens` has the calls).

use std::time::SystemTime;

use crate::types::{HistoryEntry, PunchKind, SyncStatus, instant};

/// A scheduled occurrence of a shift.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ShiftOccurrence {
    pub shift_id: String,
    pub name: String,
    pub start: SystemTime,
    pub end: SystemTime,
    /// The punch window: clock-ins from `opens`, clock-outs until `closes`.
    pub opens: SystemTime,
    pub closes: SystemTime,
}

impl From<punch_model::rules::shift::ShiftOccurrence> for ShiftOccurrence {
    fn from(o: punch_model::rules::shift::ShiftOccurrence) -> Self {
        ShiftOccurrence {
            shift_id: o.shift_id,
            name: o.name,
            start: instant(o.start_ms),
            end: instant(o.end_ms),
            opens: instant(o.opens_ms),
            closes: instant(o.closes_ms),
        }
    }
}

/// Where the employee stands now: the punch screen in one value.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Standing {
    /// A clock-in is the newest of the clock-ins and clock-outs.
    pub clocked_in: bool,
    /// Clocked in, and the newest punch started a break.
    pub on_break: bool,
    /// When the open clock-in was taken (device wall time).
    pub since: Option<SystemTime>,
    /// The newest stored punch.
    pub last_punch: Option<HistoryEntry>,
    /// The punch button to offer.
    pub next_kind: PunchKind,
    /// The shift clocked in to, in its punch window now, or next within a week.
    pub shift: Option<ShiftOccurrence>,
    /// What waits to upload (`sync.pending`), and how syncing goes.
    pub sync: SyncStatus,
}

impl From<punch_core::Standing> for Standing {
    fn from(s: punch_core::Standing) -> Self {
        Standing {
            clocked_in: s.clocked_in,
            on_break: s.on_break,
            since: s.since_ms.map(instant),
            last_punch: s.last_punch.map(HistoryEntry::from),
            next_kind: s.next_kind.into(),
            shift: s.shift.map(Into::into),
            sync: s.sync.into(),
        }
    }
}
