//! The punch path: judge the evidence, build the record once, sign its bytes
//! without the database lock (a platform signer may show a biometric prompt
//! for seconds: `status()`, `evaluate()` and sync go on meanwhile), then
//! append it if the chain has not moved — else rebuild and sign again.
//!
//! Punches take turns (the chain is sequential by nature), so concurrent
//! punches do not make each other sign twice; only other punches wait for a
//! turn, and a signer that calls `punch()` from inside its own signing gets
//! [`PunchError::Busy`] instead of a deadlock.

use punch_model::ledger::event::{
    ChainEvent, EVENT_DECISION, EntryTag, EventRecord, event_kind_column,
};
use punch_model::ledger::key_rotation::KeyRole;
use punch_model::ledger::minimise::{minimise, previous_fix};
use punch_model::ledger::record::{
    GENESIS_HASH, NoticeAck, PunchKind, PunchRecord, RECORD_FORMAT, Uuid, new_punch_id,
};
use punch_model::ledger::refused::RefusedPunch;
use punch_model::ledger::sealed::{DataKey, seal, seal_event};
use punch_model::ledger::signing::sha256;
use punch_model::ledger::trusted_time;
use punch_model::rules::evaluate::{Decision, Evaluation, PreviousFix, evaluate};
use punch_model::rules::evidence::ValidEvidence;
use punch_model::rules::policy::PreparedPolicy;
use punch_model::rules::shift;
use punch_model::rules::terminal::Terminal;
use punch_model::rules::terminal_verdict;
use punch_model::text::serde_name;

use crate::clock::ClockReading;
use crate::device::DeviceContext;
use crate::error::{PunchError, Result};
use crate::photo::PhotoStep;
use crate::store::{Append, NewPunch, PunchContext, Sealing, ShiftChange};

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
    /// The punch's id.
    pub punch_id: Uuid,
    /// Its position in the chain.
    pub seq: u64,
    /// What was punched.
    pub kind: PunchKind,
    /// The wall time the record carries.
    pub wall_time_ms: i64,
    /// How the rules judged it.
    pub evaluation: Evaluation,
    /// Hex SHA-256 of the stored record bytes.
    pub record_hash: String,
}

/// The judgement a punch of `kind` by `employee_id` would get now: where
/// (the evidence against the sites) and, when the policy has shifts, what it
/// means for attendance (judged on trusted time, in the shift's zone,
/// against the occurrence that employee is clocked in to on this device).
/// The policy must not have expired by trusted time.
pub(crate) fn judge(
    ctx: &PunchContext,
    policy: &PreparedPolicy,
    valid: &ValidEvidence,
    now: &ClockReading,
    kind: PunchKind,
    employee_id: &str,
) -> Result<Evaluation> {
    let trusted = trusted_time::trusted_now_ms(
        ctx.anchor.as_ref(),
        now.wall_time_ms,
        &now.boot_id,
        now.monotonic_ms,
    );
    policy.policy.check_not_expired(trusted)?;
    let evaluation = evaluate(policy, valid, now.wall_time_ms, ctx.previous_fix.as_ref());
    // Punching for someone else is a kiosk's job. The key's assurance is the
    // server's to judge (it saw the attestation).
    let terminal = match &ctx.employee_id {
        Some(bound) if bound != employee_id => Terminal::Kiosk,
        _ => Terminal::Phone,
    };
    let mut evaluation = terminal_verdict::restrict(policy, evaluation, terminal, None);
    // Judged from this device's own punches: where the employee also punches
    // on another device (`settings.max_devices` > 1) the phone cannot see
    // those, so this verdict is advisory; the server's reading, per employee
    // across devices (`shift::open_before`), is what exports count.
    evaluation.attendance = shift::judge(
        &policy.shifts,
        evaluation.site_id.as_deref(),
        kind,
        trusted,
        ctx.open_shift(employee_id),
    );
    Ok(evaluation)
}

/// The kind the bound employee would naturally press next: out while clocked in.
pub(crate) fn natural_kind(ctx: &PunchContext) -> PunchKind {
    if ctx.own_open_shift().is_some() {
        PunchKind::ClockOut
    } else {
        PunchKind::ClockIn
    }
}

/// A record built for the current head, ready to sign: its bytes and the
/// columns the store keeps beside them.
pub(crate) struct Built<T> {
    pub bytes: Vec<u8>,
    pub id: Uuid,
    pub kind: String,
    pub wall_time_ms: i64,
    pub decision: String,
    pub fix: Option<PreviousFix>,
    /// The opening of the record's evidence commitment (`ledger::minimise`).
    pub opening: Option<Vec<u8>>,
    /// Some(policy version) when the record carries the notice for it.
    pub notice_for_policy: Option<u64>,
    pub open_after: Option<ShiftChange>,
    /// A rotation's new punch key: SPKI, and PKCS#8 for a software key.
    pub new_punch_key: Option<(Vec<u8>, Option<Vec<u8>>)>,
    /// What the caller gets back once the record is durable.
    pub outcome: T,
}

