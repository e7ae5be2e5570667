//! What the batch does with each verdict (the device's answer, the chain's
//! head, refusals kept as evidence), and its one write at the end.

use punch_model::ledger::record::PunchRecord;
use punch_model::ledger::signing;
use punch_model::text::serde_name;
use punch_model::wire::{RecordResult, RecordStatus, RejectReason, UploadRecord};

use super::judge::Verdict;
use super::precheck::Prechecked;
use super::{Batch, IngestOutcome};
use crate::error::Result;
use crate::evidence;
use crate::store::{NewPunch, RejectedInfo};

impl Batch<'_> {
    /// Takes the verdict on record `i` into the batch: the answer for the
    /// device, or `None` when it is held (it and everything after wait, and
    /// the device sends them again).
    pub(super) fn record(
        &mut self,
        i: usize,
        pre: &Prechecked,
        verdict: Verdict,
    ) -> Result<Option<RecordResult>> {
        let up = &self.records[i];
        let (status, reason, detail) = match verdict {
            Verdict::Held => return Ok(None),
            Verdict::Accepted(info) => {
                self.advance(info.seq, &info.hash);
                self.accepted_here.insert(info.seq, i);
                self.locations
                    .insert(info.punch_id.clone(), (info.device_id.clone(), info.seq));
                self.accepted.push((info, i));
                (RecordStatus::Accepted, None, None)
            }
            Verdict::AcceptedEvent(event) => {
                self.advance(event.seq, &event.hash);
                self.accepted_here.insert(event.seq, i);
                self.events_here.push(*event);
                (RecordStatus::Accepted, None, None)
            }
            Verdict::Duplicate => (RecordStatus::Duplicate, None, None),
            Verdict::Rejected(reason, detail) => {
                self.keep_evidence(up, reason, &detail, false)?;
                (RecordStatus::Rejected, Some(reason), Some(detail))
            }
            Verdict::RejectedLink(reason, detail) => {
                self.keep_evidence(up, reason, &detail, true)?;
                self.advance(up.seq, &pre.hash);
                (RecordStatus::Rejected, Some(reason), Some(detail))
            }
        };
        Ok(Some(RecordResult {
            seq: up.seq,
            status,
            reason,
            detail,
        }))
    }

    /// The record at `seq` with hex `hash` is now a link of the chain (an
    /// accepted punch or event, or a refusal the head moves past).
    fn advance(&mut self, seq: u64, hash: &str) {
        if let Some(applied) = self.cursor.advance(seq, hash) {
            self.applied_break = Some(applied.id);
        }
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
            self.tx.refusals().record_rejected(&info)
        } else {
            evidence::keep(self.tx, &self.punch_key, &info, self.now_ms).map(|_| ())
        }
    }

    /// Writes what the batch accepted, and the head once: the same end
    /// state as record by record, since nothing else sees this transaction
    /// meanwhile.
    pub(super) fn write(self, results: Vec<RecordResult>) -> Result<IngestOutcome> {
        let new: Vec<NewPunch<'_>> = self
            .accepted
            .iter()
            .map(|(info, i)| NewPunch {
                info,
                record: &self.records[*i].record,
                signature: &self.records[*i].signature,
            })
            .collect();
        self.tx.punches().insert_punches(&new)?;
        for event in &self.events_here {
            self.tx.events().insert_event(event)?;
        }
        let (head_seq, head_hash) = (self.cursor.head_seq(), self.cursor.head_hash().to_string());
        if head_seq != self.device.head_seq {
            self.tx
                .devices()
                .set_head(self.device_id, head_seq, &head_hash)?;
        }
        if let Some(level) = self.punch_key_assurance {
            self.tx
                .devices()
                .set_punch_key(self.device_id, &self.punch_key, level.as_str())?;
        }
        if let Some(ack_id) = self.applied_break {
            self.tx
                .people()
                .mark_chain_ack_applied(ack_id, self.now_ms)?;
        }
        Ok(IngestOutcome {
            key_rotation_pending: self.rotation_pending,
            results,
            head_seq,
            head_hash,
        })
    }
}
