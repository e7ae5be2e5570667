//! How many devices an employee may have bound at once
//! (`settings.max_devices`): each with its own key and chain. One is the
//! default (a rebind replaces it); beyond the limit a device needs HR's
//! single-use approval, which the server keeps (the phone never decides).

use serde::{Deserialize, Serialize};

/// The most a policy may allow: a handful of phones and tablets, not a fleet
/// (a kiosk is one device for many employees, never one employee's).
pub const MAX_DEVICES_LIMIT: u32 = 16;

/// `settings.max_devices`: 1..=[`MAX_DEVICES_LIMIT`], written as a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct MaxDevices(u32);

/// Why a `max_devices` value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("max_devices must be 1 to {MAX_DEVICES_LIMIT}, not {0}")]
pub struct MaxDevicesError(pub u32);

impl MaxDevices {
    /// One device per employee: the behaviour before the setting existed.
    pub const ONE: MaxDevices = MaxDevices(1);

    pub fn new(n: u32) -> Result<MaxDevices, MaxDevicesError> {
        if (1..=MAX_DEVICES_LIMIT).contains(&n) {
            Ok(MaxDevices(n))
        } else {
            Err(MaxDevicesError(n))
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }

    /// The default is left out of the signed policy, so policies that do
    /// not use the setting keep their bytes.
    pub fn is_one(&self) -> bool {
        *self == MaxDevices::ONE
    }

    /// Whether `bound` devices leave room for one more without approval.
    pub fn has_room(self, bound: usize) -> bool {
        u32::try_from(bound).is_ok_and(|b| b < self.0)
    }
}

impl Default for MaxDevices {
    fn default() -> Self {
        MaxDevices::ONE
    }
}

impl TryFrom<u32> for MaxDevices {
    type Error = MaxDevicesError;

    fn try_from(n: u32) -> Result<Self, Self::Error> {
        MaxDevices::new(n)
    }
}

impl From<MaxDevices> for u32 {
    fn from(m: MaxDevices) -> u32 {
        m.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_default_and_room() {
        assert_eq!(MaxDevices::default().get(), 1);
        assert!(MaxDevices::new(0).is_err());
        assert!(MaxDevices::new(MAX_DEVICES_LIMIT + 1).is_err());
        let two: MaxDevices = serde_json::from_str("2").unwrap();
        assert_eq!(serde_json::to_string(&two).unwrap(), "2");
        assert!(serde_json::from_str::<MaxDevices>("0").is_err());
        assert!(two.has_room(1) && !two.has_room(2));
        assert!(MaxDevices::ONE.has_room(0) && !MaxDevices::ONE.has_room(1));
    }
}