impl Built<()> {
    pub(crate) fn with_outcome<U>(self, outcome: U) -> Built<U> {
        Built {
            bytes: self.bytes,
            id: self.id,
            kind: self.kind,
            wall_time_ms: self.wall_time_ms,
            decision: self.decision,
            fix: self.fix,
            opening: self.opening,
            notice_for_policy: self.notice_for_policy,
            open_after: self.open_after,
            new_punch_key: self.new_punch_key,
            outcome,
        }
    }
}

/// The head a new record follows, as its bytes spell it.
pub(crate) fn prev_hash_of(ctx: &PunchContext) -> String {
    // After an acknowledged break, the new segment links to the
    // acknowledged head rather than to the refused records.
    if let Some(anchor) = &ctx.segment_anchor {
        return hex::encode(anchor);
    }
    ctx.head
        .as_ref()
        .map_or_else(|| GENESIS_HASH.to_string(), |(_, h)| hex::encode(h))
}

/// Takes a punch turn, builds a record for the current head, signs it
/// without the database lock, and appends it if the head has not moved
/// (else builds and signs again). Returns the outcome, the seq and the hash.
pub(crate) fn append_signed<T>(
    device: &DeviceContext,
    build: impl FnMut(&PunchContext, &ClockReading, u64) -> Result<Built<T>>,
) -> Result<(T, u64, [u8; 32])> {
    append_signed_by(device, KeyRole::Punch, build)
}

/// [`append_signed`] with the key of `role` (the channel key signs rotations).
pub(crate) fn append_signed_by<T>(
    device: &DeviceContext,
    role: KeyRole,
    mut build: impl FnMut(&PunchContext, &ClockReading, u64) -> Result<Built<T>>,
) -> Result<(T, u64, [u8; 32])> {
    let _flag = TurnFlag::enter()?;
    let _turn = device.punch_turn.lock().unwrap_or_else(|e| e.into_inner());
    for _ in 0..MAX_TRIES {
        let now = device.now();
        let ctx = device.db.punch_context_for_append()?;
        let seq = ctx.next_seq();
        let built = build(&ctx, &now, seq)?;
        let signature = device.sign(role, &built.bytes)?;
        let hash = sha256(&built.bytes);
        let id = built.id.to_string();
        let row = NewPunch {
            seq,
            punch_id: &id,
            record: &built.bytes,
            signature: &signature,
            hash: &hash,
            kind: &built.kind,
            wall_time_ms: built.wall_time_ms,
            decision: &built.decision,
            fix: built.fix,
            opening: built.opening.as_deref(),
            notice_for_policy: built.notice_for_policy,
            open_after: built.open_after.as_ref(),
            new_punch_key: built
                .new_punch_key
                .as_ref()
                .map(|(key, pkcs8)| (key.as_slice(), pkcs8.as_deref())),
        };
        let appended = device.db.append_punch(&ctx, &row, now.wall_time_ms)?;
        if appended == Append::Stored {
            return Ok((built.outcome, seq, hash));
        }
    }
    Err(PunchError::Busy)
}

/// What recording an event (a request, a refused attempt) returns once it is durable.
#[derive(Debug, Clone, PartialEq)]
pub struct EventReceipt {
    /// The event's id.
    pub event_id: Uuid,
    /// Its position in the chain.
    pub seq: u64,
    /// The wall time the record carries.
    pub wall_time_ms: i64,
    /// Hex SHA-256 of the stored record bytes.
    pub record_hash: String,
}

/// Signs, chains and durably stores one event under `policy_version`.
pub(crate) fn record_event(
    device: &DeviceContext,
    policy_version: u64,
    event: &ChainEvent,
) -> Result<EventReceipt> {
    record_event_by(device, KeyRole::Punch, policy_version, event)
}

/// [`record_event`] signed with the key of `role`.
pub(crate) fn record_event_by(
    device: &DeviceContext,
    role: KeyRole,
    policy_version: u64,
    event: &ChainEvent,
) -> Result<EventReceipt> {
    let ((event_id, wall_time_ms), seq, hash) = append_signed_by(device, role, |ctx, now, seq| {
        let record = event_record(device, ctx, now, seq, policy_version, event.clone())?;
        Ok(built_event(&record)?.with_outcome((record.event_id, record.wall_time_ms)))
    })?;
    Ok(EventReceipt {
        event_id,
        seq,
        wall_time_ms,
        record_hash: hex::encode(hash),
    })
}

pub(crate) fn event_record(
    device: &DeviceContext,
    ctx: &PunchContext,
    now: &ClockReading,
    seq: u64,
    policy_version: u64,
    event: ChainEvent,
) -> Result<EventRecord> {
    Ok(EventRecord {
        format: RECORD_FORMAT,
        entry: EntryTag::Event,
        event_id: Uuid::new_v4(),
        device_id: device.device_id.clone(),
        employee_id: ctx.employee_id.clone().ok_or(PunchError::NoEmployee)?,
        seq,
        wall_time_ms: now.wall_time_ms,
        utc_offset_min: now.utc_offset_min,
        monotonic_ms: now.monotonic_ms,
        boot_id: now.boot_id.clone(),
        anchor: ctx.anchor.clone(),
        policy_version,
        event,
        prev_hash: prev_hash_of(ctx),
    })
}

