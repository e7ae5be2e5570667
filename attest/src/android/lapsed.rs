//! Google's 2016 RSA attestation hierarchy, which ended on 2026-05-24.
//!
//! Factory-provisioned phones (before remote key provisioning) hold batch certificates issued
//! under Google's 2016 RSA root; the root's re-issued copies keep its key, but certificates
//! issued under the 2016 copy had their lives capped at its end, 2026-05-24T16:28:52Z. Those
//! phones cannot get new certificates and keep producing such chains, so every one of them is
//! `expired_certificate` from that day on although nothing about the device changed. A
//! verifier may accept such a chain with the recorded fact [`FACT`] (the default); see the crate
//! README for why.

use x509_parser::certificate::X509Certificate;

use crate::x509::sha256;

/// The fact recorded on an attestation accepted despite the hierarchy's end.
pub const FACT: &str = "expired_google_2016_root";

/// SHA-256 of the SubjectPublicKeyInfo of Google's RSA-4096 attestation root (every copy: the
/// 2016 one and its re-issues share the key).
pub const GOOGLE_RSA_ROOT_SPKI_SHA256: &str =
    "feb2ea7551ee316ed4bb443c8293b884dbfdea40b603ee3e4f4a897e4580fbae";

/// The 2016 copy's notAfter, 2026-05-24T16:28:52Z (unix seconds).
pub const GOOGLE_2016_ROOT_ENDED: i64 = 1_779_640_132;

/// How long before the root's end a certificate may have ended and still count as having ended
/// with it (its notAfter capped to the root's, give or take the issuer's rounding).
const ENDED_WITH_ROOT_SLACK: i64 = 86_400;

/// A root whose hierarchy ended: chains anchored on its key whose certificates ended with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LapsedHierarchy {
    /// SHA-256 of the root's SubjectPublicKeyInfo.
    pub root_spki_sha256: [u8; 32],
    /// When the hierarchy ended (unix seconds).
    pub ended_at: i64,
}

impl LapsedHierarchy {
    /// Google's 2016 RSA hierarchy.
    pub fn google_2016() -> Self {
        let mut root_spki_sha256 = [0u8; 32];
        // A constant of 64 hex digits; the unit test below keeps it so.
        if let Ok(bytes) = hex::decode(GOOGLE_RSA_ROOT_SPKI_SHA256) {
            root_spki_sha256.copy_from_slice(&bytes);
        }
        LapsedHierarchy {
            root_spki_sha256,
            ended_at: GOOGLE_2016_ROOT_ENDED,
        }
    }

    /// Whether a chain resting on `anchor_spki` rests on this root.
    pub(crate) fn anchors(&self, anchor_spki: &[u8]) -> bool {
        sha256(anchor_spki) == self.root_spki_sha256
    }

    /// Whether `cert`, expired at `at`, ended with the hierarchy (not before it: a stale
    /// attestation stays stale).
    pub(crate) fn ended_with_it(&self, cert: &X509Certificate<'_>, at: i64) -> bool {
        let not_after = cert.validity().not_after.timestamp();
        at > not_after
            && not_after <= self.ended_at
            && not_after >= self.ended_at - ENDED_WITH_ROOT_SLACK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_google_root_constant_is_a_sha256() {
        assert_ne!(LapsedHierarchy::google_2016().root_spki_sha256, [0u8; 32]);
    }
}
