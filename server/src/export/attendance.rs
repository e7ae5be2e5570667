//! The per-day figures. Each punch counts at the server's time for it
//! (trusted where anchored, else the device clock, as `StoredPunchInfo`
//! says) and belongs to the day its shift occurrence started (a night
//! shift's clock-out belongs to the evening it began), else to its local
//! date. Punches a reviewer rejected do not count; punches still awaiting
//! review count and are flagged.
//!
//! An employee's day is read across every device and terminal they punched
//! from: a clock-in on one phone and the clock-out on another make one
//! shift, in the server's time order (`shift::EmployeePunch::order`), and
//! the judgement counted is the server's, never a phone's (a phone sees
//! only its own punches: its verdict is advisory).
//!
//! Attendance is judged once: each punch under the policy version in force
//! on its device when it was made (the version its signed record names), by
//! ingest, which stores the judgement. Late and early minutes here are that
//! stored judgement, never a new one against today's schedule: publishing a
//! schedule change leaves last month's figures as they were, and judges the
//! punches made under the new version by the new one. What the export still
//! works out itself — an approved make-up request's judgement (under the
//! version the request was filed under; likewise a punch stored before
//! ingest kept judgements, under its own) and the scheduled breaks of an
//! occurrence (of the shift as the clock-in's version defines it) — comes
//! from the same model functions (`punch_model::rules::shift`). The
//! schedule's current zone only says which calendar day and `HH:MM` a
//! figure is shown under.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use punch_model::rules::policy::PreparedPolicy;
use punch_model::rules::punch_kind::PunchKind;
use punch_model::rules::shift::{self, Attendance, OpenShift};
use serde::Serialize;

use crate::error::{Result, ServerError};
use crate::store::StoredPunchInfo;
use crate::store::people::{PersonRow, PunchReviewRow};

/// Which days and whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportQuery {
    /// First and last local date, inclusive.
    pub from: Date,
    pub to: Date,
    pub team: Option<String>,
    pub employee: Option<String>,
}

/// One employee's day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayRow {
    pub employee_id: String,
    pub name: String,
    pub team: Option<String>,
    /// Local date, `YYYY-MM-DD`.
    pub date: String,
    /// The IANA zone the times are in.
    pub time_zone: String,
    /// Local `HH:MM` of the first clock-in and the last clock-out.
    pub first_in: Option<String>,
    pub last_out: Option<String>,
    /// Clocked-in time minus breaks, minutes.
    pub worked_min: i64,
    /// Breaks taken (punched), or else the shift's scheduled breaks.
    pub break_min: i64,
    pub late_min: u32,
    pub early_min: u32,
    /// Punches that counted.
    pub punches: u32,
    /// Why a person should look: the server's review flags, `needs_review`
    /// for a punch nobody reviewed yet, `no_clock_out`, `reviewer_rejected:N`.
    pub review_flags: Vec<String>,
    /// Approved make-up requests counted in the day: `make_up:KIND@HH:MM`.
    pub corrections: Vec<String>,
}

const MINUTE: i64 = 60_000;

fn zone(name: &str) -> Result<TimeZone> {
    TimeZone::get(name).map_err(|e| ServerError::Invalid(format!("time zone {name:?}: {e}")))
}

fn local(zone: &TimeZone, at_ms: i64) -> Option<DateTime> {
    Some(zone.to_datetime(Timestamp::from_millisecond(at_ms).ok()?))
}

fn hhmm(zone: &TimeZone, at_ms: i64) -> Option<String> {
    local(zone, at_ms).map(|t| format!("{:02}:{:02}", t.hour(), t.minute()))
}

/// A published policy version, prepared (None: never published).
pub type PolicyOf<'a> = &'a dyn Fn(u64) -> Result<Option<Arc<PreparedPolicy>>>;