pub(crate) fn built_event(record: &EventRecord) -> Result<Built<()>> {
    Ok(Built {
        bytes: record
            .to_bytes()
            .map_err(|e| PunchError::CorruptState(format!("event encoding: {e}")))?,
        id: record.event_id,
        kind: event_kind_column(&record.event),
        wall_time_ms: record.wall_time_ms,
        decision: EVENT_DECISION.to_string(),
        fix: None,
        opening: None,
        notice_for_policy: None,
        open_after: None,
        new_punch_key: None,
        outcome: (),
    })
}

/// What one try of a punch produced: a punch, or the refusal kept as an event.
enum Punched {
    Stored(Box<PunchReceipt>),
    Refused(Box<Evaluation>),
}

/// Judges, signs and durably stores one punch. A refused punch is stored
/// as a `refused_punch` event (the employee's evidence for a make-up
/// request) and the error carries the evaluation so the employee sees why.
/// `kiosk_employee` names who punched on a kiosk (else the bound employee).
pub(crate) fn record_punch(
    device: &DeviceContext,
    policy: &PreparedPolicy,
    kind: PunchKind,
    valid: &ValidEvidence,
    kiosk_employee: Option<&str>,
    photo: &PhotoStep,
) -> Result<PunchReceipt> {
    let notice = notice_for(device, policy)?;
    let sealing = match device.db.sealing() {
        Sealing::Off => None,
        Sealing::Ready(key) => Some(key),
        Sealing::Unavailable { reason, .. } => {
            return Err(PunchError::DataKeyUnavailable { detail: reason });
        }
    };
    let (punched, _, _) = append_signed(device, |ctx, now, seq| {
        let bound = ctx.employee_id.clone().ok_or(PunchError::NoEmployee)?;
        let employee_id = kiosk_employee.map_or(bound, str::to_string);
        // The fix's age on the monotonic clock, at this try.
        let valid = &device.aged(valid);
        let evaluation = judge(ctx, policy, valid, now, kind, &employee_id)?;
        // Judged on the exact evidence; signed and stored as policy allows.
        let kept = minimise(valid, policy, &evaluation)
            .map_err(|e| PunchError::CorruptState(format!("minimising the evidence: {e}")))?;
        if evaluation.decision == Decision::Rejected {
            let event = ChainEvent::RefusedPunch(Box::new(RefusedPunch {
                kind,
                evidence: kept.evidence,
                evaluation: kept.evaluation,
                sealed: None,
            }));
            let mut record = event_record(device, ctx, now, seq, policy.policy.version, event)?;
            if let Some(key) = &sealing {
                // Sealed as a punch's payload is: the attempt's evidence is as personal.
                seal_event(key, &mut record)
                    .map_err(|e| PunchError::CorruptState(e.to_string()))?;
            }
            return Ok(built_event(&record)?.with_outcome(Punched::Refused(Box::new(evaluation))));
        }
        photo.check(&evaluation)?;
        let mut record = PunchRecord {
            format: RECORD_FORMAT,
            punch_id: new_punch_id(now.wall_time_ms),
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
            prev_hash: prev_hash_of(ctx),
            notice: notice.clone(),
            sealed: None,
            photo: photo.photo_ref(),
            biometric_verified: photo.biometric_verified(),
        };
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
        let hash = sha256(&bytes);
        Ok(Built {
            id: record.punch_id,
            kind: serde_name(&record.kind),
            wall_time_ms: record.wall_time_ms,
            decision: serde_name(&record.evaluation.decision),
            fix,
            opening,
            notice_for_policy: notice.as_ref().map(|_| policy.policy.version),
            open_after: shift::open_after(kind, record.evaluation.attendance.as_ref()).map(
                |open| ShiftChange {
                    employee_id: record.employee_id.clone(),
                    open,
                },
            ),
            new_punch_key: None,
            outcome: Punched::Stored(Box::new(PunchReceipt {
                punch_id: record.punch_id,
                seq,
                kind,
                wall_time_ms: record.wall_time_ms,
                record_hash: hex::encode(hash),
                evaluation: kept.evaluation,
            })),
            bytes,
        })
    })?;
    match punched {
        Punched::Stored(receipt) => Ok(*receipt),
        Punched::Refused(evaluation) => Err(PunchError::Refused(evaluation)),
    }
}

/// The notice this punch must carry: the acknowledged one, on the first
/// record under a policy version that names it. Refused until acknowledged
/// when the policy requires it.
fn notice_for(device: &DeviceContext, policy: &PreparedPolicy) -> Result<Option<NoticeAck>> {
    let privacy = policy.policy.settings.privacy();
    let Some(required) = privacy.notice_version else {
        return Ok(None);
    };
    device.db.with_store(
        |store| match store.notice_ack()?.filter(|a| a.version == required) {
            None if privacy.require_notice => {
                Err(PunchError::NoticeNotAcknowledged { version: required })
            }
            None => Ok(None),
            Some(_) if store.notice_carried_for()? == Some(policy.policy.version) => Ok(None),
            Some(ack) => Ok(Some(ack)),
        },
    )
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
