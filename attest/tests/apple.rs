//! Apple App Attest against Apple's published sample.

use crate::common;

use base64::Engine as _;
use ciborium::Value;
use common::*;
use punch_attest::apple::{
    AppAttestEnvironment, AppleExpectations, AppleVerifier, parse_attestation_object,
};
use punch_attest::{AssuranceLevel, Refusal, apple_assurance};

fn b64(d: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(d)
}

fn strict() -> AppleExpectations {
    AppleExpectations::strict(APPLE_CHALLENGE.to_vec(), vec![APPLE_APP_ID.into()])
}

fn verify(obj: &[u8], e: &AppleExpectations, at: i64) -> Result<(), Refusal> {
    AppleVerifier::default().verify(obj, e, at).map(|_| ())
}

/// Re-encode the sample with a changed field.
fn rebuild(edit: impl FnOnce(&mut Vec<(Value, Value)>)) -> Vec<u8> {
    let mut v: Value = ciborium::de::from_reader(&apple_object()[..]).expect("sample CBOR");
    let Value::Map(m) = &mut v else {
        panic!("not a map")
    };
    edit(m);
    let mut out = Vec::new();
    ciborium::ser::into_writer(&v, &mut out).expect("encodes");
    out
}

fn with_auth_data(edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    rebuild(|m| {
        if let Some((_, Value::Bytes(b))) =
            m.iter_mut().find(|(k, _)| k.as_text() == Some("authData"))
        {
            edit(b);
        }
    })
}

fn with_x5c(edit: impl FnOnce(&mut Vec<Value>)) -> Vec<u8> {
    rebuild(|m| {
        for (k, v) in m.iter_mut() {
            if k.as_text() == Some("attStmt")
                && let Value::Map(stmt) = v
            {
                for (k2, v2) in stmt.iter_mut() {
                    if k2.as_text() == Some("x5c")
                        && let Value::Array(a) = v2
                    {
                        edit(a);
                        return;
                    }
                }
            }
        }
    })
}

#[test]
fn apples_sample_is_accepted_with_the_documented_facts() {
    let a = AppleVerifier::default()
        .verify(&apple_object(), &strict(), APPLE_AT)
        .expect("sample verifies");
    assert_eq!(a.app_id.as_deref(), Some(APPLE_APP_ID));
    assert_eq!(a.environment, AppAttestEnvironment::Production);
    assert_eq!(a.counter, 0);
    assert_eq!(
        b64(&a.nonce),
        "+20WKnF+yrF3iQBQb6lNZ+4MHcPUWxLN3oG+/Fblt+s="
    );
    assert_eq!(
        b64(&a.key_id),
        "bSrEhF8TIzIvWSPwvZ0i2+UOBre4ASH84rK15m6emNY="
    );
    assert_eq!(a.credential_public_key[0], 4);
    assert!(!a.receipt.is_empty());
    assert_eq!(
        a.root.subject,
        "CN=Apple App Attestation Root CA, O=Apple Inc., ST=California"
    );
    let level = apple_assurance(&a);
    assert_eq!(level.level, AssuranceLevel::AttestedApp);
    assert_eq!(level.skipped_checks, vec!["expected_key_id"]);
    // With the key id the app reported.
    let mut e = strict();
    e.expected_key_id = Some(a.key_id);
    assert!(verify(&apple_object(), &e, APPLE_AT).is_ok());
}

#[test]
fn the_sample_parses() {
    let obj = parse_attestation_object(&apple_object()).expect("parses");
    assert_eq!(obj.fmt, "apple-appattest");
    assert_eq!(obj.x5c.len(), 2);
    let auth = punch_attest::apple::parse_auth_data(&obj.auth_data).expect("authData");
    assert_eq!(auth.counter, 0);
    assert_eq!(&auth.aaguid, b"appattest\0\0\0\0\0\0\0");
    assert_eq!(auth.credential_id.len(), 32);
}

