//! The one error an app sees, and the guard that turns a panic into it.
//!
//! Variants say what the app can do; `detail` is a human sentence for the
//! UI or a log. The core's rich error is mapped here, in one place.

use std::panic::{AssertUnwindSafe, catch_unwind};

use punch_core::rules::policy::PolicyError;
use punch_core::text::serde_name;
use punch_core::{PunchError as CoreError, SyncError};

use crate::types::Evaluation;

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
    /// will not help until something changes. `code` is the server's error code.
    #[error("server refused: {detail}")]
    ServerRefused {
        detail: String,
        code: Option<String>,
    },
    /// The database failed or is corrupt.
    #[error("storage: {detail}")]
    Storage { detail: String },
    /// Another punch holds the turn, or a callback called back into the client: try again.
    #[error("busy: {detail}")]
    Busy { detail: String },
    /// A make-up request or field-work proposal the employer's rules refuse,
    /// or one naming a file or refused attempt the device does not hold;
    /// `code` is the rule's stable code (`make_up_monthly_limit`...).
    #[error("request refused: {detail}")]
    RequestRefused { detail: String, code: String },
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
    /// The punch PIN said no: `reason` is `required`, `not_set`,
    /// `already_set`, `must_change`, `wrong` (see `tries_left`), `locked`
    /// (see `locked_for_ms`), `rejected` (a trivial new PIN), `token` (a
    /// forged, expired, foreign or reused reset token).
    #[error("PIN: {detail}")]
    Pin {
        detail: String,
        reason: String,
        tries_left: Option<u32>,
        locked_for_ms: Option<u64>,
    },
    /// A bug in the library (a panic, caught): report it.
    #[error("internal error: {detail}")]
    Internal { detail: String },
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
            code: code.as_ref().map(serde_name),
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
                code: r.code().into(),
            },
            CoreError::FieldWork(f) => PunchError::RequestRefused {
                detail,
                code: f.code().into(),
            },
            CoreError::UnknownReference { .. } => PunchError::RequestRefused {
                detail,
                code: "unknown_reference".into(),
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
            _ => PunchError::Internal { detail },
        }
    }
}

fn pin_error(detail: String, e: punch_core::PinError) -> PunchError {
    use punch_core::PinError as P;
    let (reason, tries_left, locked_for_ms) = match e {
        P::Required => ("required", None, None),
        P::NotSet => ("not_set", None, None),
        P::AlreadySet => ("already_set", None, None),
        P::MustChange => ("must_change", None, None),
        P::Wrong { tries_left } => ("wrong", Some(tries_left), None),
        P::Locked { remaining_ms, .. } => ("locked", Some(0), Some(remaining_ms)),
        P::Rejected(_) => ("rejected", None, None),
        P::Token(_) => ("token", None, None),
        _ => ("other", None, None),
    };
    PunchError::Pin {
        detail,
        reason: reason.into(),
        tries_left,
        locked_for_ms,
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
