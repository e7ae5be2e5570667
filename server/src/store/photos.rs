//! Photos taken at punches (`punch_model::rules::photo`): which stored punch
//! names which photo (hash, size, type), so the attachment route keeps only
//! bytes a signed record asked for. The bytes themselves live with the
//! other attachments (sealed at rest, erased with the employee). One trait
//! apart from [`crate::store::StoreTx`] (reached through `StoreTx::photos`).

use serde::Serialize;

use crate::error::Result;

/// A photo a stored punch names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PunchPhotoRow {
    pub employee_id: String,
    /// Hex SHA-256 of the photo's bytes, as the signed record names it.
    pub sha256: String,
    pub device_id: String,
    pub seq: u64,
    pub size_bytes: u64,
    pub media_type: String,
    /// The policy the punch names (its photo limit applies to the bytes).
    pub policy_version: u64,
    pub noted_at_ms: i64,
}

/// This transaction's photo operations.
pub trait PhotosTx {
    /// Notes that the punch at (device, seq) names a photo (once per
    /// employee and hash: the first punch naming it keeps it).
    fn note_punch_photo(&self, photo: &PunchPhotoRow) -> Result<()>;
    /// The punch photo of `employee_id` with this hash, if a punch names it.
    fn punch_photo(&self, employee_id: &str, sha256: &str) -> Result<Option<PunchPhotoRow>>;
    /// The photo the punch at (device, seq) names, and whether its bytes arrived.
    fn photo_of_punch(&self, device_id: &str, seq: u64) -> Result<Option<(PunchPhotoRow, bool)>>;
    /// Whether any punch from this device is stored (a new device has none).
    fn device_has_punch(&self, device_id: &str) -> Result<bool>;
    /// Removes punch photos' bytes received before `before_ms` (retention);
    /// the record's hash stays. Returns how many.
    fn purge_photos(&self, before_ms: i64) -> Result<u64>;
}
