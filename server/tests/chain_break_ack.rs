//! The acknowledged chain break, end to end on the server's side of the
//! wire: a device whose chain broke is stuck (every later record refused);
//! HR acknowledges the break with a reason (audited); the device hears of
//! it on its next exchange and starts a new segment above the records it
//! holds, linked to the acknowledged head; the server accepts that one
//! jump, once, and keeps the refused records as evidence.
//! (The device here is the harness's model of the app's chain, to test the
//! server's rules exactly; `tests/tests/chain_reset.rs` runs the real engine.)

use crate::common;

use common::staff::{add_staff, ok};
use common::{TestServer, outcomes};
use punch_model::ledger::signing;
use punch_model::wire::TimeResponse;
use punch_server::Role;
use serde_json::json;

#[test]
fn hr_acknowledges_a_break_and_the_device_starts_a_new_segment() {
    let ts = TestServer::start();
    let addr = ts.addr();
    let version = ts.publish();
    let mut device = ts.enrolled_device("ann");
    let first = device.next(version, |_| {});
    device.upload_ok(addr, vec![first]);
    let (head_seq, head_hash) = (device.head_seq, device.head_hash.clone());
    assert_eq!(head_seq, 1);

    // Record 2 was corrupted on the phone (it no longer links); 3 and 4
    // follow it. All refused, and the device is stuck.
    let broken = device.sign(&device.record(2, &"ee".repeat(32), version));
    device.head_seq = 2;
    device.head_hash = hex::encode(signing::sha256(&broken.record));
    let third = device.next(version, |_| {});
    let fourth = device.next(version, |_| {});
    let resp = device.upload_ok(addr, vec![broken, third, fourth]);
    let refused: Vec<_> = outcomes(&resp)
        .into_iter()
        .map(|(s, st, _)| (s, st))
        .collect();
    assert_eq!(refused, [(2, "rejected"), (3, "rejected"), (4, "rejected")]);
    assert_eq!(resp.head_seq, 1);
    assert_eq!(resp.chain_reset, None);

    // Without an acknowledgement, jumping over the refused seqs is a gap.
    let jump = device.sign(&device.record(5, &head_hash, version));
    let resp = device.upload_ok(addr, vec![jump.clone()]);
    assert_eq!(outcomes(&resp)[0].2.as_deref(), Some("gap"));

    // HR sees the break and acknowledges it, with a reason.
    let hr = add_staff(&ts, "hr", Role::HrAdmin, None).sign_in(addr);
    let breaks = ok(hr.get("/admin/v1/chain-breaks"));
    assert_eq!(breaks["items"][0]["device_id"], device.id.as_str());
    assert_eq!(breaks["items"][0]["head_seq"], 1);
    let path = format!("/admin/v1/devices/{}/acknowledge-break", device.id);
    hr.post(&path, &json!({"reason": ""}))
        .assert_error(400, "bad_request");
    let ack = ok(hr.post(
        &path,
        &json!({"reason": "phone storage failed; ticket HR-1234"}),
    ));
    assert_eq!(ack["head_seq"], 1);

    // The device hears of it on its next exchange.
    let time: TimeResponse = device.time(addr).parse();
    let reset = time.chain_reset.expect("the time answer carries the reset");
    assert_eq!(
        (reset.head_seq, reset.head_hash.as_str()),
        (1, head_hash.as_str())
    );
    assert_eq!(reset.ack_id, ack["id"].as_i64().unwrap());

    // The new segment: seq 5 (above all it holds), linked to the acknowledged head.
    device.head_seq = 4;
    device.head_hash = head_hash.clone();
    let fifth = device.next(version, |_| {});
    assert_eq!(fifth.seq, 5);
    let sixth = device.next(version, |_| {});
    let resp = device.upload_ok(addr, vec![fifth, sixth]);
    let accepted: Vec<_> = outcomes(&resp)
        .into_iter()
        .map(|(s, st, _)| (s, st))
        .collect();
    assert_eq!(accepted, [(5, "accepted"), (6, "accepted")]);
    assert_eq!(resp.head_seq, 6);
    assert_eq!(resp.chain_reset, None, "used up");

    // Once only: another jump is a gap again.
    let again = device.sign(&device.record(9, &device.head_hash, version));
    let resp = device.upload_ok(addr, vec![again]);
    assert_eq!(outcomes(&resp)[0].2.as_deref(), Some("gap"));
    let time: TimeResponse = device.time(addr).parse();
    assert_eq!(time.chain_reset, None);

    // Both the refused records (evidence) and the new segment are kept.
    let refused: Vec<u64> = ts
        .admin
        .rejected()
        .unwrap()
        .iter()
        .filter(|r| r.device_id == device.id && r.reason == "chain_break")
        .map(|r| r.seq)
        .collect();
    assert!(refused.contains(&2), "{refused:?}");
    let seqs: Vec<u64> = ts
        .admin
        .punches()
        .unwrap()
        .iter()
        .filter(|p| p.device_id == device.id)
        .map(|p| p.seq)
        .collect();
    assert_eq!(seqs, [1, 5, 6]);
    let breaks = ok(hr.get("/admin/v1/chain-breaks"));
    assert!(
        breaks["items"][0]["acknowledged"]["applied_at_ms"].is_i64(),
        "{breaks}"
    );
    // The acknowledgement is in the audit chain, with its reason.
    let audit = ts.admin.audit_rows(0, 1000).unwrap();
    let row = audit
        .iter()
        .find(|r| r.action == "chain.acknowledge_break")
        .expect("audited");
    assert_eq!(row.actor, "hr");
    assert_eq!(row.reason, "phone storage failed; ticket HR-1234");
    assert!(row.detail.contains("\"head_seq\":1"), "{}", row.detail);
}
