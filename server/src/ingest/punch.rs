//! An authentic, continuous punch: its place (the policy it is re-judged
//! under), what a manager should look at, and the server's own reading of
//! the shift.

use std::borrow::Cow;
use std::sync::Arc;

use punch_model::ledger::record::PunchRecord;
use punch_model::ledger::review::{self, ReviewFlag};
use punch_model::rules::assurance::{AssuranceLevel, BelowMinimum};
use punch_model::rules::field_work::{self, FIELD_SITE_PREFIX};
use punch_model::rules::photo::PhotoMode;
use punch_model::rules::photo_rule::DeviceFacts;
use punch_model::rules::policy::PreparedPolicy;
use punch_model::rules::shift::{self, Attendance, EmployeePunch, OpenShift};
use punch_model::rules::terminal::Terminal;
use punch_model::rules::terminal_verdict;
use punch_model::text::serde_name;
use punch_model::wire::RejectReason;

use super::Batch;
use super::judge::{Step, Verdict, refuse_link};
use super::time::{JudgedTime, punch_time};
use crate::error::Result;
use crate::privacy::keys;
use crate::requests;
use crate::store::StoredPunchInfo;
use crate::store::employee_devices::ClockPunch;

impl Batch<'_> {
    /// Stores the punch at `seq` (hex `hash`) with the server's judgement,
    /// unless its punch id is already stored or its sealed payload holds
    /// values no phone produces.
    pub(super) fn accept_punch(
        &mut self,
        record: &PunchRecord,
        seq: u64,
        policy: &Arc<PreparedPolicy>,
        time: JudgedTime,
        hash: String,
    ) -> Step<Verdict> {
        let punch_id = record.punch_id.to_string();
        if let Some((device, seq)) = self.locations.get(&punch_id) {
            return refuse_link(
                RejectReason::ConflictingDuplicate,
                format!("punch id {punch_id} is already stored as device {device} seq {seq}"),
            );
        }
        let punch_time_ms = punch_time(record, time.trusted_time_ms, self.device_id, self.tokens);
        let policy = self.judge_place(policy, record, punch_time_ms)?;
        let mut review_flags = self.judge_review(&policy, record, punch_time_ms)?;
        let order_ms = time.trusted_time_ms.unwrap_or(record.wall_time_ms);
        let (attendance, device_view) =
            self.judge_attendance(&policy, record, punch_time_ms, (order_ms, seq))?;
        // The device is held to what it could know: its own punches. Where
        // the employee's other devices change the reading, the server's
        // stands and the device's stays advisory (no flag).
        let code = |a: &Option<Attendance>| a.as_ref().map(|a| a.code().to_string());
        if code(&device_view) != code(&record.evaluation.attendance) {
            review_flags.push(ReviewFlag::AttendanceMismatch {
                device: code(&record.evaluation.attendance),
                server: code(&device_view),
            });
        }
        crate::photos::note(self.tx, record, self.device_id, seq, self.now_ms)?;
        Ok(Verdict::Accepted(Box::new(StoredPunchInfo {
            device_id: self.device_id.to_string(),
            seq,
            punch_id,
            employee_id: record.employee_id.clone(),
            kind: serde_name(&record.kind),
            wall_time_ms: record.wall_time_ms,
            utc_offset_min: record.utc_offset_min,
            trusted_time_ms: time.trusted_time_ms,
            skew_ms: time.skew_ms,
            time_status: time.status,
            policy_version: record.policy_version,
            decision: serde_name(&record.evaluation.decision),
            site_id: record.evaluation.site_id.clone(),
            hash,
            received_at_ms: self.now_ms,
            review_flags,
            assurance: self.assurance.as_str().to_string(),
            attendance,
        })))
    }

    /// The policy a punch is re-judged under: with the employee's field
    /// sites active at the punch's time when the device judged it at one.
    fn judge_place(
        &mut self,
        policy: &Arc<PreparedPolicy>,
        record: &PunchRecord,
        punch_time_ms: i64,
    ) -> Result<Arc<PreparedPolicy>> {
        let at_field_site = record
            .evaluation
            .site_id
            .as_deref()
            .is_some_and(|id| id.starts_with(FIELD_SITE_PREFIX));
        if !at_field_site {
            return Ok(policy.clone());
        }
        if self.field_sites.is_none() {
            self.field_sites = Some(requests::field_sites(self.tx, self.employee_id)?);
        }
        let sites = self.field_sites.as_deref().unwrap_or_default();
        let active = field_work::active_at(&policy.policy, sites, punch_time_ms);
        // A field site's radius was checked when it was filed: this cannot fail
        // for a policy that prepared without it, but if it does, judge without.
        Ok(match field_work::prepare_with(policy, &active) {
            Ok(prepared) => Arc::new(prepared),
            Err(_) => policy.clone(),
        })
    }

    /// What a manager should look at. A sealed payload is read with the
    /// device's escrowed data key; one that does not open is still an
    /// authentic punch, flagged.
    fn judge_review(
        &self,
        policy: &PreparedPolicy,
        record: &PunchRecord,
        punch_time_ms: i64,
    ) -> Step<Vec<ReviewFlag>> {
        // A clear record is its own opening, range-checked already
        // (`check_contents`); only a sealed one is opened and checked here.
        let opened = match record.sealed {
            None => Some(Cow::Borrowed(record)),
            Some(_) => {
                let opened = keys::open_record(self.tx, self.device_id, record)?;
                if let Some(Err(check)) = opened.as_ref().map(PunchRecord::check_ranges) {
                    return refuse_link(RejectReason::OutOfRange, check.to_string());
                }
                opened.map(Cow::Owned)
            }
        };
        let photo_flag = match &opened {
            Some(opened) => crate::photos::missing_flag(policy, opened, &self.photo_facts(policy)?),
            None => None,
        };
        let mut review_flags = match opened {
            Some(opened) => review::review(policy, &opened, punch_time_ms),
            None => vec![ReviewFlag::PayloadUnreadable {
                key_id: record
                    .sealed
                    .as_ref()
                    .map(|s| s.key_id.clone())
                    .unwrap_or_default(),
            }],
        };
        review_flags.extend(assurance_flag(policy, record, self.assurance));
        review_flags.extend(terminal_flag(
            policy,
            record,
            self.employee_id,
            self.assurance,
        ));
        review_flags.extend(photo_flag);
        Ok(review_flags)
    }

    /// What the photo rule knows of this device: no punch of it stored or
    /// accepted earlier in this batch, and what its enrollment proved.
    /// Only a step-up rule asks whether the device is new: under any other
    /// mode the store is not asked.
    fn photo_facts(&self, policy: &PreparedPolicy) -> Result<DeviceFacts> {
        let asks = policy.policy.settings.photo.mode == PhotoMode::StepUp;
        Ok(DeviceFacts {
            new_device: asks
                && self.accepted.is_empty()
                && !self.tx.photos().device_has_punch(self.device_id)?,
            software_key: self.assurance == AssuranceLevel::Software,
        })
    }

    /// The server's own reading of the shift, on trusted time and from the
    /// punches it holds (never from the device's claim): per employee across
    /// every device and terminal they punched from, in time order
    /// (`shift::open_before`), `at` being this punch's place in it (the
    /// server's time for it, its seq). Second, the reading the device could
    /// make from its own punches alone (its open occurrence moves with it).
    fn judge_attendance(
        &mut self,
        policy: &PreparedPolicy,
        record: &PunchRecord,
        punch_time_ms: i64,
        (order_ms, seq): (i64, u64),
    ) -> Result<(Option<Attendance>, Option<Attendance>)> {
        let on_device = match self.open_shifts.get(&record.employee_id) {
            Some(open) => open.clone(),
            None => self
                .tx
                .punches()
                .open_shift(self.device_id, &record.employee_id)?,
        };
        let employee = self.employee_open_shift(&record.employee_id, order_ms, seq)?;
        let judge = |open: Option<&OpenShift>| {
            shift::judge(
                &policy.shifts,
                record.evaluation.site_id.as_deref(),
                record.kind,
                punch_time_ms,
                open,
            )
        };
        let attendance = judge(employee.as_ref());
        let device_view = if employee == on_device {
            attendance.clone()
        } else {
            judge(on_device.as_ref())
        };
        let after = shift::open_after(record.kind, device_view.as_ref()).unwrap_or(on_device);
        self.open_shifts.insert(record.employee_id.clone(), after);
        Ok((attendance, device_view))
    }

    /// The occurrence the employee is clocked in to just before
    /// (`at_ms`, this device, `seq`): from the punches stored on every
    /// device and those this batch accepted so far.
    fn employee_open_shift(
        &mut self,
        employee_id: &str,
        at_ms: i64,
        seq: u64,
    ) -> Result<Option<OpenShift>> {
        let stored = match self.clock_punches.get(employee_id) {
            Some(stored) if stored.from_ms <= at_ms => stored,
            // First punch of the employee in the batch (or one earlier than
            // it: a clock moved back between punches): read from here on.
            _ => {
                let stored = StoredClock {
                    from_ms: at_ms,
                    before: self.tx.employee_devices().latest_clock_punch(
                        employee_id,
                        at_ms,
                        "",
                        0,
                    )?,
                    since: self
                        .tx
                        .employee_devices()
                        .clock_punches_since(employee_id, at_ms)?,
                };
                self.clock_punches
                    .entry(employee_id.to_string())
                    .insert_entry(stored)
                    .into_mut()
            }
        };
        let stored = stored.before.iter().chain(&stored.since).filter_map(|p| {
            clock_punch(p.at_ms, &p.device_id, p.seq, &p.kind, p.attendance.as_ref())
        });
        let here = self
            .accepted
            .iter()
            .filter(|(p, _)| p.employee_id == employee_id)
            .filter_map(|(p, _)| {
                let at_ms = p.effective_time_ms();
                clock_punch(at_ms, &p.device_id, p.seq, &p.kind, p.attendance.as_ref())
            });
        Ok(shift::open_before(
            stored.chain(here),
            (at_ms, self.device_id, seq),
        ))
    }
}

