//! Shift rules: when a punch is on time, late, an early leave, outside the
//! punch window, or on a day without a shift — judged in the shift's own
//! time zone (the site's), whatever zone the phone is set to.
//!
//! Zones come from the platform's time-zone database through jiff (Android's
//! tzdata, iOS's and Linux's zoneinfo), so a government's change of its
//! daylight-saving rules reaches the judgement with the OS update, not with
//! an app release. Local times that a daylight-saving change skips are moved
//! forward by the gap; repeated ones take the earlier instant (a shift
//! starting at 01:30 on the night clocks go back starts at the first 01:30).
//!
//! Punches are matched to shift occurrences, never alternated: a forgotten
//! clock-out leaves yesterday's occurrence open, and today's clock-in is
//! judged against today's occurrence.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::rules::punch_kind::PunchKind;

/// A day of the week, as policies write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    fn of(w: Weekday) -> Day {
        match w {
            Weekday::Monday => Day::Mon,
            Weekday::Tuesday => Day::Tue,
            Weekday::Wednesday => Day::Wed,
            Weekday::Thursday => Day::Thu,
            Weekday::Friday => Day::Fri,
            Weekday::Saturday => Day::Sat,
            Weekday::Sunday => Day::Sun,
        }
    }
}

fn default_earliest_in() -> u32 {
    60
}

fn default_latest_out() -> u32 {
    240
}

/// A shift as the employer writes it in the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shift {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// The days the shift starts on.
    pub days: Vec<Day>,
    /// Local start, `HH:MM`.
    pub start: String,
    /// Local end, `HH:MM`; at or before `start` means the next day (a night shift).
    pub end: String,
    /// IANA zone of the times (the site's); the policy's `time_zone` if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// The punch window opens this long before the start...
    #[serde(default = "default_earliest_in")]
    pub earliest_in_min: u32,
    /// ...and closes this long after the end.
    #[serde(default = "default_latest_out")]
    pub latest_out_min: u32,
    /// A clock-in up to this long after the start is on time.
    #[serde(default)]
    pub grace_late_min: u32,
    /// A clock-out up to this long before the end is on time.
    #[serde(default)]
    pub grace_early_min: u32,
    /// Unpaid breaks (`HH:MM`-`HH:MM`, local), for worked-time reports.
    #[serde(default)]
    pub breaks: Vec<ShiftBreak>,
    /// Sites the shift applies to; empty: every site.
    #[serde(default)]
    pub sites: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShiftBreak {
    pub start: String,
    pub end: String,
}

/// Why a shift cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("shift {shift:?}: {problem}")]
pub struct ShiftError {
    pub shift: String,
    pub problem: String,
}

/// A shift ready to judge punches.
#[derive(Debug, Clone)]
pub struct PreparedShift {
    pub shift: Shift,
    zone: TimeZone,
    start: Time,
    end: Time,
}

fn parse_time(text: &str) -> Option<Time> {
    let (h, m) = text.split_once(':')?;
    let (h, m): (i8, i8) = (h.parse().ok()?, m.parse().ok()?);
    Time::new(h, m, 0, 0).ok()
}

/// Upper bound on windows and graces: a day.
const MAX_MINUTES: u32 = 24 * 60;

