//! Photos taken at punches, on the server: the same rule as the phone
//! (`punch_model::rules::photo::photo_required`) judged on the stored
//! record, a review flag when the policy required a photo the record does
//! not name, and the upload of the bytes, kept only when a stored punch of
//! the same employee names them, at the size it signed, within the limit of
//! the policy it names.

use punch_model::ledger::record::PunchRecord;
use punch_model::ledger::review::ReviewFlag;
use punch_model::rules::photo::{PhotoError, check_photo};
use punch_model::rules::photo_rule::{DeviceFacts, photo_required};
use punch_model::rules::policy::PreparedPolicy;

use crate::error::Result;
use crate::policy_publish;
use crate::store::photos::PunchPhotoRow;
use crate::store::{AttachmentRow, StoreTx};

/// `photo_missing` when the policy required a photo for `record` (judged on
/// its opened evaluation) and it names none.
pub(crate) fn missing_flag(
    policy: &PreparedPolicy,
    record: &PunchRecord,
    facts: &DeviceFacts,
) -> Option<ReviewFlag> {
    let reasons = photo_required(&policy.policy.settings.photo, &record.evaluation, facts);
    (record.photo.is_none() && !reasons.is_empty()).then_some(ReviewFlag::PhotoMissing { reasons })
}

/// Notes the photo a stored punch (device, seq) names, so its bytes are
/// taken when they arrive.
pub(crate) fn note(
    tx: &dyn StoreTx,
    record: &PunchRecord,
    device_id: &str,
    seq: u64,
    now_ms: i64,
) -> Result<()> {
    let Some(photo) = &record.photo else {
        return Ok(());
    };
    tx.photos().note_punch_photo(&PunchPhotoRow {
        employee_id: record.employee_id.clone(),
        sha256: photo.sha256.to_ascii_lowercase(),
        device_id: device_id.to_string(),
        seq,
        size_bytes: photo.size_bytes,
        media_type: photo.media_type.clone(),
        policy_version: record.policy_version,
        noted_at_ms: now_ms,
    })
}

/// Why an uploaded photo was refused (the record that names it stays).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PhotoRefused {
    /// `size_mismatch`, `too_large` or `not_an_image` (`ErrorResponse::reason`).
    pub reason: &'static str,
    pub message: String,
}

/// Keeps `body` (already known to hash to `sha256`) as the photo of
/// `employee_id`'s punch naming it. None: no punch names it (it may be a
/// request's file).
pub(crate) fn store_upload(
    tx: &dyn StoreTx,
    employee_id: &str,
    sha256: &str,
    body: &[u8],
    now_ms: i64,
) -> Result<Option<std::result::Result<(), PhotoRefused>>> {
    let Some(named) = tx.photos().punch_photo(employee_id, sha256)? else {
        return Ok(None);
    };
    let size = body.len() as u64;
    if size != named.size_bytes {
        return Ok(Some(Err(PhotoRefused {
            reason: "size_mismatch",
            message: format!("the punch names {} bytes, {size} arrived", named.size_bytes),
        })));
    }
    let settings = policy_publish::published_policy(tx, named.policy_version)?
        .map(|p| p.settings.photo)
        .unwrap_or_default();
    if let Err(e) = check_photo(&settings, size, &named.media_type) {
        return Ok(Some(Err(PhotoRefused {
            reason: match e {
                PhotoError::TooLarge { .. } => "too_large",
                _ => "not_an_image",
            },
            message: e.to_string(),
        })));
    }
    tx.events().insert_attachment(&AttachmentRow {
        sha256: sha256.to_string(),
        employee_id: employee_id.to_string(),
        body: body.to_vec(),
        received_at_ms: now_ms,
    })?;
    Ok(Some(Ok(())))
}
