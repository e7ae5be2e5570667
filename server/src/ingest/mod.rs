//! Upload ingest: every record is verified against the device's key and the
//! server's chain head, then stored exactly once with the server's judgement
//! of its time. Refused records are kept as evidence, never dropped.

use std::collections::HashMap;
use std::sync::Arc;

use punch_model::ledger::chain::{self, ChainProblem};
use punch_model::ledger::chain_walk::ChainCursor;
use punch_model::ledger::event::{ChainEntry, ChainEvent, EventRecord};
use punch_model::ledger::key_rotation::{KeyRole, signing_role};
use punch_model::ledger::record::{PunchRecord, RECORD_FORMAT, RecordCheck, declared_format};
use punch_model::ledger::review::{self, ReviewFlag};
use punch_model::ledger::signing;
use punch_model::ledger::trusted_time::{self, RecordClock, TimeVerdict};
use punch_model::rules::assurance::{AssuranceLevel, BelowMinimum};
use punch_model::rules::field_work::{self, FIELD_SITE_PREFIX, FieldSite};
use punch_model::rules::policy::{PreparedPolicy, Settings};
use punch_model::rules::shift::{self, Attendance, OpenShift};
use punch_model::text::serde_name;
use punch_model::wire::{RecordResult, RecordStatus, RejectReason, UploadRecord};

use crate::error::{Result, ServerError};
use crate::evidence;
use crate::key_rotation;
use crate::policy_cache::PolicyCache;
use crate::privacy::keys;
use crate::requests;
use crate::store::{DeviceInfo, NewPunch, RejectedInfo, StoreTx, StoredEvent, StoredPunchInfo};
use crate::stored_hash;
use crate::time_token::TimeTokens;

/// What one upload did.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestOutcome {
    /// In seq order (the order records were processed); records held
    /// behind a pending key rotation are not answered.
    pub results: Vec<RecordResult>,
    /// The seq of a key rotation waiting for HR: later records wait too.
    pub key_rotation_pending: Option<u64>,
    pub head_seq: u64,
    /// Hex SHA-256 of the head record (the genesis hash before the first).
    pub head_hash: String,
}

enum Verdict {
    Accepted(Box<StoredPunchInfo>),
    /// An event (refused attempt, request...): stored in `events`.
    AcceptedEvent(Box<StoredEvent>),
    Duplicate,
    Rejected(RejectReason, String),
    /// Refused, but authentic and continuous (signature and link verified):
    /// the chain goes on past it, so later honest punches are not blocked.
    RejectedLink(RejectReason, String),
    /// Not judged: it follows a key rotation HR has not approved yet.
    Held,
}

fn reason_of(problem: &ChainProblem) -> RejectReason {
    match problem {
        ChainProblem::BadSignature => RejectReason::BadSignature,
        ChainProblem::Unparseable { .. } => RejectReason::Unparseable,
        ChainProblem::WrongDevice { .. } => RejectReason::WrongDevice,
        ChainProblem::PrevHashMismatch { .. } | ChainProblem::HashMismatch => {
            RejectReason::ChainBreak
        }
        ChainProblem::Gap { .. }
        | ChainProblem::SeqMismatch { .. }
        | ChainProblem::MissingTail { .. } => RejectReason::Gap,
        // A problem kind added later: still refused, with its own text.
        _ => RejectReason::Unparseable,
    }
}

/// Time status, trusted time and skew for an accepted record.
fn judge_time(
    record: &RecordClock<'_>,
    device_id: &str,
    settings: &Settings,
    tokens: &TimeTokens,
    received_at_ms: i64,
) -> (String, Option<i64>, Option<i64>) {
    if let Some(anchor) = record.anchor
        && !tokens.check(device_id, anchor.server_time_ms, &anchor.token)
    {
        // The server never said this time to this device: a forged anchor.
        return ("bad_anchor".into(), None, None);
    }
    // `as` saturates; settings were validated (1 s ..= 1 day) when published.
    let max_skew_ms = (settings.max_clock_skew_s * 1000.0) as i64;
    match trusted_time::judge_clock(record, max_skew_ms) {
        TimeVerdict::Anchored {
            trusted_time_ms,
            skew_ms,
            clock_moved,
        } => {
            // A punch cannot have happened after the server received it: the
            // device's monotonic clock (or its report of it) was tampered with.
            let status = if trusted_time_ms > received_at_ms.saturating_add(max_skew_ms) {
                "after_receipt"
            } else if clock_moved {
                "clock_moved"
            } else {
                "anchored"
            };
            (status.into(), Some(trusted_time_ms), Some(skew_ms))
        }
        TimeVerdict::Unanchored { why } => (format!("unanchored:{}", serde_name(&why)), None, None),
    }
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
            .sites
            .iter()
            .find(|s| &s.site.id == id)
            .and_then(|s| s.site.min_assurance)
    });
    let required = employer.into_iter().chain(site).max()?;
    (device < required).then_some(ReviewFlag::AssuranceBelowMinimum { device, required })
}

