//! The one error an app sees, and the guard that turns a panic into it.
//!
//! Variants say what the app can do; `detail` is a human sentence for the
//! UI or a log; codes are enums an app can `when`/`switch` over. The core's
//! rich error is mapped here, in one place, with no wildcard arm: a new core
//! error fails this crate's build instead of reaching apps unmapped.

use std::panic::{AssertUnwindSafe, catch_unwind};

use punch_core::{EnrollError, PunchError as CoreError, SyncError};
use punch_model::rules::policy::PolicyError;

use crate::types::Signed;
use crate::types::{AssuranceLevel, Evaluation, KeyRole, ServerErrorCode};

/// What went wrong, by what the app can do about it.
// `Refused` carries the evaluation by value: the foreign side needs a plain
// record (uniffi has no boxes), and the error path is not hot.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[non_exhaustive]
pub enum PunchError {
    /// Enroll first (`PunchClient.enroll` with a code from the employer).
    #[error("not enrolled: {detail}")]
    NotEnrolled { detail: String },
    /// The punch was judged *rejected* and not stored; show `evaluation.reasons`.
    #[error("punch refused: {detail}")]
    Refused {
        detail: String,
        evaluation: Evaluation,
    },
    /// No policy yet: sync (or `refresh_policy`) while online.
    #[error("no policy: {detail}")]
    PolicyMissing { detail: String },
    /// The policy expired (by trusted time): sync while online for a fresh one.
    #[error("policy expired: {detail}")]
    PolicyExpired { detail: String },
    /// A policy was refused: bad signature (wrong pinned key?), rollback, malformed.
    #[error("policy refused: {detail}")]
    PolicyInvalid { detail: String },
    /// The device key (platform signer) failed, answered garbage, timed out
    /// or is not the enrolled key. Nothing was stored.
    #[error("device key: {detail}")]
    Signer { detail: String },
    /// Network trouble or a server-side failure: retry later.
    #[error("network: {detail}")]
    Network { detail: String },
    /// The server refused (bad enrollment code, unbound device...); retrying
    /// will not help until something changes. `code` is the server's error
    /// code (None when the refusal was the policy the server sent).
    #[error("server refused: {detail}")]
    ServerRefused {
        detail: String,
        code: Option<ServerErrorCode>,
    },
    /// The database failed or is corrupt.
    #[error("storage: {detail}")]
    Storage { detail: String },
    /// Another punch holds the turn, or a callback called back into the client: try again.
    #[error("busy: {detail}")]
    Busy { detail: String },
    /// A make-up request or field-work proposal the employer's rules refuse,
    /// or one naming a file or refused attempt the device does not hold.
    #[error("request refused: {detail}")]
    RequestRefused {
        detail: String,
        code: RequestRefusal,
    },
    /// The app passed something unusable (evidence, options, a code).
    #[error("invalid input: {detail}")]
    InvalidInput { detail: String },
    /// Show the employer's privacy notice `version`, then `acknowledge_notice`.
    #[error("notice required: {detail}")]
    NoticeRequired { detail: String, version: String },
    /// The platform lost the data key: stored records still upload; call
    /// `rotate_data_key` to punch again.
    #[error("data key unavailable: {detail}")]
    DataKeyUnavailable { detail: String },
    /// The punch PIN said no; `reason` says why (`tries_left` after `Wrong`,
    /// `locked_for` after `Locked`).
    #[error("PIN: {detail}")]
    Pin {
        detail: String,
        reason: PinReason,
        tries_left: Option<i32>,
        locked_for: Option<std::time::Duration>,
    },
    /// Enrollment stopped before anything was sent: the employer requires
    /// the `role` key attested at `required` or better and the platform's
    /// key provider gave no attestation for it.
    #[error("attestation required: {detail}")]
    AttestationRequired {
        detail: String,
        role: KeyRole,
        required: AssuranceLevel,
    },
    /// A bug in the library (a panic, caught): report it.
    #[error("internal error: {detail}")]
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
}

impl From<uniffi::UnexpectedUniFFICallbackError> for PlatformError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        PlatformError::Failed { detail: e.reason }
    }
}

/// A sync problem as the error of a call that needed the server.
pub(crate) fn from_sync_error(e: &SyncError) -> PunchError {
    let detail = e.to_string();
    match e {
        SyncError::Refused { code, .. } => PunchError::ServerRefused {
            detail,
            code: code.as_ref().map(ServerErrorCode::from),
        },
        SyncError::Policy { .. } => PunchError::ServerRefused { detail, code: None },
        _ => PunchError::Network { detail },
    }
}

