//! Hostile input: thousands of deterministic mutations of the real inputs, and random input
//! (proptest), fed to every parser. A panic anywhere fails the test; refusals are expected.

use crate::common;

use common::*;
use proptest::prelude::*;
use punch_attest::android::{
    AndroidExpectations, AndroidVerifier, StatusList, parse_key_description,
};
use punch_attest::apple::{
    AppleExpectations, AppleVerifier, parse_attestation_object, parse_auth_data,
};
use punch_attest::{CheckOptions, TrustedRoots, verify_android_report, verify_apple_report};
use x509_parser::prelude::{FromDer, X509Certificate};

/// xorshift64*: deterministic, so a failure names a reproducible case.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// One to four structural mutations: bit flips, "interesting" bytes (DER length and tag
/// values), truncation, insertion, deletion, duplication of a slice.
fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    const INTERESTING: [u8; 10] = [0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0x84, 0xff, 0x30, 0xa0];
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = v.len();
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                v[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                v[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 => v.truncate(rng.below(len + 1)),
            3 => {
                let i = rng.below(len + 1);
                v.insert(i, INTERESTING[rng.below(INTERESTING.len())]);
            }
            4 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below(len - i + 1).min(64);
                v.drain(i..i + n);
            }
            5 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below(len - i + 1).min(64);
                let slice = v[i..i + n].to_vec();
                let at = rng.below(v.len() + 1);
                v.splice(at..at, slice);
            }
            _ if len > 1 => {
                // Overwrite a byte with a length-like value pointing past the end.
                let i = rng.below(len);
                v[i] = 0x82;
                if i + 2 < len {
                    v[i + 1] = 0xff;
                    v[i + 2] = 0xff;
                }
            }
            _ => v.push(0),
        }
    }
    v
}

fn key_description_raw(leaf: &[u8]) -> Vec<u8> {
    let (_, c) = X509Certificate::from_der(leaf).expect("leaf");
    c.extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == "1.3.6.1.4.1.11129.2.1.17")
        .map(|e| e.value.to_vec())
        .expect("key description")
}

const ALL_PEMS: &[&str] = &[
    "akita_sdk34_TEE_EC_NONE",
    "blueline_sdk28_TEE_EC_NONE",
    "caiman_sdk36_SB_EC_RKP",
    "caiman_sdk36_TEE_EC_RKP",
    "marlin_sdk29_TEE_EC_NONE",
    "invalid_malformed_rot_device_locked",
    "invalid_tags_not_in_ascending_order",
];

#[test]
fn mutated_key_descriptions_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut runs = 0;
    for name in ALL_PEMS {
        let raw = key_description_raw(&ders(name)[0]);
        for _ in 0..1_000 {
            let _ = parse_key_description(&mutate(&mut rng, &raw));
            runs += 1;
        }
    }
    assert_eq!(runs, 7_000);
}

#[test]
fn mutated_android_chains_never_panic() {
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    let v = AndroidVerifier::default();
    let e = AndroidExpectations::inspect_only();
    for name in ALL_PEMS {
        let d = ders(name);
        let at = inside(&d);
        for _ in 0..400 {
            let mut m = d.clone();
            let ci = rng.below(m.len());
            m[ci] = mutate(&mut rng, &m[ci]);
            if rng.below(4) == 0 {
                // Also reorder or drop certificates.
                let j = rng.below(m.len());
                m.swap(ci, j);
                if rng.below(2) == 0 {
                    m.remove(j);
                }
            }
            let _ = v.verify(&m, &e, at);
        }
        for _ in 0..200 {
            let text = mutate(&mut rng, pem(name).as_bytes());
            let text = String::from_utf8_lossy(&text);
            let _ = verify_android_report(
                &text,
                &CheckOptions {
                    at: Some(at),
                    ..Default::default()
                },
            );
        }
    }
}

#[test]
fn mutated_apple_objects_never_panic() {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let obj = apple_object();
    let parsed = parse_attestation_object(&obj).expect("sample");
    let v = AppleVerifier::default();
    let e = AppleExpectations::strict(APPLE_CHALLENGE.to_vec(), vec![APPLE_APP_ID.into()]);
    for _ in 0..2_000 {
        let m = mutate(&mut rng, &obj);
        let _ = parse_attestation_object(&m);
        let _ = v.verify(&m, &e, APPLE_AT);
    }
    for _ in 0..3_000 {
        let _ = parse_auth_data(&mutate(&mut rng, &parsed.auth_data));
    }
    // Valid CBOR around mutated certificates and authData.
    for _ in 0..500 {
        let mut o = parsed.clone();
        let ci = rng.below(o.x5c.len());
        o.x5c[ci] = mutate(&mut rng, &o.x5c[ci]);
        o.auth_data = if rng.below(2) == 0 {
            mutate(&mut rng, &o.auth_data)
        } else {
            o.auth_data
        };
        let _ = v.verify_object(&o, &e, APPLE_AT);
    }
    let b64 = read("apple/apple_sample_attestation.b64");
    for _ in 0..300 {
        let text = String::from_utf8_lossy(&mutate(&mut rng, b64.as_bytes())).into_owned();
        let _ = verify_apple_report(
            &text,
            &CheckOptions {
                at: Some(APPLE_AT),
                ..Default::default()
            },
        );
    }
}

#[test]
fn mutated_operator_files_never_panic() {
    let mut rng = Rng(42);
    let roots = read("android/roots.json");
    let list = r#"{"entries": {"65d2949536924da695f5ae1eb290cd4d": {"status": "REVOKED", "reason": "KEY_COMPROMISE"}}}"#;
    for _ in 0..500 {
        let text = String::from_utf8_lossy(&mutate(&mut rng, roots.as_bytes())).into_owned();
        let _ = TrustedRoots::from_file_contents(&text);
        let text = String::from_utf8_lossy(&mutate(&mut rng, list.as_bytes())).into_owned();
        let _ = StatusList::from_json(&text);
    }
}

#[test]
fn deeply_nested_cbor_is_refused_not_overflowed() {
    let mut deep = vec![0x81u8; 100_000]; // array of array of ...
    deep.push(0x00);
    let err = parse_attestation_object(&deep).expect_err("too large or too deep");
    assert!(["malformed_object", "input_too_large"].contains(&err.code()));
    let mut deep = vec![0x81u8; 60_000];
    deep.push(0x00);
    assert_eq!(
        parse_attestation_object(&deep).expect_err("deep").code(),
        "malformed_object"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_key_description(&bytes);
        let _ = parse_attestation_object(&bytes);
        let _ = parse_auth_data(&bytes);
        let _ = AndroidVerifier::default().verify(std::slice::from_ref(&bytes), &AndroidExpectations::inspect_only(), 0);
        let _ = punch_attest::x509::parse_pem_chain(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn random_der_like_input_never_panics(
        tag in prop_oneof![Just(0x30u8), Just(0xa0), Just(0xbf), Just(0x04), Just(0x01)],
        body in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        // Start like DER so the parsers get past the first byte.
        let mut v = vec![tag, 0x82, (body.len() >> 8) as u8, body.len() as u8];
        v.extend_from_slice(&body);
        let _ = parse_key_description(&v);
        let _ = AndroidVerifier::default().verify(&[v], &AndroidExpectations::inspect_only(), 0);
    }
}