/// An approved make-up request (补卡): counted as a punch at the time the
/// employee asked for, and listed in the day's corrections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MadeUp {
    pub event_id: String,
    pub employee_id: String,
    /// `PunchKind` in snake_case.
    pub kind: String,
    pub at_ms: i64,
    pub site_id: Option<String>,
    /// The policy version the request was filed under: it is judged by it.
    pub policy_version: u64,
}

/// Marks the synthetic punches made from approved make-up requests.
const MAKE_UP_DECISION: &str = "make_up";

fn as_punch(m: &MadeUp) -> StoredPunchInfo {
    StoredPunchInfo {
        device_id: String::new(),
        seq: 0,
        punch_id: m.event_id.clone(),
        employee_id: m.employee_id.clone(),
        kind: m.kind.clone(),
        wall_time_ms: m.at_ms,
        utc_offset_min: 0,
        trusted_time_ms: Some(m.at_ms),
        skew_ms: None,
        time_status: "make_up".into(),
        policy_version: m.policy_version,
        decision: MAKE_UP_DECISION.into(),
        site_id: m.site_id.clone(),
        hash: String::new(),
        received_at_ms: m.at_ms,
        review_flags: Vec::new(),
        assurance: String::new(),
        attendance: None,
    }
}

/// One punch as the day sees it.
struct Counted<'a> {
    punch: &'a StoredPunchInfo,
    at_ms: i64,
    kind: PunchKind,
    attendance: Option<Attendance>,
    needs_review: bool,
}

/// Overlap of [a0, a1) and [b0, b1), ms.
fn overlap(a0: i64, a1: i64, b0: i64, b1: i64) -> i64 {
    (a1.min(b1) - a0.max(b0)).max(0)
}

/// The scheduled breaks of `shift_id`'s occurrence at `start_ms`, as the
/// policy `version` defines the shift.
fn scheduled_breaks(
    policy_of: PolicyOf<'_>,
    version: u64,
    shift_id: &str,
    start_ms: i64,
) -> Result<Vec<(i64, i64)>> {
    Ok(policy_of(version)?
        .and_then(|p| {
            p.shifts
                .iter()
                .find(|s| s.shift.id == shift_id)
                .map(|s| s.scheduled_breaks(start_ms))
        })
        .unwrap_or_default())
}

/// The judgement a punch counts with: the one ingest stored. Where there
/// is none — an approved make-up request (an event, never judged at
/// ingest), or a punch stored before ingest kept its judgement — or where
/// it contradicts the employee's punches before it as the server holds
/// them now (not clocked in though they are, already clocked in though
/// they are not, a fresh clock-in to the occurrence already open: another
/// device's punch from before it arrived after it),
/// the model's, under the version the record names, against the occurrence
/// those punches left open. (A punch ingest judged to have no shift gets
/// none again: the same version has no shift for its site.)
fn judgement(
    p: &StoredPunchInfo,
    kind: PunchKind,
    open: Option<&OpenShift>,
    policy_of: PolicyOf<'_>,
) -> Result<Option<Attendance>> {
    let open_at = |a: &Attendance| a.occurrence().is_some_and(|o| open == Some(&o));
    let contradicted = match &p.attendance {
        None => true,
        Some(Attendance::NotClockedIn { .. }) => open.is_some(),
        Some(a @ Attendance::AlreadyClockedIn { .. }) => !open_at(a),
        Some(a @ (Attendance::OnTime { .. } | Attendance::Late { .. }))
            if kind == PunchKind::ClockIn =>
        {
            open_at(a)
        }
        Some(_) => false,
    };
    if !contradicted {
        return Ok(p.attendance.clone());
    }
    let judged = policy_of(p.policy_version)?.and_then(|policy| {
        shift::judge(
            &policy.shifts,
            p.site_id.as_deref(),
            kind,
            p.effective_time_ms(),
            open,
        )
    });
    Ok(judged.or_else(|| p.attendance.clone()))
}

/// Where a punch sits in its employee's day (`shift::PunchOrder`).
fn order(p: &StoredPunchInfo) -> shift::PunchOrder<'_> {
    (p.effective_time_ms(), p.device_id.as_str(), p.seq)
}

