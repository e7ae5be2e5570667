//! One record's judgement, top-down: where it sits in the chain, whose key
//! signed it, whether it links to the head, whether its contents can be
//! taken, under which policy; then a punch or an event is judged on its own
//! terms ([`super::punch`], [`super::event`]). Each step either hands its
//! finding to the next or stops with the record's verdict.

use std::sync::Arc;

use punch_model::ledger::chain::{self, ChainProblem};
use punch_model::ledger::event::ChainEntry;
use punch_model::ledger::key_rotation::KeyRole;
use punch_model::ledger::record::{RECORD_FORMAT, RecordCheck};
use punch_model::rules::policy::PreparedPolicy;
use punch_model::wire::{RejectReason, UploadRecord};

use super::Batch;
use super::precheck::Prechecked;
use super::time::judge_time;
use crate::error::{Result, ServerError};
use crate::store::{StoredEvent, StoredPunchInfo};

/// What became of one record.
pub(super) enum Verdict {
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

/// Why a step ends the judgement early: the record's verdict is known, or
/// the store failed.
pub(super) enum Stop {
    Verdict(Verdict),
    Failed(ServerError),
}

impl From<ServerError> for Stop {
    fn from(e: ServerError) -> Self {
        Stop::Failed(e)
    }
}

/// A step's finding, or why judging stops.
pub(super) type Step<T> = std::result::Result<T, Stop>;

/// Refused, and the chain does not go on past it.
pub(super) fn refuse<T>(reason: RejectReason, detail: impl Into<String>) -> Step<T> {
    Err(Stop::Verdict(Verdict::Rejected(reason, detail.into())))
}

/// Refused, but authentic and continuous: the chain goes on past it.
pub(super) fn refuse_link<T>(reason: RejectReason, detail: impl Into<String>) -> Step<T> {
    Err(Stop::Verdict(Verdict::RejectedLink(reason, detail.into())))
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

fn refuse_problem<T>(problem: &ChainProblem) -> Step<T> {
    refuse(reason_of(problem), problem.to_string())
}

impl Batch<'_> {
    /// Judges one record (`pre`: what was worked out before the lock).
    pub(super) fn judge(&mut self, up: &UploadRecord, pre: &Prechecked) -> Result<Verdict> {
        match self.judge_steps(up, pre) {
            Ok(verdict) | Err(Stop::Verdict(verdict)) => Ok(verdict),
            Err(Stop::Failed(e)) => Err(e),
        }
    }

    fn judge_steps(&mut self, up: &UploadRecord, pre: &Prechecked) -> Step<Verdict> {
        if up.seq == 0 {
            return refuse(RejectReason::Gap, "sequence numbers start at 1");
        }
        if up.seq <= self.cursor.head_seq() {
            return Ok(self.judge_resent(up.seq, &pre.hash)?);
        }
        if self.rotation_pending.is_some() {
            return Ok(Verdict::Held);
        }
        let seq = self.next_seq(up.seq)?;
        self.verify_key(up, pre)?;
        let entry = self.link(pre, up.seq, seq)?;
        self.check_contents(entry)?;
        let policy = self.policy_of(entry)?;
        let time = judge_time(
            &entry.clock(),
            self.device_id,
            &policy.policy.settings,
            self.tokens,
            self.now_ms,
        );
        let hash = pre.hash.clone();
        match entry {
            ChainEntry::Punch(record) => self.accept_punch(record, seq, &policy, time, hash),
            ChainEntry::Event(event) => self.accept_event(up, event, &policy, time, hash),
        }
    }

    /// The seq the chain expects next. After an acknowledged break the
    /// refused seqs are skipped, and the record must link to the
    /// acknowledged head (checked by [`Self::link`]).
    fn next_seq(&self, seq: u64) -> Step<u64> {
        let expected = self.cursor.expect(seq).seq;
        if seq > expected {
            return refuse(
                RejectReason::Gap,
                format!("expected seq {expected}, got {seq}"),
            );
        }
        Ok(expected)
    }

    /// Rotations are the channel key's; every other record the punch key's.
    fn verify_key(&self, up: &UploadRecord, pre: &Prechecked) -> Step<()> {
        let signature = match pre.role {
            KeyRole::Punch if self.signatures_count && !self.rotated_here => pre.signature.clone(),
            KeyRole::Punch => {
                chain::verify_signature(&self.punch_key, self.device_id, &up.record, &up.signature)
            }
            KeyRole::Channel => {
                chain::verify_signature(self.channel_key, self.device_id, &up.record, &up.signature)
            }
        };
        signature.or_else(|problem| refuse_problem(&problem))
    }

    /// The record (sent as `sent_seq`) parsed, linking to the head at
    /// `seq` and never stated otherwise by the device.
    fn link<'p>(&self, pre: &'p Prechecked, sent_seq: u64, seq: u64) -> Step<&'p ChainEntry> {
        // A format this server does not know cannot be checked any further.
        match pre.format {
            Some(found) if found != u64::from(RECORD_FORMAT) => {
                return refuse(
                    RejectReason::UnknownFormat,
                    RecordCheck::UnknownFormat { found }.to_string(),
                );
            }
            _ => {}
        }
        let entry = match &pre.entry {
            Ok(entry) => entry,
            Err(detail) => {
                return refuse_problem(&ChainProblem::Unparseable {
                    detail: detail.clone(),
                });
            }
        };
        if let Err(problem) = chain::check_continuity(
            entry,
            self.device_id,
            seq,
            self.cursor.expect(sent_seq).prev_hash(entry.prev_hash()),
        ) {
            return refuse_problem(&problem);
        }
        // The device once stated another record at this seq: its chain was rewritten.
        if let Some(stated) = self.stated.get(&seq).filter(|stated| **stated != pre.hash) {
            return refuse(
                RejectReason::Fork,
                format!(
                    "the device stated seq {seq} as {stated}; this record is {}",
                    pre.hash
                ),
            );
        }
        Ok(entry)
    }

    /// Authentic and continuous: refused (as a link) if it holds values no
    /// phone produces, or names someone the device may not punch for.
    fn check_contents(&self, entry: &ChainEntry) -> Step<()> {
        if let Err(check) = entry.check_ranges() {
            return refuse_link(RejectReason::OutOfRange, check.to_string());
        }
        // A kiosk's punches name whoever punched: someone assigned to its site
        // (its events name the kiosk account itself).
        if entry.employee_id() != self.employee_id {
            let kiosk_punch = match entry {
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
                return refuse_link(RejectReason::EmployeeMismatch, detail);
            }
        }
        Ok(())
    }

    /// The published policy the record names (prepared once per version).
    fn policy_of(&self, entry: &ChainEntry) -> Step<Arc<PreparedPolicy>> {
        match self.policies.get(self.tx, entry.policy_version())? {
            Some(policy) => Ok(policy),
            None => refuse_link(
                RejectReason::UnknownPolicyVersion,
                format!(
                    "policy version {} was never published",
                    entry.policy_version()
                ),
            ),
        }
    }
}
