//! The punch path: judge the evidence, build the record once, sign its bytes
//! without the database lock (a platform signer may show a biometric prompt
//! for seconds: `status()`, `evaluate()` and sync go on meanwhile), then
//! append it if the chain has not moved — else rebuild and sign again.
//!
//! Punches take turns (the chain is sequential by nature), so concurrent
//! punches do not make each other sign twice; only other punches wait for a
//! turn, and a signer that calls `punch()` from inside its own signing gets
//! [`PunchError::Busy`] instead of a deadlock.

use punch_model::ledger::record::{
    GENESIS_HASH, PunchKind, PunchRecord, RECORD_FORMAT, RecordedEvidence, Uuid,
};
use punch_model::ledger::signing::sha256;
use punch_model::ledger::trusted_time;
use punch_model::rules::evaluate::{Decision, Evaluation, PreviousFix, evaluate};
use punch_model::rules::evidence::ValidEvidence;
use punch_model::rules::policy::{PreparedPolicy, PreparedSite};
use punch_model::rules::shift;
use punch_model::text::serde_name;

use crate::clock::ClockReading;
use crate::device::DeviceContext;
use crate::error::{PunchError, Result};
use crate::store::{Append, NewPunch, PunchContext};

/// Tries before giving up when the chain keeps moving under a punch (only
/// another connection writing the file can do that now; each try signs again).
const MAX_TRIES: u32 = 4;