struct Batch<'a> {
    tx: &'a dyn StoreTx,
    tokens: &'a TimeTokens,
    /// Published policies, prepared once per process.
    policies: &'a PolicyCache,
    /// The signatures checked before the lock were checked with the punch
    /// key in force.
    signatures_count: bool,
    device_id: &'a str,
    employee_id: &'a str,
    device: &'a DeviceInfo,
    /// The punch key in force (a rotation in this batch replaces it).
    punch_key: Vec<u8>,
    /// Signs key rotations.
    channel_key: &'a [u8],
    /// What a rotation taken in this batch proved (written with the head).
    punch_key_assurance: Option<AssuranceLevel>,
    /// A rotation in this batch put a new punch key in force: signatures
    /// checked before the lock (with the old one) no longer count.
    rotated_here: bool,
    /// A rotation waiting for HR (from before or in this batch): its seq.
    rotation_pending: Option<u64>,
    /// What the device's enrollment proved (stamped on each punch).
    assurance: AssuranceLevel,
    /// The shift occurrence each employee is clocked in to on this device,
    /// by the server's reading (read when their first punch of the batch
    /// comes, kept current as the batch accepts): a kiosk's punches name many.
    open_shifts: HashMap<String, Option<OpenShift>>,
    /// The chain's head as this batch moves it, and the acknowledged break
    /// it may start a new segment at.
    cursor: ChainCursor,
    /// The acknowledged break a record of this batch started.
    applied_break: Option<i64>,
    now_ms: i64,
    /// The batch itself.
    records: &'a [UploadRecord],
    /// Bytes stored at the seqs this batch re-sends (one query up front).
    stored: HashMap<u64, Vec<u8>>,
    /// Heads the device stated at this batch's new seqs (one query up front;
    /// statements are only written by authentication, never during ingest).
    stated: HashMap<u64, String>,
    /// Seqs accepted earlier in this batch: index into `records`.
    accepted_here: HashMap<u64, usize>,
    /// Where the batch's punch ids are already stored (one query up front,
    /// kept current as this batch accepts).
    locations: HashMap<String, (String, u64)>,
    /// Events accepted earlier in this batch (a request's limits count them).
    events_here: Vec<StoredEvent>,
    /// The employee's approved field sites, read when a punch names one.
    field_sites: Option<Vec<FieldSite>>,
}

