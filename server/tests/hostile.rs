//! Hostile input from an enrolled device or a stranger: every finding of the
//! outside check, each with the test that failed before its fix.

use crate::common;

use common::*;
use punch_model::ledger::signing;
use punch_model::wire::{self, HeadStatement, UploadRecord};

fn hash_of(up: &UploadRecord) -> String {
    hex::encode(signing::sha256(&up.record))
}

#[test]
fn a_rewritten_stated_record_is_a_fork_and_a_head_going_back_a_rollback() {
    let server = TestServer::start();
    let version = server.publish();
    let mut device = server.enrolled_device("e-1");
    let addr = server.addr();
    let r1 = device.next(version, |_| {});
    device.upload_ok(addr, vec![r1]);
    // The phone takes punch 2 and, before uploading it, states its head (a
    // time refresh): the server now knows record 2's hash.
    let r2 = device.next(version, |_| {});
    let stated = HeadStatement {
        seq: 2,
        hash: hash_of(&r2),
    };
    let resp = device.signed_stating(addr, "GET", wire::PATH_TIME, b"", &stated);
    assert_eq!(resp.status, 200);
    // Someone deletes record 2 from the file and the phone makes another
    // record 2: the server refuses it as a fork and keeps it.
    device.head_seq = 1;
    device.head_hash = server.admin.head(&device.id).unwrap().1;
    let rewritten = device.next(version, |r| {
        r.kind = punch_model::ledger::record::PunchKind::ClockOut
    });
    let after_delete = HeadStatement {
        seq: 1,
        hash: server.admin.head(&device.id).unwrap().1,
    };
    // Its next statement goes backwards: rollback evidence, signed by the device.
    let resp = device.signed_stating(addr, "GET", wire::PATH_TIME, b"", &after_delete);
    assert_eq!(resp.status, 200, "the device may still sync");
    let upload = device.upload_ok(addr, vec![rewritten.clone()]);
    assert_eq!(
        outcomes(&upload),
        vec![(2, "rejected", Some("fork".into()))]
    );
    let evidence = server.admin.rejected().unwrap();
    let reasons: Vec<(&str, u64)> = evidence
        .iter()
        .map(|e| (e.reason.as_str(), e.seq))
        .collect();
    assert_eq!(reasons, [("rollback", 1), ("fork", 2)]);
    // The rollback evidence is the request the device signed.
    let rollback = &evidence[0];
    assert!(
        String::from_utf8_lossy(&rollback.record).starts_with("PUNCH-REQUEST-V2\nGET\n/v1/time\n")
    );
    let key = server.admin.devices().unwrap()[0].public_key.clone();
    signing::verify(&key, &rollback.record, &rollback.signature).unwrap();
    // The genuine record 2, the one the device stated, is still accepted.
    let upload = device.upload_ok(addr, vec![r2]);
    assert_eq!(outcomes(&upload), vec![(2, "accepted", None)]);
}

#[test]
fn a_statement_contradicting_a_stored_record_is_a_fork() {
    let server = TestServer::start();
    let version = server.publish();
    let mut device = server.enrolled_device("e-1");
    let addr = server.addr();
    let r1 = device.next(version, |_| {});
    device.upload_ok(addr, vec![r1]);
    let lie = HeadStatement {
        seq: 1,
        hash: "ab".repeat(32),
    };
    assert_eq!(
        device
            .signed_stating(addr, "GET", wire::PATH_TIME, b"", &lie)
            .status,
        200
    );
    let evidence = server.admin.rejected().unwrap();
    assert_eq!(evidence.len(), 1);
    assert_eq!((evidence[0].reason.as_str(), evidence[0].seq), ("fork", 1));
    // A malformed statement is a bad request, not a silent pass.
    let bad = HeadStatement {
        seq: 1,
        hash: "not hex".into(),
    };
    device
        .signed_stating(addr, "GET", wire::PATH_TIME, b"", &bad)
        .assert_error(400, "bad_request");
}

#[test]
fn time_and_upload_answers_name_the_servers_head() {
    let server = TestServer::start();
    let version = server.publish();
    let mut device = server.enrolled_device("e-1");
    let addr = server.addr();
    let time: wire::TimeResponse = device.time(addr).parse();
    assert_eq!(time.head_seq, Some(0));
    assert_eq!(
        time.head_hash.as_deref(),
        Some(punch_model::ledger::record::GENESIS_HASH)
    );
    let r1 = device.next(version, |_| {});
    let up = device.upload_ok(addr, vec![r1.clone()]);
    assert_eq!(
        (up.head_seq, up.head_hash.as_deref()),
        (1, Some(hash_of(&r1).as_str()))
    );
}

