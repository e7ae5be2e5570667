//! Google's attestation status list (revocation), loaded from a file: no network here.
//!
//! Format: `{"entries": {"<serial hex lowercase>": {"status": "REVOKED" | "SUSPENDED",
//! "reason": "KEY_COMPROMISE" | ...}}}`. Keys are compared as lowercase hex without leading
//! zeros, the way Google writes them.

use std::collections::HashMap;

use crate::error::ConfigError;

/// Largest status list accepted (Google's is well under 1 MiB).
const MAX_STATUS_LIST: usize = 16 * 1024 * 1024;

/// One listed certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusEntry {
    /// `REVOKED` or `SUSPENDED` (any listed status refuses the chain).
    pub status: String,
    /// The list's reason, if given.
    pub reason: Option<String>,
}

/// The attestation status list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatusList {
    entries: HashMap<String, StatusEntry>,
}

fn normalize(serial: &str) -> String {
    let lower = serial.trim().to_ascii_lowercase();
    let trimmed = lower.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".into()
    } else {
        trimmed.into()
    }
}

impl StatusList {
    /// Parse the JSON status list.
    pub fn from_json(json: &str) -> Result<Self, ConfigError> {
        if json.len() > MAX_STATUS_LIST {
            return Err(ConfigError::StatusList(format!(
                "{} bytes, more than {MAX_STATUS_LIST}",
                json.len()
            )));
        }
        let v: serde_json::Value =
            serde_json::from_str(json).map_err(|e| ConfigError::StatusList(e.to_string()))?;
        let Some(entries) = v.get("entries").and_then(|e| e.as_object()) else {
            return Err(ConfigError::StatusList("no \"entries\" object".into()));
        };
        let mut out = StatusList::default();
        for (serial, entry) in entries {
            let Some(status) = entry.get("status").and_then(|s| s.as_str()) else {
                return Err(ConfigError::StatusList(format!(
                    "entry {serial} has no status"
                )));
            };
            let reason = entry.get("reason").map(|r| match r.as_str() {
                Some(s) => s.to_string(),
                None => r.to_string(),
            });
            out.entries.insert(
                normalize(serial),
                StatusEntry {
                    status: status.to_string(),
                    reason,
                },
            );
        }
        Ok(out)
    }

    /// The entry for a serial (hex, any case, leading zeros ignored).
    pub fn lookup(&self, serial_hex: &str) -> Option<&StatusEntry> {
        self.entries.get(&normalize(serial_hex))
    }

    /// Number of listed serials.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is listed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
