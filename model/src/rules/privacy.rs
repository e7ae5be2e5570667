//! What the employer's policy allows to be kept about a punch (PIPL / GDPR
//! minimisation). Only the settings live here; `ledger::minimise` applies them.

use serde::{Deserialize, Serialize};

/// How precisely the location of a punch is signed and stored. The verdict is
/// always made on the exact fix first.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum LocationPrecision {
    /// The fix as the platform reported it.
    #[default]
    Exact,
    /// The fix snapped to the centre of a `grid_m` square (e.g. 100 or 1000).
    Coarse { grid_m: f64 },
    /// No fix at all: the verdict and the distance to the site's fence.
    VerdictOnly,
}

/// The smallest and largest coarsening grid accepted (a finer grid is the
/// exact fix; a coarser one says nothing).
pub const GRID_RANGE_M: std::ops::RangeInclusive<f64> = 10.0..=100_000.0;

/// The employer's privacy choices (`settings.privacy` in the policy).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct PrivacySettings {
    pub location: LocationPrecision,
    /// Base64 key (16 bytes or more) for HMAC-SHA256 of matched BSSIDs; when
    /// absent, matched BSSIDs (the employer's own access points) are kept as is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wifi_hmac_key: Option<String>,
    /// The version of the notice the employee must have seen (e.g. "2026-01").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice_version: Option<String>,
    /// Refuse to punch until the employee acknowledged `notice_version`.
    pub require_notice: bool,
    /// Days the phone keeps records the server acknowledged (None: for ever).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_retention_days: Option<u32>,
}

/// Why privacy settings cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PrivacySettingsError {
    #[error("privacy.location.grid_m must be a number from 10 to 100000")]
    BadGrid,
    #[error("privacy.wifi_hmac_key must be base64 of at least 16 bytes")]
    BadWifiKey,
    #[error("privacy.require_notice needs a notice_version")]
    NoticeWithoutVersion,
    #[error("privacy.notice_version must be 1..64 printable characters")]
    BadNoticeVersion,
}

impl PrivacySettings {
    /// The decoded HMAC key, checked.
    pub fn wifi_key(&self) -> Result<Option<Vec<u8>>, PrivacySettingsError> {
        use base64::Engine as _;
        let Some(text) = &self.wifi_hmac_key else {
            return Ok(None);
        };
        let key = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|_| PrivacySettingsError::BadWifiKey)?;
        if key.len() < 16 {
            return Err(PrivacySettingsError::BadWifiKey);
        }
        Ok(Some(key))
    }

    pub fn validate(&self) -> Result<(), PrivacySettingsError> {
        if let LocationPrecision::Coarse { grid_m } = self.location
            && !GRID_RANGE_M.contains(&grid_m)
        {
            return Err(PrivacySettingsError::BadGrid);
        }
        self.wifi_key()?;
        match &self.notice_version {
            Some(v) if v.is_empty() || v.len() > 64 || v.chars().any(char::is_control) => {
                Err(PrivacySettingsError::BadNoticeVersion)
            }
            None if self.require_notice => Err(PrivacySettingsError::NoticeWithoutVersion),
            _ => Ok(()),
        }
    }
}
