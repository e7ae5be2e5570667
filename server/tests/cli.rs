//! The `punch-server admin` command line, on a real database.

mod common;

use std::process::Command;

fn admin(db: &str, args: &[&str]) -> String {
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
    let db = common::db_arg(&common::test_db(dir.path()));
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
