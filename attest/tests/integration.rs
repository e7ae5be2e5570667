//! punch-attest's integration tests, one test binary: each file here is a module
//! (`cargo test -p <crate> --test integration <module>::` runs one), not a
//! binary per file each linked against the whole dependency graph. A file in
//! tests/ that is not a module here would never run: `punch-tests`'
//! `test_layout` module checks every crate's list.

mod common;

mod android;
mod apple;
mod key_description;
mod lapsed_root;
mod report;
mod robustness;
