//! The one error an app sees, and the guard that turns a panic into it.
//!
//! Variants say what the app can do; `detail` is a sentence a person reads
//! and it is also the error's message (crash reporters log it), so it never
//! carries coordinates, site or employee ids, distances, Wi-Fi names or
//! other personal details: those stay in typed fields (`evaluation`,
//! `code`, `reason`) and in the log sink at debug level. Codes are enums an
//! app can `when`/`switch` over. The core's rich error is mapped here, in
//! one place, with no wildcard arm: a new core error fails this crate's
//! build instead of reaching apps unmapped.
//!
//! uniffi's Kotlin prints every field of an error variant into `message`
//! (`detail=…, code=…`); the fields other than `detail` are codes, counts
//! and the evaluation, whose `toString` is its `Display` (no personal data).

use std::panic::{AssertUnwindSafe, catch_unwind};

use punch_core::{EnrollError, PunchError as CoreError, SignerError, SyncError};
use punch_model::rules::policy::PolicyError;

use crate::types::Signed;
use crate::types::{AssuranceLevel, Evaluation, KeyRole, ServerErrorCode};

/// What went wrong, by what the app can do about it. The message is `detail`.
// `Refused` carries the evaluation by value: the foreign side needs a plain
// record (uniffi has no boxes), and the error path is not hot.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[non_exhaustive]
pub enum PunchError {
    /// Enroll first (`PunchClient.enroll_with_keys` with a code from the employer).
    #[error("{detail}")]
    NotEnrolled { detail: String },
    /// The punch was judged *rejected*: kept only as a signed refused attempt
    /// (`refused_attempts`), not as a punch; show `evaluation.reasons`.
    #[error("{detail}")]
    Refused {
        detail: String,
        evaluation: Evaluation,
    },
    /// No policy yet: sync (or `refresh_policy`) while online.
    #[error("{detail}")]
    PolicyMissing { detail: String },
    /// The policy expired (by trusted time): sync while online for a fresh one.
    #[error("{detail}")]
    PolicyExpired { detail: String },
    /// A policy was refused: bad signature (wrong pinned key?), rollback, malformed.
    #[error("{detail}")]
    PolicyInvalid { detail: String },
    /// A device key (platform signer or key provider) failed, answered
    /// garbage, timed out or is not the enrolled key. Nothing was stored.
    #[error("{detail}")]
    Signer { detail: String },
    /// The platform invalidated the punch key for good (its signer threw
    /// `PlatformError.KeyInvalidated`). Nothing was stored; records signed
    /// before still upload. Call `rotate_punch_key(provider, Invalidated)`.
    #[error("{detail}")]
    KeyInvalidated { detail: String },
    /// Network trouble or a server-side failure: retry later.
    #[error("{detail}")]
    Network { detail: String },
    /// The server's certificate is not trusted or the TLS handshake failed
    /// (a wrong server URL, an expired or self-signed certificate, a captive
    /// portal or a proxy intercepting HTTPS). Say so, not "offline": waiting
    /// will not fix it on this network. Sync backs off as after a refusal.
    #[error("{detail}")]
    Tls { detail: String },
    /// The server refused (bad enrollment code, unbound device...); retrying
    /// will not help until something changes. `code` is the server's error
    /// code (None when the refusal was the policy the server sent).
    #[error("{detail}")]
    ServerRefused {
        detail: String,
        code: Option<ServerErrorCode>,
    },
    /// The database failed or is corrupt.
    #[error("{detail}")]
    Storage { detail: String },
    /// Another punch holds the turn, or a callback called back into the client: try again.
    #[error("{detail}")]
    Busy { detail: String },
    /// A make-up request or field-work proposal the employer's rules refuse,
    /// or one naming a file or refused attempt the device does not hold.
    #[error("{detail}")]
    RequestRefused {
        detail: String,
        code: RequestRefusal,
    },
    /// The app passed something unusable (evidence, options, a code).
    #[error("{detail}")]
    InvalidInput { detail: String },
    /// Show the employer's privacy notice `version`, then `acknowledge_notice`.
    #[error("{detail}")]
    NoticeRequired { detail: String, version: String },
    /// The platform lost the data key: stored records still upload; call
    /// `rotate_data_key` to punch again.
    #[error("{detail}")]
    DataKeyUnavailable { detail: String },
    /// The punch PIN said no; `reason` says why (`tries_left` after `Wrong`,
    /// `locked_for` after `Locked`).
    #[error("{detail}")]
    Pin {
        detail: String,
        reason: PinReason,
        tries_left: Option<i32>,
        locked_for: Option<std::time::Duration>,
    },
    /// Enrollment stopped before anything was sent: the employer requires
    /// the `role` key attested at `required` or better and the platform's
    /// key provider gave no attestation for it.
    #[error("{detail}")]
    AttestationRequired {
        detail: String,
        role: KeyRole,
        required: AssuranceLevel,
    },
    /// The employer's policy wants a photo for this punch (`reasons`):
    /// nothing was stored; capture one and call `punch_with_photo`.
    #[error("{detail}")]
    PhotoRequired {
        detail: String,
        reasons: Vec<crate::types::PhotoReason>,
    },
    /// The photo given with the punch is unusable (`problem`): nothing was stored.
    #[error("{detail}")]
    PhotoRefused {
        detail: String,
        problem: crate::types::PhotoProblem,
    },
    /// A bug in the library (a panic, caught; its text is in the log sink): report it.
    #[error("{detail}")]
    Internal { detail: String },
}

