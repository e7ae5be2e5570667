//! A photo at the punch, when the policy asks (`punch_model::rules::photo`):
//! the engine judges the punch, and when the policy requires a photo and
//! none was given it refuses with [`PunchError::PhotoRequired`] before
//! signing anything (the app takes one and punches again: no thread waits
//! on the user). A given photo is checked against the policy, kept sealed
//! with the data key like the record's payload, and named in the signed
//! record by its SHA-256; it uploads once the server acknowledged that
//! record (`upload`), then its bytes leave the device.
//!
//! No face is matched here: a face template is biometric data under PIPL
//! and GDPR, and the platform's biometric prompt already proves the holder
//! on the device; the record carries whether it preceded the punch
//! ([`PunchExtras::biometric_verified`]).

pub(crate) mod upload;

use punch_model::ledger::sealed::DataKey;
use punch_model::ledger::signing::sha256;
use punch_model::rules::evaluate::Evaluation;
use punch_model::rules::photo::{PhotoReason, PhotoRef, PhotoSettings, check_photo};
use punch_model::rules::photo_rule::{DeviceFacts, photo_required};
use punch_model::rules::policy::PreparedPolicy;

use crate::device::DeviceContext;
use crate::error::{PunchError, Result};
use crate::store::{PhotoRow, Sealing};

/// A photo the app captured for a punch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PunchPhoto {
    /// The encoded image (JPEG, HEIC, PNG...), as the app will keep no copy.
    pub bytes: Vec<u8>,
    /// Its type: `image/jpeg`, `image/heic`, `image/png`...
    pub media_type: String,
}

/// What a punch may carry beyond the evidence.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PunchExtras {
    /// The photo, when the policy asked for one (or the app always takes one).
    pub photo: Option<PunchPhoto>,
    /// The platform's biometric prompt result just before this punch (Some:
    /// it ran, and whether it succeeded); signed into the record.
    pub biometric_verified: Option<bool>,
}

/// A photo kept for a punch about to be signed.
struct KeptPhoto {
    reference: PhotoRef,
}

/// The photo part of one punch: the rule in force, the device's facts, the
/// photo kept (if any) and the biometric result, prepared before the punch
/// is judged; checked against the judgement inside the punch's try.
pub(crate) struct PhotoStep {
    settings: PhotoSettings,
    facts: DeviceFacts,
    kept: Option<KeptPhoto>,
    biometric_verified: Option<bool>,
}

impl PhotoStep {
    /// Checks and keeps the photo in `extras` (sealed when records are)
    /// under `policy`'s rule, and reads this device's facts.
    pub(crate) fn prepare(
        device: &DeviceContext,
        policy: &PreparedPolicy,
        extras: PunchExtras,
    ) -> Result<PhotoStep> {
        let settings = policy.policy.settings.photo.clone();
        let kept = extras
            .photo
            .map(|photo| keep(device, &settings, photo))
            .transpose()?;
        Ok(PhotoStep {
            facts: device_facts(device)?,
            settings,
            kept,
            biometric_verified: extras.biometric_verified,
        })
    }

    /// No photo and no rule: a kiosk punch (its API takes no photo yet; the
    /// server flags a kiosk punch the policy wanted a photo for).
    pub(crate) fn none() -> PhotoStep {
        PhotoStep {
            settings: PhotoSettings::default(),
            facts: DeviceFacts::default(),
            kept: None,
            biometric_verified: None,
        }
    }

    /// Refuses the punch judged `evaluation` when the policy requires a
    /// photo and none was given: nothing is signed or stored.
    pub(crate) fn check(&self, evaluation: &Evaluation) -> Result<()> {
        let reasons = photo_required(&self.settings, evaluation, &self.facts);
        if self.kept.is_none() && !reasons.is_empty() {
            return Err(PunchError::PhotoRequired { reasons });
        }
        Ok(())
    }

    /// What the record signs about the photo.
    pub(crate) fn photo_ref(&self) -> Option<PhotoRef> {
        self.kept.as_ref().map(|k| k.reference.clone())
    }

    /// What the record signs about the platform's biometric prompt.
    pub(crate) fn biometric_verified(&self) -> Option<bool> {
        self.biometric_verified
    }

    /// The punch is durable at `seq` (the photo waits for its upload), or
    /// it failed (None: the photo is dropped, no record names it).
    pub(crate) fn settle(&self, device: &DeviceContext, seq: Option<u64>) -> Result<()> {
        let Some(kept) = &self.kept else {
            return Ok(());
        };
        match seq {
            Some(seq) => device.db.link_photo(&kept.reference.sha256, seq),
            None => device.db.discard_photo(&kept.reference.sha256),
        }
    }
}

/// What this device knows about itself for the photo rule: whether it has
/// punched before, and whether its punch key is a software key.
pub(crate) fn device_facts(device: &DeviceContext) -> Result<DeviceFacts> {
    Ok(DeviceFacts {
        new_device: !device.db.has_punched()?,
        software_key: device.keys().punch.software,
    })
}

/// Why the policy would require a photo for a punch judged `evaluation` on
/// this device (empty: none).
pub(crate) fn reasons_for(
    device: &DeviceContext,
    policy: &PreparedPolicy,
    evaluation: &Evaluation,
) -> Result<Vec<PhotoReason>> {
    Ok(photo_required(
        &policy.policy.settings.photo,
        evaluation,
        &device_facts(device)?,
    ))
}

/// Checks `photo` against the policy and keeps it (sealed when records
/// are) until its punch is signed and uploaded.
fn keep(device: &DeviceContext, settings: &PhotoSettings, photo: PunchPhoto) -> Result<KeptPhoto> {
    let media_type = photo.media_type.trim().to_ascii_lowercase();
    let size_bytes = photo.bytes.len() as u64;
    check_photo(settings, size_bytes, &media_type)?;
    let hash = hex::encode(sha256(&photo.bytes));
    let (body, sealed) = match device.db.sealing() {
        Sealing::Off => (photo.bytes, false),
        Sealing::Ready(key) => (seal(&key, &hash, &photo.bytes)?, true),
        Sealing::Unavailable { reason, .. } => {
            return Err(PunchError::DataKeyUnavailable { detail: reason });
        }
    };
    device.db.save_photo(
        &PhotoRow {
            sha256: hash.clone(),
            media_type: media_type.clone(),
            body,
            sealed,
        },
        device.now().wall_time_ms,
    )?;
    Ok(KeptPhoto {
        reference: PhotoRef {
            sha256: hash,
            size_bytes,
            media_type,
        },
    })
}

/// A photo's bytes sealed for the phone's own table, bound to its hash.
fn seal(key: &DataKey, sha256: &str, bytes: &[u8]) -> Result<Vec<u8>> {
    key.seal_bytes(&context(sha256), bytes)
        .map_err(|e| PunchError::CorruptState(e.to_string()))
}

/// What a sealed photo is bound to.
fn context(sha256: &str) -> Vec<u8> {
    format!("punch-photo-v1|{sha256}").into_bytes()
}
