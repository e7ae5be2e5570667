//! A photo at the punch for Kotlin and Swift: ask whether the employer's
//! policy wants one (`photo_required`), or punch and catch
//! `PunchError::PhotoRequired`; then punch again with the photo the app
//! captured (`punch_with_photo`). No thread waits on the user: the camera
//! runs between two calls. The photo is sealed on the device like the
//! punch's evidence, its SHA-256 signed into the record, uploaded after it.
//! `biometric_verified` is the platform prompt's result, signed too.

use crate::client::PunchClient;
use crate::error::PunchError;
use crate::types::{Evidence, PhotoReason, PunchKind, PunchReceipt};

/// A photo the app captured for a punch.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PunchPhoto {
    /// The encoded image (JPEG, HEIC, PNG), within the policy's size limit.
    pub bytes: Vec<u8>,
    /// `image/jpeg`, `image/heic`, `image/png`...
    pub media_type: String,
}

#[uniffi::export]
impl PunchClient {
    /// Why the policy would want a photo for a punch of `kind` with
    /// `evidence` now (empty: none). Stores nothing: open the camera before
    /// `punch_with_photo` when this is not empty.
    pub async fn photo_required(
        &self,
        kind: PunchKind,
        evidence: Evidence,
    ) -> Result<Vec<PhotoReason>, PunchError> {
        self.run(move |engine| {
            Ok(engine
                .photo_required(kind.into(), &evidence.into())?
                .into_iter()
                .map(PhotoReason::from)
                .collect())
        })
        .await
    }

    /// `punch`, with the photo the app captured (None: none) and the
    /// platform biometric prompt's result just before (None: no prompt
    /// ran). Both are signed into the record; the photo is sealed on the
    /// device and uploads after the record.
    pub async fn punch_with_photo(
        &self,
        kind: PunchKind,
        evidence: Evidence,
        photo: Option<PunchPhoto>,
        biometric_verified: Option<bool>,
    ) -> Result<PunchReceipt, PunchError> {
        self.run_for_user(move |engine| {
            let extras = punch_core::PunchExtras {
                photo: photo.map(|p| punch_core::PunchPhoto {
                    bytes: p.bytes,
                    media_type: p.media_type,
                }),
                biometric_verified,
            };
            Ok(engine
                .punch_with(kind.into(), &evidence.into(), extras)?
                .into())
        })
        .await
    }
}
