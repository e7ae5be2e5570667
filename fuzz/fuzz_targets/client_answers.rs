//! See `punch_tests::decoders::client_answers`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| punch_tests::decoders::client_answers(data));
