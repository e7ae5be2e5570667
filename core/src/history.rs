//! The device's own records read back: history pages checked against
//! their signed bytes, and the whole chain walked again.

use punch_model::ledger::chain::{ChainReport, ChainWalker, CopiedColumns};
use punch_model::ledger::event::ChainEntry;
use punch_model::ledger::signing::{self, sha256};

use crate::device::DeviceContext;
use crate::error::Result;
use crate::store::StoredPunch;

/// Stored punches after `after_seq`, oldest first, each checked.
pub(crate) fn punches_after(
    device: &DeviceContext,
    after_seq: u64,
    limit: u32,
) -> Result<Vec<StoredPunch>> {
    let rows = device.db.punches_after(after_seq, limit)?;
    Ok(rows.into_iter().map(|row| verified(device, row)).collect())
}

/// Stored punches before `before_seq` (from the newest when None), newest
/// first, each checked.
pub(crate) fn punches_before(
    device: &DeviceContext,
    before_seq: Option<u64>,
    limit: u32,
) -> Result<Vec<StoredPunch>> {
    let rows = device.db.punches_before(before_seq, limit)?;
    Ok(rows.into_iter().map(|row| verified(device, row)).collect())
}

/// The row as its signed bytes say, checked (hash, signature, seq, device).
pub(crate) fn verified(device: &DeviceContext, mut row: StoredPunch) -> StoredPunch {
    let keys = device.keys();
    let authentic = sha256(&row.record)[..] == row.hash[..]
        && signing::verify(
            keys.key_for(row.seq, &row.record),
            &row.record,
            &row.signature,
        )
        .is_ok();
    if let (true, Ok(record)) = (authentic, ChainEntry::from_bytes(&row.record)) {
        row.verified = record.seq() == row.seq && record.device_id() == device.device_id;
        row.punch_id = record.id().to_string();
        row.kind = record.kind_column();
        row.wall_time_ms = record.wall_time_ms();
        row.decision = record.decision_column();
    }
    row
}

/// Re-checks every stored record: hash, signature, sequence, links.
pub(crate) fn verify_chain(device: &DeviceContext) -> Result<ChainReport> {
    device.db.with_store(|store| {
        let segments = store
            .segment_starts()?
            .into_iter()
            .map(|s| (s.start_seq, s.anchored_seq, hex::encode(s.anchored_hash)))
            .collect();
        let keys = device.keys();
        let mut walker =
            ChainWalker::new(&keys.enrolled_punch_key, &device.device_id).with_segments(segments);
        if let Some(channel) = &keys.channel_key {
            walker = walker.with_channel_key(channel);
        }
        store.for_each_purged(|seq, hash| walker.purged(seq, hash))?;
        store.for_each_punch(|p| {
            let copied = CopiedColumns {
                punch_id: &p.punch_id,
                kind: &p.kind,
                wall_time_ms: p.wall_time_ms,
                decision: &p.decision,
            };
            walker.next(p.seq, &p.record, &p.signature, &p.hash, Some(&copied));
        })?;
        let head = store.recorded_head()?;
        Ok(walker.finish(head))
    })
}
