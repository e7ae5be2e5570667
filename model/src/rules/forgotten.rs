//! Forgotten clock-outs: a shift occurrence an employee clocked in to and
//! never clocked out of by the time its punch window closed (the shift's
//! end plus `latest_out_min`, the last moment a clock-out still belongs to
//! it). The server finds them per employee, across all their devices, from
//! the stored judgements (`rules::shift`), flags them for a reviewer, and —
//! when the policy says so — closes them at the shift's end with an entry
//! of its own: never a signed punch, always marked as made by the server.
//! The employee hears of it at the next sync ([`ForgottenClockOut`]) and
//! can answer with a make-up request (`rules::makeup`).
//!
//! A clock-out the employee did make, uploaded late by an offline phone,
//! wins: the notice stays on record, marked as answered by that punch.

use serde::{Deserialize, Serialize};

use crate::rules::punch_kind::PunchKind;
use crate::rules::shift::{self, Attendance, OpenShift, ShiftOccurrence};

/// What the server does about a forgotten clock-out (policy
/// `settings.forgotten_clock_out`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForgottenClockOutAction {
    /// Flag it for a reviewer; the day stays open in the export.
    #[default]
    Flag,
    /// Flag it and close the occurrence at the shift's scheduled end with a
    /// server-made entry (counted in the export, marked as such).
    CloseAtShiftEnd,
}

/// The default (left out of the signed policy's bytes).
pub fn is_flag(action: &ForgottenClockOutAction) -> bool {
    *action == ForgottenClockOutAction::Flag
}

/// A punch as detection reads it: the server's stored judgement, on the
/// time the server believes.
#[derive(Debug, Clone, Copy)]
pub struct PunchSeen<'a> {
    pub punch_id: &'a str,
    pub kind: PunchKind,
    pub at_ms: i64,
    pub attendance: Option<&'a Attendance>,
    /// The policy version the punch was judged under.
    pub policy_version: u64,
}

/// A clocked-in occurrence whose window has closed, and what closed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedWindow {
    pub occurrence: ShiftOccurrence,
    pub clock_in_punch_id: String,
    pub clock_in_at_ms: i64,
    /// The version the clock-in was judged under (its settings decide the action).
    pub policy_version: u64,
    /// The clock-out that belongs to it (made before the window closed), if any.
    pub clock_out: Option<(String, i64)>,
}

impl ClosedWindow {
    /// No clock-out belongs to it: forgotten.
    pub fn is_forgotten(&self) -> bool {
        self.clock_out.is_none()
    }
}

/// Walks one employee's punches in time order (all their devices), carrying
/// the open occurrence the way ingest does (`shift::open_after`), and
/// returns every clocked-in occurrence whose window closed at or before
/// `now_ms`. `occurrence_of` names the scheduled occurrence of an open
/// shift under the version its clock-in was judged by (None: the version
/// or the shift is gone; such a clock-in is skipped, never guessed).
pub fn closed_windows(
    punches: &[PunchSeen<'_>],
    now_ms: i64,
    occurrence_of: &dyn Fn(u64, &OpenShift) -> Option<ShiftOccurrence>,
) -> Vec<ClosedWindow> {
    let mut sorted: Vec<&PunchSeen<'_>> = punches.iter().collect();
    sorted.sort_by_key(|p| p.at_ms);
    let mut out = Vec::new();
    let mut open: Option<ClosedWindow> = None;
    for p in sorted {
        if let Some(current) = open.as_mut()
            && p.kind == PunchKind::ClockOut
            && p.at_ms <= current.occurrence.closes_ms
        {
            current.clock_out = Some((p.punch_id.to_string(), p.at_ms));
        }
        let Some(after) = shift::open_after(p.kind, p.attendance) else {
            continue;
        };
        // A clock-out, or a clock-in of another occurrence: the one open ends here.
        out.extend(open.take());
        if let Some(o) = after
            && p.kind == PunchKind::ClockIn
        {
            open = occurrence_of(p.policy_version, &o).map(|occurrence| ClosedWindow {
                occurrence,
                clock_in_punch_id: p.punch_id.to_string(),
                clock_in_at_ms: p.at_ms,
                policy_version: p.policy_version,
                clock_out: None,
            });
        }
    }
    out.extend(open);
    out.retain(|w| w.occurrence.closes_ms <= now_ms);
    out
}

/// Where a forgotten clock-out stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForgottenState {
    /// Flagged; nothing closed it.
    Flagged,
    /// The server closed it at the shift's end (a server-made entry).
    ClosedByServer,
    /// A clock-out the employee made arrived after detection: it counts;
    /// the notice (and any server-made entry) stays on record.
    Superseded,
}

impl ForgottenState {
    /// What the records say: a late clock-out wins over a server-made one.
    pub fn of(closed_by_server: bool, superseded: bool) -> ForgottenState {
        match (closed_by_server, superseded) {
            (_, true) => ForgottenState::Superseded,
            (true, false) => ForgottenState::ClosedByServer,
            (false, false) => ForgottenState::Flagged,
        }
    }
}

