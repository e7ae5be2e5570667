//! Forgotten clock-outs on the server: detection, the server-made entry,
//! and what the phone, the reviewer and the export are shown.
//!
//! **Per employee, across all their devices**: an employee's stored punches
//! are walked in time order by the model (`rules::forgotten::closed_windows`)
//! on the judgements ingest stored, under the version each clock-in was
//! judged by. An occurrence whose clock-out window (the shift's end plus
//! `latest_out_min`) closed with no clock-out is stored once in
//! `forgotten_clock_outs`; where that version's `settings.forgotten_clock_out`
//! is `close_at_shift_end`, the row also carries a server-made clock-out at
//! the shift's end. It is never a punch row and never signed: it lives in
//! its own table and is always shown as server-made.
//!
//! **When detection runs**: every [`SWEEP_EVERY`] in each server process
//! ([`spawn_sweeps`]), reading only what changed or may have closed since
//! the last run ([`sweep_query`]), and at export time over the punches the
//! export reads.
//! It is idempotent: the table's key (employee, shift, start) with
//! `ON CONFLICT DO NOTHING` stores an occurrence once however many runs or
//! server processes over one PostgreSQL database find it at once. Device
//! requests never detect (they stay cheap): they read the stored rows.
//!
//! **A clock-out arriving late wins**: when a later run finds a clock-out
//! made inside the window (an offline phone uploaded it after detection),
//! the row is marked superseded by that punch. The export then counts the
//! real clock-out and neither the flag nor the server-made entry; the row
//! stays for the reviewer and the employee.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use jiff::tz::TimeZone;
use punch_model::rules::forgotten::{
    self, ClosedWindow, ForgottenClockOut, ForgottenClockOutAction, ForgottenState, PunchSeen,
};
use punch_model::rules::policy::PreparedPolicy;
use punch_model::rules::punch_kind::PunchKind;
use punch_model::rules::shift::{self, Attendance, OpenShift, ShiftOccurrence};
use punch_model::text::serde_name;
use serde::Serialize;

use crate::error::Result;
use crate::export::MadeUp;
use crate::export::attendance::DayRow;
use crate::policy_cache::PolicyCache;
use crate::store::forgotten::{ForgottenFilter, ForgottenRow, SweepQuery};
use crate::store::{ServerStore, StoreExt, StoreTx, StoredPunchInfo};

/// How often each server process looks for forgotten clock-outs.
pub const SWEEP_EVERY: Duration = Duration::from_secs(300);
/// How far back detection looks and phones are told (a pay period and some).
pub const LOOKBACK_MS: i64 = 35 * DAY_MS;
const DAY_MS: i64 = 86_400_000;
/// Marks the server-made clock-out in exports and review lists.
pub const SERVER_MADE: &str = "server_made";

/// What one detection run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// Employees whose punches were read.
    pub employees: u64,
    /// Occurrences stored now (a second run stores none).
    pub flagged: u64,
    /// Stored occurrences a late clock-out answered now.
    pub superseded: u64,
}

/// The prepared policies the punches name (absent: never published).
fn policies_for(
    tx: &dyn StoreTx,
    policies: &PolicyCache,
    punches: &[&StoredPunchInfo],
) -> Result<HashMap<u64, Arc<PreparedPolicy>>> {
    let mut out = HashMap::new();
    for version in punches
        .iter()
        .map(|p| p.policy_version)
        .collect::<HashSet<_>>()
    {
        if let Some(p) = policies.get(tx, version)? {
            out.insert(version, p);
        }
    }
    Ok(out)
}

/// The scheduled occurrence `open` names under `policy`.
fn occurrence_in(policy: &PreparedPolicy, open: &OpenShift) -> Option<ShiftOccurrence> {
    let s = policy.shifts.iter().find(|s| s.shift.id == open.shift_id)?;
    shift::current_or_next(std::slice::from_ref(s), open.start_ms, Some(open))
        .filter(|o| o.start_ms == open.start_ms)
}

fn action_of(policy: Option<&Arc<PreparedPolicy>>) -> ForgottenClockOutAction {
    policy.map_or(ForgottenClockOutAction::Flag, |p| {
        p.policy.settings.forgotten_clock_out
    })
}

