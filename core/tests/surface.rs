//! The crate's shape, read from its sources: a listed public surface (no
//! public module but the feature-gated `test_support`, no module of the
//! shared model re-exported whole), and a façade nothing reaches up into
//! (only `lib.rs` names the engine; its fields are private).

use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The code of a file without its comments (doc links may name anything).
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("source file");
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn modules_are_private_and_the_model_is_not_re_exported_whole() {
    let lib = code(&src().join("lib.rs"));
    let public_modules: Vec<&str> = lib
        .lines()
        .filter(|l| l.trim_start().starts_with("pub mod "))
        .collect();
    assert_eq!(public_modules, ["pub mod test_support;"]);
    assert!(
        lib.contains("#[cfg(feature = \"test-support\")]\npub mod test_support;"),
        "test_support is behind its feature"
    );
    // `pub use punch_model::x::y::{A, B}` names types; `pub use
    // punch_model::{rules, wire}` or `... as pin_model` re-export modules.
    for line in lib.lines().filter(|l| l.contains("pub use punch_model")) {
        let names = line
            .rsplit("::")
            .next()
            .unwrap_or("")
            .trim_matches(|c| "{};".contains(c));
        for name in names.split(',').map(str::trim) {
            assert!(
                name.starts_with(|c: char| c.is_ascii_uppercase()) && !name.contains(" as "),
                "a module of the model is re-exported whole: {line}"
            );
        }
    }
}

#[test]
fn nothing_reaches_up_into_the_facade() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    for file in files.iter().filter(|f| !f.ends_with("lib.rs")) {
        let text = code(file);
        let is_engine = file.ends_with("engine.rs");
        assert!(
            is_engine || !(text.contains("crate::engine") || text.contains("PunchEngine")),
            "{} names the engine",
            file.display()
        );
    }
    let engine = code(&src().join("engine.rs"));
    let fields = engine
        .split("pub struct PunchEngine {")
        .nth(1)
        .and_then(|rest| rest.split('}').next())
        .expect("PunchEngine");
    assert!(
        !fields.contains("pub"),
        "PunchEngine's fields are its own: {fields}"
    );
}

#[test]
fn no_ambient_parameters() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    // The one thread-local is the punch path's re-entry guard (a signer
    // calling back into punch on its own thread), not a parameter.
    let with_thread_locals: Vec<_> = files
        .iter()
        .filter(|f| code(f).contains("thread_local!"))
        .map(|f| {
            f.strip_prefix(src())
                .expect("under src")
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(with_thread_locals, ["recorder.rs"]);
}
