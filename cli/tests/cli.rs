//! The `punch` binary as a user runs it.

use std::process::Command;

fn punch(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_punch"))
        .args(args)
        .output()
        .expect("run punch")
}

#[test]
fn demo_tells_the_whole_story() {
    let out = punch(&["demo"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for expected in [
        "Enrolled with the code",
        "policy v1 fetched",
        "uncertain: the ±60 m accuracy circle straddles the fence",
        "REFUSED",
        "mock location",
        "access point a4:2b:b0:10:20:30 is on the site's list",
        "5 uploaded",
        "2 refused attempt(s)",
        "clock_moved",
        "rejected: bad_signature",
        "Late by 17 minutes for shift day. / 班次day迟到17分钟。",
        "make-up request #3 filed",
        "Your request was approved. / 您的申请已通过。",
        "Accepted at field:",
        "the field-site punch agrees with the evidence",
        "Done: the moved clock and the edited record were both caught",
        "locked for 30 minutes",
        "still locked",
        "sends a 6-digit code to a***@example.com",
        "replaying the token is refused",
        "holds the fix in clear",
        "found in the file: false",
        "without the key file: this database keeps evidence sealed at rest",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn evaluate_prints_a_json_verdict() {
    let policy = concat!(env!("CARGO_MANIFEST_DIR"), "/src/sample_policy.json");
    let out = punch(&[
        "evaluate",
        "--policy",
        policy,
        "--lat",
        "52.5203",
        "--lon",
        "13.4050",
        "--accuracy",
        "15",
    ]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["decision"], "accepted");
    assert_eq!(v["site_id"], "hq");
    assert_eq!(v["sites"][0]["checks"][0]["containment"], "inside");

    let wifi_only = punch(&[
        "evaluate",
        "--policy",
        policy,
        "--wifi",
        "A4:2B:B0:10:20:30",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&wifi_only.stdout).expect("json");
    assert_eq!(v["decision"], "accepted");
}

#[test]
fn bad_input_is_a_clear_error() {
    let policy = concat!(env!("CARGO_MANIFEST_DIR"), "/src/sample_policy.json");
    let out = punch(&["evaluate", "--policy", policy, "--lat", "95", "--lon", "13"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("latitude 95 is outside -90..90"));
    let out = punch(&["evaluate", "--policy", policy, "--wifi", "zz:zz"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("malformed BSSID"));
    let out = punch(&[
        "evaluate",
        "--policy",
        "/nonexistent.json",
        "--lat",
        "1",
        "--lon",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
    let out = punch(&["verify", "--db", "/nonexistent.db"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn verify_reports_a_broken_chain_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    {
        let engine = punch_core::PunchEngine::open(&db).unwrap();
        engine.set_employee("e").unwrap();
        let policy = include_str!("../src/sample_policy.json");
        engine.install_policy_json(policy.as_bytes(), None).unwrap();
        let wifi = punch_core::Evidence {
            wifi: vec![punch_core::WifiObservation {
                bssid: "a4:2b:b0:10:20:30".into(),
                ssid: None,
                rssi_dbm: None,
            }],
            ..Default::default()
        };
        for _ in 0..2 {
            engine.punch(punch_core::PunchKind::ClockIn, &wifi).unwrap();
        }
    }
    let ok = punch(&["verify", "--db", db.to_str().unwrap()]);
    assert!(ok.status.success());
    let v: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(v["records"], 2);
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute("DELETE FROM punches WHERE seq = 1", [])
        .unwrap();
    let broken = punch(&["verify", "--db", db.to_str().unwrap()]);
    assert_eq!(broken.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&broken.stdout).unwrap();
    assert_eq!(v["breaks"][0]["seq"], 2);
    assert_eq!(v["breaks"][0]["problem"], "gap");
}
