//! The chain as the server walks it, over real HTTP and the real store:
//! a device idle after retention emptied its newest record is not accused
//! of a fork; a refusal the head moved past is answered the same when
//! re-sent; an acknowledged break is applied by whatever record starts the
//! new segment, and `admin verify-chain` honours it and moved-past refusals.

use crate::common;

use common::staff::{add_staff, ok};
use common::{Device, TestServer, now_ms, outcomes};
use punch_model::ledger::chain::ChainProblem;
use punch_model::ledger::event::ChainEvent;
use punch_model::ledger::record::PunchKind;
use punch_model::ledger::signing;
use punch_model::rules::makeup::MakeUpRequest;
use punch_model::wire::{self, HeadStatement};
use punch_server::Retention;
use punch_server::Role;

const DAY_MS: i64 = 86_400_000;

fn make_up() -> ChainEvent {
    ChainEvent::MakeUpRequest(MakeUpRequest {
        kind: PunchKind::ClockIn,
        intended_time_ms: now_ms() - 3_600_000,
        site_id: None,
        reason: "forgot to punch".into(),
        attachments: Vec::new(),
        refused_attempt: None,
        fault: None,
    })
}

/// Refusals of `device` kept as evidence: (seq, reason).
fn evidence_of(server: &TestServer, device: &Device) -> Vec<(u64, String)> {
    server
        .admin
        .rejected()
        .unwrap()
        .into_iter()
        .filter(|r| r.device_id == device.id)
        .map(|r| (r.seq, r.reason))
        .collect()
}

#[test]
fn an_idle_device_whose_newest_record_was_purged_is_not_accused_of_a_fork() {
    let server = TestServer::start();
    let addr = server.addr();
    let version = server.publish();
    let mut device = server.enrolled_device("e-idle");
    let event = device.next_event(version, make_up());
    let newest = device.next(version, |_| {});
    let resp = device.upload_ok(addr, vec![event, newest]);
    assert_eq!(resp.head_seq, 2);
    server
        .admin
        .set_retention(&Retention {
            exact_location_days: Some(1),
            ..Retention::default()
        })
        .unwrap();
    server.admin.purge_expired(now_ms() + 2 * DAY_MS).unwrap();
    assert_eq!(
        server.admin.punch_record(&device.id, 2).unwrap(),
        Some(vec![]),
        "the newest record's bytes are gone"
    );
    // The device has nothing new: every request states the same head.
    let head = HeadStatement {
        seq: device.head_seq,
        hash: device.head_hash.clone(),
    };
    for _ in 0..4 {
        let resp = device.signed_stating(addr, "GET", wire::PATH_TIME, b"", &head);
        assert_eq!(resp.status, 200);
    }
    assert_eq!(evidence_of(&server, &device), [], "no fork rows");
    let hr = add_staff(&server, "hr", Role::HrAdmin, None).sign_in(addr);
    let breaks = ok(hr.get("/admin/v1/chain-breaks"));
    assert_eq!(breaks["items"], serde_json::json!([]), "{breaks}");
    // Another record stated at that seq still is a fork.
    let lie = HeadStatement {
        seq: device.head_seq,
        hash: "ab".repeat(32),
    };
    device.signed_stating(addr, "GET", wire::PATH_TIME, b"", &lie);
    assert_eq!(
        evidence_of(&server, &device)
            .iter()
            .filter(|(_, reason)| reason == "fork")
            .count(),
        1
    );
}

#[test]
fn a_resent_out_of_range_record_gets_the_same_answer_and_no_new_evidence() {
    let server = TestServer::start();
    let addr = server.addr();
    let version = server.publish();
    let mut device = server.enrolled_device("e-range");
    let impossible = device.next(version, |r| r.utc_offset_min = i32::MAX);
    let first = device.upload_ok(addr, vec![impossible.clone()]);
    assert_eq!(
        outcomes(&first),
        vec![(1, "rejected", Some("out_of_range".into()))]
    );
    assert_eq!(first.head_seq, 1, "the head moves past the refused link");
    // The phone did not hear the answer and sends it again, with the next.
    let next = device.next(version, |_| {});
    let again = device.upload_ok(addr, vec![impossible, next]);
    assert_eq!(outcomes(&again)[0], outcomes(&first)[0]);
    assert_eq!(again.results[0].detail, first.results[0].detail);
    assert_eq!(outcomes(&again)[1], (2, "accepted", None));
    assert_eq!(
        evidence_of(&server, &device),
        [(1, "out_of_range".to_string())],
        "one row, no conflicting duplicate"
    );
    let report = server.admin.verify_chain(&device.id).unwrap();
    assert!(report.is_intact(), "{report:?}");
}