/// A forgotten clock-out as the employee's phone and the reviewer see it
/// (`GET /v1/requests` → `forgotten`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForgottenClockOut {
    pub shift_id: String,
    /// The occurrence's scheduled start and end (UTC ms).
    pub start_ms: i64,
    pub end_ms: i64,
    /// When the clock-out window closed (end + `latest_out_min`).
    pub closes_ms: i64,
    /// The clock-in that opened it.
    pub clock_in_punch_id: String,
    pub clock_in_at_ms: i64,
    pub state: ForgottenState,
    /// The server-made clock-out's time (the shift's end), when it closed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_clock_out_ms: Option<i64>,
    /// The employee's own clock-out that arrived late and won.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<String>,
    pub detected_at_ms: i64,
}

impl ForgottenClockOut {
    /// A stable message code for the app's text (`messages::forgotten_message`).
    pub fn code(&self) -> &'static str {
        match self.state {
            ForgottenState::Flagged => "forgotten_clock_out",
            ForgottenState::ClosedByServer => "forgotten_clock_out_closed",
            ForgottenState::Superseded => "forgotten_clock_out_superseded",
        }
    }

    /// Whether a make-up clock-out at `at_ms` answers this one: inside the
    /// occurrence's clock-out window, after the clock-in.
    pub fn answered_by(&self, kind: PunchKind, at_ms: i64) -> bool {
        kind == PunchKind::ClockOut && at_ms >= self.clock_in_at_ms && at_ms <= self.closes_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn occ(start_ms: i64) -> ShiftOccurrence {
        ShiftOccurrence {
            shift_id: "day".into(),
            name: String::new(),
            start_ms,
            end_ms: start_ms + 480 * MIN,
            opens_ms: start_ms - 60 * MIN,
            closes_ms: start_ms + 540 * MIN,
        }
    }

    fn on_time(start_ms: i64) -> Attendance {
        Attendance::OnTime {
            shift_id: "day".into(),
            start_ms,
        }
    }

    fn seen<'a>(id: &'a str, kind: PunchKind, at_ms: i64, a: &'a Attendance) -> PunchSeen<'a> {
        PunchSeen {
            punch_id: id,
            kind,
            at_ms,
            attendance: Some(a),
            policy_version: 1,
        }
    }

    fn lookup(_: u64, o: &OpenShift) -> Option<ShiftOccurrence> {
        Some(occ(o.start_ms))
    }

    #[test]
    fn a_clock_in_without_a_clock_out_is_forgotten_once_its_window_closed() {
        let day = 1_000 * MIN;
        let a = on_time(day);
        let punches = [seen("in", PunchKind::ClockIn, day, &a)];
        // Still open: not yet.
        assert!(closed_windows(&punches, day + 540 * MIN - 1, &lookup).is_empty());
        let found = closed_windows(&punches, day + 540 * MIN, &lookup);
        assert_eq!(found.len(), 1);
        assert!(found[0].is_forgotten());
        assert_eq!(found[0].clock_in_punch_id, "in");
        assert_eq!(found[0].occurrence.end_ms, day + 480 * MIN);
    }

    #[test]
    fn a_clock_out_in_the_window_closes_it_even_if_it_arrives_in_any_order() {
        let day = 1_000 * MIN;
        let a = on_time(day);
        // Listed out of order (an offline phone's late upload).
        let punches = [
            seen("out", PunchKind::ClockOut, day + 500 * MIN, &a),
            seen("in", PunchKind::ClockIn, day, &a),
        ];
        let found = closed_windows(&punches, day + 2_000 * MIN, &lookup);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].clock_out, Some(("out".into(), day + 500 * MIN)));
        assert!(!found[0].is_forgotten());
    }

    #[test]
    fn the_next_days_clock_in_leaves_yesterday_forgotten() {
        let (d1, d2) = (1_000 * MIN, 1_000 * MIN + 1_440 * MIN);
        let (a1, a2) = (on_time(d1), on_time(d2));
        let punches = [
            seen("in1", PunchKind::ClockIn, d1, &a1),
            seen("in2", PunchKind::ClockIn, d2, &a2),
            seen("out2", PunchKind::ClockOut, d2 + 480 * MIN, &a2),
        ];
        let found = closed_windows(&punches, d2 + 600 * MIN, &lookup);
        let forgotten: Vec<&str> = found
            .iter()
            .filter(|w| w.is_forgotten())
            .map(|w| w.clock_in_punch_id.as_str())
            .collect();
        assert_eq!(forgotten, ["in1"]);
        assert_eq!(found.len(), 2);
    }

    #[test]
    fn a_clock_out_after_the_window_does_not_answer_it() {
        let day = 1_000 * MIN;
        let a = on_time(day);
        let punches = [
            seen("in", PunchKind::ClockIn, day, &a),
            seen("out", PunchKind::ClockOut, day + 600 * MIN, &a),
        ];
        let found = closed_windows(&punches, day + 700 * MIN, &lookup);
        assert!(found[0].is_forgotten());
    }

    #[test]
    fn a_clock_in_without_a_shift_is_not_tracked() {
        let day = 1_000 * MIN;
        let none = Attendance::NoShift;
        let punches = [seen("in", PunchKind::ClockIn, day, &none)];
        assert!(closed_windows(&punches, day + 5_000 * MIN, &lookup).is_empty());
    }

    #[test]
    fn the_action_defaults_to_flag_and_reads_snake_case() {
        assert_eq!(
            ForgottenClockOutAction::default(),
            ForgottenClockOutAction::Flag
        );
        let a: ForgottenClockOutAction = serde_json::from_str("\"close_at_shift_end\"").unwrap();
        assert_eq!(a, ForgottenClockOutAction::CloseAtShiftEnd);
    }
}