impl From<CoreError> for PunchError {
    fn from(e: CoreError) -> Self {
        let detail = e.to_string();
        match e {
            CoreError::Evidence(_) | CoreError::EmployeeMismatch { .. } => {
                PunchError::InvalidInput { detail }
            }
            CoreError::NotConfigured => PunchError::InvalidInput {
                detail:
                    "no server is configured: open the client with server_url and policy_key_base64"
                        .into(),
            },
            CoreError::Policy(PolicyError::Expired { .. }) => PunchError::PolicyExpired { detail },
            CoreError::Policy(_)
            | CoreError::PolicySignature
            | CoreError::PolicyRollback { .. } => PunchError::PolicyInvalid { detail },
            CoreError::NoPolicy => PunchError::PolicyMissing { detail },
            CoreError::Sync(s) => from_sync_error(&s),
            CoreError::NoEmployee => PunchError::NotEnrolled { detail },
            CoreError::Refused(evaluation) => PunchError::Refused {
                detail,
                evaluation: Evaluation::from(*evaluation),
            },
            CoreError::Signer(_) | CoreError::DeviceKeyMismatch => PunchError::Signer { detail },
            CoreError::Busy => PunchError::Busy { detail },
            CoreError::Pin(p) => pin_error(detail, p),
            CoreError::MakeUp(r) => PunchError::RequestRefused {
                detail,
                code: (&r).into(),
            },
            CoreError::FieldWork(f) => PunchError::RequestRefused {
                detail,
                code: (&f).into(),
            },
            CoreError::UnknownReference { .. } => PunchError::RequestRefused {
                detail,
                code: RequestRefusal::UnknownReference,
            },
            CoreError::Addendum(_) => PunchError::PolicyInvalid { detail },
            CoreError::Storage(_)
            | CoreError::SchemaTooNew { .. }
            | CoreError::Corrupt { .. }
            | CoreError::CorruptState(_) => PunchError::Storage { detail },
            CoreError::NoticeNotAcknowledged { version } => {
                PunchError::NoticeRequired { detail, version }
            }
            CoreError::DataKeyUnavailable { .. } => PunchError::DataKeyUnavailable { detail },
            CoreError::NothingToReveal { .. } => PunchError::InvalidInput { detail },
            // Replacing keys after they signed is the app's mistake.
            CoreError::KeysInUse => PunchError::InvalidInput { detail },
            CoreError::Enrollment(EnrollError::AttestationRequired { role, required }) => {
                PunchError::AttestationRequired {
                    detail,
                    role: role.into(),
                    required: required.into(),
                }
            }
            // A server from before attestation: it cannot attest platform keys.
            CoreError::Enrollment(EnrollError::NoChallenge) => {
                PunchError::ServerRefused { detail, code: None }
            }
        }
    }
}

fn pin_error(detail: String, e: punch_core::PinError) -> PunchError {
    use punch_core::PinError as P;
    let (reason, tries_left, locked_for_ms): (_, _, Option<u64>) = match e {
        P::Required => (PinReason::Required, None, None),
        P::NotSet => (PinReason::NotSet, None, None),
        P::AlreadySet => (PinReason::AlreadySet, None, None),
        P::MustChange => (PinReason::MustChange, None, None),
        P::Wrong { tries_left } => (PinReason::Wrong, Some(tries_left), None),
        P::Locked { remaining_ms, .. } => (PinReason::Locked, Some(0), Some(remaining_ms)),
        P::Rejected(_) => (PinReason::Rejected, None, None),
        P::Token(_) => (PinReason::Token, None, None),
        P::NotOnThisKiosk => (PinReason::NotOnThisKiosk, None, None),
    };
    PunchError::Pin {
        detail,
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
                     callback; call it from another thread once the callback has returned"
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
            let detail = panic_text(payload.as_ref());
            log::error!(target: "punchcore", "panic caught at the FFI boundary: {detail}");
            Err(PunchError::Internal { detail })
        }
    }
}

/// A count or sequence number the app passed: negative is its input error.
pub(crate) fn unsigned<T: TryFrom<i64>>(value: i64, what: &str) -> Result<T, PunchError> {
    T::try_from(value).map_err(|_| PunchError::invalid(format!("{what} must not be negative")))
}