/// Why the punch PIN said no.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PinReason {
    /// The policy requires a PIN (or the platform's biometric) before a punch.
    Required,
    /// No PIN is set yet.
    NotSet,
    /// A PIN is set: change or reset it instead.
    AlreadySet,
    /// The PIN is too old: choose a new one.
    MustChange,
    /// Wrong PIN; see `tries_left`.
    Wrong,
    /// Too many wrong PINs; see `locked_for`.
    Locked,
    /// A trivial new PIN (a sequence, a repeat, the birthday).
    Rejected,
    /// A forged, expired, foreign or reused reset token.
    Token,
    /// On a kiosk: the employee is not assigned to its site.
    NotOnThisKiosk,
}

/// Why the employer's rules refuse a make-up request or field-work proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum RequestRefusal {
    MakeUpTooFarBack,
    MakeUpInFuture,
    MakeUpMonthlyLimit,
    MakeUpTooManyAttachments,
    MakeUpAttachmentTooLarge,
    MakeUpNoReason,
    FieldWorkRadius,
    FieldWorkCenter,
    FieldWorkDates,
    FieldWorkNoReason,
    FieldWorkTooLong,
    /// The request names a refused attempt or a file this device does not hold.
    UnknownReference,
    /// Fault reports (`report_fault`) and a make-up request's citation of one.
    FaultUnknownKind,
    FaultTextTooLong,
    FaultControlCharacters,
    FaultNoText,
    FaultTooManyAttachments,
    FaultBadAttachment,
    FaultCitedNotFound,
    FaultCitedNotYours,
}

impl From<&punch_model::ledger::fault::FaultRefusal> for RequestRefusal {
    fn from(f: &punch_model::ledger::fault::FaultRefusal) -> Self {
        use punch_model::ledger::fault::FaultRefusal as F;
        match f {
            F::UnknownKind { .. } => RequestRefusal::FaultUnknownKind,
            F::TextTooLong { .. } => RequestRefusal::FaultTextTooLong,
            F::ControlCharacters => RequestRefusal::FaultControlCharacters,
            F::NoText => RequestRefusal::FaultNoText,
            F::TooManyAttachments { .. } => RequestRefusal::FaultTooManyAttachments,
            F::BadAttachment => RequestRefusal::FaultBadAttachment,
            F::CitedFaultNotFound { .. } => RequestRefusal::FaultCitedNotFound,
            F::CitedFaultNotYours { .. } => RequestRefusal::FaultCitedNotYours,
        }
    }
}

impl From<&punch_model::rules::makeup::MakeUpRefusal> for RequestRefusal {
    fn from(r: &punch_model::rules::makeup::MakeUpRefusal) -> Self {
        use punch_model::rules::makeup::MakeUpRefusal as M;
        match r {
            M::TooFarBack { .. } => RequestRefusal::MakeUpTooFarBack,
            M::InFuture => RequestRefusal::MakeUpInFuture,
            M::MonthlyLimit { .. } => RequestRefusal::MakeUpMonthlyLimit,
            M::TooManyAttachments { .. } => RequestRefusal::MakeUpTooManyAttachments,
            M::AttachmentTooLarge { .. } => RequestRefusal::MakeUpAttachmentTooLarge,
            M::NoReason => RequestRefusal::MakeUpNoReason,
        }
    }
}

