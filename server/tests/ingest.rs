//! Upload ingest and trusted time, over real HTTP, signatures and SQLite.

use crate::common;

use common::{Device, TestServer, outcomes};
use punch_model::ledger::record::GENESIS_HASH;
use punch_model::ledger::signing;
use punch_model::wire::{self, UploadRecord};

fn rejected(reason: &str) -> (&'static str, Option<String>) {
    ("rejected", Some(reason.to_string()))
}

fn only(resp: &wire::UploadResponse) -> (&'static str, Option<String>) {
    let all = outcomes(resp);
    assert_eq!(all.len(), 1, "{all:?}");
    let (_, status, reason) = all.into_iter().next().unwrap();
    (status, reason)
}

#[test]
fn accepted_then_duplicate_then_conflicting_duplicate() {
    let server = TestServer::start();
    let version = server.publish();
    let mut device = server.enrolled_device("e-1");
    let addr = server.addr();
    let r1 = device.next(version, |_| {});
    let r2 = device.next(version, |r| {
        r.kind = punch_model::ledger::record::PunchKind::ClockOut
    });

    let resp = device.upload_ok(addr, vec![r1.clone(), r2.clone()]);
    assert_eq!(
        outcomes(&resp),
        vec![(1, "accepted", None), (2, "accepted", None)]
    );
    assert_eq!(resp.head_seq, 2);
    assert_eq!(resp.policy_version, version);
    assert_eq!(resp.time_token.len(), 64);

    // A retry of the same bytes: duplicate, nothing stored twice.
    let resp = device.upload_ok(addr, vec![r1.clone(), r2.clone()]);
    assert_eq!(
        outcomes(&resp),
        vec![(1, "duplicate", None), (2, "duplicate", None)]
    );
    assert_eq!(server.admin.punches().unwrap().len(), 2);

    // Other bytes at an accepted seq: conflicting duplicate, kept as evidence.
    let mut forged = device.record(2, &hex::encode(signing::sha256(&r1.record)), version);
    forged.wall_time_ms -= 3_600_000;
    let resp = device.upload_ok(addr, vec![device.sign(&forged)]);
    assert_eq!(only(&resp), rejected("conflicting_duplicate"));
    assert_eq!(resp.head_seq, 2);

    let punches = server.admin.punches().unwrap();
    assert_eq!(punches.len(), 2);
    assert_eq!(punches[0].seq, 1);
    assert_eq!(punches[0].kind, "clock_in");
    assert_eq!(punches[1].kind, "clock_out");
    assert_eq!(punches[0].employee_id, "e-1");
    assert_eq!(punches[0].policy_version, version);
    assert_eq!(punches[0].decision, "accepted");
    assert_eq!(punches[0].site_id.as_deref(), Some("hq"));
    assert_eq!(punches[1].hash, device.head_hash);
    assert_eq!(
        server.admin.head(&device.id).unwrap(),
        (2, device.head_hash.clone())
    );
    let evidence = server.admin.rejected().unwrap();
    assert_eq!(evidence.len(), 1);
    assert_eq!(evidence[0].reason, "conflicting_duplicate");
    assert_eq!(evidence[0].seq, 2);
    assert_eq!(evidence[0].record, device.sign(&forged).record);
}

#[test]
fn a_punch_id_is_stored_once() {
    let server = TestServer::start();
    let version = server.publish();
    let mut device = server.enrolled_device("e-1");
    let r1 = device.next(version, |_| {});
    let first_id = punch_model::ledger::record::PunchRecord::from_bytes(&r1.record)
        .unwrap()
        .punch_id;
    // seq 2 reuses seq 1's punch id: a valid link, but not a new punch.
    let r2 = device.next(version, |r| r.punch_id = first_id);
    let resp = device.upload_ok(server.addr(), vec![r1, r2]);
    assert_eq!(
        outcomes(&resp),
        vec![
            (1, "accepted", None),
            (2, "rejected", Some("conflicting_duplicate".into()))
        ]
    );
    // Refused, but an authentic link: the chain goes on past it.
    assert_eq!(resp.head_seq, 2);
    assert_eq!(server.admin.punches().unwrap().len(), 1);
}

