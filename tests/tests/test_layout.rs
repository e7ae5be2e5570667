//! Every crate's integration tests are one binary whose root,
//! `tests/integration.rs`, names each file of its folder as a module (with
//! `autotests = false`, cargo would build nothing else): a file left out
//! would silently never run, so each must be named there.

use std::path::Path;

#[test]
fn every_test_file_is_a_module_of_its_crates_test_binary() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root");
    let mut roots = 0;
    for krate in std::fs::read_dir(workspace).expect("workspace") {
        let tests = krate.expect("entry").path().join("tests");
        let Ok(root) = std::fs::read_to_string(tests.join("integration.rs")) else {
            continue;
        };
        roots += 1;
        for file in std::fs::read_dir(&tests).expect("tests dir") {
            let name = file.expect("entry").file_name();
            let name = name.to_string_lossy();
            if let Some(stem) = name.strip_suffix(".rs")
                && stem != "integration"
            {
                assert!(
                    root.contains(&format!("\nmod {stem};\n")),
                    "{} is not declared in {}",
                    tests.join(&*name).display(),
                    tests.join("integration.rs").display()
                );
            }
        }
    }
    // core, attest, server, bindings and this crate.
    assert!(roots >= 5, "found {roots} integration roots");
}
