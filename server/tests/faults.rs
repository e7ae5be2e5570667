//! Fault reports on the real server: fault events are kept per device and
//! employee and listed by team (a manager sees their own team's only);
//! hostile ones are refused with a reason; a make-up request may cite only
//! a fault of the same employee, and the reviewer sees the two together;
//! terminals silent for longer than the policy allows are faults too.

use crate::common;

use std::time::Duration;

use common::staff::{add_staff, ok};
use common::{Device, TestServer, now_ms, outcomes};
use punch_model::ledger::event::ChainEvent;
use punch_model::ledger::fault::{FaultKind, FaultReport, FaultSettings, FaultSource};
use punch_model::ledger::signing::Signer;
use punch_model::rules::makeup::{FaultCitation, MakeUpRequest};
use punch_model::rules::punch_kind::PunchKind;
use punch_server::Role;
use punch_server::routes::admin as api;

fn fault(kind: FaultKind, text: &str) -> ChainEvent {
    ChainEvent::Fault(FaultReport {
        kind,
        source: FaultSource::Employee,
        text: text.into(),
        attachments: vec![],
    })
}

fn citing(device_id: &str, seq: u64) -> ChainEvent {
    ChainEvent::MakeUpRequest(MakeUpRequest {
        kind: PunchKind::ClockIn,
        intended_time_ms: now_ms() - 3_600_000,
        site_id: None,
        reason: "no location in the hall".into(),
        attachments: vec![],
        refused_attempt: None,
        fault: Some(FaultCitation {
            device_id: device_id.into(),
            seq,
        }),
    })
}

/// A published policy with fault settings, and two employees in two teams.
fn setup(server: &TestServer) -> (u64, Device, Device) {
    let mut settings = server.admin.settings().unwrap();
    settings.faults = Some(FaultSettings::default());
    server.admin.set_settings(settings).unwrap();
    let version = server.publish();
    let a = server.enrolled_device("fa-1");
    let b = server.enrolled_device("fb-1");
    server.admin.set_team("fa-1", Some("A")).unwrap();
    server.admin.set_team("fb-1", Some("B")).unwrap();
    (version, a, b)
}

#[test]
fn faults_are_kept_per_device_and_listed_by_team() {
    let server = TestServer::start();
    let addr = server.addr();
    let (version, mut a, mut b) = setup(&server);
    let up = a.next_event(
        version,
        fault(FaultKind::WifiOff, "Wi-Fi broken since Monday"),
    );
    assert_eq!(outcomes(&a.upload_ok(addr, vec![up]))[0].1, "accepted");
    let up = b.next_event(version, fault(FaultKind::ClockMoved, "clock jumps"));
    assert_eq!(outcomes(&b.upload_ok(addr, vec![up]))[0].1, "accepted");

    let stored = server.admin.events(Some("fault")).unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(
        (stored[0].device_id.as_str(), stored[0].employee_id.as_str()),
        (a.id.as_str(), "fa-1")
    );

    let manager = add_staff(&server, "mgr-a", Role::Manager, Some("A")).sign_in(addr);
    let page = ok(manager.get(api::PATH_FAULTS));
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{page}");
    assert_eq!(items[0]["employee_id"], "fa-1");
    assert_eq!(items[0]["team"], "A");
    assert_eq!(items[0]["fault"]["kind"], "wifi_off");
    assert_eq!(items[0]["fault"]["text"], "Wi-Fi broken since Monday");
    // Another team's faults are not a manager's to ask for.
    assert_eq!(
        manager.get(&format!("{}?team=B", api::PATH_FAULTS)).status,
        403
    );
    let hr = add_staff(&server, "hr-f", Role::HrAdmin, None).sign_in(addr);
    let all = ok(hr.get(api::PATH_FAULTS));
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    let only_b = ok(hr.get(&format!("{}?team=B", api::PATH_FAULTS)));
    assert_eq!(only_b["items"][0]["fault"]["kind"], "clock_moved");
    // Paged: one at a time, then the next.
    let first = ok(hr.get(&format!("{}?limit=1", api::PATH_FAULTS)));
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = ok(hr.get(&format!("{}?limit=1&cursor={cursor}", api::PATH_FAULTS)));
    assert_eq!(second["items"][0]["employee_id"], "fb-1");
}

#[test]
fn hostile_fault_events_are_refused_with_a_reason() {
    let server = TestServer::start();
    let addr = server.addr();
    let (version, mut a, mut b) = setup(&server);
    let long = a.next_event(version, fault(FaultKind::Other, &"x".repeat(1_001)));
    let resp = a.upload_ok(addr, vec![long]);
    assert_eq!(
        outcomes(&resp)[0],
        (1, "rejected", Some("out_of_range".to_string())),
        "{resp:?}"
    );
    // An unknown kind, as a modified app would sign it.
    let up = b.next_event(version, fault(FaultKind::Other, "x"));
    let edited = String::from_utf8(up.record.clone())
        .unwrap()
        .replace("\"other\"", "\"phone_on_fire\"");
    let bytes = edited.into_bytes();
    let forged = punch_model::wire::UploadRecord {
        seq: up.seq,
        signature: b.signer.sign(&bytes).unwrap(),
        record: bytes,
    };
    let resp = b.upload_ok(addr, vec![forged]);
    assert_eq!(outcomes(&resp)[0].1, "rejected", "{resp:?}");
    assert!(server.admin.events(Some("fault")).unwrap().is_empty());
}

