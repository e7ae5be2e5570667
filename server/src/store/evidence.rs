//! How much refused evidence each device left per day (`crate::evidence`):
//! rows stored and junk records dropped, so a device cannot fill the
//! database. One trait apart from [`crate::store::StoreTx`] (reached through
//! `StoreTx::evidence`).

use crate::error::Result;

/// This transaction's evidence counters.
pub trait EvidenceTx {
    /// Evidence rows stored and junk records dropped for the device on `day`
    /// (days since the epoch, UTC).
    fn evidence_counter(&self, device_id: &str, day: i64) -> Result<(u64, u64)>;
    /// Adds to the device's counters for `day`.
    fn bump_evidence_counter(
        &self,
        device_id: &str,
        day: i64,
        stored: u64,
        dropped: u64,
    ) -> Result<()>;
}
