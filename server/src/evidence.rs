//! Keeping refused records as evidence, without letting a device fill the
//! disk: only bytes whose signature verifies under the device's key are kept
//! (anything else proves nothing and is only counted), and at most
//! [`MAX_EVIDENCE_PER_DAY`] rows per device per day; beyond that, a count.

use punch_model::ledger::chain;

use crate::error::Result;
use crate::store::{RejectedInfo, StoreTx};

/// Evidence rows one device may add per UTC day.
pub const MAX_EVIDENCE_PER_DAY: u64 = 1_000;
const DAY_MS: i64 = 86_400_000;

/// Whether the row was stored (false: counted only).
pub fn keep(tx: &dyn StoreTx, public_key: &[u8], info: &RejectedInfo, now_ms: i64) -> Result<bool> {
    let authentic =
        chain::verify_signature(public_key, &info.device_id, &info.record, &info.signature).is_ok();
    if !authentic {
        tx.evidence()
            .bump_evidence_counter(&info.device_id, now_ms.div_euclid(DAY_MS), 0, 1)?;
        return Ok(false);
    }
    keep_authentic(tx, info, now_ms)
}

/// Evidence whose authenticity is already established (a signed request's
/// statement, a verified link the chain went past): stored, but still capped.
pub fn keep_authentic(tx: &dyn StoreTx, info: &RejectedInfo, now_ms: i64) -> Result<bool> {
    let day = now_ms.div_euclid(DAY_MS);
    let (stored, _) = tx.evidence().evidence_counter(&info.device_id, day)?;
    if stored >= MAX_EVIDENCE_PER_DAY {
        tx.evidence()
            .bump_evidence_counter(&info.device_id, day, 0, 1)?;
        return Ok(false);
    }
    tx.refusals().record_rejected(info)?;
    tx.evidence()
        .bump_evidence_counter(&info.device_id, day, 1, 0)?;
    Ok(true)
}
