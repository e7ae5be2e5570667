//! What the app implements (a device signer, an HTTP transport, a clock, a
//! status listener) and the adapters that present them to the core.
//!
//! Foreign code can throw, answer garbage or never return. Throwing and
//! garbage become errors here or in the core (which verifies every platform
//! signature against the device key). Signing and HTTP are async on the
//! foreign side (a `suspend` / `async` method): a worker of this library
//! waits for them with a deadline and gives up at once when the call they
//! serve is cancelled; no platform thread blocks, and no lock is held.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use punch_core::{Clock, Signer, SignerError, SystemClock, Transport, TransportError};

use crate::error::{IN_CALLBACK, PlatformError, panic_text};
use crate::runtime::{WaitEnd, wait_foreign};
use crate::standing::Standing;
use crate::types::{ClockReading, DeviceAttestation, HttpRequest, HttpResponse};

/// The device key held by the platform (Android Keystore, iOS Secure Enclave).
/// ECDSA P-256 with SHA-256; the library checks every signature against the
/// enrolled public key before it stores anything.
#[uniffi::export(foreign)]
#[async_trait::async_trait]
pub trait DeviceSigner: Send + Sync {
    /// The public key as P-256 SubjectPublicKeyInfo DER (Java
    /// `PublicKey.getEncoded()`, CryptoKit `derRepresentation`).
    fn public_key_spki(&self) -> Result<Vec<u8>, PlatformError>;
    /// ECDSA P-256 SHA-256 over `message`, DER-encoded (Java
    /// `Signature("SHA256withECDSA")`, CryptoKit `derRepresentation`).
    /// May show a biometric prompt: suspend until the user answers. Cancelled
    /// (the coroutine or Task) when the punch is cancelled or times out.
    async fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, PlatformError>;
    /// Proof of where the key lives for the enrollment `challenge` (Android
    /// Key Attestation chain, Apple App Attest object), or None to enroll
    /// without one (the server then records a software-level key).
    async fn attestation(
        &self,
        challenge: Vec<u8>,
    ) -> Result<Option<DeviceAttestation>, PlatformError>;
}

/// HTTP through the app's own stack (OkHttp, URLSession) with its proxy and
/// certificate pinning. Return every HTTP answer (4xx, 5xx included) as a
/// response; throw only when there is none. Cancelled (the coroutine or
/// Task) when the call it serves is cancelled or its deadline passes.
#[uniffi::export(foreign)]
#[async_trait::async_trait]
pub trait HttpTransport: Send + Sync {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, PlatformError>;
}

/// The platform's clocks (see `ClockReading`). Called on every punch and
/// evaluate: it must answer at once. If it throws, the host clock is used
/// (with a per-process boot id on iOS: such punches count as unanchored).
#[uniffi::export(foreign)]
pub trait PlatformClock: Send + Sync {
    fn now(&self) -> Result<ClockReading, PlatformError>;
}

/// Hears of every change of where the employee stands (after a punch, a
/// sync, an enrollment), on the library's thread that caused it, with no
/// lock held: it should hand the value on (a Flow, an AsyncStream) and return.
#[uniffi::export(foreign)]
pub trait StandingListener: Send + Sync {
    fn on_change(&self, standing: Standing) -> Result<(), PlatformError>;
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

/// A foreign wait that ended without an answer, as the platform's error.
pub(crate) fn ended(what: &str, end: WaitEnd, timeout: Duration) -> PlatformError {
    match end {
        WaitEnd::TimedOut => PlatformError::Timeout {
            detail: format!(
                "the {what} gave no answer within {} ms",
                timeout.as_millis()
            ),
        },
        WaitEnd::Cancelled => PlatformError::Failed {
            detail: format!("the call waiting for the {what} was cancelled"),
        },
    }
}

/// A platform signer's failure as the core's: an invalidated key stays
/// typed (the app rotates the punch key), anything else is a signing failure.
pub(crate) fn signer_error(e: PlatformError) -> SignerError {
    match e {
        PlatformError::KeyInvalidated { .. } => SignerError::Invalidated,
        other => SignerError::Signing(other.to_string()),
    }
}

/// An app's `DeviceSigner` as the core's `Signer`.
pub(crate) struct ForeignSigner {
    pub inner: Arc<dyn DeviceSigner>,
    pub timeout: Duration,
    /// Signatures under way for a user's call (see `signing_for_user`); the
    /// client refuses another such call meanwhile.
    pub signing: Arc<AtomicUsize>,
    /// The public half when the app gave it with the key (`ProvidedKey`):
    /// then `public_key_spki` is not asked of the signer.
    pub public_key: Option<Vec<u8>>,
}

thread_local! {
    /// Set while this worker runs a call the user made (a punch, a request).
    static FOR_USER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `body` as a user's call: its signatures count as prompts.
pub(crate) fn signing_for_user<T>(body: impl FnOnce() -> T) -> T {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            FOR_USER.with(|f| f.set(false));
        }
    }
    FOR_USER.with(|f| f.set(true));
    let _reset = Reset;
    body()
}

