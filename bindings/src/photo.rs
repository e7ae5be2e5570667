//! A photo at the punch for Kotlin and Swift: ask whether the employer's
//! policy wants one (`photo_required`), or punch and catch
//! `PunchError::PhotoRequired`; then punch again with the photo the app
//! captured (`punch_with_photo`). No thread waits on the user: the camera
//! runs between two calls. The photo is sealed on the device like the
//! punch's evidence, its SHA-256 signed into the record, uploaded after it.
//! `biometric_verified` is the platform prompt's result, signed too.

use crate::client::PunchClient;
use crate::error::PunchError;
use crate::types::{Evidence, PunchKind, PunchReceipt};

/// A photo the app captured for a punch.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PunchPhoto {
    /// The encoded image (JPEG, HEIC, PNG), within the policy's size limit.
    pub bytes: Vec<u8>,
    /// `image/jpeg`, `image/heic`, `image/png`...
    pub media_type: String,
}

/// Why the employer's policy wants a photo for this punch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PhotoReason {
    /// Every punch.
    Always,
    /// The device's first punch.
    NewDevice,
    /// The punch is judged `review`.
    Review,
    /// The location was reported as simulated.
    MockLocation,
    /// Impossible travel since the last punch.
    ImpossibleTravel,
    /// The punch key is a software key.
    SoftwareKey,
}

/// Why a photo given with a punch was refused (nothing was stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PhotoProblem {
    /// Over the policy's size limit: re-encode it smaller.
    TooLarge,
    Empty,
    /// The media type is not `image/…`.
    NotAnImage,
}

impl From<punch_core::PhotoReason> for PhotoReason {
    fn from(r: punch_core::PhotoReason) -> Self {
        use punch_model::rules::photo::PhotoTrigger as T;
        match r {
            punch_core::PhotoReason::Always => PhotoReason::Always,
            punch_core::PhotoReason::StepUp(T::NewDevice) => PhotoReason::NewDevice,
            punch_core::PhotoReason::StepUp(T::Review) => PhotoReason::Review,
            punch_core::PhotoReason::StepUp(T::MockLocation) => PhotoReason::MockLocation,
            punch_core::PhotoReason::StepUp(T::ImpossibleTravel) => PhotoReason::ImpossibleTravel,
            punch_core::PhotoReason::StepUp(T::SoftwareKey) => PhotoReason::SoftwareKey,
        }
    }
}

impl From<&punch_core::PhotoError> for PhotoProblem {
    fn from(e: &punch_core::PhotoError) -> Self {
        match e {
            punch_core::PhotoError::TooLarge { .. } => PhotoProblem::TooLarge,
            punch_core::PhotoError::Empty => PhotoProblem::Empty,
            // A bad hash is never ours to make; anything else: not an image.
            _ => PhotoProblem::NotAnImage,
        }
    }
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