impl Batch<'_> {
    /// The record at `seq` with hex `hash` is now a link of the chain (an
    /// accepted punch or event, or a refusal the head moves past).
    fn link(&mut self, seq: u64, hash: &str) {
        if let Some(applied) = self.cursor.advance(seq, hash) {
            self.applied_break = Some(applied.id);
        }
    }

    fn judge(&mut self, up: &UploadRecord, pre: &Prechecked) -> Result<Verdict> {
        if up.seq == 0 {
            return Ok(Verdict::Rejected(
                RejectReason::Gap,
                "sequence numbers start at 1".into(),
            ));
        }
        if up.seq <= self.cursor.head_seq() {
            let hash = &pre.hash;
            let read = match self.stored.get(&up.seq) {
                Some(bytes) => Some(bytes.as_slice()),
                None => self
                    .accepted_here
                    .get(&up.seq)
                    .map(|&i| self.records[i].record.as_slice()),
            };
            // Retention (or an erasure) may have emptied the bytes or removed
            // the row long after they were accepted, keeping their hash: a
            // late re-send is the same record only if it hashes the same,
            // else a fork of the chain under the purge.
            if let Some(held) = stored_hash::at(self.tx, self.device_id, up.seq, read)? {
                return Ok(if held.eq_ignore_ascii_case(hash) {
                    Verdict::Duplicate
                } else if read.is_some_and(|bytes| !bytes.is_empty()) {
                    Verdict::Rejected(
                        RejectReason::ConflictingDuplicate,
                        format!("seq {} is already stored with other bytes", up.seq),
                    )
                } else {
                    Verdict::Rejected(
                        RejectReason::ConflictingDuplicate,
                        format!(
                            "seq {} is already stored with other bytes (purged; kept hash {held}, this record {hash})",
                            up.seq
                        ),
                    )
                });
            }
            // A refused link the chain went past: the same answer again.
            let link = self
                .tx
                .refusals_with_hash(self.device_id, up.seq, hash)?
                .into_iter()
                .find_map(|(reason, detail)| {
                    RejectReason::from_name(&reason)
                        .filter(|reason| reason.is_link())
                        .map(|reason| (reason, detail))
                });
            return Ok(match link {
                Some((reason, detail)) => Verdict::Rejected(reason, detail),
                None => Verdict::Rejected(
                    RejectReason::ConflictingDuplicate,
                    format!("seq {} was refused before with other bytes", up.seq),
                ),
            });
        }
        if self.rotation_pending.is_some() {
            return Ok(Verdict::Held);
        }
        // After an acknowledged break the refused seqs are skipped, and the
        // record must link to the acknowledged head (checked below).
        let expected = self.cursor.expect(up.seq).seq;
        if up.seq > expected {
            return Ok(Verdict::Rejected(
                RejectReason::Gap,
                format!("expected seq {expected}, got {}", up.seq),
            ));
        }
        // Rotations are the channel key's; every other record the punch key's.
        let signature = match signing_role(&up.record) {
            KeyRole::Punch if self.signatures_count && !self.rotated_here => pre.signature.clone(),
            KeyRole::Punch => {
                chain::verify_signature(&self.punch_key, self.device_id, &up.record, &up.signature)
            }
            KeyRole::Channel => {
                chain::verify_signature(self.channel_key, self.device_id, &up.record, &up.signature)
            }
        };
        if let Err(problem) = &signature {
            return Ok(Verdict::Rejected(reason_of(problem), problem.to_string()));
        }
        // A format this server does not know cannot be checked any further.
        match pre.format {
            Some(found) if found != u64::from(RECORD_FORMAT) => {
                return Ok(Verdict::Rejected(
                    RejectReason::UnknownFormat,
                    RecordCheck::UnknownFormat { found }.to_string(),
                ));
            }
            _ => {}
        }
        let entry = match &pre.entry {
            Ok(entry) => entry,
            Err(detail) => {
                let problem = ChainProblem::Unparseable {
                    detail: detail.clone(),
                };
                return Ok(Verdict::Rejected(reason_of(&problem), problem.to_string()));
            }
        };
        if let Err(problem) = chain::check_continuity(
            entry,
            self.device_id,
            expected,
            self.cursor.expect(up.seq).prev_hash(entry.prev_hash()),
        ) {
            return Ok(Verdict::Rejected(reason_of(&problem), problem.to_string()));
        }
        let entry = entry.clone();
        let hash = pre.hash.clone();
        // The device once stated another record at this seq: its chain was rewritten.
        if let Some(stated) = self.stated.get(&expected).filter(|stated| **stated != hash) {
            return Ok(Verdict::Rejected(
                RejectReason::Fork,
                format!("the device stated seq {expected} as {stated}; this record is {hash}"),
            ));
        }
        // Authentic and continuous, but holding values no phone produces.
        if let Err(check) = entry.check_ranges() {
            return Ok(Verdict::RejectedLink(
                RejectReason::OutOfRange,
                check.to_string(),
            ));
        }
        // A kiosk's punches name whoever punched: someone assigned to its site
        // (its events name the kiosk account itself).
        if entry.employee_id() != self.employee_id {
            let kiosk_punch = match &entry {
                ChainEntry::Punch(_) => crate::pin::kiosk::check_kiosk_record(
                    self.tx,
                    self.employee_id,
                    entry.employee_id(),
                )?,
                ChainEntry::Event(_) => Err(format!(
                    "record names employee {:?}, the device is bound to {:?}",
                    entry.employee_id(),
                    self.employee_id
                )),
            };
            if let Err(detail) = kiosk_punch {
                return Ok(Verdict::RejectedLink(
                    RejectReason::EmployeeMismatch,
                    detail,
                ));
            }
        }
        let Some(policy) = self.policies.get(self.tx, entry.policy_version())? else {
            return Ok(Verdict::RejectedLink(
                RejectReason::UnknownPolicyVersion,
                format!(
                    "policy version {} was never published",
                    entry.policy_version()
                ),
            ));
        };
        let (time_status, trusted_time_ms, skew_ms) = judge_time(
            &entry.clock(),
            self.device_id,
            &policy.policy.settings,
            self.tokens,
            self.now_ms,
        );
        let record = match entry {
            ChainEntry::Punch(record) => record,
            ChainEntry::Event(event) => {
                // A sealed payload is range-checked once opened (its clear
                // part was above); one that does not open is kept as it is,
                // the employee's evidence.
                if let Some(opened) = keys::open_event(self.tx, self.device_id, &event)?
                    && let Err(check) = opened.check_ranges()
                {
                    return Ok(Verdict::RejectedLink(
                        RejectReason::OutOfRange,
                        check.to_string(),
                    ));
                }
                return self.accept_event(up, &event, &policy, trusted_time_ms, hash);
            }
        };
        let punch_id = record.punch_id.to_string();
        if let Some((device, seq)) = self.locations.get(&punch_id) {
            return Ok(Verdict::RejectedLink(
                RejectReason::ConflictingDuplicate,
                format!("punch id {punch_id} is already stored as device {device} seq {seq}"),
            ));
        }
        // Unanchored (e.g. after a reboot): the wall clock, but never before
        // a server time the device provably saw.
        let seen = record
            .anchor
            .as_ref()
            .filter(|a| {
                self.tokens
                    .check(self.device_id, a.server_time_ms, &a.token)
            })
            .map(|a| a.server_time_ms);
        let punch_time_ms = trusted_time_ms
            .unwrap_or_else(|| seen.map_or(record.wall_time_ms, |t| t.max(record.wall_time_ms)));
        let policy = self.with_field_sites(&policy, &record, punch_time_ms)?;
        // A sealed payload is read with the device's escrowed data key; one
        // that does not open is still an authentic punch, flagged.
        let opened = keys::open_record(self.tx, self.device_id, &record)?;
        if let Some(Err(check)) = opened.as_ref().map(|o| o.check_ranges()) {
            return Ok(Verdict::RejectedLink(
                RejectReason::OutOfRange,
                check.to_string(),
            ));
        }
        let mut review_flags = match opened {
            Some(opened) => review::review(&policy, &opened, punch_time_ms),
            None => vec![ReviewFlag::PayloadUnreadable {
                key_id: record
                    .sealed
                    .as_ref()
                    .map(|s| s.key_id.clone())
                    .unwrap_or_default(),
            }],
        };
        review_flags.extend(assurance_flag(&policy, &record, self.assurance));
        // The server's own reading of the shift, on trusted time and from
        // the punches it holds (never from the device's claim).
        let open = match self.open_shifts.get(&record.employee_id) {
            Some(open) => open.clone(),
            None => self.tx.open_shift(self.device_id, &record.employee_id)?,
        };
        let attendance = shift::judge(
            &policy.shifts,
            record.evaluation.site_id.as_deref(),
            record.kind,
            punch_time_ms,
            open.as_ref(),
        );
        let code = |a: &Option<Attendance>| a.as_ref().map(|a| a.code().to_string());
        if code(&attendance) != code(&record.evaluation.attendance) {
            review_flags.push(ReviewFlag::AttendanceMismatch {
                device: code(&record.evaluation.attendance),
                server: code(&attendance),
            });
        }
        let after = shift::open_after(record.kind, attendance.as_ref()).unwrap_or(open);
        self.open_shifts.insert(record.employee_id.clone(), after);
        Ok(Verdict::Accepted(Box::new(StoredPunchInfo {
            device_id: self.device_id.to_string(),
            seq: expected,
            punch_id,
            employee_id: record.employee_id.clone(),
            kind: serde_name(&record.kind),
            wall_time_ms: record.wall_time_ms,
            utc_offset_min: record.utc_offset_min,
            trusted_time_ms,
            skew_ms,
            time_status,
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
    fn with_field_sites(
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

    /// Stores an authentic, continuous event; a request gets the status the
    /// policy's limits give it, judged at the event's trusted time.
    fn accept_event(
        &mut self,
        up: &UploadRecord,
        event: &EventRecord,
        policy: &PreparedPolicy,
        trusted_time_ms: Option<i64>,
        hash: String,
    ) -> Result<Verdict> {
        // An event id names one request for its decision: a second row
        // with it (any device) is refused, as a reused punch id is.
        let event_id = event.event_id.to_string();
        let holder = match self.events_here.iter().find(|e| e.event_id == event_id) {
            Some(e) => Some((e.device_id.clone(), e.seq)),
            None => self.tx.event_id_holder(&event_id)?,
        };
        if let Some((device, seq)) = holder {
            return Ok(Verdict::RejectedLink(
                RejectReason::ConflictingDuplicate,
                format!("event id {event_id} is already stored as device {device} seq {seq}"),
            ));
        }
        let filed_at_ms = trusted_time_ms.unwrap_or(event.wall_time_ms);
        let status = match &event.event {
            ChainEvent::KeyRotation(rotation) => {
                let judged = match key_rotation::judge(
                    self.tx,
                    self.device,
                    &self.punch_key,
                    &policy.policy.settings,
                    event,
                    rotation,
                    self.now_ms,
                )? {
                    Ok(judged) => judged,
                    Err(detail) => {
                        return Ok(Verdict::RejectedLink(RejectReason::ChainBreak, detail));
                    }
                };
                if judged.status == key_rotation::APPROVED {
                    self.punch_key = rotation.punch_key.clone();
                    self.punch_key_assurance = Some(judged.proven.level);
                    self.assurance = judged.proven.level;
                    self.rotated_here = true;
                } else {
                    self.rotation_pending = Some(event.seq);
                }
                Some((judged.status.to_string(), Some(judged.detail)))
            }
            // PIN events and successes are judged again against the
            // device's earlier ones.
            ChainEvent::Pin(_) | ChainEvent::PinVerified(_) => {
                let entry = crate::pin::audit::PinEntry::of(&event.event)
                    .ok_or_else(|| ServerError::Corrupt("a PIN event that is not one".into()))?;
                crate::pin::audit::judge_new(
                    self.tx,
                    self.device_id,
                    &entry,
                    trusted_time_ms,
                    &self.events_here,
                )?
                .map(|(s, d)| (s, Some(d)))
            }
            other => requests::judge_new(
                self.tx,
                &policy.policy,
                self.employee_id,
                other,
                filed_at_ms,
                &self.events_here,
            )?
            .map(|(s, d)| (serde_name(&s), d)),
        };
        let body = serde_json::to_string(&event.event)
            .map_err(|e| ServerError::Corrupt(format!("event body: {e}")))?;
        Ok(Verdict::AcceptedEvent(Box::new(StoredEvent {
            device_id: self.device_id.to_string(),
            seq: event.seq,
            event_id: event.event_id.to_string(),
            employee_id: event.employee_id.clone(),
            event_type: event.event.type_name().to_string(),
            body,
            wall_time_ms: event.wall_time_ms,
            trusted_time_ms,
            record: up.record.clone(),
            signature: up.signature.clone(),
            hash,
            received_at_ms: self.now_ms,
            status: status.as_ref().map(|(s, _)| s.clone()),
            status_detail: status.and_then(|(_, d)| d),
            decided_by: None,
            decided_at_ms: None,
            comment: None,
        })))
    }

    /// Keeps a refused record as evidence: labelled with the device's bound
    /// employee (the one the record names is kept beside it, it may lie);
    /// only authentic bytes are stored, the rest counted (`evidence`).
    fn keep_evidence(
        &self,
        up: &UploadRecord,
        reason: RejectReason,
        detail: &str,
        authentic_link: bool,
    ) -> Result<()> {
        // Best effort: a refused record may not even parse.
        let parsed = PunchRecord::from_bytes(&up.record).ok();
        let info = RejectedInfo {
            id: 0,
            device_id: self.device_id.to_string(),
            seq: up.seq,
            punch_id: parsed.as_ref().map(|r| r.punch_id.to_string()),
            employee_id: Some(self.employee_id.to_string()),
            claimed_employee_id: parsed.map(|r| r.employee_id),
            reason: serde_name(&reason),
            detail: detail.to_string(),
            hash: hex::encode(signing::sha256(&up.record)),
            record: up.record.clone(),
            signature: up.signature.clone(),
            attempts: 1,
            first_received_at_ms: self.now_ms,
            last_received_at_ms: self.now_ms,
        };
        if authentic_link {
            // A verified link the chain went past: re-sends are answered from it.
            self.tx.record_rejected(&info)
        } else {
            evidence::keep(self.tx, &self.punch_key, &info, self.now_ms).map(|_| ())
        }
    }
}

/// What can be known of each record of a batch before the write lock (none
/// of it depends on chain state), worked out on all cores: its signature
/// under the device's punch key (ECDSA verification is most of the cost of
/// ingest), and its one parse and hash.
pub struct SignatureChecks {
    public_key: Vec<u8>,
    records: Vec<Prechecked>,
}

/// One record, checked before the lock.
#[derive(Clone)]
struct Prechecked {
    signature: std::result::Result<(), ChainProblem>,
    /// The format the record declares, if it declares one.
    format: Option<u64>,
    /// The record parsed (or why it does not parse).
    entry: std::result::Result<ChainEntry, String>,
    /// Hex SHA-256 of its bytes.
    hash: String,
}

impl Prechecked {
    fn of(public_key: &[u8], device_id: &str, up: &UploadRecord) -> Prechecked {
        Prechecked {
            signature: chain::verify_signature(public_key, device_id, &up.record, &up.signature),
            format: declared_format(&up.record),
            entry: ChainEntry::from_bytes(&up.record).map_err(|e| e.to_string()),
            hash: hex::encode(signing::sha256(&up.record)),
        }
    }

    fn punch_id(&self) -> Option<String> {
        match &self.entry {
            Ok(ChainEntry::Punch(record)) => Some(record.punch_id.to_string()),
            _ => None,
        }
    }
}

impl SignatureChecks {
    /// (verified, refused) signature counts.
    pub fn counts(&self) -> (u64, u64) {
        let ok = self.records.iter().filter(|r| r.signature.is_ok()).count() as u64;
        (ok, self.records.len() as u64 - ok)
    }
}

/// Checks every record of a batch with `public_key`, on all cores.
pub fn check_signatures(
    public_key: &[u8],
    device_id: &str,
    records: &[UploadRecord],
) -> SignatureChecks {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = records.len().div_ceil(threads).max(16);
    let check = |part: &[UploadRecord]| -> Vec<Prechecked> {
        part.iter()
            .map(|r| Prechecked::of(public_key, device_id, r))
            .collect()
    };
    let mut parts = records.chunks(chunk);
    // The first part on this thread: a batch of one spawns nothing.
    let first = parts.next().unwrap_or_default();
    let checked: Vec<Prechecked> = std::thread::scope(|scope| {
        let workers: Vec<_> = parts
            .map(|part| (part, scope.spawn(move || check(part))))
            .collect();
        let mut out = check(first);
        for (part, worker) in workers {
            // A worker only panics on a bug: check its part here instead.
            out.extend(worker.join().unwrap_or_else(|_| check(part)));
        }
        out
    });
    SignatureChecks {
        public_key: public_key.to_vec(),
        records: checked,
    }
}

/// Processes one batch from an authenticated device, in seq order, inside
/// the caller's write transaction (all of it or none of it is stored).
/// `checks` come from [`check_signatures`] before the lock; their
/// signatures count only if they were checked with the device's punch key
/// in force now.
pub fn ingest_checked(
    tx: &dyn StoreTx,
    device_id: &str,
    records: &[UploadRecord],
    checks: &SignatureChecks,
    tokens: &TimeTokens,
    policies: &PolicyCache,
    now_ms: i64,
) -> Result<IngestOutcome> {
    // Re-read and lock inside the transaction: the head may have moved since
    // auth, and another server may be taking this device's batch right now
    // (it waits here until we commit, then sees our head).
    let device = tx
        .lock_device(device_id)?
        .ok_or_else(|| ServerError::UnknownDevice(device_id.to_string()))?;
    // An admin may have unbound it since the request was authenticated.
    if !device.is_bound() {
        return Err(ServerError::DeviceUnbound(device_id.to_string()));
    }
    let rechecked;
    let checks = if checks.records.len() == records.len() {
        checks
    } else {
        rechecked = check_signatures(device.current_punch_key(), device_id, records);
        &rechecked
    };
    // What the loop below would otherwise ask record by record, in two
    // queries: bytes at re-sent seqs, and where new punch ids already live.
    let resent: Vec<u64> = records
        .iter()
        .map(|r| r.seq)
        .filter(|&s| s >= 1 && s <= device.head_seq)
        .collect();
    let new_seqs: Vec<u64> = records
        .iter()
        .map(|r| r.seq)
        .filter(|&s| s > device.head_seq)
        .collect();
    let new_ids: Vec<String> = records
        .iter()
        .zip(&checks.records)
        .filter(|(r, _)| r.seq > device.head_seq)
        .filter_map(|(_, pre)| pre.punch_id())
        .collect();
    let mut batch = Batch {
        tx,
        tokens,
        policies,
        signatures_count: checks.public_key == device.current_punch_key(),
        device_id: &device.device_id,
        employee_id: &device.employee_id,
        device: &device,
        punch_key: device.current_punch_key().to_vec(),
        punch_key_assurance: None,
        channel_key: device.channel_key(),
        rotated_here: false,
        rotation_pending: key_rotation::pending(tx, &device.device_id)?.map(|e| e.seq),
        // An unknown label (a newer server wrote it) counts as the weakest.
        assurance: AssuranceLevel::parse(&device.assurance).unwrap_or_default(),
        open_shifts: HashMap::new(),
        // HR acknowledged this device's broken chain: one jump is allowed.
        cursor: ChainCursor::at(
            device.head_seq,
            &device.head_hash,
            crate::chain_reset::pending(tx, &device)?
                .map(|ack| crate::chain_reset::acknowledged_break(&ack))
                .into_iter()
                .collect(),
        ),
        applied_break: None,
        now_ms,
        records,
        stored: tx.punch_bytes_many(&device.device_id, &resent)?,
        accepted_here: HashMap::new(),
        locations: tx.punch_locations(&new_ids)?,
        stated: tx.head_statements_many(&device.device_id, &new_seqs)?,
        events_here: Vec::new(),
        field_sites: None,
    };
    let mut order: Vec<usize> = (0..records.len()).collect();
    order.sort_by_key(|&i| records[i].seq);
    let mut results = Vec::with_capacity(order.len());
    let mut accepted: Vec<(Box<StoredPunchInfo>, usize)> = Vec::new();
    for i in order {
        let up = &records[i];
        let Some(pre) = checks.records.get(i) else {
            break;
        };
        let (status, reason, detail) = match batch.judge(up, pre)? {
            // Everything after waits with it: the device sends it again.
            Verdict::Held => break,
            Verdict::Accepted(info) => {
                batch.link(info.seq, &info.hash);
                batch.accepted_here.insert(info.seq, i);
                batch
                    .locations
                    .insert(info.punch_id.clone(), (info.device_id.clone(), info.seq));
                accepted.push((info, i));
                (RecordStatus::Accepted, None, None)
            }
            Verdict::AcceptedEvent(event) => {
                batch.link(event.seq, &event.hash);
                batch.accepted_here.insert(event.seq, i);
                batch.events_here.push(*event);
                (RecordStatus::Accepted, None, None)
            }
            Verdict::Duplicate => (RecordStatus::Duplicate, None, None),
            Verdict::Rejected(reason, detail) => {
                batch.keep_evidence(up, reason, &detail, false)?;
                (RecordStatus::Rejected, Some(reason), Some(detail))
            }
            Verdict::RejectedLink(reason, detail) => {
                batch.keep_evidence(up, reason, &detail, true)?;
                batch.link(up.seq, &pre.hash);
                (RecordStatus::Rejected, Some(reason), Some(detail))
            }
        };
        results.push(RecordResult {
            seq: up.seq,
            status,
            reason,
            detail,
        });
    }
    // All accepted rows in one go, and the head once: the same end state as
    // record by record, since nothing else sees this transaction meanwhile.
    let new: Vec<NewPunch<'_>> = accepted
        .iter()
        .map(|(info, i)| NewPunch {
            info,
            record: &records[*i].record,
            signature: &records[*i].signature,
        })
        .collect();
    tx.insert_punches(&new)?;
    for event in &batch.events_here {
        tx.insert_event(event)?;
    }
    let (head_seq, head_hash) = (
        batch.cursor.head_seq(),
        batch.cursor.head_hash().to_string(),
    );
    if head_seq != device.head_seq {
        tx.set_head(&device.device_id, head_seq, &head_hash)?;
    }
    if let Some(level) = batch.punch_key_assurance {
        tx.set_punch_key(&device.device_id, &batch.punch_key, level.as_str())?;
    }
    if let Some(ack_id) = batch.applied_break {
        tx.people().mark_chain_ack_applied(ack_id, now_ms)?;
    }
    Ok(IngestOutcome {
        key_rotation_pending: batch.rotation_pending,
        results,
        head_seq,
        head_hash,
    })
}