/// Counts one signature for a user's call until it ends or the call is
/// cancelled (the worker may still be finishing: the user may try again).
struct SigningTurn(Option<Arc<TurnState>>);

struct TurnState {
    count: Arc<AtomicUsize>,
    released: AtomicBool,
}

impl TurnState {
    fn release(&self) {
        if !self.released.swap(true, Ordering::SeqCst) {
            self.count.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl SigningTurn {
    fn enter(count: &Arc<AtomicUsize>) -> SigningTurn {
        if !FOR_USER.with(std::cell::Cell::get) {
            return SigningTurn(None);
        }
        count.fetch_add(1, Ordering::SeqCst);
        let state = Arc::new(TurnState {
            count: count.clone(),
            released: AtomicBool::new(false),
        });
        let on_cancel = state.clone();
        crate::runtime::on_cancel(move || on_cancel.release());
        SigningTurn(Some(state))
    }
}

impl Drop for SigningTurn {
    fn drop(&mut self) {
        if let Some(state) = &self.0 {
            state.release();
        }
    }
}

impl Signer for ForeignSigner {
    fn public_key_spki(&self) -> Result<Vec<u8>, SignerError> {
        if let Some(key) = &self.public_key {
            return Ok(key.clone());
        }
        let inner = self.inner.clone();
        call_with_deadline("signer", self.timeout, move || inner.public_key_spki())
            .map_err(|e| SignerError::Signing(format!("public key: {e}")))
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError> {
        let _turn = SigningTurn::enter(&self.signing);
        wait_foreign(self.inner.sign(message.to_vec()), self.timeout)
            .unwrap_or_else(|end| Err(ended("signer", end, self.timeout)))
            .map_err(signer_error)
    }

    fn attestation(
        &self,
        challenge: &[u8],
    ) -> Result<Option<punch_model::wire::DeviceAttestation>, SignerError> {
        let _turn = SigningTurn::enter(&self.signing);
        wait_foreign(self.inner.attestation(challenge.to_vec()), self.timeout)
            .unwrap_or_else(|end| Err(ended("signer", end, self.timeout)))
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
        let deadline = Duration::from_millis(request.timeout_ms) + TRANSPORT_GRACE;
        let response = wait_foreign(self.inner.send(HttpRequest::from(request)), deadline)
            .unwrap_or_else(|end| Err(ended("transport", end, deadline)))
            .map_err(transport_error)?;
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

/// A platform transport's failure as the core's: a TLS failure stays typed
/// (the core backs it off instead of retrying it like the network).
pub(crate) fn transport_error(e: PlatformError) -> TransportError {
    match e {
        PlatformError::Timeout { detail } => TransportError::Timeout(detail),
        PlatformError::Unreachable { detail } => TransportError::Connect(detail),
        PlatformError::Tls { detail } => TransportError::Tls(detail),
        PlatformError::Failed { detail } | PlatformError::KeyInvalidated { detail } => {
            TransportError::Io(detail)
        }
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
