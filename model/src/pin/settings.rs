//! The employer's PIN settings, carried in the signed policy.

use serde::{Deserialize, Serialize};

/// OWASP's Password Storage Cheat Sheet (2023 onwards) asks 600,000
/// iterations of PBKDF2-HMAC-SHA256; the bench measures what that costs.
pub const DEFAULT_PBKDF2_ITERATIONS: u32 = 600_000;
/// Below this a policy is refused: a weaker factor makes offline guessing of
/// a 4–6 digit PIN cheap.
pub const MIN_PBKDF2_ITERATIONS: u32 = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PinSettings {
    /// A punch needs a verified PIN (or the platform's "user verified").
    pub required: bool,
    /// Digits (or characters) at least.
    pub min_length: u32,
    /// Consecutive failures before a lock.
    pub max_failures: u32,
    /// The first lock; each further lock doubles it.
    pub first_lock_s: u64,
    /// No lock lasts longer.
    pub max_lock_s: u64,
    /// After this many days the employee must choose a new PIN (None: never).
    pub max_age_days: Option<u32>,
    /// Refuse the employee's birthday (as DDMM, MMDD, YYYY, DDMMYY, ...) when the app knows it.
    pub ban_birthday: bool,
    /// PBKDF2-HMAC-SHA256 iterations for new verifiers.
    pub pbkdf2_iterations: u32,
    /// How long a verified PIN covers punches (seconds).
    pub verified_for_s: u64,
    /// Kiosk mode: who punches on which site's kiosks, with their PIN verifiers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kiosk: Vec<super::kiosk::KioskMember>,
}

impl Default for PinSettings {
    fn default() -> Self {
        PinSettings {
            required: true,
            min_length: 4,
            max_failures: 5,
            first_lock_s: 30 * 60,
            max_lock_s: 24 * 60 * 60,
            max_age_days: None,
            ban_birthday: true,
            pbkdf2_iterations: DEFAULT_PBKDF2_ITERATIONS,
            verified_for_s: 60,
            kiosk: Vec::new(),
        }
    }
}

impl PinSettings {
    /// The ranges a device and a server accept, as (name, value) of the first bad one.
    pub fn check(&self) -> Result<(), (&'static str, f64)> {
        let checks: [(&'static str, u64, u64, u64); 6] = [
            ("pin.min_length", self.min_length.into(), 4, 64),
            ("pin.max_failures", self.max_failures.into(), 1, 100),
            ("pin.first_lock_s", self.first_lock_s, 60, 86_400),
            (
                "pin.max_lock_s",
                self.max_lock_s,
                self.first_lock_s,
                7 * 86_400,
            ),
            (
                "pin.pbkdf2_iterations",
                self.pbkdf2_iterations.into(),
                MIN_PBKDF2_ITERATIONS.into(),
                10_000_000,
            ),
            ("pin.verified_for_s", self.verified_for_s, 1, 3_600),
        ];
        for (name, value, lo, hi) in checks {
            if value < lo || value > hi {
                return Err((name, value as f64));
            }
        }
        Ok(())
    }
}
