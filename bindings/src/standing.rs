//! What a punch screen shows: "where do I stand" in one call, its change
//! notification (every subscriber gets a fresh `Standing`), and history
//! pages newest first.

use std::time::SystemTime;

use crate::client::PunchClient;
use crate::error::PunchError;
use crate::types::{HistoryEntry, PunchKind, SyncStatus, instant};
use crate::types::{Signed, unsigned};

/// Longest history page.
const MAX_PAGE: u32 = 1_000;

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

impl From<punch_core::rules::shift::ShiftOccurrence> for ShiftOccurrence {
    fn from(o: punch_core::rules::shift::ShiftOccurrence) -> Self {
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

/// A page of history, newest first; pass `next_before_seq` for the older ones.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct HistoryPage {
    pub entries: Vec<HistoryEntry>,
    /// None when this page reaches the oldest punch.
    pub next_before_seq: Option<i64>,
}

#[uniffi::export]
impl PunchClient {
    /// Where the employee stands now; `subscribe` hears every change.
    pub async fn standing(&self) -> Result<Standing, PunchError> {
        self.run(|engine| Ok(engine.standing()?.into())).await
    }

    /// Stored punches, newest first: `before_seq` None for the first page,
    /// then the page's `next_before_seq`.
    pub async fn history(
        &self,
        before_seq: Option<i64>,
        limit: i32,
    ) -> Result<HistoryPage, PunchError> {
        self.run(move |engine| {
            if limit == 0 || limit > MAX_PAGE.signed() {
                return Err(PunchError::invalid(format!(
                    "limit must be 1..={MAX_PAGE}, not {limit}"
                )));
            }
            // One more than asked: a full page says whether older ones exist.
            let before_seq = before_seq.map(|s| unsigned(s, "before_seq")).transpose()?;
            let mut rows = engine
                .punches_newest_first(before_seq, unsigned(i64::from(limit) + 1, "limit")?)?;
            let more = rows.len() > limit as usize;
            rows.truncate(limit as usize);
            let entries: Vec<HistoryEntry> = rows.into_iter().map(HistoryEntry::from).collect();
            let next_before_seq = more.then(|| entries.last().map(|e| e.seq)).flatten();
            Ok(HistoryPage {
                entries,
                next_before_seq,
            })
        })
        .await
    }
}
