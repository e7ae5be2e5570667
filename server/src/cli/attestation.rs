//! `attestation verify`: one attestation checked by hand, no database.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `attestation verify`: usage problems exit 2, a refusal 1, a pass 0.
pub(crate) fn verify(
    android: Option<PathBuf>,
    apple: Option<PathBuf>,
    challenge: Option<String>,
    app_ids: Vec<String>,
    at: Option<String>,
    roots: Option<PathBuf>,
    development: bool,
) -> ExitCode {
    use punch_attest::apple::AppAttestEnvironment;
    use punch_attest::{CheckOptions, TrustedRoots};
    let usage = |message: String| {
        eprintln!("punch-server attestation verify: {message}");
        ExitCode::from(2)
    };
    let read =
        |path: &Path| std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()));
    let mut opts = CheckOptions {
        app_ids,
        environment: if development {
            AppAttestEnvironment::Development
        } else {
            AppAttestEnvironment::Production
        },
        ..CheckOptions::default()
    };
    if let Some(c) = challenge {
        match punch_model::wire::b64::decode(c.trim()) {
            Ok(bytes) => opts.challenge = Some(bytes),
            Err(e) => return usage(format!("--challenge is not base64: {e}")),
        }
    }
    if let Some(t) = at {
        match punch_attest::x509::parse_rfc3339(&t) {
            Ok(unix) => opts.at = Some(unix),
            Err(e) => return usage(format!("--at: {e}")),
        }
    }
    if let Some(path) = roots {
        match read(&path).map(|t| TrustedRoots::from_file_contents(&t)) {
            Ok(Ok(r)) => opts.roots = Some(r),
            Ok(Err(e)) => return usage(format!("--roots: {e}")),
            Err(e) => return usage(e),
        }
    }
    let (ok, report) = match (android, apple) {
        (Some(path), None) => match read(&path) {
            Ok(pem) => punch_attest::verify_android_report(&pem, &opts),
            Err(e) => return usage(e),
        },
        (None, Some(path)) => match read(&path) {
            Ok(b64) => punch_attest::verify_apple_report(&b64, &opts),
            Err(e) => return usage(e),
        },
        _ => return usage("give exactly one of --android FILE.pem or --apple FILE.b64".into()),
    };
    match serde_json::to_string_pretty(&report) {
        Ok(text) => println!("{text}"),
        Err(e) => return usage(e.to_string()),
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