impl PreparedShift {
    pub fn new(shift: &Shift, default_zone: Option<&str>) -> Result<PreparedShift, ShiftError> {
        let bad = |problem: String| ShiftError {
            shift: shift.id.clone(),
            problem,
        };
        let zone_name = shift
            .time_zone
            .as_deref()
            .or(default_zone)
            .ok_or_else(|| bad("no time_zone (set it on the shift or the policy)".into()))?;
        let zone = TimeZone::get(zone_name)
            .map_err(|e| bad(format!("time zone {zone_name:?} is unknown here: {e}")))?;
        let start = parse_time(&shift.start)
            .ok_or_else(|| bad(format!("start {:?} is not HH:MM", shift.start)))?;
        let end = parse_time(&shift.end)
            .ok_or_else(|| bad(format!("end {:?} is not HH:MM", shift.end)))?;
        if shift.days.is_empty() {
            return Err(bad("no days".into()));
        }
        for (name, v) in [
            ("earliest_in_min", shift.earliest_in_min),
            ("latest_out_min", shift.latest_out_min),
            ("grace_late_min", shift.grace_late_min),
            ("grace_early_min", shift.grace_early_min),
        ] {
            if v > MAX_MINUTES {
                return Err(bad(format!("{name} {v} is more than a day")));
            }
        }
        for b in &shift.breaks {
            if parse_time(&b.start).is_none() || parse_time(&b.end).is_none() {
                return Err(bad(format!(
                    "break {}-{} is not HH:MM-HH:MM",
                    b.start, b.end
                )));
            }
        }
        Ok(PreparedShift {
            shift: shift.clone(),
            zone,
            start,
            end,
        })
    }

    /// The instant a local time on `date` happens: skipped times move
    /// forward by the gap, repeated ones take the earlier instant.
    fn instant(&self, date: Date, time: Time) -> Option<i64> {
        let local = DateTime::from_parts(date, time);
        let ts = self.zone.to_ambiguous_timestamp(local).compatible().ok()?;
        Some(ts.as_millisecond())
    }

    /// The occurrence that starts on `date`, if the shift runs that day.
    fn occurrence(&self, date: Date) -> Option<Occurrence> {
        if !self.shift.days.contains(&Day::of(date.weekday())) {
            return None;
        }
        let start_ms = self.instant(date, self.start)?;
        let end_date = if self.end <= self.start {
            date.tomorrow().ok()?
        } else {
            date
        };
        let end_ms = self.instant(end_date, self.end)?;
        let minute = 60_000i64;
        Some(Occurrence {
            start_ms,
            end_ms,
            opens_ms: start_ms - i64::from(self.shift.earliest_in_min) * minute,
            closes_ms: end_ms + i64::from(self.shift.latest_out_min) * minute,
        })
    }

    /// The local date of `at_ms` in the shift's zone.
    fn local_date(&self, at_ms: i64) -> Option<Date> {
        let ts = Timestamp::from_millisecond(at_ms).ok()?;
        Some(self.zone.to_datetime(ts).date())
    }

    /// The scheduled breaks of the occurrence that starts at `start_ms`
    /// (as [`Attendance::occurrence`] names it), as UTC intervals
    /// `[start, end)`. A break whose local time is before the shift's start
    /// is on the next day (a night shift's); one ending at or before its
    /// start runs past midnight.
    pub fn scheduled_breaks(&self, start_ms: i64) -> Vec<(i64, i64)> {
        let Some(date) = self.local_date(start_ms) else {
            return Vec::new();
        };
        let day_of = |t: Time| {
            if t < self.start {
                date.tomorrow().ok()
            } else {
                Some(date)
            }
        };
        self.shift
            .breaks
            .iter()
            .filter_map(|b| {
                let (s, e) = (parse_time(&b.start)?, parse_time(&b.end)?);
                let s_ms = self.instant(day_of(s)?, s)?;
                let e_date = day_of(e)?;
                let e_date = if e <= s && e_date == day_of(s)? {
                    e_date.tomorrow().ok()?
                } else {
                    e_date
                };
                Some((s_ms, self.instant(e_date, e)?))
            })
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Occurrence {
    start_ms: i64,
    end_ms: i64,
    opens_ms: i64,
    closes_ms: i64,
}

/// A shift occurrence a clock-in opened and no clock-out closed yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenShift {
    pub shift_id: String,
    /// When the occurrence was scheduled to start (UTC ms).
    pub start_ms: i64,
}

/// What a punch means for attendance, told to the employee at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Attendance {
    OnTime {
        shift_id: String,
        /// The occurrence's scheduled start (UTC ms): punches are matched by it.
        start_ms: i64,
    },
    Late {
        shift_id: String,
        start_ms: i64,
        minutes: u32,
    },
    EarlyLeave {
        shift_id: String,
        start_ms: i64,
        minutes: u32,
    },
    /// A shift runs today, but not at this time.
    OutsideWindow { shift_id: String },
    /// No shift today (at this site).
    NoShift,
    /// A clock-in for an occurrence already clocked in.
    AlreadyClockedIn { shift_id: String, start_ms: i64 },
    /// A clock-out (or break) for an occurrence never clocked in.
    NotClockedIn { shift_id: String, start_ms: i64 },
}

