//! The `punch-server admin` command line, on a real database.

use crate::common;

use std::process::Command;

/// `punch-server admin --db DB ARGS…`: its output (it must succeed).
pub fn admin(db: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_punch-server"))
        .arg("admin")
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn admin_commands_manage_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let test_db = common::test_db(dir.path());
    let db = common::db_arg(&test_db);
    let db = db.as_str();
    admin(db, &["add-employee", "e-9", "Nine"]);
    let code = admin(db, &["enroll-code", "e-9", "--ttl-hours", "2"]);
    assert_eq!(code.trim().len(), 10);
    let site = dir.path().join("site.json");
    std::fs::write(
        &site,
        r#"{"id":"hq","shape":{"type":"circle","center":{"lat":52.52,"lon":13.405},"radius_m":100}}"#,
    )
    .unwrap();
    admin(db, &["add-site", "--json", site.to_str().unwrap()]);
    assert!(admin(db, &["publish", "--ttl-days", "7"]).contains("version 1"));
    let key = admin(db, &["policy-key"]);
    assert_eq!(
        punch_model::wire::b64::decode(key.trim()).unwrap().len(),
        91
    );
    let devices: serde_json::Value =
        serde_json::from_str(&admin(db, &["--json", "devices"])).unwrap_or_default();
    assert_eq!(devices, serde_json::json!([]));
    let punches = admin(db, &["punches"]);
    assert!(punches.starts_with("device"));

    // Errors exit non-zero with a message.
    let out = Command::new(env!("CARGO_BIN_EXE_punch-server"))
        .args(["admin", "--db"])
        .arg(db)
        .args(["unbind", "no-such-device"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown device"));
}

fn verify(args: &[&str]) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_punch-server"))
        .args(["attestation", "verify"])
        .args(args)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), json)
}

fn data(rel: &str) -> String {
    format!("{}/../attest/tests/data/{rel}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn attestation_verify_checks_one_chain_by_hand() {
    let caiman = data("android/caiman_sdk36_SB_EC_RKP.pem");
    let challenge = "N2NjYWMxZWEtNDg0NS00ODJlLTg1OGQtZjZmYTlhYThjMjk1";
    let at = "2025-10-01T00:00:00Z";
    let (code, json) = verify(&["--android", &caiman, "--challenge", challenge, "--at", at]);
    assert_eq!((code, json["verdict"].as_str()), (0, Some("ok")), "{json}");
    assert_eq!(json["assurance"]["level"], "hardware_strongbox");
    assert_eq!(
        json["keyDescription"]["attestationSecurityLevel"], "STRONG_BOX",
        "{json}"
    );
    // Another challenge: refused (exit 1) with the precise reason.
    let (code, json) = verify(&["--android", &caiman, "--challenge", "b3RoZXI=", "--at", at]);
    assert_eq!((code, json["verdict"].as_str()), (1, Some("refused")));
    assert_eq!(json["refusal"]["code"], "challenge_mismatch", "{json}");
    // A userdebug phone's own root: parsed, then refused as untrusted.
    let marlin = data("android/marlin_sdk29_TEE_EC_NONE.pem");
    let (code, json) = verify(&["--android", &marlin, "--at", "2019-06-01T00:00:00Z"]);
    assert_eq!(
        (code, json["refusal"]["code"].as_str()),
        (1, Some("untrusted_root")),
        "{json}"
    );
    // Apple's published sample as of a time inside its window.
    let apple = data("apple/apple_sample_attestation.b64");
    let (code, json) = verify(&[
        "--apple",
        &apple,
        "--challenge",
        "dGVzdF9zZXJ2ZXJfY2hhbGxlbmdl",
        "--app-id",
        "0352187391.com.apple.example_app_attest",
        "--at",
        "2024-04-18T12:00:00Z",
    ]);
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["assurance"]["level"], "attested_app");
    // Bad usage exits 2.
    assert_eq!(verify(&[]).0, 2);
    assert_eq!(verify(&["--android", &caiman, "--challenge", "%%%"]).0, 2);
    assert_eq!(verify(&["--android", "/no/such/file.pem"]).0, 2);
}

/// Runs `punch-server` with `args` (and `env`), answering (success, stdout, stderr).
fn run(args: &[&str], env: &[(&str, &std::path::Path)]) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_punch-server"));
    cmd.args(args).env_remove("PUNCH_AT_REST_KEYS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[cfg(unix)]
#[test]
fn at_rest_keys_from_the_command_line_seal_and_are_then_required() {
    use std::io::{BufRead, BufReader};
    use std::os::unix::fs::PermissionsExt as _;

    let dir = tempfile::tempdir().unwrap();
    let test_db = common::test_db(dir.path());
    let db = common::db_arg(&test_db);
    let db = db.as_str();
    // A key file, written by the tool (no database needed for that).
    let (ok, file, err) = run(&["admin", "at-rest-key", "--id", "2026-12"], &[]);
    assert!(ok, "{err}");
    assert!(file.contains("seal_with = \"2026-12\""), "{file}");
    let keys = dir.path().join("at-rest.toml");
    std::fs::write(&keys, &file).unwrap();
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o644)).unwrap();
    let key_arg = keys.to_str().unwrap();
    let add_employee = [
        "admin",
        "--db",
        db,
        "--at-rest-keys",
        key_arg,
        "add-employee",
        "e-1",
        "One",
    ];
    let (ok, _, err) = run(&add_employee, &[]);
    assert!(!ok && err.contains("chmod 600"), "{err}");
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (ok, _, err) = run(&add_employee, &[]);
    assert!(ok, "{err}");
    // From now on the database opens only with its keys.
    let (ok, _, err) = run(&["admin", "--db", db, "devices"], &[]);
    assert!(!ok && err.contains("sealed at rest"), "{err}");
    let (ok, out, err) = run(
        &["admin", "--db", db, "at-rest-reseal", "--dry-run"],
        &[("PUNCH_AT_REST_KEYS", keys.as_path())],
    );
    assert!(ok, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["sealing_key"], "2026-12");
    assert_eq!(report["applied"], false);
    assert_eq!(report["columns"].as_array().unwrap().len(), 8);

    // `serve` takes the same file; without it, it refuses to start.
    let (ok, _, err) = run(&["serve", "--db", db, "--listen", "127.0.0.1:0"], &[]);
    assert!(!ok && err.contains("sealed at rest"), "{err}");
    let mut server = Command::new(env!("CARGO_BIN_EXE_punch-server"))
        .args(["serve", "--db", db, "--listen", "127.0.0.1:0"])
        .args(["--at-rest-keys", key_arg])
        .env("PUNCH_LOG_FORMAT", "text")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = server.stderr.take().unwrap();
    let listening = BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .find(|l| l.contains("listening on"));
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(listening.is_some(), "serve with the key file did not start");
}
