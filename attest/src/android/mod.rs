//! Android Key Attestation.

pub mod chain;
pub mod key_description;
pub mod lapsed;
pub mod status_list;
pub mod verify;

pub use key_description::{
    AttestationApplicationId, AuthorizationList, KEY_DESCRIPTION_OID, KeyDescription, PackageInfo,
    RootOfTrust, SecurityLevel, TagKind, TagValue, VerifiedBootState, parse_key_description,
};
pub use lapsed::LapsedHierarchy;
pub use status_list::{StatusEntry, StatusList};
pub use verify::{AndroidApp, AndroidAttestation, AndroidExpectations, AndroidVerifier};
