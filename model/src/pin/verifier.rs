//! The PIN verifier: a salted, slow hash (PBKDF2-HMAC-SHA256 from ring),
//! compared in constant time. The PIN itself is never stored or sent; a
//! kiosk receives its site's employees' verifiers in the signed policy.

use std::num::NonZeroU32;

use ring::pbkdf2;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};

use crate::wire::b64;

pub const VERIFIER_ALG: &str = "pbkdf2-hmac-sha256";
const SALT_LEN: usize = 16;
const HASH_LEN: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verifier {
    pub alg: String,
    pub iterations: u32,
    #[serde(with = "b64::bytes")]
    pub salt: Vec<u8>,
    #[serde(with = "b64::bytes")]
    pub hash: Vec<u8>,
}

/// The commitment to a verifier as the device stores it (its JSON text):
/// SHA-256 in hex. PIN events carry it (`PinEvent::verifier`,
/// `PinVerified::verifier`); it says nothing of the PIN (the verifier is
/// salted and slow, and the commitment is a hash of it).
pub fn commitment(stored: &str) -> String {
    hex::encode(crate::ledger::signing::sha256(stored.as_bytes()))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifierError {
    #[error("the system random generator failed")]
    Random,
    #[error("verifier is not one this version reads: {0}")]
    Unsupported(String),
}

impl Verifier {
    /// A new verifier for `pin` with a fresh random salt.
    pub fn derive(pin: &str, iterations: u32) -> Result<Verifier, VerifierError> {
        let rounds = NonZeroU32::new(iterations)
            .ok_or_else(|| VerifierError::Unsupported("zero iterations".into()))?;
        let mut salt = vec![0u8; SALT_LEN];
        SystemRandom::new()
            .fill(&mut salt)
            .map_err(|_| VerifierError::Random)?;
        let mut hash = vec![0u8; HASH_LEN];
        pbkdf2::derive(
            pbkdf2::PBKDF2_HMAC_SHA256,
            rounds,
            &salt,
            pin.as_bytes(),
            &mut hash,
        );
        Ok(Verifier {
            alg: VERIFIER_ALG.into(),
            iterations,
            salt,
            hash,
        })
    }

    /// True when `pin` matches (ring compares in constant time).
    pub fn matches(&self, pin: &str) -> Result<bool, VerifierError> {
        if self.alg != VERIFIER_ALG || self.hash.len() != HASH_LEN || self.salt.is_empty() {
            return Err(VerifierError::Unsupported(self.alg.clone()));
        }
        let rounds = NonZeroU32::new(self.iterations)
            .ok_or_else(|| VerifierError::Unsupported("zero iterations".into()))?;
        Ok(pbkdf2::verify(
            pbkdf2::PBKDF2_HMAC_SHA256,
            rounds,
            &self.salt,
            pin.as_bytes(),
            &self.hash,
        )
        .is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_only_the_pin_and_salts_differ() {
        let a = Verifier::derive("4827", 1000).unwrap();
        let b = Verifier::derive("4827", 1000).unwrap();
        assert_ne!(a.salt, b.salt);
        assert_ne!(a.hash, b.hash);
        assert!(a.matches("4827").unwrap());
        assert!(!a.matches("4828").unwrap());
        let bad = Verifier {
            alg: "md5".into(),
            ..a
        };
        assert!(bad.matches("4827").is_err());
    }
}