#[test]
fn development_is_refused_when_production_is_expected_and_vice_versa() {
    let mut e = strict();
    e.environment = AppAttestEnvironment::Development;
    let err = verify(&apple_object(), &e, APPLE_AT).expect_err("wrong env");
    assert_eq!(err.code(), "wrong_environment");
    assert!(err.to_string().contains("production"), "{err}");
    // A development aaguid, with the nonce unchecked (the nonce covers authData, so a changed
    // aaguid is otherwise a nonce mismatch first).
    let dev = with_auth_data(|a| a[37..53].copy_from_slice(b"appattestdevelop"));
    let mut e = strict();
    e.client_data_hash = None;
    assert_eq!(
        verify(&dev, &e, APPLE_AT).expect_err("dev").code(),
        "wrong_environment"
    );
    e.environment = AppAttestEnvironment::Development;
    assert!(verify(&dev, &e, APPLE_AT).is_ok());
    let odd = with_auth_data(|a| a[37..53].copy_from_slice(b"somethingelse123"));
    let err = verify(&odd, &e, APPLE_AT).expect_err("unknown aaguid");
    assert_eq!(err.code(), "wrong_environment");
    assert!(err.to_string().contains("unknown"));
}

#[test]
fn another_challenge_is_a_nonce_mismatch() {
    let e = AppleExpectations::strict(b"another_challenge".to_vec(), vec![APPLE_APP_ID.into()]);
    assert_eq!(
        verify(&apple_object(), &e, APPLE_AT),
        Err(Refusal::NonceMismatch)
    );
    let e = AppleExpectations::strict(vec![], vec![APPLE_APP_ID.into()]);
    assert_eq!(
        verify(&apple_object(), &e, APPLE_AT),
        Err(Refusal::NonceMismatch)
    );
}

#[test]
fn another_app_id_is_an_rp_id_mismatch() {
    for other in [
        "0352187391.com.apple.example_app_attest2",
        "1111111111.com.apple.example_app_attest",
        "com.apple.example_app_attest",
    ] {
        let e = AppleExpectations::strict(APPLE_CHALLENGE.to_vec(), vec![other.into()]);
        let err = verify(&apple_object(), &e, APPLE_AT).expect_err("other app");
        assert_eq!(err.code(), "rp_id_mismatch", "{other}");
        assert_eq!(err.category().as_str(), "configuration");
    }
    let e = AppleExpectations::strict(
        APPLE_CHALLENGE.to_vec(),
        vec!["1111111111.other".into(), APPLE_APP_ID.into()],
    );
    assert!(verify(&apple_object(), &e, APPLE_AT).is_ok());
}

#[test]
fn times_outside_the_window_are_refused() {
    let start = 1_713_370_493; // 2024-04-17T16:14:53Z
    let end = 1_713_629_693; // 2024-04-20T16:14:53Z
    assert!(verify(&apple_object(), &strict(), start).is_ok());
    assert!(verify(&apple_object(), &strict(), end).is_ok());
    assert_eq!(
        verify(&apple_object(), &strict(), start - 1)
            .expect_err("before")
            .code(),
        "not_yet_valid"
    );
    assert_eq!(
        verify(&apple_object(), &strict(), end + 1)
            .expect_err("after")
            .code(),
        "expired_certificate"
    );
}

#[test]
fn a_flipped_auth_data_byte_is_refused() {
    let len = parse_attestation_object(&apple_object())
        .expect("parses")
        .auth_data
        .len();
    for pos in 0..len {
        for bit in [0x01u8, 0x80] {
            let m = with_auth_data(|a| a[pos] ^= bit);
            let err = verify(&m, &strict(), APPLE_AT).expect_err("flipped authData accepted");
            assert!(
                ["nonce_mismatch", "malformed_object"].contains(&err.code()),
                "byte {pos}: {err}"
            );
        }
    }
}

