//! Trusted roots, as data an operator can replace.
//!
//! A root is trusted by its public key (SubjectPublicKeyInfo), not by its certificate bytes:
//! Google has re-issued its RSA root several times with the same key, and devices still send
//! the copy they were provisioned with. As in RFC 5280 §6.1.1(d), a trust anchor is a name and
//! a key; its own validity dates are not checked.

use crate::error::ConfigError;
use crate::x509::{parse_cert, parse_pem_chain, sha256};

/// Google's hardware attestation roots, shipped with the crate (the shared `roots.json`).
pub const GOOGLE_ROOTS_JSON: &str = include_str!("../roots/google_roots.json");
/// Apple's App Attest root CA (P-384), shipped with the crate.
pub const APPLE_APP_ATTEST_ROOT_PEM: &str = include_str!("../roots/apple_app_attest_root.pem");

/// Most roots a set may hold; operator files are small (Google publishes two).
const MAX_ROOTS: usize = 64;

/// One trusted root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustAnchor {
    /// The root certificate as given (DER).
    pub certificate_der: Vec<u8>,
    /// Its SubjectPublicKeyInfo (DER): what trust rests on.
    pub spki_der: Vec<u8>,
    /// Its subject, for messages.
    pub subject: String,
}

impl TrustAnchor {
    /// Hex SHA-256 of the SubjectPublicKeyInfo, the anchor's fingerprint in reports.
    pub fn spki_sha256_hex(&self) -> String {
        hex::encode(sha256(&self.spki_der))
    }
}

/// A set of trusted roots.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedRoots {
    anchors: Vec<TrustAnchor>,
}

impl TrustedRoots {
    /// Google's roots as shipped (see [`GOOGLE_ROOTS_JSON`]).
    pub fn google() -> Self {
        // The shipped file is checked by the tests; an empty set here would refuse everything.
        Self::from_roots_json(GOOGLE_ROOTS_JSON).unwrap_or_default()
    }

    /// Apple's App Attest root as shipped (see [`APPLE_APP_ATTEST_ROOT_PEM`]).
    pub fn apple_app_attest() -> Self {
        Self::from_pem(APPLE_APP_ATTEST_ROOT_PEM).unwrap_or_default()
    }

    /// Load the `roots.json` format: a JSON array of PEM certificate strings.
    pub fn from_roots_json(json: &str) -> Result<Self, ConfigError> {
        let pems: Vec<String> = serde_json::from_str(json)
            .map_err(|e| ConfigError::Roots(format!("not a JSON array of PEM strings: {e}")))?;
        let mut roots = TrustedRoots::default();
        for pem in &pems {
            roots.add_pem(pem)?;
        }
        roots.non_empty()
    }

    /// Load one or more PEM certificates.
    pub fn from_pem(pem: &str) -> Result<Self, ConfigError> {
        let mut roots = TrustedRoots::default();
        roots.add_pem(pem)?;
        roots.non_empty()
    }

    /// Load an operator file in either format: JSON (starts with `[`) or PEM.
    pub fn from_file_contents(text: &str) -> Result<Self, ConfigError> {
        if text.trim_start().starts_with('[') {
            Self::from_roots_json(text)
        } else {
            Self::from_pem(text)
        }
    }

    /// The anchors.
    pub fn anchors(&self) -> &[TrustAnchor] {
        &self.anchors
    }

    /// Number of anchors.
    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    /// True when no root is trusted (everything will be refused).
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// The anchor with exactly this SubjectPublicKeyInfo.
    pub fn by_spki(&self, spki_der: &[u8]) -> Option<&TrustAnchor> {
        self.anchors.iter().find(|a| a.spki_der == spki_der)
    }

    fn add_pem(&mut self, pem: &str) -> Result<(), ConfigError> {
        let ders = parse_pem_chain(pem).map_err(|e| ConfigError::Roots(e.to_string()))?;
        for der in ders {
            let cert = parse_cert(&der, self.anchors.len())
                .map_err(|e| ConfigError::Roots(e.to_string()))?;
            let anchor = TrustAnchor {
                spki_der: cert.public_key().raw.to_vec(),
                subject: cert.subject().to_string(),
                certificate_der: der.clone(),
            };
            if self.by_spki(&anchor.spki_der).is_none() {
                self.anchors.push(anchor);
            }
            if self.anchors.len() > MAX_ROOTS {
                return Err(ConfigError::Roots(format!("more than {MAX_ROOTS} roots")));
            }
        }
        Ok(())
    }

    fn non_empty(self) -> Result<Self, ConfigError> {
        if self.anchors.is_empty() {
            Err(ConfigError::Roots("no certificate in the file".into()))
        } else {
            Ok(self)
        }
    }
}
