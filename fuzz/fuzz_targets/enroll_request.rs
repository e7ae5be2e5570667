//! See `punch_tests::decoders::enroll_request`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| punch_tests::decoders::enroll_request(data));
