//! What privacy needs from the store (`crate::privacy`, `crate::at_rest`):
//! the outcome of evidence an employee revealed, the data keys devices
//! escrowed, retention's purges, erasure on leaving, and the evidence
//! columns exactly as stored, for sealing old rows and rotating keys. One
//! trait apart from [`crate::store::StoreTx`] (reached through
//! `StoreTx::privacy`).

use serde::Serialize;

use crate::error::Result;
use crate::store::sealable;

/// An employee revealed the exact evidence behind a minimised record, and it
/// matched the commitment: what review found on it (the evidence itself is
/// not kept).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Revelation {
    pub device_id: String,
    pub seq: u64,
    pub employee_id: String,
    /// JSON list of `ReviewFlag` on the exact evidence.
    pub review_flags: String,
    pub revealed_at_ms: i64,
}

/// What retention removes, kind by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurgeKind {
    /// Accepted records' signed bytes (exact locations, Wi-Fi, addresses);
    /// the punch row (times, kind, verdict, site) and its hash stay.
    RecordBytes,
    /// Refused records' bytes (raw evidence); the refusal and hash stay.
    RejectedBytes,
    /// Punch rows themselves; (device, seq, hash) stay in `punch_hashes`.
    Punches,
    /// Audit: the heads devices stated, and the outcomes of revealed evidence.
    HeadStatements,
    Revelations,
}

/// What an erasure removed (rows touched per kind).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ErasureReport {
    pub employee_id: String,
    /// Punch records' signed bytes (location, Wi-Fi, addresses) removed;
    /// the rows (times, kind, verdict, site, review flags) kept for payroll.
    pub record_bytes: u64,
    pub refused_records: u64,
    /// Requests' bodies (reasons, proposals) and bytes; decisions kept.
    pub requests: u64,
    pub attachments: u64,
    pub revelations: u64,
    pub head_statements: u64,
    pub data_keys: u64,
    /// Devices unbound and their platform details removed.
    pub devices: u64,
}

/// This transaction's privacy operations.
pub trait PrivacyTx {
    fn record_revelation(&self, revelation: &Revelation) -> Result<()>;
    fn revelations_of(&self, employee_id: &str) -> Result<Vec<Revelation>>;
    /// A device's data key for sealed payloads (stored as `privacy::keys` seals it).
    fn put_data_key(&self, device_id: &str, key_id: &str, key: &[u8], now_ms: i64) -> Result<()>;
    fn data_key(&self, device_id: &str, key_id: &str) -> Result<Option<Vec<u8>>>;
    /// Retention (`privacy::retention`): removes one kind of data older
    /// than `before_ms`, keeping every hash; answers how many rows.
    fn purge(&self, kind: PurgeKind, before_ms: i64) -> Result<u64>;
    /// Erasure on leaving (`privacy::erase`): removes the employee's
    /// personal data, keeps punch rows (payroll) and every hash.
    fn erase_employee(&self, employee_id: &str, now_ms: i64) -> Result<ErasureReport>;
    /// Up to `limit` values of `column` after the row `after` (None: from
    /// the first), in key order.
    fn stored_values(
        &self,
        column: sealable::SealableColumn,
        after: Option<&sealable::RowKey>,
        limit: u32,
    ) -> Result<Vec<sealable::StoredValue>>;
    /// Replaces one value if it is still `old`; false when it changed
    /// meanwhile (purged, erased) or the row is gone.
    fn replace_value(
        &self,
        column: sealable::SealableColumn,
        row: &sealable::RowKey,
        old: &[u8],
        new: &[u8],
    ) -> Result<bool>;
}
