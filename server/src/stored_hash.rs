//! The hash of the record the server holds at (device, seq): what a
//! re-sent record (ingest) and a stated head (`heads`) are compared with.
//! Once retention or an erasure emptied the bytes or removed the row, the
//! hash kept in their place still answers; empty bytes never do.

use punch_model::ledger::signing::sha256;

use crate::error::Result;
use crate::store::StoreTx;

/// Hex SHA-256 of the record held at (device, seq), None if none is.
/// `read`: the bytes the caller already read there, if it did (ingest reads
/// a batch's in one query); empty or absent, the kept hash is asked for.
pub fn at(
    tx: &dyn StoreTx,
    device_id: &str,
    seq: u64,
    read: Option<&[u8]>,
) -> Result<Option<String>> {
    match read.filter(|bytes| !bytes.is_empty()) {
        Some(bytes) => Ok(Some(hex::encode(sha256(bytes)))),
        None => tx.chain().kept_hash(device_id, seq),
    }
}