fn kind_of(kind: &str) -> Option<PunchKind> {
    kind.parse().ok()
}

/// Computes the rows for `query` (sorted by employee, then date), shown in
/// `zone_name` (the schedule's zone); `policy_of` gives the published
/// versions the punches were judged under.
pub fn attendance(
    punches: &[StoredPunchInfo],
    made_up: &[MadeUp],
    people: &[PersonRow],
    reviews: &[PunchReviewRow],
    policy_of: PolicyOf<'_>,
    zone_name: &str,
    query: &ExportQuery,
) -> Result<Vec<DayRow>> {
    let default_zone = zone(zone_name)?;
    let verdicts: HashMap<(&str, u64), &str> = reviews
        .iter()
        .map(|r| ((r.device_id.as_str(), r.seq), r.verdict.as_str()))
        .collect();
    let wanted: Vec<&PersonRow> = people
        .iter()
        .filter(|p| query.team.is_none() || p.team == query.team)
        .filter(|p| query.employee.as_ref().is_none_or(|e| *e == p.employee_id))
        .collect();

    let synthetic: Vec<StoredPunchInfo> = made_up.iter().map(as_punch).collect();
    let mut by_employee: HashMap<&str, Vec<&StoredPunchInfo>> = HashMap::new();
    for p in punches.iter().chain(&synthetic) {
        by_employee
            .entry(p.employee_id.as_str())
            .or_default()
            .push(p);
    }
    let mut rows = Vec::new();
    for person in wanted {
        let mut own = by_employee
            .remove(person.employee_id.as_str())
            .unwrap_or_default();
        // The one order ingest reads an employee in, across devices.
        own.sort_by(|a, b| order(a).cmp(&order(b)));
        // In order, carrying the open occurrence (for make-up requests) the
        // way ingest does.
        let mut open: Option<OpenShift> = None;
        let mut days: BTreeMap<Date, Vec<Counted<'_>>> = BTreeMap::new();
        let mut rejected: BTreeMap<Date, u32> = BTreeMap::new();
        for p in own {
            let Some(kind) = kind_of(&p.kind) else {
                continue;
            };
            let at_ms = p.effective_time_ms();
            let verdict = verdicts.get(&(p.device_id.as_str(), p.seq)).copied();
            let judged = judgement(p, kind, open.as_ref(), policy_of)?;
            let day = judged
                .as_ref()
                .and_then(Attendance::occurrence)
                .and_then(|o| local(&default_zone, o.start_ms))
                .or_else(|| local(&default_zone, at_ms))
                .map(|t| t.date());
            let Some(day) = day else { continue };
            if verdict == Some("rejected") {
                *rejected.entry(day).or_default() += 1;
                continue;
            }
            if let Some(after) = shift::open_after(kind, judged.as_ref()) {
                open = after;
            }
            let needs_review =
                verdict.is_none() && (p.decision == "review" || !p.review_flags.is_empty());
            days.entry(day).or_default().push(Counted {
                punch: p,
                at_ms,
                kind,
                attendance: judged,
                needs_review,
            });
        }
        for (date, counted) in days {
            if date < query.from || date > query.to {
                continue;
            }
            rows.push(day_row(
                person,
                date,
                &counted,
                rejected.get(&date).copied().unwrap_or(0),
                policy_of,
                &default_zone,
                zone_name,
            )?);
        }
    }
    Ok(rows)
}

