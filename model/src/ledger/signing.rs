//! The device key: ECDSA P-256 with SHA-256, DER signatures (what Android
//! Keystore and the iOS Secure Enclave produce). Public keys are exported as
//! SubjectPublicKeyInfo DER (91 bytes), the form both platforms can export.

use ring::rand::SystemRandom;
use ring::signature::{
    self, ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair,
};

/// DER prefix of a P-256 SubjectPublicKeyInfo; the 65-byte uncompressed point follows.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SignerError {
    #[error("key generation failed")]
    KeyGeneration,
    #[error("stored device key is unreadable: {0}")]
    BadKey(String),
    #[error("signing failed: {0}")]
    Signing(String),
    #[error("public key is not a P-256 SubjectPublicKeyInfo or uncompressed point")]
    BadPublicKey,
    #[error("signature does not verify")]
    BadSignature,
    /// The platform invalidated the key (Android
    /// `KeyPermanentlyInvalidatedException` after a new fingerprint, an iOS
    /// key lost with the passcode): it will never sign again, so the app
    /// rotates to a new punch key.
    #[error("the platform invalidated the key")]
    Invalidated,
}

/// Signs with the device key. A platform implements this over Android
/// Keystore / Secure Enclave; [`SoftwareSigner`] is the default.
pub trait Signer: Send + Sync {
    /// The public key as P-256 SubjectPublicKeyInfo DER.
    fn public_key_spki(&self) -> Result<Vec<u8>, SignerError>;
    /// ECDSA P-256 SHA-256 over `message`, DER-encoded.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError>;

    /// The platform's proof of where the key lives, answering the server's
    /// enrollment `challenge`: Android's Keystore certificate chain (the key
    /// generated with `setAttestationChallenge(challenge)`) or Apple's App
    /// Attest object. None (the default) enrolls as a software key.
    fn attestation(
        &self,
        challenge: &[u8],
    ) -> Result<Option<crate::wire::DeviceAttestation>, SignerError> {
        let _ = challenge;
        Ok(None)
    }
}

/// A ring P-256 key kept (as PKCS#8) in the app's database.
pub struct SoftwareSigner {
    key: EcdsaKeyPair,
    rng: SystemRandom,
}

impl SoftwareSigner {
    /// Generates a key; returns it with its PKCS#8 bytes for storage.
    pub fn generate() -> Result<(SoftwareSigner, Vec<u8>), SignerError> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(|_| SignerError::KeyGeneration)?;
        let bytes = pkcs8.as_ref().to_vec();
        Ok((Self::from_pkcs8(&bytes)?, bytes))
    }

    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<SoftwareSigner, SignerError> {
        let rng = SystemRandom::new();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8, &rng)
            .map_err(|e| SignerError::BadKey(e.to_string()))?;
        Ok(SoftwareSigner { key, rng })
    }
}

impl Signer for SoftwareSigner {
    fn public_key_spki(&self) -> Result<Vec<u8>, SignerError> {
        spki_from_point(self.key.public_key().as_ref())
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError> {
        self.key
            .sign(&self.rng, message)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| SignerError::Signing("ring refused to sign".into()))
    }
}

/// Wraps a 65-byte uncompressed P-256 point as SubjectPublicKeyInfo DER.
pub fn spki_from_point(point: &[u8]) -> Result<Vec<u8>, SignerError> {
    if point.len() != 65 || point[0] != 0x04 {
        return Err(SignerError::BadPublicKey);
    }
    let mut out = P256_SPKI_PREFIX.to_vec();
    out.extend_from_slice(point);
    Ok(out)
}

/// The uncompressed point from SPKI DER, or a bare point passed through.
pub fn point_from_public_key(key: &[u8]) -> Result<&[u8], SignerError> {
    let point = match key.strip_prefix(&P256_SPKI_PREFIX[..]) {
        Some(p) => p,
        None => key,
    };
    if point.len() == 65 && point[0] == 0x04 {
        Ok(point)
    } else {
        Err(SignerError::BadPublicKey)
    }
}

/// Verifies a DER ECDSA P-256 SHA-256 signature over `message`.
pub fn verify(public_key: &[u8], message: &[u8], signature_der: &[u8]) -> Result<(), SignerError> {
    let point = point_from_public_key(public_key)?;
    signature::UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, point)
        .verify(message, signature_der)
        .map_err(|_| SignerError::BadSignature)
}

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_roundtrip_and_tamper() {
        let (signer, pkcs8) = SoftwareSigner::generate().unwrap();
        let spki = signer.public_key_spki().unwrap();
        assert_eq!(spki.len(), 91);
        let sig = signer.sign(b"hello").unwrap();
        verify(&spki, b"hello", &sig).unwrap();
        // The bare point is accepted too.
        verify(&spki[26..], b"hello", &sig).unwrap();
        assert_eq!(
            verify(&spki, b"hellO", &sig),
            Err(SignerError::BadSignature)
        );
        // A reloaded key is the same key.
        let again = SoftwareSigner::from_pkcs8(&pkcs8).unwrap();
        assert_eq!(again.public_key_spki().unwrap(), spki);
        let other = SoftwareSigner::generate().unwrap().0;
        let other_sig = other.sign(b"hello").unwrap();
        assert_eq!(
            verify(&spki, b"hello", &other_sig),
            Err(SignerError::BadSignature)
        );
    }

    #[test]
    fn garbage_keys_are_typed_errors() {
        assert!(matches!(
            SoftwareSigner::from_pkcs8(b"junk"),
            Err(SignerError::BadKey(_))
        ));
        assert_eq!(verify(b"short", b"m", b"s"), Err(SignerError::BadPublicKey));
    }
}
