//! Apple App Attest.

pub mod auth_data;
pub mod object;
pub mod verify;

pub use auth_data::{AuthData, parse_auth_data};
pub use object::{AttestationObject, parse_attestation_object};
pub use verify::{AppAttestEnvironment, AppleAttestation, AppleExpectations, AppleVerifier};
