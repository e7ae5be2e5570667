//! Photos go up after the punch that names them: the server keeps only a
//! photo a stored punch of the same employee names, at the size it names.

use punch_model::ledger::signing::sha256;
use punch_model::wire::{self, AttachmentStored};

use crate::error::PunchError;
use crate::store::{PhotoRow, Sealing};
use crate::sync::SyncReport;
use crate::sync::requests::{CallFailure, Session, parse_answer};

/// A photo no stored punch names after this long was left by a crash
/// between keeping it and signing its punch: dropped.
const ORPHAN_AFTER_MS: i64 = 24 * 60 * 60 * 1000;

/// Uploads the photos of acknowledged punches; each one the server has is
/// emptied here. One the server refuses for good (its limit changed, say)
/// stays, and is offered again at the next sync: nothing is dropped.
pub(crate) fn upload_photos(
    session: &Session<'_>,
    report: &mut SyncReport,
) -> Result<(), CallFailure> {
    let device = session.device;
    let now = device.now().wall_time_ms;
    let photos = device
        .db
        .photos_to_upload(now.saturating_sub(ORPHAN_AFTER_MS))?;
    if photos.is_empty() {
        return Ok(());
    }
    let sealing = device.db.sealing();
    for photo in photos {
        let sha = photo.sha256.clone();
        let Some(bytes) = opened(&sealing, photo) else {
            // Sealed under a key this phone lost: the server cannot get it
            // from here; the record still says a photo was taken.
            continue;
        };
        if hex::encode(sha256(&bytes)) != sha {
            return Err(CallFailure::Local(PunchError::CorruptState(format!(
                "photo {sha} no longer matches its hash"
            ))));
        }
        let path = format!("{}/{}", wire::PATH_ATTACHMENTS, sha);
        match session.call("PUT", &path, bytes, report) {
            Ok(response) => {
                let stored: AttachmentStored = parse_answer(&response)?;
                if stored.sha256 != sha {
                    return Err(CallFailure::bad_response(
                        "the server stored another photo".into(),
                    ));
                }
                device.db.mark_photo_uploaded(&sha)?;
            }
            Err(CallFailure::Permanent(_)) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(())
}

/// The photo's bytes, opened with the data key when sealed.
fn opened(sealing: &Sealing, photo: PhotoRow) -> Option<Vec<u8>> {
    if !photo.sealed {
        return Some(photo.body);
    }
    match sealing {
        Sealing::Ready(key) => key
            .open_bytes(&super::context(&photo.sha256), &photo.body)
            .ok(),
        Sealing::Off | Sealing::Unavailable { .. } => None,
    }
}