/// Detects one employee's forgotten clock-outs in `punches` (theirs, from
/// every device) and stores what is new; supersedes stored ones a
/// clock-out now answers.
pub fn detect_for(
    tx: &dyn StoreTx,
    policies: &PolicyCache,
    employee_id: &str,
    punches: &[&StoredPunchInfo],
    now_ms: i64,
) -> Result<SweepReport> {
    let mut report = SweepReport {
        employees: 1,
        ..SweepReport::default()
    };
    let prepared = policies_for(tx, policies, punches)?;
    let seen: Vec<PunchSeen<'_>> = punches
        .iter()
        .filter_map(|p| {
            Some(PunchSeen {
                punch_id: &p.punch_id,
                kind: p.kind.parse().ok()?,
                at_ms: p.effective_time_ms(),
                attendance: p.attendance.as_ref(),
                policy_version: p.policy_version,
            })
        })
        .collect();
    let occurrence_of = |version: u64, open: &OpenShift| {
        prepared.get(&version).and_then(|p| occurrence_in(p, open))
    };
    let windows = forgotten::closed_windows(&seen, now_ms, &occurrence_of);
    if windows.is_empty() {
        return Ok(report);
    }
    // Only the rows these windows can be (an occurrence is keyed by its start).
    let first_start = windows.iter().map(|w| w.occurrence.start_ms).min();
    let stored: HashMap<(String, i64), ForgottenRow> = tx
        .forgotten()
        .forgotten_list(
            &ForgottenFilter {
                employee: Some(employee_id),
                from_ms: first_start,
                ..ForgottenFilter::default()
            },
            EXPORT_MAX,
        )?
        .into_iter()
        .map(|r| ((r.notice.shift_id.clone(), r.notice.start_ms), r))
        .collect();
    for w in windows {
        let key = (w.occurrence.shift_id.clone(), w.occurrence.start_ms);
        match (&w.clock_out, stored.get(&key)) {
            (None, None) => {
                let row = new_row(
                    employee_id,
                    &w,
                    action_of(prepared.get(&w.policy_version)),
                    now_ms,
                );
                report.flagged += u64::from(tx.forgotten().insert_forgotten(&row)?);
            }
            (Some((punch_id, _)), Some(row)) if row.notice.superseded_by.is_none() => {
                let changed = tx.forgotten().supersede_forgotten(
                    employee_id,
                    &row.notice.shift_id,
                    row.notice.start_ms,
                    punch_id,
                    now_ms,
                )?;
                report.superseded += u64::from(changed);
            }
            _ => {}
        }
    }
    Ok(report)
}

fn new_row(
    employee_id: &str,
    w: &ClosedWindow,
    action: ForgottenClockOutAction,
    now_ms: i64,
) -> ForgottenRow {
    // Closed at the shift's end; never before the clock-in (a clock-in
    // after the scheduled end would otherwise get negative time).
    let closed_at_ms = (action == ForgottenClockOutAction::CloseAtShiftEnd)
        .then(|| w.occurrence.end_ms.max(w.clock_in_at_ms));
    ForgottenRow {
        employee_id: employee_id.to_string(),
        notice: ForgottenClockOut {
            shift_id: w.occurrence.shift_id.clone(),
            start_ms: w.occurrence.start_ms,
            end_ms: w.occurrence.end_ms,
            closes_ms: w.occurrence.closes_ms,
            clock_in_punch_id: w.clock_in_punch_id.clone(),
            clock_in_at_ms: w.clock_in_at_ms,
            state: ForgottenState::of(closed_at_ms.is_some(), false),
            server_clock_out_ms: closed_at_ms,
            superseded_by: None,
            detected_at_ms: now_ms,
        },
        policy_version: w.policy_version,
        superseded_at_ms: None,
        updated_at_ms: now_ms,
    }
}

/// The longest a clock-in's window reaches past the clock-in: the earliest
/// clock-in, the shift and the latest clock-out are each at most a day
/// (`PreparedShift::new`), and a day more for daylight saving and slack.
const WINDOW_REACH_MS: i64 = 4 * DAY_MS;
/// How far before the last run's start "changed" reaches: transactions
/// still open then, and the clocks of other server processes.
const MARGIN_MS: i64 = SWEEP_EVERY.as_millis() as i64;
/// When the last run (of any process on the database) started.
const LAST_SWEEP_KEY: &str = "forgotten_sweep_ms";

