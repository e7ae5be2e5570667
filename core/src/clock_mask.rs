//! What a record says about the phone's clocks, minimised (privacy): the
//! server needs, within one boot, the time elapsed between an anchor and a
//! punch, and whether both are of the same boot — not the phone's uptime
//! nor the OS boot id (which would link a device's records across apps and
//! tell when it was last restarted). So the engine never writes the raw
//! readings: the boot id becomes a per-device keyed id, and the monotonic
//! time is shifted by a per-device, per-boot secret offset. Differences
//! within a boot stay exact, so trusted time and every check on it are
//! unchanged, and the record format is the same.

use std::sync::Mutex;

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

use crate::clock::ClockReading;
use crate::error::{PunchError, Result};

/// Keyed boot ids are this many bytes of the MAC, in hex.
const BOOT_ID_BYTES: usize = 16;
/// Offsets stay below 2^40 ms (about 35 years): no overflow with any uptime.
const OFFSET_MASK: u64 = (1 << 40) - 1;

pub(crate) struct ClockMask {
    key: hmac::Key,
    /// (raw boot id, keyed id, offset) of the boot last seen: a process
    /// lives in one boot, so this is computed once.
    last: Mutex<Option<(String, String, u64)>>,
}

impl ClockMask {
    /// A new random secret (32 bytes) for a device.
    pub fn new_secret() -> Result<Vec<u8>> {
        let mut secret = vec![0u8; 32];
        SystemRandom::new()
            .fill(&mut secret)
            .map_err(|_| PunchError::CorruptState("the system random generator failed".into()))?;
        Ok(secret)
    }

    pub fn new(secret: &[u8]) -> ClockMask {
        ClockMask {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            last: Mutex::new(None),
        }
    }

    /// (keyed boot id, monotonic offset) for a raw boot id.
    fn boot(&self, raw_boot_id: &str) -> (String, u64) {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((raw, keyed, offset)) = last.as_ref()
            && raw == raw_boot_id
        {
            return (keyed.clone(), *offset);
        }
        let tag = hmac::sign(&self.key, format!("boot|{raw_boot_id}").as_bytes());
        let keyed = hex::encode(&tag.as_ref()[..BOOT_ID_BYTES]);
        let mut eight = [0u8; 8];
        eight.copy_from_slice(&tag.as_ref()[BOOT_ID_BYTES..BOOT_ID_BYTES + 8]);
        let offset = u64::from_be_bytes(eight) & OFFSET_MASK;
        *last = Some((raw_boot_id.to_string(), keyed.clone(), offset));
        (keyed, offset)
    }

    /// The reading as records and anchors carry it.
    pub fn mask(&self, raw: ClockReading) -> ClockReading {
        let (boot_id, offset) = self.boot(&raw.boot_id);
        ClockReading {
            monotonic_ms: raw.monotonic_ms.saturating_add(offset),
            boot_id,
            ..raw
        }
    }

    /// A platform monotonic stamp of this boot (a fix's elapsed realtime)
    /// on the masked scale.
    pub fn shift(&self, raw_boot_id: &str, monotonic_ms: u64) -> u64 {
        monotonic_ms.saturating_add(self.boot(raw_boot_id).1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(boot: &str, mono: u64) -> ClockReading {
        ClockReading {
            wall_time_ms: 1_800_000_000_000,
            utc_offset_min: 0,
            monotonic_ms: mono,
            boot_id: boot.into(),
        }
    }

    #[test]
    fn differences_within_a_boot_survive_and_nothing_raw_does() {
        let mask = ClockMask::new(&ClockMask::new_secret().unwrap());
        let a = mask.mask(reading("boot-1", 10_000));
        let b = mask.mask(reading("boot-1", 25_000));
        assert_eq!(b.monotonic_ms - a.monotonic_ms, 15_000);
        assert_eq!(a.boot_id, b.boot_id);
        assert_ne!(a.boot_id, "boot-1");
        assert_eq!(a.boot_id.len(), 32);
        let other_boot = mask.mask(reading("boot-2", 10_000));
        assert_ne!(other_boot.boot_id, a.boot_id);
        // Another device (another secret) names the same boot differently.
        let other_device = ClockMask::new(&ClockMask::new_secret().unwrap());
        assert_ne!(
            other_device.mask(reading("boot-1", 10_000)).boot_id,
            a.boot_id
        );
        assert_eq!(mask.shift("boot-1", 10_000), a.monotonic_ms);
    }
}
