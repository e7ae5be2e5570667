//! App Attest object: CBOR, authData, certificates, verification.
#![no_main]
use libfuzzer_sys::fuzz_target;
use punch_attest::apple::{AppleExpectations, AppleVerifier, parse_auth_data};

fuzz_target!(|data: &[u8]| {
    let e = AppleExpectations::strict(
        b"test_server_challenge".to_vec(),
        vec!["0352187391.com.apple.example_app_attest".into()],
    );
    let _ = AppleVerifier::default().verify(data, &e, 1_713_441_600);
    let _ = parse_auth_data(data);
});