impl From<&punch_model::rules::field_work::FieldWorkError> for RequestRefusal {
    fn from(f: &punch_model::rules::field_work::FieldWorkError) -> Self {
        use punch_model::rules::field_work::FieldWorkError as F;
        match f {
            F::Radius => RequestRefusal::FieldWorkRadius,
            F::Center => RequestRefusal::FieldWorkCenter,
            F::Dates => RequestRefusal::FieldWorkDates,
            F::NoReason => RequestRefusal::FieldWorkNoReason,
            F::TooLong => RequestRefusal::FieldWorkTooLong,
        }
    }
}

impl PunchError {
    pub(crate) fn invalid(detail: impl Into<String>) -> PunchError {
        PunchError::InvalidInput {
            detail: detail.into(),
        }
    }
}

/// What an app's signer, transport or clock reports when it fails. Any
/// other exception it throws arrives as `Failed` with the exception's text.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum PlatformError {
    #[error("{detail}")]
    Failed { detail: String },
    /// The operation took too long (HTTP: a timeout; signer: a prompt left open).
    #[error("timed out: {detail}")]
    Timeout { detail: String },
    /// HTTP: the server could not be reached (no network, DNS, refused).
    #[error("unreachable: {detail}")]
    Unreachable { detail: String },
    /// HTTP: the server's certificate was refused or the TLS handshake
    /// failed (OkHttp `SSLHandshakeException`, `SSLPeerUnverifiedException`,
    /// `CertPathValidatorException`; URLSession `NSURLErrorServerCertificate*`,
    /// `secureConnectionFailed`, `clientCertificate*`). The call fails with
    /// `PunchError.Tls`; a sync reports `SyncIssueKind.Tls`.
    #[error("TLS: {detail}")]
    Tls { detail: String },
    /// Signer: the platform invalidated the key for good (Android
    /// `KeyPermanentlyInvalidatedException` after a new fingerprint; an iOS
    /// key lost with the passcode). The call fails with
    /// `PunchError.KeyInvalidated`; the app then calls `rotate_punch_key`.
    #[error("key invalidated: {detail}")]
    KeyInvalidated { detail: String },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for PlatformError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        PlatformError::Failed { detail: e.reason }
    }
}

/// A sync problem as the error of a call that needed the server.
pub(crate) fn from_sync_error(e: &SyncError) -> PunchError {
    log::debug!(target: "punchcore", "sync failed: {e}");
    let network = |detail: &str| PunchError::Network {
        detail: detail.into(),
    };
    match e {
        SyncError::Network { .. } => network("The server could not be reached; try again later."),
        SyncError::Server { .. } => network("The server failed; try again later."),
        SyncError::RateLimited => {
            network("The server asked the app to slow down; try again later.")
        }
        SyncError::BadResponse { .. } => {
            network("The server answered something unusable; try again later.")
        }
        SyncError::Refused { code, .. } => PunchError::ServerRefused {
            detail: "The server refused the request; retrying will not help until something \
                     changes (see the code)."
                .into(),
            code: code.as_ref().map(ServerErrorCode::from),
        },
        SyncError::Tls { .. } => PunchError::Tls {
            detail: "The server's certificate is not trusted or the secure connection failed \
                     (a wrong server address, or a network that intercepts HTTPS)."
                .into(),
        },
        SyncError::Policy { .. } => PunchError::ServerRefused {
            detail: "The server's policy was refused (bad signature or an older version).".into(),
            code: None,
        },
    }
}

