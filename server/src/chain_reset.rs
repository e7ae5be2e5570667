//! The acknowledged chain break, on the server: HR's acknowledgement
//! (`admin_api::chain_breaks`) is told to the device on its next exchange
//! ([`pending`] → `wire::ChainReset` in the time and upload answers), and
//! ingest then accepts, once, a record that skips the refused seqs and
//! links to the acknowledged head ([`acknowledged_break`]). The refused records stay
//! in the evidence table.

use punch_model::ledger::chain_walk::AcknowledgedBreak;
use punch_model::wire::ChainReset;

use crate::error::Result;
use crate::store::people::ChainAckRow;
use crate::store::{DeviceInfo, StoreTx};

/// The device's acknowledgement not yet used, if it still matches the
/// accepted head (a head that moved since makes it moot).
pub fn pending(tx: &dyn StoreTx, device: &DeviceInfo) -> Result<Option<ChainAckRow>> {
    Ok(tx
        .people()
        .latest_chain_ack(&device.device_id)?
        .filter(|a| a.applied_at_ms.is_none())
        .filter(|a| a.head_seq == device.head_seq && a.head_hash == device.head_hash))
}

/// What the device is told.
pub fn notice(ack: &ChainAckRow) -> ChainReset {
    ChainReset {
        ack_id: ack.id,
        head_seq: ack.head_seq,
        head_hash: ack.head_hash.clone(),
        acknowledged_at_ms: ack.at_ms,
    }
}

/// The acknowledgement as the chain walk takes it: the record after the
/// acknowledged head may jump over the refused seqs and link to it.
pub fn acknowledged_break(ack: &ChainAckRow) -> AcknowledgedBreak {
    AcknowledgedBreak {
        id: ack.id,
        anchor_seq: ack.head_seq,
        anchor_hash: ack.head_hash.clone(),
        start_seq: None,
    }
}

/// Records HR's acknowledgement of `device_id`'s break at the head the
/// server accepted. Refuses a device with no refused records.
pub fn acknowledge(
    tx: &dyn StoreTx,
    device: &DeviceInfo,
    by: &str,
    reason: &str,
    now_ms: i64,
) -> Result<(ChainAckRow, usize)> {
    let refused =
        usize::try_from(tx.refusals().refused_count(&device.device_id)?).unwrap_or(usize::MAX);
    if refused == 0 {
        return Err(crate::error::ServerError::Invalid(
            "this device has no refused records: nothing to acknowledge".into(),
        ));
    }
    let mut ack = ChainAckRow {
        id: 0,
        device_id: device.device_id.clone(),
        head_seq: device.head_seq,
        head_hash: device.head_hash.clone(),
        reason: reason.to_string(),
        acknowledged_by: by.to_string(),
        at_ms: now_ms,
        applied_at_ms: None,
    };
    ack.id = tx.people().insert_chain_ack(&ack)?;
    Ok((ack, refused))
}
