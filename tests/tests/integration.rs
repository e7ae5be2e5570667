//! The end-to-end and fault suites, one test binary: each file here is a module
//! (`cargo test -p <crate> --test integration <module>::` runs one), not a
//! binary per file each linked against the whole dependency graph. A file in
//! tests/ that is not a module here would never run: `punch-tests`'
//! `test_layout` module checks every crate's list.

mod attestation_enroll;
mod backup_restore;
mod chain_agreement;
mod chain_reset;
mod crash;
mod decoder_mutation;
mod device_keys;
mod exceptions;
mod faults;
mod forgotten_clock_out;
mod kiosk_attendance;
mod photo;
mod pin;
mod pin_kiosk;
mod privacy_at_rest;
mod privacy_export;
mod privacy_modes;
mod privacy_retention;
mod properties_chain;
mod properties_geofence;
mod quickstart;
mod server_at_rest;
mod sync_faults;
mod tamper;
mod test_layout;
mod two_phones;
mod verification;