#[test]
fn refused_records_are_kept_when_authentic_and_counted_when_not() {
    let server = TestServer::start();
    let version = server.publish();
    let mut device = server.enrolled_device("e-1");
    let addr = server.addr();
    let r1 = device.next(version, |_| {});
    assert_eq!(
        only(&device.upload_ok(addr, vec![r1.clone()])).0,
        "accepted"
    );
    let head = device.head_hash.clone();

    // Bad signature: signed by another key.
    let mut other = Device::new();
    other.id = device.id.clone();
    other.employee_id = device.employee_id.clone();
    let bad_sig = other.sign(&device.record(2, &head, version));
    // Chain break: prev_hash is not the hash of record 1.
    let chain_break = device.sign(&device.record(2, GENESIS_HASH, version));
    // Gap: seq 3 while the head is 1.
    let gap = device.sign(&device.record(3, &head, version));
    // Another device's record, signed by this device's key.
    let mut wrong = device.record(2, &head, version);
    wrong.device_id = "someone-else".into();
    let wrong_device = device.sign(&wrong);
    // Another employee than the device is bound to.
    let mut emp = device.record(2, &head, version);
    emp.employee_id = "e-2".into();
    let employee_mismatch = device.sign(&emp);
    // A policy version never published.
    let unknown_policy = device.sign(&device.record(2, &head, version + 7));
    // Signed bytes that are not a record.
    let junk = b"{\"hello\":1}".to_vec();
    let unparseable = UploadRecord {
        seq: 2,
        signature: signing::Signer::sign(&device.signer, &junk).unwrap(),
        record: junk,
    };
    // The record's own seq differs from the envelope's.
    let mut inner = device.sign(&device.record(5, &head, version));
    inner.seq = 2;

    // Refusals that leave the chain where it was (the record is not a
    // verified link); the two refusals of verified links come last, below.
    let cases = [
        (bad_sig, "bad_signature"),
        (chain_break, "chain_break"),
        (gap, "gap"),
        (wrong_device, "wrong_device"),
        (unparseable, "unparseable"),
        (inner, "gap"),
        (employee_mismatch, "employee_mismatch"),
        (unknown_policy, "unknown_policy_version"),
    ];
    for (record, reason) in &cases[..6] {
        let resp = device.upload_ok(addr, vec![record.clone()]);
        assert_eq!(only(&resp), rejected(reason), "case {reason}");
        assert_eq!(resp.head_seq, 1);
        let detail = resp.results[0].detail.clone().unwrap_or_default();
        assert!(!detail.is_empty(), "{reason} has a detail");
    }
    // A retried refusal is counted, not stored twice. The record signed by
    // another key proves nothing about this device: counted, not stored.
    let resp = device.upload_ok(addr, vec![cases[1].0.clone()]);
    assert_eq!(only(&resp), rejected("chain_break"));
    let evidence = server.admin.rejected().unwrap();
    assert_eq!(evidence.len(), 5);
    assert_eq!(evidence[0].attempts, 2);
    assert_eq!(server.admin.evidence_today(&device.id).unwrap(), (6, 1));

    // A verified link refused for its content: the chain goes on past it,
    // and a record competing for the same seq is then a conflicting duplicate.
    let resp = device.upload_ok(addr, vec![cases[6].0.clone()]);
    assert_eq!(only(&resp), rejected("employee_mismatch"));
    assert_eq!(resp.head_seq, 2);
    let resp = device.upload_ok(addr, vec![cases[6].0.clone()]);
    assert_eq!(
        only(&resp),
        rejected("employee_mismatch"),
        "same answer again"
    );
    let resp = device.upload_ok(addr, vec![cases[7].0.clone()]);
    assert_eq!(only(&resp), rejected("conflicting_duplicate"));
    assert_eq!(server.admin.punches().unwrap().len(), 1);
    let evidence = server.admin.rejected().unwrap();
    let reasons: Vec<&str> = evidence.iter().map(|e| e.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "chain_break",
            "gap",
            "wrong_device",
            "unparseable",
            "gap",
            "employee_mismatch",
            "conflicting_duplicate"
        ]
    );
    // Each refusal stored once; the two sent twice are counted twice.
    assert!(evidence.iter().enumerate().all(
        |(i, e)| e.device_id == device.id && e.attempts == if i == 0 || i == 5 { 2 } else { 1 }
    ));
    // Labelled with the device's bound employee; the record's claim beside it.
    assert_eq!(evidence[5].employee_id.as_deref(), Some("e-1"));
    assert_eq!(evidence[5].claimed_employee_id.as_deref(), Some("e-2"));

    // The chain continues from the refused link.
    let after = hex::encode(signing::sha256(&cases[6].0.record));
    let r3 = device.sign(&device.record(3, &after, version));
    assert_eq!(only(&device.upload_ok(addr, vec![r3])).0, "accepted");
}