#[test]
fn a_make_up_request_cites_only_a_fault_of_the_same_employee() {
    let server = TestServer::start();
    let addr = server.addr();
    let (version, mut a, mut b) = setup(&server);
    let a_fault = a.next_event(
        version,
        fault(FaultKind::LocationUnavailable, "no fix in the hall"),
    );
    let a_seq = a_fault.seq;
    // The fault and the request citing it in one batch.
    let own = a.next_event(version, citing(&a.id, a_seq));
    a.upload_ok(addr, vec![a_fault, own]);
    // Another employee's fault, an event that is no fault, a seq that is nothing.
    let theirs = b.next_event(version, citing(&a.id, a_seq));
    let not_fault = b.next_event(version, citing(&a.id, a_seq + 1));
    let nothing = b.next_event(version, citing(&a.id, 99));
    let resp = b.upload_ok(addr, vec![theirs, not_fault, nothing]);
    assert!(
        outcomes(&resp).iter().all(|o| o.1 == "accepted"),
        "{resp:?}"
    );
    let statuses: Vec<(String, Option<String>, Option<String>)> = server
        .admin
        .requests(None)
        .unwrap()
        .into_iter()
        .map(|r| (r.employee_id, r.status.unwrap_or_default(), r.status_detail))
        .map(|(e, s, d)| (e, Some(s), d))
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("fa-1".into(), Some("pending".into()), None),
            (
                "fb-1".into(),
                Some("refused".into()),
                Some("fault_cited_not_yours".into())
            ),
            (
                "fb-1".into(),
                Some("refused".into()),
                Some("fault_cited_not_found".into())
            ),
            (
                "fb-1".into(),
                Some("refused".into()),
                Some("fault_cited_not_found".into())
            ),
        ]
    );
    // The reviewer sees the request with the fault it cites.
    let hr = add_staff(&server, "hr-c", Role::HrAdmin, None).sign_in(addr);
    let page = ok(hr.get(&format!("{}?status=pending", api::PATH_REQUESTS)));
    let item = &page["items"][0];
    assert_eq!(item["employee_id"], "fa-1");
    assert_eq!(item["request"]["fault"]["seq"], a_seq);
    assert_eq!(item["cited_fault"]["seq"], a_seq);
    assert_eq!(item["cited_fault"]["fault"]["kind"], "location_unavailable");
    assert_eq!(item["cited_fault"]["fault"]["text"], "no fix in the hall");
    // A refused citation shows no fault beside it.
    let refused = ok(hr.get(&format!("{}?status=refused", api::PATH_REQUESTS)));
    assert!(refused["items"][0].get("cited_fault").is_none());
}

#[test]
fn terminals_silent_longer_than_the_policy_allows_are_faults() {
    let server = TestServer::start();
    let addr = server.addr();
    let (version, a, b) = setup(&server);
    // A kiosk, and the last time each was heard from, moved back.
    server
        .admin
        .set_kiosk_pin("hq", "fa-1", "73915062")
        .unwrap();
    let code = server
        .admin
        .kiosk_enrollment_code("hq", Duration::from_secs(600))
        .unwrap();
    let kiosk = Device::new();
    assert_eq!(kiosk.enroll(addr, &code).status, 200);
    // Heard from now: a request marks each.
    for d in [&a, &b, &kiosk] {
        assert_eq!(d.time(addr).status, 200);
    }
    let hours = |h: i64| now_ms() - h * 3_600_000;
    let age = |device: &str, at: i64| {
        common::execute_sql(
            &server.db,
            &format!(
                "UPDATE device_seen SET last_seen_ms = {at} WHERE device_id = '{device}'; \
                 UPDATE devices SET enrolled_at_ms = {at} WHERE device_id = '{device}'"
            ),
        )
        .unwrap();
    };
    age(&a.id, hours(80)); // a phone over 72 h
    age(&b.id, hours(30)); // a phone under 72 h
    age(&kiosk.id, hours(30)); // a kiosk over 24 h
    let hr = add_staff(&server, "hr-s", Role::HrAdmin, None).sign_in(addr);
    let page = ok(hr.get(api::PATH_FAULTS_SILENT));
    let mut silent: Vec<(String, String, i64)> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["device_id"].as_str().unwrap().to_string(),
                t["terminal"].as_str().unwrap().to_string(),
                t["silent_for_h"].as_i64().unwrap(),
            )
        })
        .collect();
    silent.sort();
    let mut want = vec![
        (a.id.clone(), "phone".to_string(), 80),
        (kiosk.id.clone(), "kiosk".to_string(), 30),
    ];
    want.sort();
    assert_eq!(silent, want, "{page}");
    // A manager sees their team's phone, never the kiosk (no team).
    let manager = add_staff(&server, "mgr-s", Role::Manager, Some("A")).sign_in(addr);
    let mine = ok(manager.get(api::PATH_FAULTS_SILENT));
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert_eq!(mine["items"][0]["device_id"], a.id.as_str());
    // Heard from again: no longer silent.
    assert_eq!(a.time(addr).status, 200);
    let after = ok(hr.get(api::PATH_FAULTS_SILENT));
    assert_eq!(after["items"].as_array().unwrap().len(), 1);
    let _ = version;
}