thread_local! {
    /// Set while this thread holds a punch turn: re-entry is refused.
    static IN_PUNCH: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Clears the re-entry flag however the punch ends.
struct TurnFlag;

impl TurnFlag {
    fn enter() -> Result<TurnFlag> {
        if IN_PUNCH.with(|f| f.replace(true)) {
            return Err(PunchError::Busy);
        }
        Ok(TurnFlag)
    }
}

impl Drop for TurnFlag {
    fn drop(&mut self) {
        IN_PUNCH.with(|f| f.set(false));
    }
}

/// What `punch` returns once the record is durable.
#[derive(Debug, Clone, PartialEq)]
pub struct PunchReceipt {
    pub punch_id: Uuid,
    pub seq: u64,
    pub kind: PunchKind,
    pub wall_time_ms: i64,
    pub evaluation: Evaluation,
    /// Hex SHA-256 of the stored record bytes.
    pub record_hash: String,
}

/// The judgement a punch of `kind` would get now: where (the evidence
/// against the sites) and, when the policy has shifts, what it means for
/// attendance (judged on trusted time, in the shift's zone). The policy must
/// not have expired by trusted time.
pub(crate) fn judge(
    ctx: &PunchContext,
    policy: &PreparedPolicy,
    valid: &ValidEvidence,
    now: &ClockReading,
    kind: PunchKind,
) -> Result<Evaluation> {
    let trusted = trusted_time::trusted_now_ms(
        ctx.anchor.as_ref(),
        now.wall_time_ms,
        &now.boot_id,
        now.monotonic_ms,
    );
    policy.policy.check_not_expired(trusted)?;
    let mut evaluation = evaluate(policy, valid, now.wall_time_ms, ctx.previous_fix.as_ref());
    evaluation.attendance = shift::judge(
        &policy.shifts,
        evaluation.site_id.as_deref(),
        kind,
        trusted,
        ctx.open_shift.as_ref(),
    );
    Ok(evaluation)
}

/// The kind an employee would naturally press next: out while clocked in.
pub(crate) fn natural_kind(ctx: &PunchContext) -> PunchKind {
    if ctx.open_shift.is_some() {
        PunchKind::ClockOut
    } else {
        PunchKind::ClockIn
    }
}

/// Judges, signs and durably stores one punch. A rejected punch is not
/// stored: the error carries the evaluation so the employee sees why.
/// `kiosk_employee` names who punched on a kiosk (else the bound employee).
pub(crate) fn record_punch(
    device: &DeviceContext,
    policy: &PreparedPolicy,
    kind: PunchKind,
    valid: &ValidEvidence,
    kiosk_employee: Option<&str>,
) -> Result<PunchReceipt> {
    let _flag = TurnFlag::enter()?;
    let _turn = device.punch_turn.lock().unwrap_or_else(|e| e.into_inner());
    for _ in 0..MAX_TRIES {
        let now = device.now();
        let ctx = device.db.lock().punch_context_for_append()?;
        let bound = ctx.employee_id.clone().ok_or(PunchError::NoEmployee)?;
        let employee_id = kiosk_employee.map_or(bound, str::to_string);
        let evaluation = judge(&ctx, policy, valid, &now, kind)?;
        if evaluation.decision == Decision::Rejected {
            return Err(PunchError::Refused(Box::new(evaluation)));
        }
        let seq = ctx.next_seq();
        let record = PunchRecord {
            format: RECORD_FORMAT,
            punch_id: Uuid::new_v4(),
            device_id: device.device_id.clone(),
            employee_id,
            seq,
            kind,
            wall_time_ms: now.wall_time_ms,
            utc_offset_min: now.utc_offset_min,
            monotonic_ms: now.monotonic_ms,
            boot_id: now.boot_id.clone(),
            anchor: ctx.anchor.clone(),
            policy_version: policy.policy.version,
            evidence: recorded_evidence(valid, policy, &evaluation),
            evaluation,
            prev_hash: ctx
                .head
                .as_ref()
                .map_or_else(|| GENESIS_HASH.to_string(), |(_, h)| hex::encode(h)),
        };
        let bytes = record
            .to_bytes()
            .map_err(|e| PunchError::CorruptState(format!("record encoding: {e}")))?;
        let signature = device.sign(&bytes)?;
        let hash = sha256(&bytes);
        let punch_id = record.punch_id.to_string();
        let row = NewPunch {
            seq,
            punch_id: &punch_id,
            record: &bytes,
            signature: &signature,
            hash: &hash,
            kind: &serde_name(&record.kind),
            wall_time_ms: record.wall_time_ms,
            decision: &serde_name(&record.evaluation.decision),
            fix: record.evidence.gps.as_ref().map(|fix| PreviousFix {
                point: fix.point,
                accuracy_m: fix.accuracy_m,
                fix_time_ms: fix.fix_time_ms,
            }),
            open_after: match kind {
                PunchKind::ClockIn => Some(
                    record
                        .evaluation
                        .attendance
                        .as_ref()
                        .and_then(|a| a.occurrence()),
                ),
                PunchKind::ClockOut => Some(None),
                PunchKind::BreakStart | PunchKind::BreakEnd => None,
            },
        };
        let appended = device
            .db
            .lock()
            .append_punch(&ctx, &row, now.wall_time_ms)?;
        if appended == Append::Stored {
            return Ok(PunchReceipt {
                punch_id: record.punch_id,
                seq,
                kind,
                wall_time_ms: record.wall_time_ms,
                evaluation: record.evaluation,
                record_hash: hex::encode(hash),
            });
        }
    }
    Err(PunchError::Busy)
}

/// Keeps only the evidence a reviewer needs (privacy by minimisation).
fn recorded_evidence(
    valid: &ValidEvidence,
    policy: &PreparedPolicy,
    evaluation: &Evaluation,
) -> RecordedEvidence {
    let judged: Vec<&PreparedSite> = evaluation
        .sites
        .iter()
        .filter_map(|r| policy.sites.iter().find(|s| s.site.id == r.site_id))
        .collect();
    let wifi_matched = valid
        .wifi
        .iter()
        .filter(|w| {
            judged.iter().any(|s| {
                s.site.wifi.bssids.contains(&w.bssid)
                    || w.ssid
                        .as_ref()
                        .is_some_and(|x| s.site.wifi.ssids.contains(x))
            })
        })
        .map(|w| match &w.ssid {
            Some(ssid) => format!("{} {ssid}", w.bssid),
            None => w.bssid.to_string(),
        })
        .collect();
    let ip_matched = valid
        .ips
        .iter()
        .filter(|ip| {
            judged
                .iter()
                .any(|s| s.site.cidrs.iter().any(|c| c.contains(**ip)))
        })
        .map(|ip| ip.to_string())
        .collect();
    RecordedEvidence {
        gps: valid.gps.clone(),
        wifi_matched,
        wifi_seen: valid.wifi.len(),
        ip_matched,
        ip_seen: valid.ips.len(),
    }
}
