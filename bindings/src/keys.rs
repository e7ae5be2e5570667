//! The device's two keys, as the app's key store makes them: the punch key
//! signs records (it may need the user: a biometric prompt), the channel key
//! signs requests, head statements and key rotations (it never needs the
//! user, so background upload always works). `KeyProvider` creates both at
//! enrollment with the server's challenge, and a new punch key at a rotation.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use punch_core::{ProvidedKey as CoreProvidedKey, SignerError};

use crate::client::PunchClient;
use crate::error::{PlatformError, PunchError};
use crate::exceptions::RequestReceipt;
use crate::platform::{DeviceSigner, ForeignSigner, ended, signer_error};
use crate::runtime::wait_foreign;
use crate::types::{DeviceAttestation, KeyRole};

/// A key the platform's key store created, and its proof.
#[derive(uniffi::Record)]
pub struct ProvidedKey {
    /// Signs with the new key (its `attestation` method is not asked: the
    /// proof is `attestation` here).
    pub signer: Arc<dyn DeviceSigner>,
    /// The new key's public half, P-256 SubjectPublicKeyInfo DER (Java
    /// `PublicKey.getEncoded()`, CryptoKit `derRepresentation`). Every
    /// signature is checked against it before anything is stored.
    pub public_key_spki: Vec<u8>,
    /// Android: `DeviceAttestation.Android` with the Keystore certificate
    /// chain of a key generated with `setAttestationChallenge(challenge)`;
    /// iOS: `DeviceAttestation.Apple` with App Attest over
    /// SHA-256(challenge ‖ `public_key_spki`). None when the platform cannot.
    #[uniffi(default = None)]
    pub attestation: Option<DeviceAttestation>,
}

/// Creates device keys in the platform's key store (Android Keystore or
/// StrongBox, iOS Secure Enclave). Asked for both keys at
/// `enroll_with_keys`, for a new punch key at `rotate_punch_key`.
/// A `Punch` key may require the user's presence; a `Channel` key must not
/// (Android: no `setUserAuthenticationRequired`; iOS:
/// `kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly`) and must survive new
/// biometrics. Keep the new key's alias: open the client with its signer
/// (`ClientOptions.signer` / `channel_signer`) from then on.
#[uniffi::export(foreign)]
#[async_trait::async_trait]
pub trait KeyProvider: Send + Sync {
    /// Creates a new `role` key and attests it for `challenge` (None: there
    /// is nothing to attest against; create the key without a challenge).
    /// Suspend while the key store works; cancelled with the call it serves.
    async fn create_key(
        &self,
        role: KeyRole,
        challenge: Option<Vec<u8>>,
    ) -> Result<ProvidedKey, PlatformError>;
}

/// Why the punch key is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum RotationReason {
    /// The platform invalidated it (Android `KeyPermanentlyInvalidatedException`
    /// after a new fingerprint; an iOS key lost with the passcode): the
    /// signer threw `PlatformError.KeyInvalidated`.
    Invalidated,
    /// The key is gone for another reason (the key store was wiped).
    Lost,
    /// Replaced on purpose while still usable.
    Renewed,
}

impl From<RotationReason> for punch_core::RotationReason {
    fn from(r: RotationReason) -> Self {
        match r {
            RotationReason::Invalidated => punch_core::RotationReason::Invalidated,
            RotationReason::Lost => punch_core::RotationReason::Lost,
            RotationReason::Renewed => punch_core::RotationReason::Renewed,
        }
    }
}

impl From<KeyRole> for punch_core::KeyRole {
    fn from(r: KeyRole) -> Self {
        match r {
            KeyRole::Punch => punch_core::KeyRole::Punch,
            KeyRole::Channel => punch_core::KeyRole::Channel,
        }
    }
}

/// An app's `KeyProvider` as the core's. The core calls it on a worker of
/// this library with no lock of this crate held; the foreign call is awaited
/// with the signer's deadline and ends when the call it serves is cancelled.
pub(crate) struct ForeignKeyProvider {
    pub inner: Arc<dyn KeyProvider>,
    pub timeout: Duration,
    /// The client's count of signatures for a user's call (see `ForeignSigner`).
    pub signing: Arc<AtomicUsize>,
}

impl punch_core::KeyProvider for ForeignKeyProvider {
    fn create_key(
        &self,
        role: punch_core::KeyRole,
        challenge: &[u8],
    ) -> Result<CoreProvidedKey, SignerError> {
        let challenge = (!challenge.is_empty()).then(|| challenge.to_vec());
        let provided = wait_foreign(self.inner.create_key(role.into(), challenge), self.timeout)
            .unwrap_or_else(|end| Err(ended("key provider", end, self.timeout)))
            .map_err(signer_error)?;
        Ok(CoreProvidedKey {
            signer: Arc::new(ForeignSigner {
                inner: provided.signer,
                timeout: self.timeout,
                signing: self.signing.clone(),
                public_key: Some(provided.public_key_spki),
            }),
            attestation: provided.attestation.map(Into::into),
        })
    }
}

#[uniffi::export]
impl PunchClient {
    /// Enrolls this device with a one-time code from the employer: asks the
    /// server for its challenge, has `provider` create the punch key and the
    /// channel key for it (attested where the platform can), and binds both;
    /// returns the employee id. When the employer requires attested keys and
    /// the provider gave no attestation, fails with `AttestationRequired`
    /// before anything is sent. The punch key signs a proof here, so the
    /// user may be asked once.
    pub async fn enroll_with_keys(
        &self,
        code: String,
        provider: Arc<dyn KeyProvider>,
    ) -> Result<String, PunchError> {
        let provider = self.key_provider(provider);
        self.run_for_user(move |engine| {
            if code.trim().is_empty() {
                return Err(PunchError::invalid("The enrollment code is empty."));
            }
            Ok(engine.enroll_with_keys(code.trim(), &provider)?)
        })
        .await
    }

    /// Replaces the punch key (invalidated or lost; the old one is not
    /// needed) with a new one from `provider` (None: a software key kept in
    /// the database). The rotation is a chain record signed by the channel
    /// key, so it never needs the user: records signed before keep uploading,
    /// records after are signed by the new key. The server takes it at once
    /// when the new key is attested at the level the employer requires, else
    /// after HR approves (`SyncReport.key_rotation_pending` meanwhile). Open
    /// the client with the new key's signer from now on.
    pub async fn rotate_punch_key(
        &self,
        provider: Option<Arc<dyn KeyProvider>>,
        reason: RotationReason,
    ) -> Result<RequestReceipt, PunchError> {
        let provider = provider.map(|p| self.key_provider(p));
        self.run(move |engine| {
            let provider = provider.as_ref().map(|p| p as &dyn punch_core::KeyProvider);
            Ok(engine.rotate_punch_key(provider, reason.into())?.into())
        })
        .await
    }
}

impl PunchClient {
    fn key_provider(&self, inner: Arc<dyn KeyProvider>) -> ForeignKeyProvider {
        ForeignKeyProvider {
            inner,
            timeout: self.signer_timeout,
            signing: self.signing.clone(),
        }
    }
}