#[test]
fn a_batch_is_processed_in_seq_order_and_gaps_do_not_block_earlier_records() {
    let server = TestServer::start();
    let version = server.publish();
    let mut device = server.enrolled_device("e-1");
    let r1 = device.next(version, |_| {});
    let r2 = device.next(version, |_| {});
    let r3 = device.next(version, |_| {});
    let r4 = device.next(version, |_| {});
    let r5 = device.next(version, |_| {});
    // Out of order, with seq 4 missing.
    let resp = device.upload_ok(server.addr(), vec![r3, r1, r5.clone(), r2]);
    assert_eq!(
        outcomes(&resp),
        vec![
            (1, "accepted", None),
            (2, "accepted", None),
            (3, "accepted", None),
            (5, "rejected", Some("gap".into()))
        ]
    );
    assert_eq!(resp.head_seq, 3);
    // Once the missing record arrives, the rest follows.
    let resp = device.upload_ok(server.addr(), vec![r5, r4]);
    assert_eq!(
        outcomes(&resp),
        vec![(4, "accepted", None), (5, "accepted", None)]
    );
    assert_eq!(resp.head_seq, 5);
    // An empty upload reports the head (how a device resynchronises).
    assert_eq!(device.upload_ok(server.addr(), vec![]).head_seq, 5);
}

#[test]
fn upload_requests_are_checked_as_a_whole() {
    let server = TestServer::start();
    let version = server.publish();
    let mut device = server.enrolled_device("e-1");
    let addr = server.addr();

    let resp = device.signed(addr, "POST", wire::PATH_PUNCHES, b"{\"device_id\": 5");
    resp.assert_error(400, "bad_request");
    assert!(
        resp.json()["message"]
            .as_str()
            .unwrap()
            .contains("upload request")
    );

    // The body must name the authenticated device.
    let body = serde_json::to_vec(&wire::UploadRequest {
        device_id: "another".into(),
        records: vec![],
    })
    .unwrap();
    device
        .signed(addr, "POST", wire::PATH_PUNCHES, &body)
        .assert_error(400, "bad_request");

    let record = device.next(version, |_| {});
    let too_many = vec![record; wire::MAX_BATCH + 1];
    device
        .upload(addr, too_many)
        .assert_error(413, "batch_too_large");
    assert!(server.admin.punches().unwrap().is_empty());
    assert!(server.admin.rejected().unwrap().is_empty());
}

fn time_of(server: &TestServer, seq: u64) -> punch_server::StoredPunchInfo {
    server
        .admin
        .punches()
        .unwrap()
        .into_iter()
        .find(|p| p.seq == seq)
        .unwrap()
}

