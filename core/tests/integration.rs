//! punch-core's integration tests, one test binary: each file here is a module
//! (`cargo test -p <crate> --test integration <module>::` runs one), not a
//! binary per file each linked against the whole dependency graph. A file in
//! tests/ that is not a module here would never run: `punch-tests`'
//! `test_layout` module checks every crate's list.

mod common;

mod engine;
mod evaluate;
mod faults;
mod photo;
mod platform_signer;
mod review;
mod sealed_refused;
mod shifts;
mod standing;
mod surface;
mod tls_transport;
