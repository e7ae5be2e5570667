//! Head statements: every request the phone sends is signed together with
//! its chain head (seq, hash). The server remembers every head a device
//! stated, so a tail deleted or rewritten after it was stated shows: a head
//! that goes backwards is a `rollback`, another record at a stated seq a
//! `fork`; both are kept as evidence (the signed statement itself).

use punch_model::ledger::signing::sha256;
use punch_model::text::serde_name;
use punch_model::wire::{HeadStatement, RejectReason};

use crate::error::Result;
use crate::evidence;
use crate::store::{DeviceInfo, RejectedInfo, StoreTx};

/// Records `head` (stated in a request the device signed: `signed_bytes`
/// with `signature`), keeping evidence when it contradicts an earlier
/// statement or a stored record. Never refuses the request: the device
/// still uploads what it has.
pub fn record_statement(
    tx: &dyn StoreTx,
    device: &DeviceInfo,
    head: &HeadStatement,
    signed_bytes: &[u8],
    signature: &[u8],
    now_ms: i64,
) -> Result<()> {
    let evidence = |reason: RejectReason, detail: String| -> Result<()> {
        evidence::keep_authentic(
            tx,
            &RejectedInfo {
                id: 0,
                device_id: device.device_id.clone(),
                seq: head.seq,
                punch_id: None,
                employee_id: Some(device.employee_id.clone()),
                claimed_employee_id: None,
                reason: serde_name(&reason),
                detail,
                hash: hex::encode(sha256(signed_bytes)),
                record: signed_bytes.to_vec(),
                signature: signature.to_vec(),
                attempts: 1,
                first_received_at_ms: now_ms,
                last_received_at_ms: now_ms,
            },
            now_ms,
        )
        .map(|_| ())
    };
    // Everything the checks below compare with, in one read.
    let standing = tx
        .ingest_batch()
        .head_standing(&device.device_id, head.seq)?;
    if let Some(top) = standing.highest_stated
        && head.seq < top
    {
        evidence(
            RejectReason::Rollback,
            format!("device stated head {} after having stated {top}", head.seq),
        )?;
    }
    // Against the hash held there (kept after a purge), never empty bytes.
    if head.seq > 0
        && let Some(held) = &standing.held_here
        && !held.eq_ignore_ascii_case(&head.hash)
    {
        evidence(
            RejectReason::Fork,
            format!(
                "device stated {} but the server holds another record at that seq",
                head
            ),
        )?;
    }
    match standing.stated_here {
        Some(stated) if stated != head.hash => evidence(
            RejectReason::Fork,
            format!(
                "device stated seq {} as {stated} before, now as {}",
                head.seq, head.hash
            ),
        )?,
        Some(_) => {}
        None => tx.head_statements().insert_head_statement(
            &device.device_id,
            head.seq,
            &head.hash,
            now_ms,
        )?,
    }
    Ok(())
}

/// The hash this device once stated at `seq`, when it differs from `hash`.
pub fn contradicts(
    tx: &dyn StoreTx,
    device_id: &str,
    seq: u64,
    hash: &str,
) -> Result<Option<String>> {
    Ok(tx
        .head_statements()
        .head_statement(device_id, seq)?
        .filter(|stated| stated != hash))
}
