//! Why an attestation was refused.
//!
//! Every refusal has a stable machine code (`code()`, snake_case, never renamed once shipped) and a
//! category (`category()`), so an admin reading a log can tell a forgery attempt from a device
//! that is merely below policy or a server that is misconfigured. The human message (`Display`)
//! may change between releases; programs must match on the code.

use serde::Serialize;

/// What kind of problem a refusal points to, for the admin deciding what to do about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[non_exhaustive]
pub enum RefusalCategory {
    /// The input is not well-formed: a broken upload, a buggy device, or a fuzzing attacker.
    Malformed,
    /// A cryptographic check failed or a value does not match what the server issued: treat as
    /// a forgery or replay attempt until shown otherwise.
    Forgery,
    /// The chain does not lead to a root the server trusts, or a certificate was revoked.
    Untrusted,
    /// A certificate is outside its validity window at the verification time: a stale
    /// attestation, a replay, or a wrong server clock.
    Validity,
    /// The attestation is genuine but the device is below the policy (software key, unlocked
    /// bootloader, old patch level).
    DevicePolicy,
    /// The attestation is genuine but names an app or environment the server does not accept:
    /// often a server configuration error (allowlist, team id, development build).
    Configuration,
}

impl RefusalCategory {
    /// Stable snake_case name of the category.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A refused attestation. Certificate indexes count from the leaf (0).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
#[non_exhaustive]
pub enum Refusal {
    /// An input is larger than the bound this verifier accepts.
    #[error("{what} is {len} bytes/items, more than the {max} accepted")]
    InputTooLarge {
        /// What was too large.
        what: &'static str,
        /// Its size.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// The chain has more certificates than any genuine attestation chain.
    #[error("certificate chain has {len} certificates, more than the {max} accepted")]
    ChainTooLong {
        /// Number of certificates.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// The chain is empty or stops before reaching any trusted root.
    #[error("certificate chain is truncated: {detail}")]
    TruncatedChain {
        /// What is missing.
        detail: String,
    },
    /// A certificate (or the PEM/base64 around it) cannot be parsed.
    #[error("certificate {index} is malformed: {detail}")]
    MalformedCertificate {
        /// Position in the chain.
        index: usize,
        /// Parser detail.
        detail: String,
    },
    /// The attestation extension (Android KeyDescription, Apple nonce) cannot be parsed.
    #[error("attestation extension is malformed: {detail}")]
    MalformedExtension {
        /// Parser detail.
        detail: String,
    },
    /// The Apple attestation object (CBOR, authData, COSE key) cannot be parsed.
    #[error("attestation object is malformed: {detail}")]
    MalformedObject {
        /// Parser detail.
        detail: String,
    },
    /// A required extension is absent.
    #[error("certificate {index} lacks the {what} extension")]
    MissingExtension {
        /// Position in the chain.
        index: usize,
        /// Which extension.
        what: &'static str,
    },
    /// The attestation extension appears in a certificate other than the leaf: the shape of the
    /// "attested key used as a CA" forgery.
    #[error("certificate {index} ({subject}) carries an attestation extension; only the leaf may")]
    UnexpectedExtension {
        /// Position in the chain.
        index: usize,
        /// Its subject.
        subject: String,
    },
    /// A certificate's issuer name is not its parent's subject.
    #[error("certificate {index} names issuer {issuer:?} but the next certificate is {parent:?}")]
    IssuerMismatch {
        /// Position in the chain.
        index: usize,
        /// Issuer named in the certificate.
        issuer: String,
        /// Subject of the next certificate.
        parent: String,
    },
    /// A signature or key algorithm this verifier does not accept.
    #[error("certificate {index}: unsupported algorithm: {detail}")]
    UnsupportedAlgorithm {
        /// Position in the chain.
        index: usize,
        /// Which algorithm.
        detail: String,
    },
    /// A certificate's signature does not verify under its issuer's key.
    #[error("certificate {index} ({subject}): signature does not verify under its issuer's key")]
    BadSignature {
        /// Position in the chain.
        index: usize,
        /// Its subject.
        subject: String,
    },
    /// The chain ends in a root that is not in the trusted root set.
    #[error(
        "chain ends in {subject:?} (public key SHA-256 {spki_sha256}), which is not one of the \
         {trusted} trusted roots; a userdebug/test device or a forged chain"
    )]
    UntrustedRoot {
        /// Subject of the last certificate.
        subject: String,
        /// Hex SHA-256 of its SubjectPublicKeyInfo.
        spki_sha256: String,
        /// How many roots were trusted.
        trusted: usize,
    },
    /// A certificate expired before the verification time.
    #[error("certificate {index} ({subject}) expired at {not_after}")]
    ExpiredCertificate {
        /// Position in the chain.
        index: usize,
        /// Its subject.
        subject: String,
        /// Its notAfter, RFC 3339.
        not_after: String,
    },
    /// A certificate is not yet valid at the verification time.
    #[error("certificate {index} ({subject}) is not valid before {not_before}")]
    NotYetValid {
        /// Position in the chain.
        index: usize,
        /// Its subject.
        subject: String,
        /// Its notBefore, RFC 3339.
        not_before: String,
    },
    /// A certificate's serial is on the revocation (status) list.
    #[error("certificate {index} (serial {serial}) is {status} on the attestation status list{}",
        reason.as_deref().map(|r| format!(" (reason {r})")).unwrap_or_default())]
    Revoked {
        /// Position in the chain.
        index: usize,
        /// Serial, lowercase hex.
        serial: String,
        /// REVOKED or SUSPENDED.
        status: String,
        /// The list's reason, if any.
        reason: Option<String>,
    },
    /// The attested challenge is not the one the server issued.
    #[error("attestation challenge does not match the challenge the server issued")]
    ChallengeMismatch,
    /// The attested key is not the key being enrolled.
    #[error("attested key does not match the expected key: {detail}")]
    KeyMismatch {
        /// What differs.
        detail: String,
    },
    /// The key (or its attestation) is not hardware-backed enough for the policy.
    #[error(
        "key attested at {found} (attestation by {attestation}), policy requires at least {required}"
    )]
    SoftwareOnlyKey {
        /// KeyMint security level.
        found: String,
        /// Attestation security level.
        attestation: String,
        /// Policy minimum.
        required: String,
    },
    /// The bootloader is unlocked (or the device lock state is not attested).
    #[error("device bootloader is not locked ({detail})")]
    UnlockedBootloader {
        /// What the attestation said.
        detail: String,
    },
    /// Verified boot did not succeed with the manufacturer's key.
    #[error("verified boot state is {state}, policy requires VERIFIED")]
    UnverifiedBoot {
        /// The attested state.
        state: String,
    },
    /// The OS security patch level is older than the policy's minimum.
    #[error("OS patch level {found} is older than the required {required}")]
    OutdatedPatchLevel {
        /// Attested patch level (YYYYMM), or "absent".
        found: String,
        /// Policy minimum.
        required: u32,
    },
    /// The attesting app is not in the allowlist.
    #[error("app not allowed: {detail}")]
    UnknownApp {
        /// What was attested.
        detail: String,
    },
    /// Apple: the attestation statement format is not "apple-appattest".
    #[error("attestation format is {found:?}, expected \"apple-appattest\"")]
    WrongFormat {
        /// The fmt found.
        found: String,
    },
    /// Apple: SHA-256(authData ‖ clientDataHash) differs from the nonce in the certificate.
    #[error(
        "nonce in the credential certificate does not match SHA-256(authData ‖ clientDataHash)"
    )]
    NonceMismatch,
    /// Apple: the RP id hash is not SHA-256 of an allowed app id.
    #[error("RP id hash {found} is not SHA-256 of any allowed app id ({allowed})")]
    RpIdMismatch {
        /// Hex of the RP id hash found.
        found: String,
        /// The allowed app ids.
        allowed: String,
    },
    /// Apple: the sign counter of a fresh attestation must be 0.
    #[error("sign counter is {counter}, a fresh attestation has 0")]
    BadCounter {
        /// The counter found.
        counter: u32,
    },
    /// Apple: the aaguid names another environment (or none).
    #[error("attestation is for the {found} environment, expected {expected}")]
    WrongEnvironment {
        /// What the aaguid says.
        found: String,
        /// What the server expects.
        expected: String,
    },
    /// Apple: key id = SHA-256(credential public key) differs from the credential id or the
    /// expected key id.
    #[error("key id mismatch: {detail}")]
    KeyIdMismatch {
        /// What differs.
        detail: String,
    },
}

