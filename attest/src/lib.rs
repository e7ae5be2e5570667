//! # punch-attest
//!
//! Server-side, offline verification of device key attestations for the punch server:
//!
//! - **Android Key Attestation**: a certificate chain whose leaf carries the KeyDescription
//!   extension, verified to Google's roots ([`android::AndroidVerifier`]).
//! - **Apple App Attest**: a CBOR attestation object verified to Apple's App Attest root
//!   ([`apple::AppleVerifier`]).
//!
//! Both end in a typed [`Refusal`] with a stable [`Refusal::code`], or in a verified result that
//! [`level`] maps to an [`AssuranceLevel`]. [`report`] builds the JSON the server CLI prints.
//!
//! No network calls: roots and the Android status list are data the operator supplies (the
//! shipped defaults are in `roots/`). All input is bounded ([`MAX_CHAIN_LEN`],
//! [`x509::MAX_CERT_DER`], [`apple::object::MAX_OBJECT`]) and parsers never panic on it.
//! Signatures are checked with ring only.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod android;
pub mod apple;
mod chain;
pub mod error;
pub mod level;
pub mod report;
pub mod roots;
pub mod x509;

pub use chain::MAX_CHAIN_LEN;
pub use error::{ConfigError, Refusal, RefusalCategory};
pub use level::{Assurance, AssuranceLevel, android_assurance, apple_assurance};
pub use report::{CheckOptions, verify_android_report, verify_apple_report};
pub use roots::{TrustAnchor, TrustedRoots};
