//! Shared helpers: the real test data and the time windows it is valid in.
#![allow(dead_code)]

use std::path::PathBuf;

use x509_parser::prelude::{FromDer, X509Certificate};

pub fn data_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

pub fn read(rel: &str) -> String {
    std::fs::read_to_string(data_path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The genuine Android chains that have an expected-fields JSON beside them.
pub const ANDROID_CHAINS: &[&str] = &[
    "akita_sdk34_TEE_EC_NONE",
    "blueline_sdk28_TEE_EC_NONE",
    "caiman_sdk36_SB_EC_RKP",
    "caiman_sdk36_TEE_EC_RKP",
    "marlin_sdk29_TEE_EC_NONE",
];

pub fn pem(name: &str) -> String {
    read(&format!("android/{name}.pem"))
}

pub fn ders(name: &str) -> Vec<Vec<u8>> {
    punch_attest::x509::parse_pem_chain(&pem(name)).expect("test chain parses")
}

/// (latest notBefore, earliest notAfter) over all certificates.
pub fn window_of(ders: &[Vec<u8>]) -> (i64, i64) {
    let mut lo = i64::MIN;
    let mut hi = i64::MAX;
    for d in ders {
        let (_, c) = X509Certificate::from_der(d).expect("test cert parses");
        lo = lo.max(c.validity().not_before.timestamp());
        hi = hi.min(c.validity().not_after.timestamp());
    }
    assert!(lo < hi, "no common validity window");
    (lo, hi)
}

/// A time inside every certificate's window.
pub fn inside(ders: &[Vec<u8>]) -> i64 {
    let (lo, hi) = window_of(ders);
    lo + (hi - lo) / 2
}

pub fn apple_object() -> Vec<u8> {
    use base64::Engine as _;
    let b64: String = read("apple/apple_sample_attestation.b64")
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("sample is base64")
}

/// 2024-04-18T12:00:00Z, inside the Apple sample's window.
pub const APPLE_AT: i64 = 1_713_441_600;
pub const APPLE_APP_ID: &str = "0352187391.com.apple.example_app_attest";
pub const APPLE_CHALLENGE: &[u8] = b"test_server_challenge";
