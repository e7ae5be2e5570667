//! punch-server's integration tests (the back end chosen by `PUNCH_TEST_DB`, see `common`), one test binary: each file here is a module
//! (`cargo test -p <crate> --test integration <module>::` runs one). One
//! binary instead of one per file: linking each against the whole
//! dependency graph was most of CI's test build time.

mod common;

mod admin_api;
mod attendance_export;
mod attestation;
mod chain_break_ack;
mod cli;
mod enroll_auth;
mod hostile;
mod ingest;
mod limits_ops;
mod multi_server;
mod openapi;
mod pin_smtp;
mod policy_restart;
mod requests;
mod retention_fork;
mod sealed_events;
mod web_e2e;

/// A file in tests/ that is not a module here would silently never run.
#[test]
fn every_test_file_is_a_module_of_this_binary() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests");
    let root = include_str!("integration.rs");
    let entries = std::fs::read_dir(dir).expect("tests dir");
    for entry in entries {
        let name = entry.expect("dir entry").file_name();
        let name = name.to_string_lossy();
        if let Some(stem) = name.strip_suffix(".rs")
            && stem != "integration"
        {
            assert!(
                root.contains(&format!("\nmod {stem};\n")),
                "tests/{name} is not declared in tests/integration.rs"
            );
        }
    }
}
