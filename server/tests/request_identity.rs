//! A request's identity (audit finding 1): the device chooses `event_id`,
//! so two devices can send the same one. The server refuses the second at
//! ingest, decides one row by an unambiguous key, and audits that row.

use crate::common;

use common::staff::{add_staff, ok};
use common::{Device, TestServer, now_ms, outcomes};
use punch_model::ledger::event::ChainEvent;
use punch_model::rules::field_work::FieldWorkRequest;
use punch_model::rules::makeup::MakeUpRequest;
use punch_model::rules::punch_kind::PunchKind;
use punch_server::Role;
use punch_server::StoreExt;
use serde_json::json;

fn make_up() -> ChainEvent {
    ChainEvent::MakeUpRequest(MakeUpRequest {
        kind: PunchKind::ClockOut,
        intended_time_ms: now_ms() - 60_000,
        site_id: None,
        reason: "forgot to clock out".into(),
        attachments: vec![],
        refused_attempt: None,
        fault: None,
    })
}

fn field_work() -> ChainEvent {
    let today = jiff::tz::TimeZone::UTC
        .to_datetime(jiff::Timestamp::now())
        .date()
        .to_string();
    ChainEvent::FieldWorkRequest(
        serde_json::from_value::<FieldWorkRequest>(json!({
            "center": {"lat": 52.52, "lon": 13.40},
            "radius_m": 5000.0,
            "from_date": today,
            "to_date": today,
            "reason": "client visit",
        }))
        .unwrap(),
    )
}

/// ops/ann and sales/bob, each with a phone and a manager.
fn two_teams(ts: &TestServer) -> (Device, Device) {
    let ann = ts.enrolled_device("ann");
    let bob = ts.enrolled_device("bob");
    ts.admin.set_team("ann", Some("ops")).unwrap();
    ts.admin.set_team("bob", Some("sales")).unwrap();
    (ann, bob)
}

#[test]
fn a_second_request_with_a_stored_event_id_is_refused() {
    let ts = TestServer::start();
    let version = ts.publish();
    let (mut ann, mut bob) = two_teams(&ts);
    let id = uuid::Uuid::new_v4();
    let up = ann.next_event_with(version, make_up(), |r| r.event_id = id);
    assert_eq!(
        outcomes(&ann.upload_ok(ts.addr(), vec![up]))[0].1,
        "accepted"
    );
    // Another device, another employee, the same id: refused, not stored.
    let up = bob.next_event_with(version, field_work(), |r| r.event_id = id);
    let resp = bob.upload_ok(ts.addr(), vec![up]);
    assert_eq!(
        outcomes(&resp)[0],
        (1, "rejected", Some("conflicting_duplicate".into()))
    );
    // The same device cannot reuse it either, within one batch.
    let twice = uuid::Uuid::new_v4();
    let first = bob.next_event_with(version, make_up(), |r| r.event_id = twice);
    let second = bob.next_event_with(version, make_up(), |r| r.event_id = twice);
    let resp = bob.upload_ok(ts.addr(), vec![first, second]);
    let got: Vec<&str> = outcomes(&resp).iter().map(|o| o.1).collect();
    assert_eq!(got, vec!["accepted", "rejected"]);
    let rows = ts.admin.requests(None).unwrap();
    assert_eq!(
        rows.iter().filter(|r| r.event_id == id.to_string()).count(),
        1
    );
    // The sales manager's approval of ann's id is refused; ops decides it.
    let sales = add_staff(&ts, "mgr.sales", Role::Manager, Some("sales")).sign_in(ts.addr());
    let path = format!("/admin/v1/requests/{id}/decision");
    sales
        .post(&path, &json!({"decision": "approve"}))
        .assert_error(403, "not_your_team");
    let ops = add_staff(&ts, "mgr.ops", Role::Manager, Some("ops")).sign_in(ts.addr());
    assert_eq!(
        ok(ops.post(&path, &json!({"decision": "approve"})))["employee_id"],
        "ann"
    );
}

/// Older databases may already hold one id on two rows: a decision then
/// names the row, changes only it, and the audit says which.
#[test]
fn a_decision_changes_only_the_row_it_names() {
    let ts = TestServer::start();
    let version = ts.publish();
    let (mut ann, mut bob) = two_teams(&ts);
    let up = ann.next_event(version, make_up());
    ann.upload_ok(ts.addr(), vec![up]);
    let up = bob.next_event(version, field_work());
    bob.upload_ok(ts.addr(), vec![up]);
    // Give bob's stored field-work request ann's id, as a database from
    // before the ingest check could hold.
    let rows = ts.admin.requests(None).unwrap();
    let ann_row = rows
        .iter()
        .find(|r| r.employee_id == "ann")
        .unwrap()
        .clone();
    let mut bob_row = rows
        .iter()
        .find(|r| r.employee_id == "bob")
        .unwrap()
        .clone();
    let id = ann_row.event_id.clone();
    let store = punch_server::internal::at_rest::open(&ts.db, None).unwrap();
    bob_row.event_id = id.clone();
    bob_row.seq += 100;
    store
        .write(|tx| tx.events().insert_event(&bob_row))
        .unwrap();

    let ops = add_staff(&ts, "mgr.ops", Role::Manager, Some("ops")).sign_in(ts.addr());
    let sales = add_staff(&ts, "mgr.sales", Role::Manager, Some("sales")).sign_in(ts.addr());
    let path = format!("/admin/v1/requests/{id}/decision");
    // The id alone is ambiguous now: no guess.
    ops.post(&path, &json!({"decision": "approve"}))
        .assert_error(409, "conflict");
    let approved = ok(ops.post(
        &path,
        &json!({"decision": "approve", "device_id": ann.id, "seq": ann_row.seq}),
    ));
    assert_eq!(approved["employee_id"], "ann");
    // Bob's row is untouched, and his own manager decides it.
    let bob_now = |ts: &TestServer| {
        ts.admin
            .requests(None)
            .unwrap()
            .into_iter()
            .find(|r| r.employee_id == "bob" && r.event_id == id)
            .unwrap()
    };
    assert_eq!(bob_now(&ts).status.as_deref(), Some("pending"));
    let bob_key =
        json!({"decision": "deny", "comment": "no", "device_id": bob.id, "seq": bob_row.seq});
    ops.post(&path, &bob_key).assert_error(403, "not_your_team");
    assert_eq!(ok(sales.post(&path, &bob_key))["status"], "denied");
    // The audit names the row each decision changed.
    let audit = ts.admin.audit_rows(0, 100).unwrap();
    let decided: Vec<(String, serde_json::Value)> = audit
        .iter()
        .filter(|r| r.action.starts_with("request."))
        .map(|r| (r.action.clone(), serde_json::from_str(&r.detail).unwrap()))
        .collect();
    assert_eq!(decided.len(), 2, "{decided:?}");
    assert_eq!(decided[0].1["device_id"], json!(ann.id));
    assert_eq!(decided[0].1["employee_id"], "ann");
    assert_eq!(decided[1].1["device_id"], json!(bob.id));
    assert_eq!(decided[1].1["seq"], json!(bob_row.seq));
}