fn last_sweep(tx: &dyn StoreTx) -> Result<Option<i64>> {
    Ok(tx
        .meta()
        .get(LAST_SWEEP_KEY)?
        .and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok())
        .map(i64::from_be_bytes))
}

/// What a run reads: after a first run over the look-back, only employees
/// with a clock punch received since the last run (read from the window
/// that punch can change), and those with a clock-in recent enough that
/// its window may have closed since (read from that clock-in). The walk
/// from a clock-in on finds the windows from it on exactly as a walk over
/// the whole look-back does (`rules::forgotten::closed_windows` carries
/// nothing across a clock-in); earlier windows were settled by earlier runs.
fn sweep_query(last: Option<i64>, now_ms: i64) -> SweepQuery {
    let floor_ms = now_ms.saturating_sub(LOOKBACK_MS + DAY_MS);
    // A last run "after" now (a clock set back) proves nothing: read all.
    let since = last
        .filter(|&t| t <= now_ms)
        .map(|t| t.saturating_sub(MARGIN_MS));
    SweepQuery {
        floor_ms,
        changed_since_ms: since,
        reach_ms: WINDOW_REACH_MS,
        clock_ins_from_ms: since.map_or(floor_ms, |s| s.saturating_sub(WINDOW_REACH_MS)),
    }
}

/// One detection run over the employees [`sweep_query`] names, one write
/// transaction each.
pub fn sweep(store: &dyn ServerStore, policies: &PolicyCache, now_ms: i64) -> Result<SweepReport> {
    let targets = store.read(|tx| {
        let query = sweep_query(last_sweep(tx)?, now_ms);
        tx.forgotten().sweep_targets(&query)
    })?;
    let mut total = SweepReport::default();
    for (employee_id, from_ms) in targets {
        let r = store.write(|tx| {
            let punches = tx.forgotten().clock_punches_from(&employee_id, from_ms)?;
            let mine: Vec<&StoredPunchInfo> = punches.iter().collect();
            detect_for(tx, policies, &employee_id, &mine, now_ms)
        })?;
        total.employees += 1;
        total.flagged += r.flagged;
        total.superseded += r.superseded;
    }
    store.write(|tx| tx.meta().set(LAST_SWEEP_KEY, &now_ms.to_be_bytes()))?;
    Ok(total)
}

/// One detection run with policies prepared afresh (`Admin`: the CLI,
/// tests, embedders).
pub fn sweep_store(store: &dyn ServerStore, now_ms: i64) -> Result<SweepReport> {
    sweep(store, &PolicyCache::default(), now_ms)
}

/// Runs [`sweep`] every [`SWEEP_EVERY`] until `stop` turns true. A failed
/// run is logged and tried again at the next tick.
pub fn spawn_sweeps(
    store: Arc<dyn ServerStore>,
    policies: Arc<PolicyCache>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(SWEEP_EVERY) => {}
                _ = stop.wait_for(|s| *s) => break,
            }
            let (store, policies) = (store.clone(), policies.clone());
            let run = tokio::task::spawn_blocking(move || {
                sweep(store.as_ref(), &policies, crate::clock::now_ms())
            })
            .await;
            match run {
                Ok(Ok(r)) if r.flagged + r.superseded > 0 => {
                    tracing::info!(
                        flagged = r.flagged,
                        superseded = r.superseded,
                        "forgotten clock-outs"
                    )
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "forgotten clock-out sweep failed"),
                Err(e) => tracing::warn!(error = %e, "forgotten clock-out sweep panicked"),
            }
        }
    });
}

/// What the employee's phone is told at sync: the recent rows, oldest first.
pub fn notices_for(
    tx: &dyn StoreTx,
    employee_id: &str,
    now_ms: i64,
) -> Result<Vec<ForgottenClockOut>> {
    Ok(tx
        .forgotten()
        .forgotten_of(employee_id, now_ms.saturating_sub(LOOKBACK_MS))?
        .into_iter()
        .map(|r| r.notice)
        .collect())
}

/// The export's view: detection over the punches it read (per employee),
/// then the stored rows still standing. A row stops standing when a late
/// clock-out superseded it or an approved make-up clock-out answers it:
/// the export then counts that one and neither the flag nor the
/// server-made entry.
pub struct ForExport {
    rows: Vec<ForgottenRow>,
}

/// At most this many rows per export (a year of one team's shifts is far less).
const EXPORT_MAX: usize = 100_000;