#[test]
fn trusted_time_anchored_clock_moved_unanchored_and_bad_anchor() {
    let server = TestServer::start();
    let version = server.publish();
    let mut device = server.enrolled_device("e-1");
    let addr = server.addr();
    let anchor = device.anchor(addr, 5_000_000);
    let elapsed = 60_000u64;
    let trusted = anchor.server_time_ms + elapsed as i64;

    // 1. Anchored: wall clock agrees with anchor + monotonic elapsed.
    let a = anchor.clone();
    let r1 = device.next(version, |r| {
        r.anchor = Some(a);
        r.monotonic_ms = 5_000_000 + elapsed;
        r.wall_time_ms = trusted + 1_500;
    });
    // 2. Clock moved: the employee set the phone back two hours.
    let a = anchor.clone();
    let r2 = device.next(version, |r| {
        r.anchor = Some(a);
        r.monotonic_ms = 5_000_000 + elapsed;
        r.wall_time_ms = trusted - 7_200_000;
    });
    // 3. Unanchored: never synced.
    let r3 = device.next(version, |r| r.anchor = None);
    // 4. Unanchored: rebooted since the anchor.
    let a = anchor.clone();
    let r4 = device.next(version, |r| {
        r.anchor = Some(a);
        r.boot_id = "boot-2".into();
    });
    // 5. Bad anchor: a server time the server never said (token kept).
    let mut forged = anchor.clone();
    forged.server_time_ms -= 7_200_000;
    let r5 = device.next(version, |r| {
        r.anchor = Some(forged);
        r.monotonic_ms = 5_000_000 + elapsed;
    });
    // 6. Bad anchor: another device's genuine token.
    let other = server.enrolled_device("e-2");
    let mut borrowed = other.anchor(addr, 5_000_000);
    borrowed.boot_id = device.boot_id.clone();
    let r6 = device.next(version, |r| {
        r.anchor = Some(borrowed);
        r.monotonic_ms = 5_000_000 + elapsed;
    });

    let resp = device.upload_ok(addr, vec![r1, r2, r3, r4, r5, r6]);
    assert!(outcomes(&resp).iter().all(|(_, s, _)| *s == "accepted"));

    let p1 = time_of(&server, 1);
    assert_eq!(p1.time_status, "anchored");
    assert_eq!(p1.trusted_time_ms, Some(trusted));
    assert_eq!(p1.skew_ms, Some(1_500));
    assert_eq!(p1.effective_time_ms(), trusted);

    let p2 = time_of(&server, 2);
    assert_eq!(p2.time_status, "clock_moved");
    assert_eq!(p2.trusted_time_ms, Some(trusted));
    assert_eq!(p2.skew_ms, Some(-7_200_000));
    assert_eq!(
        p2.wall_time_ms,
        trusted - 7_200_000,
        "both times are stored"
    );
    assert_eq!(p2.effective_time_ms(), trusted, "trusted time wins");

    let p3 = time_of(&server, 3);
    assert_eq!(p3.time_status, "unanchored:no_anchor");
    assert_eq!(p3.trusted_time_ms, None);
    assert_eq!(p3.effective_time_ms(), p3.wall_time_ms);

    assert_eq!(time_of(&server, 4).time_status, "unanchored:different_boot");

    for seq in [5, 6] {
        let p = time_of(&server, seq);
        assert_eq!(p.time_status, "bad_anchor", "seq {seq}");
        assert_eq!(p.trusted_time_ms, None);
        assert_eq!(p.skew_ms, None);
    }
}

#[test]
fn clock_tolerance_comes_from_the_policy_version_the_record_names() {
    let server = TestServer::start();
    let v1 = server.publish(); // default max_clock_skew_s = 120
    let strict = punch_model::rules::policy::Settings {
        max_clock_skew_s: 10.0,
        ..Default::default()
    };
    server.admin.set_settings(strict).unwrap();
    let v2 = server.admin.publish_policy(common::DAY).unwrap();
    assert_eq!(v2, v1 + 1);

    let mut device = server.enrolled_device("e-1");
    let anchor = device.anchor(server.addr(), 1_000);
    let skewed = |a: punch_model::ledger::record::TimeAnchor| {
        move |r: &mut punch_model::ledger::record::PunchRecord| {
            r.monotonic_ms = 2_000;
            r.wall_time_ms = a.server_time_ms + 1_000 + 30_000;
            r.anchor = Some(a);
        }
    };
    let r1 = device.next(v1, skewed(anchor.clone()));
    let r2 = device.next(v2, skewed(anchor));
    device.upload_ok(server.addr(), vec![r1, r2]);
    assert_eq!(time_of(&server, 1).time_status, "anchored");
    assert_eq!(time_of(&server, 2).time_status, "clock_moved");
    assert_eq!(time_of(&server, 2).skew_ms, Some(30_000));
}