/// A device whose record 2 broke (refused, with 3 after it), acknowledged
/// by HR at head 1: returns the server, the device (its local head at 3)
/// and the policy version.
fn broken_and_acknowledged(employee: &str) -> (TestServer, Device, u64) {
    let server = TestServer::start();
    let addr = server.addr();
    let version = server.publish();
    let mut device = server.enrolled_device(employee);
    let first = device.next(version, |_| {});
    device.upload_ok(addr, vec![first]);
    let anchor = device.head_hash.clone();
    let broken = device.sign(&device.record(2, &"ee".repeat(32), version));
    device.head_seq = 2;
    device.head_hash = hex::encode(signing::sha256(&broken.record));
    let third = device.next(version, |_| {});
    let resp = device.upload_ok(addr, vec![broken, third]);
    assert_eq!(resp.head_seq, 1);
    server
        .admin
        .acknowledge_break(&device.id, "ticket HR-1")
        .unwrap();
    // The device's new segment links to the acknowledged head.
    device.head_hash = anchor;
    (server, device, version)
}

fn acknowledged(server: &TestServer) -> serde_json::Value {
    let hr = add_staff(server, "hr", Role::HrAdmin, None).sign_in(server.addr());
    let breaks = ok(hr.get("/admin/v1/chain-breaks"));
    breaks["items"][0]["acknowledged"].clone()
}

#[test]
fn an_event_starting_the_new_segment_applies_the_acknowledged_break() {
    let (server, mut device, version) = broken_and_acknowledged("e-event");
    let event = device.next_event(version, make_up());
    let punch = device.next(version, |_| {});
    let resp = device.upload_ok(server.addr(), vec![event, punch]);
    assert_eq!(
        outcomes(&resp),
        vec![(4, "accepted", None), (5, "accepted", None)]
    );
    let ack = acknowledged(&server);
    assert!(ack["applied_at_ms"].is_i64(), "{ack}");
    let report = server.admin.verify_chain(&device.id).unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.head_seq, 5);
    assert_eq!(
        report
            .applied_breaks
            .iter()
            .map(|a| a.start_seq)
            .collect::<Vec<_>>(),
        [4]
    );
}

#[test]
fn a_refusal_the_head_moves_past_applies_the_break_and_verifies() {
    let (server, mut device, version) = broken_and_acknowledged("e-refused");
    let impossible = device.next(version, |r| r.utc_offset_min = i32::MAX);
    let punch = device.next(version, |_| {});
    let resp = device.upload_ok(server.addr(), vec![impossible, punch]);
    assert_eq!(
        outcomes(&resp),
        vec![
            (4, "rejected", Some("out_of_range".into())),
            (5, "accepted", None)
        ]
    );
    let ack = acknowledged(&server);
    assert!(ack["applied_at_ms"].is_i64(), "{ack}");
    let report = server.admin.verify_chain(&device.id).unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.head_seq, 5);
}

#[test]
fn verify_chain_honours_the_break_refusals_and_purges_and_still_finds_a_hole() {
    let (server, mut device, version) = broken_and_acknowledged("e-mixed");
    let addr = server.addr();
    let records = vec![
        device.next(version, |_| {}),
        device.next_event(version, make_up()),
        device.next(version, |r| r.utc_offset_min = i32::MAX),
        device.next(version, |r| r.kind = PunchKind::ClockOut),
    ];
    let resp = device.upload_ok(addr, records);
    assert_eq!(resp.head_seq, 7, "{:?}", resp.results);
    server
        .admin
        .set_retention(&Retention {
            exact_location_days: Some(1),
            ..Retention::default()
        })
        .unwrap();
    server.admin.purge_expired(now_ms() + 2 * DAY_MS).unwrap();
    let report = server.admin.verify_chain(&device.id).unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!((report.head_seq, report.applied_breaks.len()), (7, 1));

    // A stored record removed behind the server's back is still a hole.
    common::execute_sql(
        &server.db,
        &format!(
            "DELETE FROM events WHERE device_id = '{}' AND seq = 5",
            device.id
        ),
    )
    .unwrap();
    let report = server.admin.verify_chain(&device.id).unwrap();
    assert_eq!(
        report.breaks.first().map(|b| (b.seq, b.problem.clone())),
        Some((
            6,
            ChainProblem::Gap {
                expected: 5,
                found: 6
            }
        )),
        "{report:?}"
    );
}
