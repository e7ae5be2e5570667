//! PEM text through the whole report path the CLI uses.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let opts = punch_attest::CheckOptions {
        at: Some(1_700_000_000),
        ..Default::default()
    };
    let _ = punch_attest::verify_android_report(&text, &opts);
});