/// An employee's clock-ins and -outs stored on every device: the latest
/// before `from_ms`, and all since (what `shift::open_before` needs for any
/// punch at or after `from_ms`).
pub(super) struct StoredClock {
    from_ms: i64,
    before: Option<ClockPunch>,
    since: Vec<ClockPunch>,
}

/// A stored punch as the employee-wide reading takes it (None: a kind
/// this server does not know).
fn clock_punch<'a>(
    at_ms: i64,
    device_id: &'a str,
    seq: u64,
    kind: &str,
    attendance: Option<&'a Attendance>,
) -> Option<EmployeePunch<'a>> {
    Some(EmployeePunch {
        at_ms,
        device_id,
        seq,
        kind: kind.parse().ok()?,
        attendance,
    })
}

/// The punch's site does not take punches from this terminal (a kiosk
/// punches for others) at this device's assurance: stored, for a manager.
fn terminal_flag(
    policy: &PreparedPolicy,
    record: &PunchRecord,
    bound_employee: &str,
    device: AssuranceLevel,
) -> Option<ReviewFlag> {
    let site_id = record.evaluation.site_id.as_deref()?;
    let terminal = if record.employee_id == bound_employee {
        Terminal::Phone
    } else {
        Terminal::Kiosk
    };
    let refusal = terminal_verdict::refusal(policy, site_id, terminal, Some(device))?;
    Some(ReviewFlag::TerminalNotAccepted {
        terminal,
        site_id: site_id.to_string(),
        detail: refusal.to_string(),
    })
}

/// A device below what the policy (review mode) or the punch's site asks of
/// its key: the punch is stored, and a manager should look at it.
fn assurance_flag(
    policy: &PreparedPolicy,
    record: &PunchRecord,
    device: AssuranceLevel,
) -> Option<ReviewFlag> {
    let settings = &policy.policy.settings;
    let employer =
        (settings.below_min_assurance == BelowMinimum::Review).then_some(settings.min_assurance);
    let site = record.evaluation.site_id.as_ref().and_then(|id| {
        policy
            .sites()
            .find(|s| &s.site.id == id)
            .and_then(|s| s.site.min_assurance)
    });
    let required = employer.into_iter().chain(site).max()?;
    (device < required).then_some(ReviewFlag::AssuranceBelowMinimum { device, required })
}