fn day_row(
    person: &PersonRow,
    date: Date,
    counted: &[Counted<'_>],
    rejected: u32,
    policy_of: PolicyOf<'_>,
    zone: &TimeZone,
    zone_name: &str,
) -> Result<DayRow> {
    let mut break_ms = 0i64;
    let mut punched_breaks = false;
    let mut in_since: Option<i64> = None;
    let mut break_since: Option<i64> = None;
    let mut intervals: Vec<(i64, i64)> = Vec::new();
    let (mut late, mut early) = (0u32, 0u32);
    let mut flags: Vec<String> = Vec::new();
    let mut corrections: Vec<String> = Vec::new();
    // The day's occurrence: its shift, start, and the version that judged it.
    let mut occurrence: Option<(String, i64, u64)> = None;
    for c in counted {
        match &c.attendance {
            Some(Attendance::Late {
                minutes,
                shift_id,
                start_ms,
            }) if c.kind == PunchKind::ClockIn => {
                late += minutes;
                occurrence.get_or_insert((shift_id.clone(), *start_ms, c.punch.policy_version));
            }
            Some(Attendance::EarlyLeave { minutes, .. }) if c.kind == PunchKind::ClockOut => {
                early = *minutes;
            }
            Some(a) if c.kind == PunchKind::ClockIn => {
                if let Some(o) = a.occurrence() {
                    occurrence.get_or_insert((o.shift_id, o.start_ms, c.punch.policy_version));
                }
            }
            Some(_) if c.kind == PunchKind::ClockOut => early = 0,
            _ => {}
        }
        match c.kind {
            PunchKind::ClockIn => {
                in_since.get_or_insert(c.at_ms);
            }
            PunchKind::ClockOut => {
                if let Some(start) = in_since.take() {
                    intervals.push((start, c.at_ms));
                }
                if let Some(b) = break_since.take() {
                    break_ms += c.at_ms - b;
                }
            }
            PunchKind::BreakStart => {
                punched_breaks = true;
                if in_since.is_some() {
                    break_since.get_or_insert(c.at_ms);
                }
            }
            PunchKind::BreakEnd => {
                if let Some(b) = break_since.take() {
                    break_ms += c.at_ms - b;
                }
            }
        }
        if c.punch.decision == MAKE_UP_DECISION {
            corrections.push(format!(
                "make_up:{}@{}",
                c.punch.kind,
                hhmm(zone, c.at_ms).unwrap_or_default()
            ));
        }
        for f in &c.punch.review_flags {
            let code = serde_json::to_value(f)
                .ok()
                .and_then(|v| v.get("flag").and_then(|x| x.as_str()).map(str::to_string))
                .unwrap_or_else(|| "review_flag".into());
            if !flags.contains(&code) {
                flags.push(code);
            }
        }
        if c.needs_review && !flags.iter().any(|f| f == "needs_review") {
            flags.push("needs_review".into());
        }
    }
    if in_since.is_some() {
        flags.push("no_clock_out".into());
    }
    if rejected > 0 {
        flags.push(format!("reviewer_rejected:{rejected}"));
    }
    let clocked: i64 = intervals.iter().map(|(a, b)| b - a).sum();
    // No break punched: the shift's scheduled breaks, where they overlap work.
    if !punched_breaks && let Some((shift_id, start_ms, version)) = &occurrence {
        for (b0, b1) in scheduled_breaks(policy_of, *version, shift_id, *start_ms)? {
            break_ms += intervals
                .iter()
                .map(|(a, b)| overlap(*a, *b, b0, b1))
                .sum::<i64>();
        }
    }
    let worked_ms = (clocked - break_ms).max(0);
    let first_in = counted
        .iter()
        .find(|c| c.kind == PunchKind::ClockIn)
        .and_then(|c| hhmm(zone, c.at_ms));
    let last_out = counted
        .iter()
        .rev()
        .find(|c| c.kind == PunchKind::ClockOut)
        .and_then(|c| hhmm(zone, c.at_ms));
    Ok(DayRow {
        employee_id: person.employee_id.clone(),
        name: person.name.clone(),
        team: person.team.clone(),
        date: date.to_string(),
        time_zone: zone_name.to_string(),
        first_in,
        last_out,
        worked_min: worked_ms / MINUTE,
        break_min: break_ms / MINUTE,
        late_min: late,
        early_min: early,
        punches: u32::try_from(counted.len()).unwrap_or(u32::MAX),
        review_flags: flags,
        corrections,
    })
}
