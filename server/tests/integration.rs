//! punch-server's integration tests (the back end chosen by `PUNCH_TEST_DB`,
//! see `common`), one test binary: each file here is a module (`cargo test
//! -p <crate> --test integration <module>::` runs one), not a
//! binary per file each linked against the whole dependency graph. A file in
//! tests/ that is not a module here would never run: `punch-tests`'
//! `test_layout` module checks every crate's list.

mod common;

mod admin_api;
mod attendance_export;
mod attendance_judged_once;
mod attestation;
mod audit_anchor;
mod body_budget;
mod bounded_work;
mod browser_punch;
mod chain_break_ack;
mod chain_walk;
mod clear_looks_sealed;
mod cli;
mod enroll_auth;
mod enroll_code_keys;
mod export_limits;
mod faults;
mod forgotten_clock_outs;
mod hostile;
mod ingest;
mod kiosk_attendance;
mod limits_ops;
mod metrics_auth;
mod multi_device;
mod multi_server;
mod nonce_clock;
mod openapi;
mod pin_code_rows;
mod pin_delivery;
mod pin_smtp;
mod policy_restart;
mod punch_photos;
mod request_identity;
mod requests;
mod retention_fork;
mod sealed_events;
mod sealed_secrets;
mod seq_bounds;
mod signin_throttle;
mod slow_clients;
mod staff_lifecycle;
mod store_busy;
mod store_contract;
mod team_oracle;
mod web_browser_punch;
mod web_e2e;