impl ForExport {
    pub fn load(
        tx: &dyn StoreTx,
        policies: &PolicyCache,
        punches: &[StoredPunchInfo],
        approved: &[MadeUp],
        filter: &ForgottenFilter<'_>,
        now_ms: i64,
    ) -> Result<ForExport> {
        let mut by_employee: HashMap<&str, Vec<&StoredPunchInfo>> = HashMap::new();
        for p in punches {
            by_employee.entry(&p.employee_id).or_default().push(p);
        }
        for (employee, own) in by_employee {
            detect_for(tx, policies, employee, &own, now_ms)?;
        }
        // Only occurrences the export's punches can hold: a day either side
        // of them (an occurrence starts at most a day before its clock-in).
        let times = punches.iter().map(StoredPunchInfo::effective_time_ms);
        let (Some(first), Some(last)) = (times.clone().min(), times.max()) else {
            return Ok(ForExport { rows: Vec::new() });
        };
        let bounded = ForgottenFilter {
            from_ms: Some(first.saturating_sub(DAY_MS)),
            to_ms: Some(last.saturating_add(DAY_MS)),
            ..*filter
        };
        let mut rows = tx.forgotten().forgotten_list(&bounded, EXPORT_MAX)?;
        rows.retain(|r| {
            r.notice.superseded_by.is_none()
                && !approved.iter().any(|m| {
                    m.employee_id == r.employee_id
                        && m.kind
                            .parse()
                            .is_ok_and(|kind| r.notice.answered_by(kind, m.at_ms))
                })
        });
        Ok(ForExport { rows })
    }

    /// The server-made clock-outs still standing, as the export counts
    /// punches: marked `server_made` (decision and time status), never
    /// signed, judged on time for the occurrence they close.
    pub fn server_made_punches(&self) -> Vec<StoredPunchInfo> {
        self.rows
            .iter()
            .filter_map(|r| {
                let n = &r.notice;
                let at_ms = n.server_clock_out_ms?;
                Some(StoredPunchInfo {
                    device_id: SERVER_MADE.into(),
                    seq: 0,
                    punch_id: format!(
                        "{SERVER_MADE}:{}:{}:{}",
                        r.employee_id, n.shift_id, n.start_ms
                    ),
                    employee_id: r.employee_id.clone(),
                    kind: serde_name(&PunchKind::ClockOut),
                    wall_time_ms: at_ms,
                    utc_offset_min: 0,
                    trusted_time_ms: Some(at_ms),
                    skew_ms: None,
                    time_status: SERVER_MADE.into(),
                    policy_version: r.policy_version,
                    decision: SERVER_MADE.into(),
                    site_id: None,
                    hash: String::new(),
                    received_at_ms: n.detected_at_ms,
                    review_flags: Vec::new(),
                    assurance: SERVER_MADE.into(),
                    attendance: Some(Attendance::OnTime {
                        shift_id: n.shift_id.clone(),
                        start_ms: n.start_ms,
                    }),
                })
            })
            .collect()
    }

    /// Flags the days of the occurrences still standing
    /// (`forgotten_clock_out`) and lists the server-made clock-out among
    /// the day's corrections (`server_made:clock_out@HH:MM`). The day is
    /// the occurrence's start in `zone`, as the export files it.
    pub fn mark(&self, days: &mut [DayRow], zone: &str) {
        let Ok(tz) = TimeZone::get(zone) else {
            return;
        };
        let local = |ms: i64| {
            jiff::Timestamp::from_millisecond(ms)
                .ok()
                .map(|t| tz.to_datetime(t))
        };
        for r in &self.rows {
            let Some(start) = local(r.notice.start_ms) else {
                continue;
            };
            let date = start.date().to_string();
            let Some(day) = days
                .iter_mut()
                .find(|d| d.employee_id == r.employee_id && d.date == date)
            else {
                continue;
            };
            if !day.review_flags.iter().any(|f| f == "forgotten_clock_out") {
                day.review_flags.push("forgotten_clock_out".into());
            }
            if let Some(at) = r.notice.server_clock_out_ms.and_then(local) {
                day.corrections.push(format!(
                    "{SERVER_MADE}:clock_out@{:02}:{:02}",
                    at.hour(),
                    at.minute()
                ));
            }
        }
    }
}
