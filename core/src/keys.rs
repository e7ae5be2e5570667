//! The device's two keys (`punch_model::ledger::key_rotation` says why):
//! the punch key signs records and may need the user; the channel key signs
//! requests and never does. Both come from the platform's [`KeyProvider`]
//! at enrollment (created with the server's challenge, so they can be
//! attested) or are software keys kept in the database.

use std::sync::Arc;

use punch_model::ledger::key_rotation::signing_role;
use punch_model::ledger::record::Uuid;
use punch_model::ledger::signing::{self, Signer, SignerError, SoftwareSigner};
use punch_model::wire::DeviceAttestation;

use crate::error::PunchError;
use crate::store::{DeviceRow, Store};

pub use punch_model::ledger::key_rotation::{KeyRole, RotationReason};

/// A key the platform created, and its proof where the platform has one.
pub struct ProvidedKey {
    /// The key, held by the platform.
    pub signer: Arc<dyn Signer>,
    /// Android: the Keystore certificate chain of a key generated with
    /// `setAttestationChallenge(challenge)`; iOS: App Attest over
    /// SHA-256(challenge ‖ the key's SPKI). None when the platform cannot.
    pub attestation: Option<DeviceAttestation>,
}

/// Creates device keys in the platform's key store (Android Keystore /
/// StrongBox, iOS Secure Enclave). The engine asks for both keys at
/// enrollment with the server's challenge, and for a new punch key at a
/// rotation with [`punch_model::ledger::key_rotation::rotation_challenge`].
/// The punch key may require the user's presence; the channel key must
/// not (Android: no `setUserAuthenticationRequired`; iOS:
/// `kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly`).
pub trait KeyProvider: Send + Sync {
    /// Creates the key for `role`, attested over `challenge` where the platform can.
    fn create_key(&self, role: KeyRole, challenge: &[u8]) -> Result<ProvidedKey, SignerError>;
}

/// One key in use: its signer and public half.
#[derive(Clone)]
pub(crate) struct HeldKey {
    pub signer: Arc<dyn Signer>,
    /// P-256 SubjectPublicKeyInfo DER.
    pub public_key: Vec<u8>,
    /// The built-in software key (kept in the database).
    pub software: bool,
}

impl HeldKey {
    /// Signs `message`. A platform signer's answer is checked against the
    /// key's public half before anything uses it: a broken or swapped key
    /// becomes a local error, not a record the server refuses.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError> {
        let signature = self.signer.sign(message)?;
        if !self.software {
            signing::verify(&self.public_key, message, &signature).map_err(|_| {
                SignerError::Signing(
                    "the platform signer's signature does not verify with the device key".into(),
                )
            })?;
        }
        Ok(signature)
    }
}

/// Every key the device has used, and the two in force.
#[derive(Clone)]
pub(crate) struct KeySet {
    pub punch: HeldKey,
    pub channel: HeldKey,
    /// The punch key the device enrolled with (the chain's first).
    pub enrolled_punch_key: Vec<u8>,
    /// The channel key as the server knows it; None for a device enrolled
    /// before the two keys (its enrolled key signs requests).
    pub channel_key: Option<Vec<u8>>,
    /// Each rotation: (its seq, the punch key from the next record on).
    pub rotations: Vec<(u64, Vec<u8>)>,
}

impl KeySet {
    /// The key that must have signed `bytes` stored at `seq`.
    pub fn key_for(&self, seq: u64, bytes: &[u8]) -> &[u8] {
        match signing_role(bytes) {
            KeyRole::Channel => self
                .channel_key
                .as_deref()
                .unwrap_or(&self.enrolled_punch_key),
            KeyRole::Punch => self
                .rotations
                .iter()
                .rev()
                .find(|(at, _)| *at < seq)
                .map_or(&self.enrolled_punch_key, |(_, key)| key),
        }
    }
}

