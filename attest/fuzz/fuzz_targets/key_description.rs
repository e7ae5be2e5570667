//! The KeyDescription extension's DER on its own.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = punch_attest::android::parse_key_description(data);
});
