//! A device's chain as stored, punches and events alike: the signed bytes at
//! one or several seqs (opened if sealed at rest), the hash kept at one seq
//! even once retention purged the bytes, and the whole chain in seq order,
//! purged links with only their hash (what `admin verify-chain` walks). One
//! trait apart from [`crate::store::StoreTx`] (reached through
//! `StoreTx::chain`).

use std::collections::HashMap;

use crate::error::Result;

/// One link of a device's stored chain.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainRow {
    pub seq: u64,
    /// Empty once retention purged it.
    pub record: Vec<u8>,
    pub signature: Vec<u8>,
    /// Hex SHA-256 of the record as received.
    pub hash: String,
}

/// This transaction's view of the stored chains.
pub trait ChainTx {
    /// The stored bytes at (device, seq), punch or event, if accepted and
    /// not purged.
    fn punch_bytes(&self, device_id: &str, seq: u64) -> Result<Option<Vec<u8>>>;
    /// The stored bytes of several seqs of one device (absent: not stored).
    fn punch_bytes_many(&self, device_id: &str, seqs: &[u64]) -> Result<HashMap<u64, Vec<u8>>>;
    /// The hash kept for (device, seq) — of an accepted punch or event, or
    /// of a punch row retention removed — even once its bytes are purged.
    fn kept_hash(&self, device_id: &str, seq: u64) -> Result<Option<String>>;
    /// A device's chain as stored (punches and events), in seq order:
    /// purged or erased records with empty bytes and only their hash.
    fn chain_rows(&self, device_id: &str) -> Result<Vec<ChainRow>>;
}