impl Attendance {
    /// A stable machine code (for the app's own texts and message catalogues).
    pub fn code(&self) -> &'static str {
        match self {
            Attendance::OnTime { .. } => "on_time",
            Attendance::Late { .. } => "late",
            Attendance::EarlyLeave { .. } => "early_leave",
            Attendance::OutsideWindow { .. } => "outside_window",
            Attendance::NoShift => "no_shift",
            Attendance::AlreadyClockedIn { .. } => "already_clocked_in",
            Attendance::NotClockedIn { .. } => "not_clocked_in",
        }
    }

    /// The occurrence this punch was matched to, if any.
    pub fn occurrence(&self) -> Option<OpenShift> {
        match self {
            Attendance::OnTime { shift_id, start_ms }
            | Attendance::Late {
                shift_id, start_ms, ..
            }
            | Attendance::EarlyLeave {
                shift_id, start_ms, ..
            }
            | Attendance::AlreadyClockedIn { shift_id, start_ms }
            | Attendance::NotClockedIn { shift_id, start_ms } => Some(OpenShift {
                shift_id: shift_id.clone(),
                start_ms: *start_ms,
            }),
            Attendance::OutsideWindow { .. } | Attendance::NoShift => None,
        }
    }
}

/// The open occurrence after a punch of `kind` judged `attendance`: Some
/// new state for a clock-in (the occurrence it was matched to, if any) or
/// a clock-out (none), None for a break (the state stays). The phone, the
/// server's ingest and the export carry the state this one way: the phone
/// per employee on itself (its reading is advisory where the employee also
/// punches elsewhere: it cannot see those punches), the server per employee
/// across every device ([`open_before`]).
pub fn open_after(kind: PunchKind, attendance: Option<&Attendance>) -> Option<Option<OpenShift>> {
    match kind {
        PunchKind::ClockIn => Some(attendance.and_then(Attendance::occurrence)),
        PunchKind::ClockOut => Some(None),
        PunchKind::BreakStart | PunchKind::BreakEnd => None,
    }
}

/// One of an employee's punches as the server reads attendance: across
/// every device and terminal the employee punched from, in the order of
/// [`EmployeePunch::order`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmployeePunch<'a> {
    /// The server's time for the punch (trusted where anchored).
    pub at_ms: i64,
    pub device_id: &'a str,
    pub seq: u64,
    pub kind: PunchKind,
    /// The server's reading of it.
    pub attendance: Option<&'a Attendance>,
}

/// Where a punch sits in an employee's day: by time, then device and seq,
/// so two punches at the same millisecond always come in one order (the
/// server's SQL sorts the same way).
pub type PunchOrder<'a> = (i64, &'a str, u64);

impl<'a> EmployeePunch<'a> {
    pub fn order(&self) -> PunchOrder<'a> {
        (self.at_ms, self.device_id, self.seq)
    }
}

/// The occurrence an employee is clocked in to just before `at` (by the
/// server's reading): what their latest clock-in or clock-out before it,
/// on any device, left open. Order is time, not arrival: a phone that
/// uploads a day late still has its punches read where they happened. The
/// one rule for "clocked in?" on the server (ingest, exports, and checks
/// for a forgotten clock-out at the end of a shift).
pub fn open_before<'a>(
    punches: impl IntoIterator<Item = EmployeePunch<'a>>,
    at: PunchOrder<'_>,
) -> Option<OpenShift> {
    punches
        .into_iter()
        .filter(|p| matches!(p.kind, PunchKind::ClockIn | PunchKind::ClockOut))
        .filter(|p| p.order() < at)
        .max_by(|a, b| a.order().cmp(&b.order()))
        .and_then(|p| open_after(p.kind, p.attendance).flatten())
}

