//! Files for make-up requests: kept on the device until the server has
//! them (the request signs only their hash, size and type).

use punch_model::ledger::signing::sha256;
use punch_model::rules::makeup::{Attachment, MakeUpRefusal, MakeUpRules};

use crate::device::DeviceContext;
use crate::error::{PunchError, Result};
use crate::store::AttachmentRow;

/// Keeps `body` for upload and returns what a request names it by.
pub(crate) fn attach(
    device: &DeviceContext,
    rules: &MakeUpRules,
    body: Vec<u8>,
    media_type: &str,
) -> Result<Attachment> {
    let size_bytes = body.len() as u64;
    if size_bytes > rules.max_attachment_bytes {
        return Err(PunchError::MakeUp(MakeUpRefusal::AttachmentTooLarge {
            size_bytes,
            max: rules.max_attachment_bytes,
        }));
    }
    let media_type = media_type.trim();
    if media_type.is_empty() || media_type.len() > 128 || media_type.chars().any(char::is_control) {
        return Err(PunchError::UnknownReference {
            what: "media type",
            id: media_type.chars().take(64).collect(),
        });
    }
    let hash = hex::encode(sha256(&body));
    let row = AttachmentRow {
        sha256: hash.clone(),
        media_type: media_type.to_string(),
        body,
    };
    device.db.save_attachment(&row, device.now().wall_time_ms)?;
    Ok(Attachment {
        sha256: hash,
        size_bytes,
        media_type: row.media_type,
    })
}
