//! DER chain: certificates as (u16 big-endian length ‖ DER) records, verified.
#![no_main]
use libfuzzer_sys::fuzz_target;
use punch_attest::android::{AndroidExpectations, AndroidVerifier};

fuzz_target!(|data: &[u8]| {
    let mut certs: Vec<&[u8]> = Vec::new();
    let mut rest = data;
    while rest.len() >= 2 && certs.len() <= punch_attest::MAX_CHAIN_LEN {
        let n = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        certs.push(&rest[2..2 + n]);
        rest = &rest[2 + n..];
    }
    let _ = AndroidVerifier::default().verify(
        &certs,
        &AndroidExpectations::inspect_only(),
        1_700_000_000,
    );
});