#[test]
fn hostile_numbers_are_refused_not_crashed_on() {
    let server = TestServer::start();
    let version = server.publish();
    let device = server.enrolled_device("e-1");
    let huge_seq = device.sign(&device.record(u64::MAX, GENESIS_HASH, version));
    let huge_policy = device.sign(&device.record(1, GENESIS_HASH, u64::MAX));
    let huge_policy_bytes = huge_policy.record.clone();
    let zero = device.sign(&device.record(0, GENESIS_HASH, version));
    // A seq the store cannot keep in order refuses the request whole
    // (`seq_bounds` has the rest).
    let resp = device.upload(server.addr(), vec![huge_seq]);
    resp.assert_error(400, "bad_request");
    assert_eq!(resp.json()["reason"], "seq_too_large");
    let resp = device.upload_ok(server.addr(), vec![huge_policy, zero]);
    assert_eq!(
        outcomes(&resp),
        vec![
            (0, "rejected", Some("gap".into())),
            (1, "rejected", Some("unknown_policy_version".into())),
        ]
    );
    let evidence = server.admin.rejected().unwrap();
    assert_eq!(evidence.len(), 2);
    // The refused seq 1 was still an authentic link: the chain continues
    // from it, so the next honest record links to it.
    let after = hex::encode(signing::sha256(&huge_policy_bytes));
    let r2 = device.sign(&device.record(2, &after, version));
    assert_eq!(
        only(&device.upload_ok(server.addr(), vec![r2])).0,
        "accepted"
    );
}

#[test]
fn concurrent_uploads_of_the_same_batch_store_each_record_once() {
    let server = TestServer::start();
    let version = server.publish();
    let mut device = server.enrolled_device("e-1");
    let batch: Vec<UploadRecord> = (0..20).map(|_| device.next(version, |_| {})).collect();
    let addr = server.addr();
    let device = &device;
    let answers: Vec<wire::UploadResponse> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let batch = batch.clone();
                s.spawn(move || device.upload_ok(addr, batch))
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    for seq in 1..=20u64 {
        let statuses: Vec<_> = answers
            .iter()
            .map(|a| a.results.iter().find(|r| r.seq == seq).unwrap().status)
            .collect();
        let accepted = statuses
            .iter()
            .filter(|s| **s == wire::RecordStatus::Accepted)
            .count();
        assert_eq!(accepted, 1, "seq {seq}: {statuses:?}");
        assert!(!statuses.contains(&wire::RecordStatus::Rejected));
    }
    assert_eq!(server.admin.punches().unwrap().len(), 20);
    assert!(server.admin.rejected().unwrap().is_empty());
    assert_eq!(server.admin.head(&device.id).unwrap().0, 20);
}

#[test]
fn the_server_reads_attendance_itself_and_flags_a_disagreement() {
    let server = TestServer::start();
    server
        .admin
        .set_schedule(
            serde_json::from_value(serde_json::json!({
                "time_zone": "Europe/Berlin",
                "shifts": [{ "id": "day", "days": ["mon","tue","wed","thu","fri","sat","sun"],
                             "start": "00:00", "end": "00:00", "earliest_in_min": 0,
                             "latest_out_min": 0, "grace_late_min": 1440 }]
            }))
            .unwrap(),
        )
        .unwrap();
    let version = server.publish();
    let mut device = server.enrolled_device("e-1");
    let addr = server.addr();
    // The device claims nothing about attendance; the server reads "on time".
    let honest_silence = device.next(version, |_| {});
    device.upload_ok(addr, vec![honest_silence]);
    let punches = server.admin.punches().unwrap();
    assert_eq!(
        punches[0].attendance.as_ref().map(|a| a.code()),
        Some("on_time")
    );
    assert!(punches[0].review_flags.iter().any(|f| matches!(
        f,
        punch_model::ledger::review::ReviewFlag::AttendanceMismatch { device: None, server: Some(s) } if s == "on_time"
    )));
    // A second clock-in for the same occurrence: the server knows it is already open.
    let twice = device.next(version, |_| {});
    device.upload_ok(addr, vec![twice]);
    let punches = server.admin.punches().unwrap();
    assert_eq!(
        punches[1].attendance.as_ref().map(|a| a.code()),
        Some("already_clocked_in")
    );
}