impl From<CoreError> for PunchError {
    fn from(e: CoreError) -> Self {
        // The core's text may name places, sites and people: the log sink
        // (debug) has it, the message does not.
        log::debug!(target: "punchcore", "core error: {e}");
        let text = |s: &str| s.to_string();
        match e {
            CoreError::Evidence(_) => PunchError::InvalidInput {
                detail: text(
                    "The evidence is unusable (a location, Wi-Fi or IP value out of range).",
                ),
            },
            CoreError::EmployeeMismatch { .. } => PunchError::InvalidInput {
                detail: text("This device is bound to another employee."),
            },
            CoreError::NotConfigured => PunchError::InvalidInput {
                detail: text(
                    "No server is configured: open the client with serverUrl and policyKeyBase64.",
                ),
            },
            CoreError::Policy(PolicyError::Expired { .. }) => PunchError::PolicyExpired {
                detail: text("The employer's policy has expired; sync while online for a new one."),
            },
            CoreError::Policy(_) => PunchError::PolicyInvalid {
                detail: text("The employer's policy is malformed and was refused."),
            },
            CoreError::PolicySignature => PunchError::PolicyInvalid {
                detail: text("The policy's signature does not verify with the pinned server key."),
            },
            CoreError::PolicyRollback { .. } => PunchError::PolicyInvalid {
                detail: text("The policy is older than the one installed and was refused."),
            },
            CoreError::NoPolicy => PunchError::PolicyMissing {
                detail: text("No policy is installed yet; sync while online first."),
            },
            CoreError::Sync(s) => from_sync_error(&s),
            CoreError::NoEmployee => PunchError::NotEnrolled {
                detail: text(
                    "This device is not enrolled yet; enroll it with a code from the employer.",
                ),
            },
            CoreError::Refused(evaluation) => PunchError::Refused {
                detail: text(
                    "The punch does not meet the employer's rules; it is kept as a refused attempt, and its evaluation says why.",
                ),
                evaluation: Evaluation::from(*evaluation),
            },
            CoreError::Signer(SignerError::Invalidated) => PunchError::KeyInvalidated {
                detail: text(
                    "The platform invalidated the punch key; create a new one with rotatePunchKey. \
                     Punches taken before still upload.",
                ),
            },
            // The signer's own words (the app's, or a timeout): no personal data.
            CoreError::Signer(s) => PunchError::Signer {
                detail: format!("The device key failed and nothing was stored: {s}."),
            },
            CoreError::DeviceKeyMismatch => PunchError::Signer {
                detail: text("The signer's key is not this device's key."),
            },
            CoreError::Busy => PunchError::Busy {
                detail: text("Another punch was being stored at the same moment; try again."),
            },
            CoreError::Pin(p) => pin_error(p),
            CoreError::MakeUp(r) => PunchError::RequestRefused {
                detail: text(
                    "The employer's rules refuse this make-up request; its code says why.",
                ),
                code: (&r).into(),
            },
            CoreError::FieldWork(f) => PunchError::RequestRefused {
                detail: text(
                    "The employer's rules refuse this field-work proposal; its code says why.",
                ),
                code: (&f).into(),
            },
            CoreError::Fault(f) => PunchError::RequestRefused {
                detail: text("The fault report is refused; its code says why."),
                code: (&f).into(),
            },
            CoreError::UnknownReference { .. } => PunchError::RequestRefused {
                detail: text(
                    "The request names a refused attempt, a fault or a file this device does not hold.",
                ),
                code: RequestRefusal::UnknownReference,
            },
            CoreError::Addendum(_) => PunchError::PolicyInvalid {
                detail: text("The employer's personal addendum was refused."),
            },
            CoreError::Storage(_) => PunchError::Storage {
                detail: text("The device database failed."),
            },
            CoreError::SchemaTooNew { .. } => PunchError::Storage {
                detail: text("The device database was written by a newer version of the library."),
            },
            CoreError::Corrupt { .. } | CoreError::CorruptState(_) => PunchError::Storage {
                detail: text("The device database is corrupt."),
            },
            CoreError::NoticeNotAcknowledged { version } => PunchError::NoticeRequired {
                detail: text(
                    "The employer's privacy notice must be shown and acknowledged before this.",
                ),
                version,
            },
            CoreError::DataKeyUnavailable { .. } => PunchError::DataKeyUnavailable {
                detail: text(
                    "The key that seals stored punches is unavailable; stored punches still \
                     upload; call rotateDataKey to punch again.",
                ),
            },
            CoreError::NothingToReveal { .. } => PunchError::InvalidInput {
                detail: text("That record has no hidden evidence to reveal."),
            },
            // Replacing keys after they signed is the app's mistake.
            CoreError::KeysInUse => PunchError::InvalidInput {
                detail: text(
                    "This device's keys have signed records already and cannot be replaced.",
                ),
            },
            CoreError::Enrollment(EnrollError::AttestationRequired { role, required }) => {
                PunchError::AttestationRequired {
                    detail: text(
                        "The employer requires attested device keys and the platform gave no \
                         attestation; nothing was sent.",
                    ),
                    role: role.into(),
                    required: required.into(),
                }
            }
            CoreError::PhotoRequired { reasons } => PunchError::PhotoRequired {
                detail: text(
                    "The employer's policy wants a photo for this punch; nothing was stored. \
                     Capture one and punch again with it.",
                ),
                reasons: reasons.into_iter().map(Into::into).collect(),
            },
            CoreError::Photo(e) => PunchError::PhotoRefused {
                detail: text("The photo is unusable (see problem); nothing was stored."),
                problem: (&e).into(),
            },
            // A server from before attestation: it cannot attest platform keys.
            CoreError::Enrollment(EnrollError::NoChallenge) => PunchError::ServerRefused {
                detail: text(
                    "The server offers no attestation challenge, so it cannot enroll platform keys.",
                ),
                code: None,
            },
        }
    }
}