/// A scheduled occurrence of a shift, for the app's "where do I stand".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftOccurrence {
    pub shift_id: String,
    pub name: String,
    /// Scheduled start and end (UTC ms).
    pub start_ms: i64,
    pub end_ms: i64,
    /// The punch window: clock-ins from `opens_ms`, clock-outs until `closes_ms`.
    pub opens_ms: i64,
    pub closes_ms: i64,
}

/// How far ahead to look for the next occurrence (a shift runs at least weekly).
const LOOKAHEAD_DAYS: i32 = 8;

/// The occurrence that matters at `at_ms`: the one clocked in to (`open`),
/// else the one whose punch window holds `at_ms`, else the next to start
/// within a week. Every site's shifts count: the phone does not know yet
/// where the employee will punch.
pub fn current_or_next(
    shifts: &[PreparedShift],
    at_ms: i64,
    open: Option<&OpenShift>,
) -> Option<ShiftOccurrence> {
    let mut best: Option<(bool, i64, ShiftOccurrence)> = None;
    for s in shifts {
        let Some(today) = s.local_date(at_ms) else {
            continue;
        };
        for offset in -1..=LOOKAHEAD_DAYS {
            let Ok(date) = today.checked_add(jiff::Span::new().days(offset)) else {
                continue;
            };
            let Some(o) = s.occurrence(date) else {
                continue;
            };
            let occurrence = ShiftOccurrence {
                shift_id: s.shift.id.clone(),
                name: s.shift.name.clone(),
                start_ms: o.start_ms,
                end_ms: o.end_ms,
                opens_ms: o.opens_ms,
                closes_ms: o.closes_ms,
            };
            if open.is_some_and(|x| x.shift_id == s.shift.id && x.start_ms == o.start_ms) {
                return Some(occurrence);
            }
            let current = (o.opens_ms..=o.closes_ms).contains(&at_ms);
            if !current && o.start_ms < at_ms {
                continue;
            }
            // A current one beats any later one; among equals, the earliest start.
            let better = best
                .as_ref()
                .is_none_or(|(cur, start, _)| (current, -o.start_ms) > (*cur, -*start));
            if better {
                best = Some((current, o.start_ms, occurrence));
            }
        }
    }
    best.map(|(_, _, o)| o)
}

fn minutes_after(later_ms: i64, earlier_ms: i64) -> u32 {
    u32::try_from(later_ms.saturating_sub(earlier_ms).max(0) / 60_000).unwrap_or(u32::MAX)
}