#[test]
fn junk_is_counted_not_stored_and_evidence_is_capped_per_day() {
    let server = TestServer::start();
    let version = server.publish();
    let mut device = server.enrolled_device("e-1");
    let addr = server.addr();
    let r1 = device.next(version, |_| {});
    device.upload_ok(addr, vec![r1]);
    // 500 random records far beyond the head, signed by nobody: none stored.
    let junk: Vec<UploadRecord> = (0..500u64)
        .map(|i| UploadRecord {
            seq: 1_000 + i,
            record: vec![b'x'; 2_000],
            signature: vec![0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01],
        })
        .collect();
    let resp = device.upload_ok(addr, junk);
    assert!(
        resp.results
            .iter()
            .all(|r| r.status == wire::RecordStatus::Rejected)
    );
    assert!(server.admin.rejected().unwrap().is_empty());
    assert_eq!(server.admin.evidence_today(&device.id).unwrap(), (0, 500));
    // Authentic refused records are kept, but at most the daily cap.
    let cap = punch_server::internal::evidence::MAX_EVIDENCE_PER_DAY;
    let head = server.admin.head(&device.id).unwrap().1;
    let gaps: Vec<UploadRecord> = (0..cap + 20)
        .map(|i| device.sign(&device.record(3 + i, &head, version)))
        .collect();
    for chunk in gaps.chunks(wire::MAX_BATCH) {
        device.upload_ok(addr, chunk.to_vec());
    }
    assert_eq!(server.admin.rejected().unwrap().len() as u64, cap);
    assert_eq!(server.admin.evidence_today(&device.id).unwrap(), (cap, 520));
}

#[test]
fn unknown_formats_and_impossible_values_get_their_own_reasons() {
    let server = TestServer::start();
    let version = server.publish();
    let mut device = server.enrolled_device("e-1");
    let addr = server.addr();
    let head = device.head_hash.clone();
    // Format 99 with fields no version of the record has.
    let mut json = serde_json::to_value(device.record(1, &head, version)).unwrap();
    json["format"] = 99.into();
    json["teleport"] = serde_json::json!({"to": "mars"});
    let bytes = serde_json::to_vec(&json).unwrap();
    let future = UploadRecord {
        seq: 1,
        signature: signing::Signer::sign(&device.signer, &bytes).unwrap(),
        record: bytes,
    };
    let resp = device.upload_ok(addr, vec![future]);
    assert_eq!(
        outcomes(&resp),
        vec![(1, "rejected", Some("unknown_format".into()))]
    );
    // A UTC offset no clock has: an authentic link, refused for its content.
    let impossible = device.next(version, |r| r.utc_offset_min = i32::MAX);
    let resp = device.upload_ok(addr, vec![impossible]);
    assert_eq!(
        outcomes(&resp),
        vec![(1, "rejected", Some("out_of_range".into()))]
    );
    let detail = resp.results[0].detail.clone().unwrap_or_default();
    assert!(detail.contains("utc_offset_min"), "{detail}");
    // A fix the phone's own validation would refuse (accuracy 0).
    let fix = punch_model::rules::evidence::ValidFix {
        point: punch_model::geofence::LatLon::new(52.52, 13.405),
        accuracy_m: 0.0,
        fix_time_ms: now_ms(),
        provider: "gps".into(),
        is_mock: false,
        speed_mps: None,
        age_ms: None,
        elapsed_realtime_ms: None,
        reduced_accuracy: false,
        external_receiver: false,
    };
    let bad_fix = device.next(version, |r| r.evidence.gps = Some(fix));
    let resp = device.upload_ok(addr, vec![bad_fix]);
    assert_eq!(
        outcomes(&resp),
        vec![(2, "rejected", Some("out_of_range".into()))]
    );
    assert!(server.admin.punches().unwrap().is_empty());
}

#[test]
fn device_labels_with_control_characters_are_refused_at_enrollment() {
    let server = TestServer::start();
    for label in [
        "\u{1b}]0;pwned\u{7}",
        "bidi \u{202e}evil",
        "bell\u{7}",
        "x\ny",
    ] {
        let code = server.employee_code("e-1");
        let mut device = Device::new();
        device.platform_label = label.to_string();
        device
            .enroll(server.addr(), &code)
            .assert_error(400, "bad_request");
    }
    assert!(server.admin.devices().unwrap().is_empty());
}

#[test]
fn the_admin_cli_never_prints_a_devices_control_characters() {
    let server = TestServer::start();
    let version = server.publish();
    let mut device = server.enrolled_device("e-1");
    let addr = server.addr();
    // A modified app signs a record whose site id is a terminal escape.
    let evil = "\u{1b}]0;owned\u{7}\u{202e}hq";
    let record = device.next(version, |r| r.evaluation.site_id = Some(evil.into()));
    device.upload_ok(addr, vec![record]);
    let mut claimed = device.record(2, &device.head_hash.clone(), version + 9);
    claimed.employee_id = "\u{1b}[2J".into();
    device.upload_ok(addr, vec![device.sign(&claimed)]);
    for args in [
        &["punches"][..],
        &["--json", "punches"],
        &["rejected"],
        &["--json", "rejected"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_punch-server"))
            .args(["admin", "--db"])
            .arg(common::db_arg(&server.db))
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            !text
                .chars()
                .any(|c| c == '\u{1b}' || c == '\u{7}' || c == '\u{202e}'),
            "{args:?} printed a raw control character: {text:?}"
        );
        if args[0] == "--json" {
            // The values are all there, escaped (a JSON reader gets them back intact).
            assert!(
                text.contains("owned") || text.contains("[2J"),
                "{args:?}: {text}"
            );
        }
    }
}