fn pin_error(e: punch_core::PinError) -> PunchError {
    use punch_core::PinError as P;
    let (reason, tries_left, locked_for_ms, detail): (_, _, Option<u64>, &str) = match e {
        P::Required => (
            PinReason::Required,
            None,
            None,
            "The employer requires the PIN (or the platform's biometric) before a punch.",
        ),
        P::NotSet => (
            PinReason::NotSet,
            None,
            None,
            "No PIN is set yet; choose one.",
        ),
        P::AlreadySet => (
            PinReason::AlreadySet,
            None,
            None,
            "A PIN is set already; change it with the current PIN, or reset it.",
        ),
        P::MustChange => (
            PinReason::MustChange,
            None,
            None,
            "The PIN is too old; choose a new one.",
        ),
        P::Wrong { tries_left } => (
            PinReason::Wrong,
            Some(tries_left),
            None,
            "Wrong PIN; the PIN locks after a few more wrong tries.",
        ),
        P::Locked { remaining_ms, .. } => (
            PinReason::Locked,
            Some(0),
            Some(remaining_ms),
            "Too many wrong PINs; the PIN is locked for a while.",
        ),
        P::Rejected(_) => (
            PinReason::Rejected,
            None,
            None,
            "That PIN is too easy to guess; choose another.",
        ),
        P::Token(_) => (
            PinReason::Token,
            None,
            None,
            "The PIN reset token is forged, expired, foreign or used already.",
        ),
        P::NotOnThisKiosk => (
            PinReason::NotOnThisKiosk,
            None,
            None,
            "The employee cannot punch on this kiosk.",
        ),
    };
    PunchError::Pin {
        detail: detail.into(),
        reason,
        tries_left: tries_left.signed(),
        locked_for: locked_for_ms.map(std::time::Duration::from_millis),
    }
}

thread_local! {
    /// Set on the threads that run a platform signer or transport: the
    /// client refuses calls from there (they would wait for themselves).
    pub(crate) static IN_CALLBACK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The text of a panic payload.
pub(crate) fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// Runs one exported body: a panic becomes `PunchError::Internal` (the
/// core's locks tolerate poisoning, so the client stays usable), and a
/// call from inside a signer or transport callback is refused.
pub(crate) fn guard<T>(body: impl FnOnce() -> Result<T, PunchError>) -> Result<T, PunchError> {
    if IN_CALLBACK.with(std::cell::Cell::get) {
        return Err(PunchError::Busy {
            detail: "PunchClient was called from inside a DeviceSigner or HttpTransport \
                     callback; call it from another thread once the callback has returned."
                .into(),
        });
    }
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(result) => {
            if let Err(e) = &result {
                log::debug!(target: "punchcore", "call failed: {e}");
            }
            result
        }
        Err(payload) => {
            // The panic's text is for the log: it may hold any value.
            let text = panic_text(payload.as_ref());
            log::error!(target: "punchcore", "panic caught at the FFI boundary: {text}");
            Err(PunchError::Internal {
                detail: "A bug in the punch library was caught (the app's log has its text); \
                         please report it."
                    .into(),
            })
        }
    }
}

/// A count or sequence number the app passed: negative is its input error.
pub(crate) fn unsigned<T: TryFrom<i64>>(value: i64, what: &str) -> Result<T, PunchError> {
    T::try_from(value).map_err(|_| PunchError::invalid(format!("{what} must not be negative.")))
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