/// A signer for a key the database knows: the platform's when the key is
/// the platform's (`given`), else the stored software key; checked against
/// the public half on file.
fn held(
    given: Option<&Arc<dyn Signer>>,
    public_key: &[u8],
    pkcs8: Option<&[u8]>,
) -> crate::error::Result<HeldKey> {
    let signer: Arc<dyn Signer> = match (given, pkcs8) {
        (_, Some(pkcs8)) => Arc::new(SoftwareSigner::from_pkcs8(pkcs8)?),
        (Some(s), None) => s.clone(),
        (None, None) => {
            return Err(PunchError::CorruptState(
                "a device key is held by a platform signer, but none was given".into(),
            ));
        }
    };
    if signer.public_key_spki()? != public_key {
        return Err(PunchError::DeviceKeyMismatch);
    }
    Ok(HeldKey {
        signer,
        public_key: public_key.to_vec(),
        software: pkcs8.is_some(),
    })
}

/// A new key: the platform's if given, else a software key (with its PKCS#8).
fn fresh(given: Option<&Arc<dyn Signer>>) -> crate::error::Result<(HeldKey, Option<Vec<u8>>)> {
    let (signer, pkcs8): (Arc<dyn Signer>, Option<Vec<u8>>) = match given {
        Some(s) => (s.clone(), None),
        None => {
            let (s, pkcs8) = SoftwareSigner::generate()?;
            (Arc::new(s), Some(pkcs8))
        }
    };
    let public_key = signer.public_key_spki()?;
    Ok((
        HeldKey {
            signer,
            public_key,
            software: pkcs8.is_some(),
        },
        pkcs8,
    ))
}

/// The platform's signers for the two keys (`EngineOptions`' `signer` and
/// `channel_signer`); None for either means a software key.
pub(crate) struct PlatformSigners<'a> {
    pub punch: Option<&'a Arc<dyn Signer>>,
    pub channel: Option<&'a Arc<dyn Signer>>,
}

/// The device's id and keys: read from the database (the platform's
/// signers matched to the keys on file), or created for a new device.
pub(crate) fn open_keys(
    store: &Store,
    signers: PlatformSigners<'_>,
    now_ms: i64,
) -> crate::error::Result<(String, KeySet)> {
    let Some(row) = store.device()? else {
        let (punch, punch_pkcs8) = fresh(signers.punch)?;
        let (channel, channel_pkcs8) = fresh(signers.channel)?;
        let row = DeviceRow {
            device_id: Uuid::new_v4().to_string(),
            public_key: punch.public_key.clone(),
            key_pkcs8: punch_pkcs8,
            employee_id: None,
            channel_key: Some(channel.public_key.clone()),
            channel_pkcs8,
        };
        store.insert_device(&row, now_ms)?;
        let keys = KeySet {
            enrolled_punch_key: punch.public_key.clone(),
            channel_key: Some(channel.public_key.clone()),
            punch,
            channel,
            rotations: Vec::new(),
        };
        return Ok((row.device_id, keys));
    };
    let rotated = store.rotated_keys()?;
    let punch = match rotated.last() {
        Some(key) => held(signers.punch, &key.public_key, key.key_pkcs8.as_deref())?,
        None => held(signers.punch, &row.public_key, row.key_pkcs8.as_deref())?,
    };
    let channel = match &row.channel_key {
        Some(key) => held(signers.channel, key, row.channel_pkcs8.as_deref())?,
        // From before the split: the enrolled key signs requests. Its
        // platform signer is `channel_signer` once the punch key was
        // rotated away from it, else the one `signer`.
        None if rotated.is_empty() => punch.clone(),
        None => held(signers.channel, &row.public_key, row.key_pkcs8.as_deref())?,
    };
    let keys = KeySet {
        punch,
        channel,
        enrolled_punch_key: row.public_key,
        channel_key: row.channel_key,
        rotations: rotated.into_iter().map(|k| (k.seq, k.public_key)).collect(),
    };
    Ok((row.device_id, keys))
}
