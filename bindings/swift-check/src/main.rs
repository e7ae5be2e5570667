//! `cargo run -p swift-check [PATH...]`: parses every `.swift` file under
//! the paths (default: `bindings/swift` and `ios-demo`) and exits 1 on any
//! syntax error or on a hand-written `switch` that misses a case of an
//! enum uniffi generated. What is checked and what is not: bindings/swift/README.md.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod cases;
mod syntax;

fn swift_files(root: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if root.is_file() {
        out.push(root.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<_> = std::fs::read_dir(root)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            swift_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "swift") {
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let roots = if args.is_empty() {
        vec![PathBuf::from("bindings/swift"), PathBuf::from("ios-demo")]
    } else {
        args
    };
    let mut files = Vec::new();
    for root in &roots {
        if let Err(e) = swift_files(root, &mut files) {
            eprintln!("swift-check: {}: {e}", root.display());
            return ExitCode::FAILURE;
        }
    }
    let mut sources = Vec::new();
    for path in files {
        match std::fs::read_to_string(&path) {
            Ok(text) => sources.push((path, text)),
            Err(e) => {
                eprintln!("swift-check: {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        }
    }
    let mut problems = Vec::new();
    let mut parsed = Vec::new();
    for (path, text) in &sources {
        match syntax::parse(text) {
            Ok(tree) => parsed.push((path, text, tree)),
            Err(errors) => problems.extend(
                errors
                    .into_iter()
                    .map(|e| format!("{}:{e}", path.display())),
            ),
        }
    }
    let enums = cases::generated_enums(parsed.iter().map(|(_, t, tree)| (t.as_str(), tree)));
    for (path, text, tree) in &parsed {
        if !cases::is_generated(text) {
            problems.extend(
                cases::uncovered(text, tree, &enums)
                    .into_iter()
                    .map(|e| format!("{}:{e}", path.display())),
            );
        }
    }
    for problem in &problems {
        eprintln!("{problem}");
    }
    println!(
        "swift-check: {} files, {} generated enums, {} problems",
        sources.len(),
        enums.len(),
        problems.len()
    );
    if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
