//! What the app implements (a device signer, an HTTP transport, a clock, a
//! status listener) and the adapters that present them to the core.
//!
//! Foreign code can throw, answer garbage or never return. Throwing and
//! garbage become errors here or in the core (which verifies every platform
//! signature against the device key). The signer and the transport run on
//! a helper thread with a deadline, so one that never returns fails that
//! call with a clear error instead of hanging it; no lock is held meanwhile.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use punch_core::{
    Clock, Signer, SignerError, SyncListener, SystemClock, Transport, TransportError,
};

use crate::error::{IN_CALLBACK, PlatformError, panic_text};
use crate::types::{ClockReading, DeviceAttestation, HttpRequest, HttpResponse, SyncStatus};

/// The device key held by the platform (Android Keystore, iOS Secure Enclave).
/// ECDSA P-256 with SHA-256; the library checks every signature against the
/// enrolled public key before it stores anything.
#[uniffi::export(foreign)]
pub trait DeviceSigner: Send + Sync {
    /// The public key as P-256 SubjectPublicKeyInfo DER (Java
    /// `PublicKey.getEncoded()`, CryptoKit `derRepresentation`).
    fn public_key_spki(&self) -> Result<Vec<u8>, PlatformError>;
    /// ECDSA P-256 SHA-256 over `message`, DER-encoded (Java
    /// `Signature("SHA256withECDSA")`, CryptoKit `derRepresentation`).
    /// May show a biometric prompt: it runs off the caller's thread.
    fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, PlatformError>;
    /// Proof of where the key lives for the enrollment `challenge` (Android
    /// Key Attestation chain, Apple App Attest object), or None to enroll
    /// without one (the server then records a software-level key).
    fn attestation(&self, challenge: Vec<u8>) -> Result<Option<DeviceAttestation>, PlatformError>;
}

/// HTTP through the app's own stack (OkHttp, URLSession) with its proxy and
/// certificate pinning. Return every HTTP answer (4xx, 5xx included) as a
/// response; throw only when there is none.
#[uniffi::export(foreign)]
pub trait HttpTransport: Send + Sync {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, PlatformError>;
}

/// The platform's clocks (see `ClockReading`). Called on every punch and
/// evaluate: it must answer at once. If it throws, the host clock is used
/// (with a per-process boot id on iOS: such punches count as unanchored).
#[uniffi::export(foreign)]
pub trait PlatformClock: Send + Sync {
    fn now(&self) -> Result<ClockReading, PlatformError>;
}

/// Hears of every change of the sync status (after a punch, a sync, an
/// enrollment), on the thread that caused it, with no lock held: it may call
/// the client, and it should hand the status to the UI thread and return.
#[uniffi::export(foreign)]
pub trait StatusListener: Send + Sync {
    fn on_status(&self, status: SyncStatus) -> Result<(), PlatformError>;
}

/// Runs `f` on a helper thread and waits at most `timeout` for it. A
/// callback that never returns leaves that helper thread waiting, but the
/// caller gets its error and every lock stays free.
pub(crate) fn call_with_deadline<T: Send + 'static>(
    what: &'static str,
    timeout: Duration,
    f: impl FnOnce() -> Result<T, PlatformError> + Send + 'static,
) -> Result<T, PlatformError> {
    let (tx, rx) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name(format!("punch-{what}"))
        .spawn(move || {
            IN_CALLBACK.with(|f| f.set(true));
            let result = catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| {
                Err(PlatformError::Failed {
                    detail: panic_text(p.as_ref()),
                })
            });
            // The caller may have given up waiting: nobody to tell then.
            let _ = tx.send(result);
        })
        .map_err(|e| PlatformError::Failed {
            detail: format!("cannot start a thread for the {what}: {e}"),
        })?;
    match rx.recv_timeout(timeout) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(PlatformError::Timeout {
            detail: format!(
                "the {what} gave no answer within {} ms",
                timeout.as_millis()
            ),
        }),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(PlatformError::Failed {
            detail: format!("the {what} ended without an answer"),
        }),
    }
}

/// An app's `DeviceSigner` as the core's `Signer`.
pub(crate) struct ForeignSigner {
    pub inner: Arc<dyn DeviceSigner>,
    pub timeout: Duration,
}

impl Signer for ForeignSigner {
    fn public_key_spki(&self) -> Result<Vec<u8>, SignerError> {
        let inner = self.inner.clone();
        call_with_deadline("signer", self.timeout, move || inner.public_key_spki())
            .map_err(|e| SignerError::Signing(format!("public key: {e}")))
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError> {
        let (inner, message) = (self.inner.clone(), message.to_vec());
        call_with_deadline("signer", self.timeout, move || inner.sign(message))
            .map_err(|e| SignerError::Signing(e.to_string()))
    }

    fn attestation(
        &self,
        challenge: &[u8],
    ) -> Result<Option<punch_core::wire::DeviceAttestation>, SignerError> {
        let (inner, challenge) = (self.inner.clone(), challenge.to_vec());
        call_with_deadline("signer", self.timeout, move || inner.attestation(challenge))
            .map(|a| a.map(Into::into))
            .map_err(|e| SignerError::Signing(format!("attestation: {e}")))
    }
}

/// Grace beyond a request's own timeout before the transport counts as hung.
const TRANSPORT_GRACE: Duration = Duration::from_secs(1);

/// An app's `HttpTransport` as the core's `Transport`.
pub(crate) struct ForeignTransport {
    pub inner: Arc<dyn HttpTransport>,
}

impl Transport for ForeignTransport {
    fn send(
        &self,
        request: &punch_core::HttpRequest,
    ) -> Result<punch_core::HttpResponse, TransportError> {
        let (inner, req) = (self.inner.clone(), HttpRequest::from(request));
        let deadline = Duration::from_millis(request.timeout_ms) + TRANSPORT_GRACE;
        let response = call_with_deadline("transport", deadline, move || inner.send(req)).map_err(
            |e| match e {
                PlatformError::Timeout { detail } => TransportError::Timeout(detail),
                PlatformError::Unreachable { detail } => TransportError::Connect(detail),
                PlatformError::Failed { detail } => TransportError::Io(detail),
            },
        )?;
        // A status outside HTTP's range is garbage, not an answer.
        if !(100..=599).contains(&response.status) {
            return Err(TransportError::Io(format!(
                "the transport returned HTTP status {}, which is not one",
                response.status
            )));
        }
        Ok(response.into())
    }
}

/// An app's `PlatformClock` as the core's `Clock`, falling back to the host's.
pub(crate) struct ForeignClock {
    pub inner: Arc<dyn PlatformClock>,
    pub fallback: SystemClock,
}

impl Clock for ForeignClock {
    fn now(&self) -> punch_core::ClockReading {
        match self.inner.now() {
            Ok(reading) => reading.into(),
            Err(e) => {
                log::warn!(target: "punchcore", "platform clock failed, using the host clock: {e}");
                self.fallback.now()
            }
        }
    }
}

/// An app's `StatusListener` as the core's `SyncListener`.
pub(crate) struct ForeignListener {
    pub inner: Arc<dyn StatusListener>,
}

impl SyncListener for ForeignListener {
    fn on_status(&self, status: &punch_core::SyncStatus) {
        // A failing listener must not fail the punch or sync that notified it.
        if let Err(e) = self.inner.on_status(status.clone().into()) {
            log::warn!(target: "punchcore", "status listener failed: {e}");
        }
    }
}