impl Refusal {
    /// Stable machine code, e.g. `untrusted_root`: the variant's name in snake_case, so a
    /// renamed variant is a renamed code (a test checks every code against the README).
    pub fn code(&self) -> &'static str {
        self.into()
    }

    /// What kind of problem this is (see [`RefusalCategory`]).
    pub fn category(&self) -> RefusalCategory {
        use RefusalCategory::*;
        match self {
            Refusal::InputTooLarge { .. }
            | Refusal::ChainTooLong { .. }
            | Refusal::TruncatedChain { .. }
            | Refusal::MalformedCertificate { .. }
            | Refusal::MalformedExtension { .. }
            | Refusal::MalformedObject { .. }
            | Refusal::MissingExtension { .. }
            | Refusal::UnsupportedAlgorithm { .. }
            | Refusal::WrongFormat { .. } => Malformed,
            Refusal::UnexpectedExtension { .. }
            | Refusal::IssuerMismatch { .. }
            | Refusal::BadSignature { .. }
            | Refusal::ChallengeMismatch
            | Refusal::KeyMismatch { .. }
            | Refusal::NonceMismatch
            | Refusal::BadCounter { .. }
            | Refusal::KeyIdMismatch { .. } => Forgery,
            Refusal::UntrustedRoot { .. } | Refusal::Revoked { .. } => Untrusted,
            Refusal::ExpiredCertificate { .. } | Refusal::NotYetValid { .. } => Validity,
            Refusal::SoftwareOnlyKey { .. }
            | Refusal::UnlockedBootloader { .. }
            | Refusal::UnverifiedBoot { .. }
            | Refusal::OutdatedPatchLevel { .. } => DevicePolicy,
            Refusal::UnknownApp { .. }
            | Refusal::RpIdMismatch { .. }
            | Refusal::WrongEnvironment { .. } => Configuration,
        }
    }
}

