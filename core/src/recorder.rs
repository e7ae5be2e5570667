//! The punch path: judge the evidence, build the record once, sign its bytes
//! without the database lock (a platform signer may show a biometric prompt
//! for seconds: `status()`, `evaluate()` and sync go on meanwhile), then
//! append it if the chain has not moved — else rebuild and sign again.
//!
//! Punches take turns (the chain is sequential by nature), so concurrent
//! punches do not make each other sign twice; only other punches wait for a
//! turn, and a signer that calls `punch()` from inside its own signing gets
//! [`PunchError::Busy`] instead of a deadlock.

use punch_model::ledger::minimise::{minimise, previous_fix};
use punch_model::ledger::record::{
    GENESIS_HASH, NoticeAck, PunchKind, PunchRecord, RECORD_FORMAT, Uuid,
};
use punch_model::ledger::sealed::{DataKey, seal};
use punch_model::ledger::signing::sha256;
use punch_model::ledger::trusted_time;
use punch_model::rules::evaluate::{Decision, Evaluation, evaluate};
use punch_model::rules::evidence::ValidEvidence;
use punch_model::rules::policy::PreparedPolicy;
use punch_model::rules::shift;
use punch_model::text::serde_name;

use crate::clock::ClockReading;
use crate::device::DeviceContext;
use crate::error::{PunchError, Result};
use crate::store::{Append, NewPunch, PunchContext, Sealing};

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
pub(crate) fn record_punch(
    device: &DeviceContext,
    policy: &PreparedPolicy,
    kind: PunchKind,
    valid: &ValidEvidence,
) -> Result<PunchReceipt> {
    let _flag = TurnFlag::enter()?;
    let _turn = device.punch_turn.lock().unwrap_or_else(|e| e.into_inner());
    let notice = notice_for(device, policy)?;
    let sealing = match device.db.lock().sealing() {
        Sealing::Off => None,
        Sealing::Ready(key) => Some(key),
        Sealing::Unavailable { reason, .. } => {
            return Err(PunchError::DataKeyUnavailable { detail: reason });
        }
    };
    for _ in 0..MAX_TRIES {
        let now = device.now();
        let ctx = device.db.lock().punch_context_for_append()?;
        let employee_id = ctx.employee_id.clone().ok_or(PunchError::NoEmployee)?;
        let evaluation = judge(&ctx, policy, valid, &now, kind)?;
        if evaluation.decision == Decision::Rejected {
            return Err(PunchError::Refused(Box::new(evaluation)));
        }
        let seq = ctx.next_seq();
        // Judged on the exact evidence; signed and stored as policy allows.
        let kept = minimise(valid, policy, &evaluation)
            .map_err(|e| PunchError::CorruptState(format!("minimising the evidence: {e}")))?;
        let mut record = PunchRecord {
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
            evidence: kept.evidence,
            evaluation: kept.evaluation.clone(),
            prev_hash: ctx
                .head
                .as_ref()
                .map_or_else(|| GENESIS_HASH.to_string(), |(_, h)| hex::encode(h)),
            notice: notice.clone(),
            sealed: None,
        };
        let kept_evaluation = kept.evaluation;
        let mut opening = kept.opening;
        let fix = previous_fix(&record.evidence);
        if let Some(key) = &sealing {
            // The signed bytes carry the payload sealed; the chain stays clear.
            seal(key, &mut record).map_err(|e| PunchError::CorruptState(e.to_string()))?;
            opening = opening
                .map(|o| seal_opening(key, &record, &o))
                .transpose()?;
        }
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
            fix,
            opening: opening.as_deref(),
            notice_for_policy: notice.as_ref().map(|_| policy.policy.version),
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
                evaluation: kept_evaluation,
                record_hash: hex::encode(hash),
            });
        }
    }
    Err(PunchError::Busy)
}

/// The notice this punch must carry: the acknowledged one, on the first
/// record under a policy version that names it. Refused until acknowledged
/// when the policy requires it.
fn notice_for(device: &DeviceContext, policy: &PreparedPolicy) -> Result<Option<NoticeAck>> {
    let privacy = policy.policy.settings.privacy();
    let Some(required) = privacy.notice_version else {
        return Ok(None);
    };
    let store = device.db.lock();
    match store.notice_ack()?.filter(|a| a.version == required) {
        None if privacy.require_notice => {
            Err(PunchError::NoticeNotAcknowledged { version: required })
        }
        None => Ok(None),
        Some(_) if store.notice_carried_for()? == Some(policy.policy.version) => Ok(None),
        Some(ack) => Ok(Some(ack)),
    }
}

/// An opening sealed for the phone's own table, bound to its record.
fn seal_opening(key: &DataKey, record: &PunchRecord, opening: &[u8]) -> Result<Vec<u8>> {
    let mut out = SEALED_OPENING.to_vec();
    out.extend(
        key.seal_bytes(&opening_context(record.seq), opening)
            .map_err(|e| PunchError::CorruptState(e.to_string()))?,
    );
    Ok(out)
}

/// The prefix of a sealed opening (a clear one is JSON, starting with `{`).
pub(crate) const SEALED_OPENING: &[u8] = b"S1";

pub(crate) fn opening_context(seq: u64) -> Vec<u8> {
    format!("punch-opening-v1|{seq}").into_bytes()
}
