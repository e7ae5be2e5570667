//! A photo at the punch, when the employer's policy asks for one: for every
//! punch, or as a step-up when risk appears. This module holds the setting
//! and the record's claim; one pure rule (`rules::photo_rule::photo_required`)
//! decides it from the punch's evaluation, what is known about the device
//! and the setting, so the phone (before it signs) and the server (when it
//! stores) apply the same rule.
//!
//! The photo itself is never in the record: the record signs its SHA-256,
//! size and type ([`PhotoRef`]); the bytes travel as an attachment. No face
//! is matched here (a face template is biometric data under PIPL and GDPR);
//! the record says whether the platform's own biometric check preceded the
//! punch.

use serde::{Deserialize, Serialize};

/// Largest photo a policy may allow (16 MiB): a phone photo re-encoded for
/// evidence is far smaller; this only bounds what a record may claim.
pub const MAX_PHOTO_BYTES: u64 = 16 * 1024 * 1024;

/// When a punch needs a photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoMode {
    /// Never (the default: punches as before).
    #[default]
    Never,
    /// Every punch the rules do not refuse.
    Always,
    /// Only when one of the step-up triggers fires.
    StepUp,
}

/// A risk that makes a step-up photo necessary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoTrigger {
    /// The device's first punch (a newly bound phone).
    NewDevice,
    /// The punch was judged `review`.
    Review,
    /// The platform flagged the location as mocked.
    MockLocation,
    /// The distance from the last punch is impossible in the time since.
    ImpossibleTravel,
    /// The punch key is a software key (no hardware or attestation behind it).
    SoftwareKey,
}

impl PhotoTrigger {
    /// Every trigger: the step-up default.
    pub const ALL: [PhotoTrigger; 5] = [
        PhotoTrigger::NewDevice,
        PhotoTrigger::Review,
        PhotoTrigger::MockLocation,
        PhotoTrigger::ImpossibleTravel,
        PhotoTrigger::SoftwareKey,
    ];
}

/// Why a punch needs a photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoReason {
    /// The policy asks for one at every punch.
    Always,
    /// A step-up trigger fired.
    #[serde(untagged)]
    StepUp(PhotoTrigger),
}

/// `settings.photo`: when a photo is required and how large it may be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PhotoSettings {
    pub mode: PhotoMode,
    /// What counts as risk under `step_up` (default: every trigger).
    pub step_up_on: Vec<PhotoTrigger>,
    /// Largest photo accepted, in bytes (phone and server).
    pub max_bytes: u64,
}

impl Default for PhotoSettings {
    fn default() -> Self {
        PhotoSettings {
            mode: PhotoMode::Never,
            step_up_on: PhotoTrigger::ALL.to_vec(),
            max_bytes: 2 * 1024 * 1024,
        }
    }
}

impl PhotoSettings {
    /// True for the default (the policy then omits the section).
    pub fn is_default(&self) -> bool {
        *self == PhotoSettings::default()
    }

    /// The policy's own range check: a limit of at least 1 KiB and at most
    /// [`MAX_PHOTO_BYTES`].
    pub fn check(&self) -> Result<(), (&'static str, f64)> {
        if !(1024..=MAX_PHOTO_BYTES).contains(&self.max_bytes) {
            return Err(("photo.max_bytes", self.max_bytes as f64));
        }
        Ok(())
    }
}

/// The photo a punch record signs: what identifies the bytes uploaded beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoRef {
    /// Hex SHA-256 of the photo's bytes.
    pub sha256: String,
    pub size_bytes: u64,
    /// `image/jpeg`, `image/png`, `image/heic`...
    pub media_type: String,
}

/// Why a photo (or the record's claim about one) is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PhotoError {
    #[error("the photo is {size_bytes} bytes, over the policy's limit of {max}")]
    TooLarge { size_bytes: u64, max: u64 },
    #[error("the photo is empty")]
    Empty,
    #[error("media type {0:?} is not an image type")]
    MediaType(String),
    #[error("photo hash is not a hex SHA-256")]
    Hash,
}

/// Checks a photo's size and type against `settings` (phone, before it
/// signs; server, before it keeps the bytes).
pub fn check_photo(
    settings: &PhotoSettings,
    size_bytes: u64,
    media_type: &str,
) -> Result<(), PhotoError> {
    if size_bytes == 0 {
        return Err(PhotoError::Empty);
    }
    let max = settings.max_bytes.min(MAX_PHOTO_BYTES);
    if size_bytes > max {
        return Err(PhotoError::TooLarge { size_bytes, max });
    }
    check_media_type(media_type)
}

fn check_media_type(media_type: &str) -> Result<(), PhotoError> {
    let ok = media_type.len() <= 64
        && media_type
            .strip_prefix("image/")
            .is_some_and(|sub| !sub.is_empty() && sub.chars().all(|c| c.is_ascii_graphic()));
    if ok {
        Ok(())
    } else {
        Err(PhotoError::MediaType(media_type.chars().take(64).collect()))
    }
}

impl PhotoRef {
    /// Range-checks what a record claims (any policy: the size bound is the
    /// library's, the policy's limit is judged where the bytes arrive).
    pub fn check(&self) -> Result<(), PhotoError> {
        if self.sha256.len() != 64 || !self.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(PhotoError::Hash);
        }
        if self.size_bytes == 0 || self.size_bytes > MAX_PHOTO_BYTES {
            return Err(PhotoError::TooLarge {
                size_bytes: self.size_bytes,
                max: MAX_PHOTO_BYTES,
            });
        }
        check_media_type(&self.media_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_and_settings_read_as_the_policy_spells_them() {
        let s: PhotoSettings =
            serde_json::from_str(r#"{"mode":"step_up","step_up_on":["review","software_key"]}"#)
                .unwrap();
        assert_eq!(
            s.step_up_on,
            vec![PhotoTrigger::Review, PhotoTrigger::SoftwareKey]
        );
        assert_eq!(s.max_bytes, PhotoSettings::default().max_bytes);
        assert_eq!(
            serde_json::to_string(&[
                PhotoReason::Always,
                PhotoReason::StepUp(PhotoTrigger::NewDevice)
            ])
            .unwrap(),
            r#"["always","new_device"]"#
        );
    }

    #[test]
    fn photos_are_checked_for_size_and_type() {
        let s = PhotoSettings::default();
        assert_eq!(check_photo(&s, 10, "image/jpeg"), Ok(()));
        assert_eq!(check_photo(&s, 0, "image/jpeg"), Err(PhotoError::Empty));
        assert!(matches!(
            check_photo(&s, s.max_bytes + 1, "image/jpeg"),
            Err(PhotoError::TooLarge { .. })
        ));
        assert!(matches!(
            check_photo(&s, 10, "text/html"),
            Err(PhotoError::MediaType(_))
        ));
        let bad = PhotoRef {
            sha256: "zz".into(),
            size_bytes: 1,
            media_type: "image/png".into(),
        };
        assert_eq!(bad.check(), Err(PhotoError::Hash));
    }
}
