//! "Where do I stand": what a punch screen shows, in one read — clocked in
//! or not and since when, the shift that matters now, the punch the
//! employee would press next, and what waits to upload.

use punch_model::rules::shift::{OpenShift, PreparedShift, ShiftOccurrence, current_or_next};

use crate::store::StoredPunch;
use crate::sync::SyncStatus;
use punch_model::ledger::record::PunchKind;
use punch_model::text::serde_name;

/// Where the employee stands now.
#[derive(Debug, Clone, PartialEq)]
pub struct Standing {
    /// A clock-in is the newest of the clock-ins and clock-outs.
    pub clocked_in: bool,
    /// Clocked in, and the newest punch started a break.
    pub on_break: bool,
    /// When the state began: the open clock-in (wall time, UTC ms).
    pub since_ms: Option<i64>,
    /// The newest stored punch, checked against its signature.
    pub last_punch: Option<StoredPunch>,
    /// The punch the employee would press next.
    pub next_kind: PunchKind,
    /// The shift clocked in to, in its window now, or next within a week.
    pub shift: Option<ShiftOccurrence>,
    /// What waits to upload, and how syncing goes.
    pub sync: SyncStatus,
}

/// How many of the newest punches to read back for the open clock-in
/// (breaks may lie between it and now).
pub(crate) const LOOKBACK: u32 = 64;

/// The whole answer. `newest_first` is checked lazily (a signature check
/// per row): the walk stops at the last clock-in or clock-out, usually the
/// first row. Rows whose signature does not verify say nothing.
pub(crate) fn standing(
    newest_first: impl IntoIterator<Item = StoredPunch>,
    shifts: &[PreparedShift],
    open_shift: Option<&OpenShift>,
    trusted_now_ms: i64,
    sync: SyncStatus,
) -> Standing {
    let is = |p: &StoredPunch, k: PunchKind| p.kind == serde_name(&k);
    let mut last_punch: Option<StoredPunch> = None;
    let mut since_ms = None;
    for p in newest_first.into_iter().filter(|p| p.verified) {
        let done = if is(&p, PunchKind::ClockIn) {
            since_ms = Some(p.wall_time_ms);
            true
        } else {
            is(&p, PunchKind::ClockOut)
        };
        last_punch.get_or_insert(p);
        if done {
            break;
        }
    }
    let clocked_in = since_ms.is_some();
    let on_break = clocked_in
        && last_punch
            .as_ref()
            .is_some_and(|p| is(p, PunchKind::BreakStart));
    let next_kind = match (clocked_in, on_break) {
        (false, _) => PunchKind::ClockIn,
        (true, true) => PunchKind::BreakEnd,
        (true, false) => PunchKind::ClockOut,
    };
    Standing {
        clocked_in,
        on_break,
        since_ms,
        last_punch,
        next_kind,
        shift: current_or_next(shifts, trusted_now_ms, open_shift),
        sync,
    }
}
