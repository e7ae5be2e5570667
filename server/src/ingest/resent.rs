//! A record at or below the head: sent again (the device did not hear the
//! answer), or a fork of the chain under it.

use punch_model::wire::RejectReason;

use super::Batch;
use super::judge::Verdict;
use crate::error::Result;
use crate::stored_hash;

impl Batch<'_> {
    /// Judges a record at `seq` (at or below the head) with hex `hash`.
    pub(super) fn judge_resent(&self, seq: u64, hash: &str) -> Result<Verdict> {
        let read = match self.stored.get(&seq) {
            Some(bytes) => Some(bytes.as_slice()),
            None => self
                .accepted_here
                .get(&seq)
                .map(|&i| self.records[i].record.as_slice()),
        };
        // Retention (or an erasure) may have emptied the bytes or removed
        // the row long after they were accepted, keeping their hash: a
        // late re-send is the same record only if it hashes the same,
        // else a fork of the chain under the purge.
        if let Some(held) = stored_hash::at(self.tx, self.device_id, seq, read)? {
            return Ok(if held.eq_ignore_ascii_case(hash) {
                Verdict::Duplicate
            } else if read.is_some_and(|bytes| !bytes.is_empty()) {
                Verdict::Rejected(
                    RejectReason::ConflictingDuplicate,
                    format!("seq {seq} is already stored with other bytes"),
                )
            } else {
                Verdict::Rejected(
                    RejectReason::ConflictingDuplicate,
                    format!(
                        "seq {seq} is already stored with other bytes (purged; kept hash {held}, this record {hash})"
                    ),
                )
            });
        }
        // A refused link the chain went past: the same answer again.
        let link = self
            .tx
            .refusals()
            .refusals_with_hash(self.device_id, seq, hash)?
            .into_iter()
            .find_map(|(reason, detail)| {
                RejectReason::from_name(&reason)
                    .filter(|reason| reason.is_link())
                    .map(|reason| (reason, detail))
            });
        Ok(match link {
            Some((reason, detail)) => Verdict::Rejected(reason, detail),
            None => Verdict::Rejected(
                RejectReason::ConflictingDuplicate,
                format!("seq {seq} was refused before with other bytes"),
            ),
        })
    }
}