/// Judges a punch of `kind` at `at_ms` (trusted time, UTC) at `site_id`
/// against the shifts; `open` is the occurrence the employee is clocked in
/// to, if any. None when the policy has no shifts for this site.
pub fn judge(
    shifts: &[PreparedShift],
    site_id: Option<&str>,
    kind: PunchKind,
    at_ms: i64,
    open: Option<&OpenShift>,
) -> Option<Attendance> {
    let here: Vec<&PreparedShift> = shifts
        .iter()
        .filter(|s| {
            s.shift.sites.is_empty()
                || site_id.is_some_and(|id| s.shift.sites.iter().any(|x| x == id))
        })
        .collect();
    if here.is_empty() {
        return None;
    }
    // Occurrences starting yesterday, today or tomorrow (local) can hold the punch.
    let mut candidates: Vec<(&PreparedShift, Occurrence)> = Vec::new();
    let mut runs_today: Option<&PreparedShift> = None;
    for s in &here {
        let Some(today) = s.local_date(at_ms) else {
            continue;
        };
        for date in [today.yesterday().ok(), Some(today), today.tomorrow().ok()]
            .into_iter()
            .flatten()
        {
            if let Some(o) = s.occurrence(date) {
                if date == today {
                    runs_today.get_or_insert(s);
                }
                if (o.opens_ms..=o.closes_ms).contains(&at_ms) {
                    candidates.push((s, o));
                }
            }
        }
    }
    let is_open = |s: &PreparedShift, o: &Occurrence| {
        open.is_some_and(|x| x.shift_id == s.shift.id && x.start_ms == o.start_ms)
    };
    let chosen = match kind {
        // The occurrence starting nearest the punch: a forgotten clock-out
        // never makes today's clock-in belong to yesterday.
        PunchKind::ClockIn => candidates
            .iter()
            .min_by_key(|(_, o)| (o.start_ms - at_ms).abs()),
        // The open occurrence if the punch is in its window, else the one
        // ending nearest.
        _ => candidates.iter().find(|(s, o)| is_open(s, o)).or_else(|| {
            candidates
                .iter()
                .min_by_key(|(_, o)| (o.end_ms - at_ms).abs())
        }),
    };
    let Some((s, o)) = chosen else {
        return Some(match runs_today {
            Some(s) => Attendance::OutsideWindow {
                shift_id: s.shift.id.clone(),
            },
            None => Attendance::NoShift,
        });
    };
    let shift_id = s.shift.id.clone();
    let start_ms = o.start_ms;
    let open_here = is_open(s, o);
    Some(match kind {
        PunchKind::ClockIn if open_here => Attendance::AlreadyClockedIn { shift_id, start_ms },
        PunchKind::ClockIn => {
            let late = minutes_after(at_ms, o.start_ms);
            if late > s.shift.grace_late_min {
                Attendance::Late {
                    shift_id,
                    start_ms,
                    minutes: late,
                }
            } else {
                Attendance::OnTime { shift_id, start_ms }
            }
        }
        _ if !open_here => Attendance::NotClockedIn { shift_id, start_ms },
        PunchKind::ClockOut => {
            let early = minutes_after(o.end_ms, at_ms);
            if early > s.shift.grace_early_min {
                Attendance::EarlyLeave {
                    shift_id,
                    start_ms,
                    minutes: early,
                }
            } else {
                Attendance::OnTime { shift_id, start_ms }
            }
        }
        PunchKind::BreakStart | PunchKind::BreakEnd => Attendance::OnTime { shift_id, start_ms },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shift(json: serde_json::Value) -> PreparedShift {
        let s: Shift = serde_json::from_value(json).unwrap();
        PreparedShift::new(&s, None).unwrap()
    }

    /// UTC ms of a local wall time in `zone` (earlier instant if repeated).
    fn at(zone: &str, local: &str) -> i64 {
        let dt: DateTime = local.parse().unwrap();
        TimeZone::get(zone)
            .unwrap()
            .to_ambiguous_timestamp(dt)
            .earlier()
            .unwrap()
            .as_millisecond()
    }

    fn day_shift() -> PreparedShift {
        shift(serde_json::json!({
            "id": "day", "days": ["mon", "tue", "wed", "thu", "fri"],
            "start": "09:00", "end": "18:00", "time_zone": "Asia/Shanghai",
            "grace_late_min": 5, "grace_early_min": 5
        }))
    }

    const SH: &str = "Asia/Shanghai";

    #[test]
    fn on_time_late_early_outside_and_no_shift() {
        let s = [day_shift()];
        let judge = |kind, local: &str, open: Option<&OpenShift>| {
            judge(&s, Some("hq"), kind, at(SH, local), open).unwrap()
        };
        // 2026-03-02 is a Monday.
        let monday = at(SH, "2026-03-02T09:00");
        assert_eq!(
            judge(PunchKind::ClockIn, "2026-03-02T08:55", None),
            Attendance::OnTime {
                shift_id: "day".into(),
                start_ms: monday
            }
        );
        assert_eq!(
            judge(PunchKind::ClockIn, "2026-03-02T09:05", None).code(),
            "on_time",
            "within grace"
        );
        assert_eq!(
            judge(PunchKind::ClockIn, "2026-03-02T09:10", None),
            Attendance::Late {
                shift_id: "day".into(),
                start_ms: monday,
                minutes: 10
            }
        );
        assert_eq!(
            judge(PunchKind::ClockIn, "2026-03-02T03:00", None).code(),
            "outside_window"
        );
        assert_eq!(
            judge(PunchKind::ClockIn, "2026-03-07T09:00", None),
            Attendance::NoShift
        );
        let open = OpenShift {
            shift_id: "day".into(),
            start_ms: monday,
        };
        assert_eq!(
            judge(PunchKind::ClockOut, "2026-03-02T17:30", Some(&open)),
            Attendance::EarlyLeave {
                shift_id: "day".into(),
                start_ms: monday,
                minutes: 30
            }
        );
        assert_eq!(
            judge(PunchKind::ClockOut, "2026-03-02T18:20", Some(&open)).code(),
            "on_time"
        );
        assert_eq!(
            judge(PunchKind::ClockOut, "2026-03-02T18:00", None).code(),
            "not_clocked_in"
        );
        assert_eq!(
            judge(PunchKind::ClockIn, "2026-03-02T10:00", Some(&open)).code(),
            "already_clocked_in"
        );
        // Another site than the shift's: no shift there.
        let only_depot = [shift(serde_json::json!({
            "id": "d", "days": ["mon"], "start": "09:00", "end": "17:00",
            "time_zone": SH, "sites": ["depot"]
        }))];
        assert_eq!(
            judge_at(&only_depot, "hq", at(SH, "2026-03-02T09:00")),
            None
        );
    }

    fn judge_at(s: &[PreparedShift], site: &str, at_ms: i64) -> Option<Attendance> {
        judge(s, Some(site), PunchKind::ClockIn, at_ms, None)
    }

    #[test]
    fn a_forgotten_clock_out_does_not_turn_the_next_clock_in_into_a_clock_out() {
        let s = [day_shift()];
        let monday = OpenShift {
            shift_id: "day".into(),
            start_ms: at(SH, "2026-03-02T09:00"),
        };
        let tuesday = judge(
            &s,
            None,
            PunchKind::ClockIn,
            at(SH, "2026-03-03T08:58"),
            Some(&monday),
        );
        assert_eq!(
            tuesday,
            Some(Attendance::OnTime {
                shift_id: "day".into(),
                start_ms: at(SH, "2026-03-03T09:00")
            })
        );
    }

    #[test]
    fn a_night_shift_ends_the_next_morning() {
        let s = [shift(serde_json::json!({
            "id": "night", "days": ["mon"], "start": "22:00", "end": "06:00",
            "time_zone": SH, "grace_late_min": 0
        }))];
        let start = at(SH, "2026-03-02T22:00");
        let clock_in = judge(
            &s,
            None,
            PunchKind::ClockIn,
            at(SH, "2026-03-02T22:03"),
            None,
        );
        assert_eq!(
            clock_in,
            Some(Attendance::Late {
                shift_id: "night".into(),
                start_ms: start,
                minutes: 3
            })
        );
        let open = clock_in.and_then(|a| a.occurrence());
        let out = judge(
            &s,
            None,
            PunchKind::ClockOut,
            at(SH, "2026-03-03T06:01"),
            open.as_ref(),
        );
        assert_eq!(
            out,
            Some(Attendance::OnTime {
                shift_id: "night".into(),
                start_ms: start
            })
        );
        let early = judge(
            &s,
            None,
            PunchKind::ClockOut,
            at(SH, "2026-03-03T05:00"),
            open.as_ref(),
        );
        assert_eq!(early.map(|a| a.code()), Some("early_leave"));
    }

    const BERLIN: &str = "Europe/Berlin";

    #[test]
    fn daylight_saving_skipped_and_repeated_hours() {
        // 2026-03-29: 02:00 CET jumps to 03:00 CEST. A 02:30 start does not
        // exist that night: it moves forward by the gap, to 03:30 CEST.
        let spring = [shift(serde_json::json!({
            "id": "early", "days": ["sun"], "start": "02:30", "end": "10:30", "time_zone": BERLIN
        }))];
        let clock_in = judge(
            &spring,
            None,
            PunchKind::ClockIn,
            at(BERLIN, "2026-03-29T03:30"),
            None,
        );
        assert_eq!(
            clock_in.as_ref().map(|a| a.code()),
            Some("on_time"),
            "{clock_in:?}"
        );
        // An overnight shift across that night lasts 7 hours, not 8.
        let night = [shift(serde_json::json!({
            "id": "n", "days": ["sat"], "start": "22:00", "end": "06:00", "time_zone": BERLIN
        }))];
        let open = OpenShift {
            shift_id: "n".into(),
            start_ms: at(BERLIN, "2026-03-28T22:00"),
        };
        let end = at(BERLIN, "2026-03-29T06:00");
        assert_eq!(end - open.start_ms, 7 * 3_600_000);
        assert_eq!(
            judge(&night, None, PunchKind::ClockOut, end, Some(&open)).map(|a| a.code()),
            Some("on_time")
        );
        // 2026-10-25: 03:00 CEST goes back to 02:00 CET; 02:30 happens twice.
        // The shift starts at the first one.
        let autumn = [shift(serde_json::json!({
            "id": "a", "days": ["sun"], "start": "02:30", "end": "10:30",
            "time_zone": BERLIN, "grace_late_min": 10
        }))];
        let first = at(BERLIN, "2026-10-25T02:30");
        let second = first + 3_600_000;
        assert_eq!(
            judge(&autumn, None, PunchKind::ClockIn, first + 5 * 60_000, None).map(|a| a.code()),
            Some("on_time")
        );
        assert_eq!(
            judge(&autumn, None, PunchKind::ClockIn, second + 5 * 60_000, None),
            Some(Attendance::Late {
                shift_id: "a".into(),
                start_ms: first,
                minutes: 65
            })
        );
    }

    #[test]
    fn the_phones_own_zone_does_not_matter() {
        // 09:00 in Shanghai is 01:00 UTC, 02:00 in Berlin and 20:00 the day
        // before in New York: the judgement takes the instant, in the shift's zone.
        let s = [day_shift()];
        let instant = at("America/New_York", "2026-03-01T20:00");
        assert_eq!(instant, at(SH, "2026-03-02T09:00"));
        assert_eq!(
            judge(&s, None, PunchKind::ClockIn, instant, None).map(|a| a.code()),
            Some("on_time")
        );
    }

    #[test]
    fn bad_shifts_are_refused_with_the_reason() {
        let bad = |json: serde_json::Value| {
            let s: Shift = serde_json::from_value(json).unwrap();
            PreparedShift::new(&s, None).unwrap_err().to_string()
        };
        let e = bad(
            serde_json::json!({"id": "x", "days": ["mon"], "start": "09:00", "end": "17:00", "time_zone": "Mars/Olympus"}),
        );
        assert!(e.contains("Mars/Olympus"), "{e}");
        let e = bad(
            serde_json::json!({"id": "x", "days": ["mon"], "start": "9am", "end": "17:00", "time_zone": SH}),
        );
        assert!(e.contains("HH:MM"), "{e}");
        let e =
            bad(serde_json::json!({"id": "x", "days": ["mon"], "start": "09:00", "end": "17:00"}));
        assert!(e.contains("time_zone"), "{e}");
        let e = bad(
            serde_json::json!({"id": "x", "days": [], "start": "09:00", "end": "17:00", "time_zone": SH}),
        );
        assert!(e.contains("no days"), "{e}");
    }

    #[test]
    fn scheduled_breaks_fall_in_the_occurrence_they_belong_to() {
        let day = shift(serde_json::json!({
            "id": "d", "days": ["mon"], "start": "09:00", "end": "18:00", "time_zone": SH,
            "breaks": [{"start": "12:00", "end": "13:00"}]
        }));
        let start = at(SH, "2026-03-02T09:00");
        assert_eq!(
            day.scheduled_breaks(start),
            vec![(at(SH, "2026-03-02T12:00"), at(SH, "2026-03-02T13:00"))]
        );
        // A night shift's breaks after midnight are on the next day, and one
        // across midnight ends there.
        let night = shift(serde_json::json!({
            "id": "n", "days": ["mon"], "start": "22:00", "end": "06:00", "time_zone": SH,
            "breaks": [{"start": "02:00", "end": "02:30"}, {"start": "23:45", "end": "00:15"}]
        }));
        let start = at(SH, "2026-03-02T22:00");
        assert_eq!(
            night.scheduled_breaks(start),
            vec![
                (at(SH, "2026-03-03T02:00"), at(SH, "2026-03-03T02:30")),
                (at(SH, "2026-03-02T23:45"), at(SH, "2026-03-03T00:15")),
            ]
        );
    }

    #[test]
    fn the_open_occurrence_moves_with_clock_ins_and_outs_only() {
        let occurrence = OpenShift {
            shift_id: "day".into(),
            start_ms: 1,
        };
        let late = Attendance::Late {
            shift_id: "day".into(),
            start_ms: 1,
            minutes: 3,
        };
        assert_eq!(
            open_after(PunchKind::ClockIn, Some(&late)),
            Some(Some(occurrence))
        );
        assert_eq!(
            open_after(PunchKind::ClockIn, Some(&Attendance::NoShift)),
            Some(None)
        );
        assert_eq!(open_after(PunchKind::ClockOut, Some(&late)), Some(None));
        assert_eq!(open_after(PunchKind::BreakStart, Some(&late)), None);
    }

    #[test]
    fn open_before_reads_an_employee_across_devices_in_time_order() {
        let on_time = Attendance::OnTime {
            shift_id: "day".into(),
            start_ms: 100,
        };
        let occurrence = Some(OpenShift {
            shift_id: "day".into(),
            start_ms: 100,
        });
        let punch = |at_ms, device_id, seq, kind| EmployeePunch {
            at_ms,
            device_id,
            seq,
            kind,
            attendance: Some(&on_time),
        };
        // In on phone A, a break on B, out on B: open between, closed after.
        let day = [
            punch(200, "b", 7, PunchKind::ClockOut),
            punch(100, "a", 3, PunchKind::ClockIn),
            punch(150, "b", 6, PunchKind::BreakStart),
        ];
        assert_eq!(open_before(day, (90, "", 0)), None);
        assert_eq!(open_before(day, (150, "b", 6)), occurrence);
        assert_eq!(open_before(day, (180, "a", 1)), occurrence);
        assert_eq!(open_before(day, (300, "a", 4)), None);
        // The same millisecond: device, then seq, decide.
        let tie = [
            punch(100, "a", 3, PunchKind::ClockIn),
            punch(100, "b", 1, PunchKind::ClockOut),
        ];
        assert_eq!(open_before(tie, (100, "a", 9)), occurrence);
        assert_eq!(open_before(tie, (100, "c", 0)), None);
    }

    #[test]
    fn the_current_or_next_occurrence_is_found() {
        let shifts = [day_shift()];
        // Monday 2026-03-02 in Shanghai, before the window opens: today's is next.
        let early = at("Asia/Shanghai", "2026-03-02T05:00");
        let next = current_or_next(&shifts, early, None).expect("next");
        assert_eq!(next.start_ms, at("Asia/Shanghai", "2026-03-02T09:00"));
        // During it: the same one.
        let during = at("Asia/Shanghai", "2026-03-02T12:00");
        assert_eq!(current_or_next(&shifts, during, None), Some(next.clone()));
        // Saturday: Monday's is next.
        let weekend = at("Asia/Shanghai", "2026-03-07T12:00");
        let monday = current_or_next(&shifts, weekend, None).expect("monday");
        assert_eq!(monday.start_ms, at("Asia/Shanghai", "2026-03-09T09:00"));
        // Clocked in to Monday's and still working late on Tuesday morning: Monday's.
        let open = OpenShift {
            shift_id: next.shift_id.clone(),
            start_ms: next.start_ms,
        };
        let late = at("Asia/Shanghai", "2026-03-03T01:00");
        assert_eq!(current_or_next(&shifts, late, Some(&open)), Some(next));
    }
}
