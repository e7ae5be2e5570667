//! What an upload's admission and ingest read about a device beyond the
//! chain's own operations, each question in one statement (one round trip
//! on PostgreSQL, where an upload's cost is mostly round trips). One trait
//! apart from [`crate::store::StoreTx`] (reached through
//! `StoreTx::ingest_batch`).

use crate::error::Result;

/// What a head the device states at a seq is checked against (`heads`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeadStanding {
    /// The highest seq the device ever stated.
    pub highest_stated: Option<u64>,
    /// The hash it stated at this seq before, if it did.
    pub stated_here: Option<String>,
    /// The hash of the record held at this seq (kept after a purge).
    pub held_here: Option<String>,
}

/// This transaction's reads for an upload.
pub trait IngestBatchTx {
    /// The device's head statements and held record at `seq`, in one read.
    fn head_standing(&self, device_id: &str, seq: u64) -> Result<HeadStanding>;
    /// The seq of the device's key rotation waiting for HR, if one is (by
    /// the device's key, never a scan of every event).
    fn pending_rotation_seq(&self, device_id: &str) -> Result<Option<u64>>;
}