#[test]
fn without_the_nonce_each_auth_data_field_is_still_checked() {
    let mut e = strict();
    e.client_data_hash = None;
    let counter = with_auth_data(|a| a[36] = 1);
    assert_eq!(
        verify(&counter, &e, APPLE_AT),
        Err(Refusal::BadCounter { counter: 1 })
    );
    let rp = with_auth_data(|a| a[0] ^= 1);
    assert_eq!(
        verify(&rp, &e, APPLE_AT).expect_err("rp").code(),
        "rp_id_mismatch"
    );
    let cred = with_auth_data(|a| a[55] ^= 1);
    assert_eq!(
        verify(&cred, &e, APPLE_AT).expect_err("cred").code(),
        "key_id_mismatch"
    );
    let len = parse_attestation_object(&apple_object())
        .expect("parses")
        .auth_data
        .len();
    let key = with_auth_data(|a| a[len - 1] ^= 1);
    assert_eq!(
        verify(&key, &e, APPLE_AT).expect_err("cose").code(),
        "key_mismatch"
    );
    let mut e2 = strict();
    e2.expected_key_id = Some([0u8; 32]);
    assert_eq!(
        verify(&apple_object(), &e2, APPLE_AT)
            .expect_err("key id")
            .code(),
        "key_id_mismatch"
    );
}

#[test]
fn wrong_format_truncated_chain_and_flipped_certificates_are_refused() {
    let fmt = rebuild(|m| {
        for (k, v) in m.iter_mut() {
            if k.as_text() == Some("fmt") {
                *v = Value::Text("packed".into());
            }
        }
    });
    assert_eq!(
        verify(&fmt, &strict(), APPLE_AT).expect_err("fmt").code(),
        "wrong_format"
    );
    let only_leaf = with_x5c(|a| a.truncate(1));
    assert_eq!(
        verify(&only_leaf, &strict(), APPLE_AT)
            .expect_err("truncated")
            .code(),
        "truncated_chain"
    );
    let empty = with_x5c(|a| a.clear());
    assert_eq!(
        verify(&empty, &strict(), APPLE_AT)
            .expect_err("empty")
            .code(),
        "truncated_chain"
    );
    let swapped = with_x5c(|a| a.swap(0, 1));
    assert!(verify(&swapped, &strict(), APPLE_AT).is_err());
    let long = with_x5c(|a| {
        let first = a[0].clone();
        a.extend(std::iter::repeat_n(first, 9));
    });
    assert_eq!(
        verify(&long, &strict(), APPLE_AT).expect_err("long").code(),
        "chain_too_long"
    );

    let obj = parse_attestation_object(&apple_object()).expect("parses");
    for (ci, cert) in obj.x5c.iter().enumerate() {
        for pos in (0..cert.len()).step_by(2) {
            let m = with_x5c(|a| {
                if let Value::Bytes(b) = &mut a[ci] {
                    b[pos] ^= 0x01;
                }
            });
            let err = verify(&m, &strict(), APPLE_AT).expect_err("flipped cert accepted");
            let allowed: &[&str] = if ci == 0 {
                &[
                    "bad_signature",
                    "malformed_certificate",
                    "malformed_extension",
                    "missing_extension",
                ]
            } else {
                // The intermediate's issuer name changed: no root of that name exists, which
                // is all a verifier can see.
                &["bad_signature", "malformed_certificate", "truncated_chain"]
            };
            assert!(allowed.contains(&err.code()), "cert {ci} byte {pos}: {err}");
        }
    }
}

#[test]
fn malformed_objects_are_refused_as_malformed() {
    for bad in [
        &b""[..],
        &b"\xa0"[..],
        &b"\x80"[..],
        &b"\xff"[..],
        &b"\x9f\x9f\x9f\x9f\x9f\x9f\x9f\x9f\x9f\x9f\x9f\x9f\x9f\x9f\x9f\x9f\x9f\x9f"[..],
        &b"\x5b\xff\xff\xff\xff\xff\xff\xff\xff"[..],
    ] {
        let err = verify(bad, &strict(), APPLE_AT).expect_err("malformed");
        assert_eq!(err.code(), "malformed_object", "{bad:?}: {err}");
    }
    let mut trailing = apple_object();
    trailing.push(0);
    assert_eq!(
        verify(&trailing, &strict(), APPLE_AT)
            .expect_err("trailing")
            .code(),
        "malformed_object"
    );
    let huge = vec![0u8; 70 * 1024];
    assert_eq!(
        verify(&huge, &strict(), APPLE_AT).expect_err("huge").code(),
        "input_too_large"
    );
}
