//! punch-ffi: the punch core for Kotlin and Swift, through uniffi
//! (proc-macros, no UDL). The library is `libpunchcore`; Kotlin sees the
//! package `dev.punchcore`, Swift the module `PunchCore` (`uniffi.toml`).
//!
//! - `client`: [`PunchClient`], the one object an app holds;
//! - `types`: the records and enums that cross the boundary (times in epoch
//!   milliseconds, ids as strings), converted from the core's in one place;
//! - `runtime`: the worker threads async calls run on, and cancellation;
//! - `blocking`: the hot calls' blocking twins, for the Kotlin coroutine
//!   layer only (one FFI crossing on its own dispatcher);
//! - `error`: the one public error, the mapping from the core's, and the
//!   panic guard every exported body runs in;
//! - `keys`: the key provider, enrollment with two keys, punch-key rotation;
//! - `platform`: the traits an app implements (signer, HTTP transport,
//!   clock, status listener) and their adapters to the core's traits;
//! - `standing`: where the employee stands, and history newest first;
//! - `subscriptions`: standing subscribers, each with its own handle;
//! - `pin`: the punch PIN and its resets;
//! - `logging`: the log sink (Logcat / os_log) behind the `log` facade;
//! - `exceptions`: make-up requests, field work, refused attempts;
//! - `faults`: fault reports, and the citation of one by a make-up request;
//! - `messages`: reasons as codes, rendered in English or Chinese;
//! - `photo`: a photo at the punch when the policy asks;
//! - `bench` (feature `bench`, never in a shipped library): the Rust side of
//!   the bindings' benchmark, and `panic_probe`.
//!
//! No lock of this crate is held across a call into foreign code.

// `PunchError::Refused` carries the evaluation by value: the Kotlin and Swift
// sides need a plain record there, and the error path is not hot.
#![allow(clippy::result_large_err)]

#[cfg(feature = "bench")]
mod bench;
mod blocking;
mod client;
mod error;
mod exceptions;
mod faults;
mod forgotten;
mod key_wrapper;
mod keys;
mod logging;
mod messages;
mod photo;
mod pin;
mod platform;
mod privacy;
mod runtime;
mod screens;
mod standing;
mod subscriptions;
mod types;

#[cfg(feature = "bench")]
pub use bench::RustBaseline;
pub use blocking::{evaluate_blocking, evaluate_kind_blocking, punch_blocking};
pub use client::{ClientOptions, PunchClient, fetch_enrollment_challenge};
pub use error::{PinReason, PlatformError, PunchError, RequestRefusal};
pub use exceptions::*;
pub use faults::FaultInfo;
pub use forgotten::{ForgottenClockOutInfo, ForgottenClockOutState};
pub use key_wrapper::DataKeyWrapper;
pub use keys::{KeyProvider, ProvidedKey, RotationReason};
pub use logging::{LogLevel, LogSink, set_log_sink};
pub use messages::{Message, MessageArg, MessageCode, localized_text};
pub use photo::PunchPhoto;
pub use pin::{
    PinChannel, PinCodeSent, PinEvent, PinEventKind, PinResetToken, PinStatus, ResetPath,
};
pub use platform::{DeviceSigner, HttpTransport, PlatformClock, StandingListener};
pub use privacy::{DataKeyState, PersonalExport, RevealOutcome};
pub use runtime::cancel_call;
pub use screens::HistoryPage;
pub use standing::{ShiftOccurrence, Standing};
pub use subscriptions::Subscription;
pub use types::*;

uniffi::setup_scaffolding!("punchcore");

/// The library's version (the crate version), for an app's about screen and bug reports.
#[uniffi::export]
pub fn library_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// Panics inside the library on purpose. It exists so our tests can prove
/// that a Rust panic arrives as `PunchError::Internal`, a normal exception,
/// and never takes the app down (feature `bench`: not in a shipped library).
#[cfg(feature = "bench")]
#[uniffi::export]
pub fn panic_probe() -> Result<(), PunchError> {
    error::guard(|| panic!("panic_probe: a deliberate panic"))
}