/// An operator-supplied file (roots, status list, app id) could not be used. This is a server
/// configuration problem, never a verdict on a device.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The trusted-roots file is unusable.
    #[error("trusted roots: {0}")]
    Roots(String),
    /// The attestation status (revocation) list is unusable.
    #[error("attestation status list: {0}")]
    StatusList(String),
    /// An app id / allowlist entry is unusable.
    #[error("app id: {0}")]
    AppId(String),
    /// A time string is unusable.
    #[error("time: {0}")]
    Time(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_of_each() -> Vec<Refusal> {
        let s = String::new;
        vec![
            Refusal::InputTooLarge {
                what: "x",
                len: 2,
                max: 1,
            },
            Refusal::ChainTooLong { len: 9, max: 8 },
            Refusal::TruncatedChain { detail: s() },
            Refusal::MalformedCertificate {
                index: 0,
                detail: s(),
            },
            Refusal::MalformedExtension { detail: s() },
            Refusal::MalformedObject { detail: s() },
            Refusal::MissingExtension {
                index: 0,
                what: "x",
            },
            Refusal::UnexpectedExtension {
                index: 1,
                subject: s(),
            },
            Refusal::IssuerMismatch {
                index: 0,
                issuer: s(),
                parent: s(),
            },
            Refusal::UnsupportedAlgorithm {
                index: 0,
                detail: s(),
            },
            Refusal::BadSignature {
                index: 0,
                subject: s(),
            },
            Refusal::UntrustedRoot {
                subject: s(),
                spki_sha256: s(),
                trusted: 2,
            },
            Refusal::ExpiredCertificate {
                index: 0,
                subject: s(),
                not_after: s(),
            },
            Refusal::NotYetValid {
                index: 0,
                subject: s(),
                not_before: s(),
            },
            Refusal::Revoked {
                index: 0,
                serial: s(),
                status: s(),
                reason: None,
            },
            Refusal::ChallengeMismatch,
            Refusal::KeyMismatch { detail: s() },
            Refusal::SoftwareOnlyKey {
                found: s(),
                attestation: s(),
                required: s(),
            },
            Refusal::UnlockedBootloader { detail: s() },
            Refusal::UnverifiedBoot { state: s() },
            Refusal::OutdatedPatchLevel {
                found: s(),
                required: 1,
            },
            Refusal::UnknownApp { detail: s() },
            Refusal::WrongFormat { found: s() },
            Refusal::NonceMismatch,
            Refusal::RpIdMismatch {
                found: s(),
                allowed: s(),
            },
            Refusal::BadCounter { counter: 1 },
            Refusal::WrongEnvironment {
                found: s(),
                expected: s(),
            },
            Refusal::KeyIdMismatch { detail: s() },
        ]
    }

    #[test]
    fn codes_are_distinct_snake_case_and_documented() {
        let readme = include_str!("../README.md");
        let all = one_of_each();
        let mut codes: Vec<&str> = all.iter().map(Refusal::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len(), "duplicate code");
        for r in &all {
            let code = r.code();
            assert!(
                code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{code}"
            );
            assert!(
                readme.contains(&format!("`{code}`")),
                "{code} missing from README"
            );
            assert!(readme.contains(&format!("| {} |", r.category().as_str())));
            assert!(!r.to_string().is_empty());
        }
    }

    /// One spelling per name: what `as_str`/`code` return is what serde writes (the
    /// categories and environments in reports, Google's names for the Android fields).
    #[test]
    fn names_are_the_json_spellings() {
        use crate::android::key_description::{SecurityLevel, VerifiedBootState};
        use crate::apple::verify::AppAttestEnvironment;
        fn spelled(value: impl Serialize, name: &str, want: &str) {
            assert_eq!(name, want);
            assert_eq!(serde_json::json!(value), want);
        }
        let c = RefusalCategory::DevicePolicy;
        spelled(c, c.as_str(), "device_policy");
        let l = SecurityLevel::TrustedEnvironment;
        spelled(l, l.as_str(), "TRUSTED_ENVIRONMENT");
        let l = SecurityLevel::StrongBox;
        spelled(l, l.as_str(), "STRONG_BOX");
        let b = VerifiedBootState::SelfSigned;
        spelled(b, b.as_str(), "SELF_SIGNED");
        let e = AppAttestEnvironment::Development;
        spelled(e, e.as_str(), "development");
        let r = Refusal::RpIdMismatch {
            found: String::new(),
            allowed: String::new(),
        };
        assert_eq!(r.code(), "rp_id_mismatch");
        assert_eq!(Refusal::ChallengeMismatch.code(), "challenge_mismatch");
    }
}
