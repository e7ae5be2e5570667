//! The device's own records read back: history pages checked against
//! their signed bytes, and the whole chain walked again.

use punch_model::ledger::chain::{ChainReport, CopiedColumns};
use punch_model::ledger::chain_walk::{AcknowledgedBreak, ChainWalk, Link, LinkBody};
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

/// Re-checks every stored record: hash, signature, sequence, links; the
/// hashes kept of purged records in their place in the sequence.
pub(crate) fn verify_chain(device: &DeviceContext) -> Result<ChainReport> {
    device.db.with_store(|store| {
        let breaks = store
            .segment_starts()?
            .into_iter()
            .map(|s| AcknowledgedBreak {
                id: s.ack_id,
                anchor_seq: s.anchored_seq,
                anchor_hash: hex::encode(s.anchored_hash),
                start_seq: Some(s.start_seq),
            })
            .collect();
        let keys = device.keys();
        let mut walk =
            ChainWalk::new(&keys.enrolled_punch_key, &device.device_id).with_breaks(breaks);
        if let Some(channel) = &keys.channel_key {
            walk = walk.with_channel_key(channel);
        }
        // Purged records are few (a seq and a hash each): merged by seq into
        // the stored ones, which stream without being loaded all at once.
        let mut purged = Vec::new();
        store.for_each_purged(|seq, hash| purged.push((seq, hash.to_vec())))?;
        let mut purged = purged.into_iter().peekable();
        store.for_each_punch(|p| {
            while let Some((seq, hash)) = purged.next_if(|(seq, _)| *seq <= p.seq) {
                walk.next(Link {
                    seq,
                    body: LinkBody::Purged { hash: &hash },
                });
            }
            let copied = CopiedColumns {
                punch_id: &p.punch_id,
                kind: &p.kind,
                wall_time_ms: p.wall_time_ms,
                decision: &p.decision,
            };
            walk.next(Link {
                seq: p.seq,
                body: LinkBody::Stored {
                    bytes: &p.record,
                    signature: &p.signature,
                    hash: &p.hash,
                    copied: Some(copied),
                },
            });
        })?;
        for (seq, hash) in purged {
            walk.next(Link {
                seq,
                body: LinkBody::Purged { hash: &hash },
            });
        }
        let head = store.recorded_head()?;
        Ok(walk.finish(head))
    })
}
