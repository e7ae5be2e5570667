//! punch-attest's integration tests, one test binary: each file here is a module
//! (`cargo test -p <crate> --test integration <module>::` runs one). One
//! binary instead of one per file: linking each against the whole
//! dependency graph was most of CI's test build time.

mod common;

mod android;
mod apple;
mod key_description;
mod report;
mod robustness;

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
