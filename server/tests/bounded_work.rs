//! Per-request work is bounded (audit finding 9): the punch list is a page
//! read in SQL with a cursor, and one punch's detail, the attendance export
//! and the employee's own export read their own rows, however many punches
//! other employees have. Measured as punch rows the server's store read
//! (`ServerHandle::rows_read`), not as time.

use crate::common;

use common::staff::{Session, add_staff, ok};
use common::{Device, TestServer, now_ms};
use punch_model::wire::privacy::PATH_EXPORT;
use punch_server::Role;
use serde_json::Value;

/// `n` punches a millisecond apart, uploaded in one batch.
fn punches(ts: &TestServer, device: &mut Device, version: u64, n: usize) {
    let base = now_ms() - 600_000;
    let records = (0..n)
        .map(|i| device.next(version, |r| r.wall_time_ms = base + i as i64))
        .collect();
    device.upload_ok(ts.addr(), records);
}

/// Punch rows the server read while `f` ran.
fn rows_read<T>(ts: &TestServer, f: impl FnOnce() -> T) -> (u64, T) {
    let handle = ts.handle.as_ref().expect("server running");
    let before = handle.rows_read();
    let out = f();
    (handle.rows_read() - before, out)
}

fn items(page: &Value) -> &Vec<Value> {
    page["items"].as_array().expect("items")
}

#[test]
fn the_punch_list_is_a_page_and_a_cursor_read_in_sql() {
    let ts = TestServer::start();
    let version = ts.publish();
    let mut device = ts.enrolled_device("e-1");
    punches(&ts, &mut device, version, 120);
    let hr: Session = add_staff(&ts, "hr", Role::HrAdmin, None).sign_in(ts.addr());

    let mut seen = Vec::new();
    let mut path = "/admin/v1/punches?limit=50".to_string();
    loop {
        let (read, page) = rows_read(&ts, || ok(hr.get(&path)));
        // The page and one more (is there a next page?), never the table.
        assert!(read <= 51, "a page of 50 read {read} punch rows");
        seen.extend(items(&page).iter().map(|p| p["seq"].as_u64().unwrap()));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/admin/v1/punches?limit=50&cursor={cursor}"),
            None => break,
        }
    }
    // Every punch once, newest first.
    assert_eq!(seen, (1..=120).rev().collect::<Vec<u64>>());
    // Over the maximum: clamped, not refused.
    assert_eq!(
        items(&ok(hr.get("/admin/v1/punches?limit=100000"))).len(),
        120
    );
    hr.get("/admin/v1/punches?cursor=nonsense")
        .assert_error(400, "bad_request");
}

#[test]
fn one_punch_and_the_exports_read_their_own_rows() {
    let ts = TestServer::start();
    let version = ts.publish();
    let mut mine = ts.enrolled_device("e-1");
    let mut other = ts.enrolled_device("e-2");
    ts.admin.set_team("e-1", Some("ops")).unwrap();
    ts.admin.set_team("e-2", Some("sales")).unwrap();
    punches(&ts, &mut mine, version, 10);
    let hr = add_staff(&ts, "hr", Role::HrAdmin, None).sign_in(ts.addr());
    let today = jiff::tz::TimeZone::UTC
        .to_datetime(jiff::Timestamp::now())
        .date();
    // From yesterday: the punches are ten minutes old, also just after midnight.
    let yesterday = today.yesterday().unwrap();
    let export = format!("/admin/v1/attendance?from={yesterday}&to={today}&employee=e-1");
    let team_export = format!("/admin/v1/attendance?from={yesterday}&to={today}&team=ops");
    let detail = format!("/admin/v1/punches/{}/3", mine.id);

    let measure = |ts: &TestServer| {
        let (one, _) = rows_read(ts, || ok(hr.get(&detail)));
        let (export_rows, rows) = rows_read(ts, || ok(hr.get(&export)));
        assert!(!rows["rows"].as_array().unwrap().is_empty(), "{rows}");
        let (team_rows, _) = rows_read(ts, || ok(hr.get(&team_export)));
        let (own, resp) = rows_read(ts, || mine.signed(ts.addr(), "GET", PATH_EXPORT, b""));
        assert_eq!(resp.status, 200);
        (one, export_rows, team_rows, own)
    };
    let alone = measure(&ts);
    assert_eq!(alone, (1, 10, 10, 10));
    // Another employee's 900 punches and approved make-up requests change
    // none of it.
    punches(&ts, &mut other, version, 900);
    make_ups(&ts, &mut other, version, 3);
    for r in ts.admin.requests(Some("pending")).unwrap() {
        ts.admin
            .decide_request(&r.event_id, true, "hr", "")
            .unwrap();
    }
    assert_eq!(measure(&ts), alone);
}

/// `n` make-up requests for a minute ago (past the monthly limit they are
/// stored as `refused`, still listed).
fn make_ups(ts: &TestServer, device: &mut Device, version: u64, n: usize) {
    use punch_model::ledger::event::ChainEvent;
    use punch_model::rules::makeup::MakeUpRequest;
    use punch_model::rules::punch_kind::PunchKind;
    let records = (0..n)
        .map(|_| {
            device.next_event(
                version,
                ChainEvent::MakeUpRequest(MakeUpRequest {
                    kind: PunchKind::ClockOut,
                    intended_time_ms: now_ms() - 60_000,
                    site_id: None,
                    reason: "forgot".into(),
                    attachments: Vec::new(),
                    refused_attempt: None,
                    fault: None,
                }),
            )
        })
        .collect();
    device.upload_ok(ts.addr(), records);
}

#[test]
fn the_request_queue_is_a_page_and_a_cursor_read_in_sql() {
    let ts = TestServer::start();
    let version = ts.publish();
    let mut mine = ts.enrolled_device("e-1");
    let mut other = ts.enrolled_device("e-2");
    make_ups(&ts, &mut mine, version, 45);
    make_ups(&ts, &mut other, version, 150);
    let hr = add_staff(&ts, "hr", Role::HrAdmin, None).sign_in(ts.addr());
    let mut seen = Vec::new();
    let mut path = "/admin/v1/requests?employee=e-1&limit=20".to_string();
    loop {
        let (read, page) = rows_read(&ts, || ok(hr.get(&path)));
        assert!(read <= 21, "a page of 20 read {read} event rows");
        seen.extend(items(&page).iter().map(|r| r["seq"].as_u64().unwrap()));
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!("/admin/v1/requests?employee=e-1&limit=20&cursor={cursor}")
            }
            None => break,
        }
    }
    // Every request of e-1 once, oldest first (seq 1 is nothing: enrolment
    // leaves no event; the device's chain starts at 1).
    assert_eq!(seen, (1..=45).collect::<Vec<u64>>());
    let pending = ok(hr.get("/admin/v1/requests?status=pending&employee=e-2"));
    assert_eq!(items(&pending).len(), 3, "the monthly limit: {pending}");
}

#[test]
fn chain_breaks_are_a_page_of_devices_and_a_cursor() {
    let ts = TestServer::start();
    let version = ts.publish();
    let mut ids = Vec::new();
    for employee in ["e-1", "e-2", "e-3"] {
        let device = ts.enrolled_device(employee);
        // A record that does not link: refused, kept as evidence.
        let record = device.record(device.head_seq + 1, &"ab".repeat(32), version);
        let resp = device.upload_ok(ts.addr(), vec![device.sign(&record)]);
        assert_eq!(common::outcomes(&resp)[0].1, "rejected");
        ids.push(device.id.clone());
    }
    ids.sort();
    let hr = add_staff(&ts, "hr", Role::HrAdmin, None).sign_in(ts.addr());
    let first = ok(hr.get("/admin/v1/chain-breaks?limit=2"));
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = ok(hr.get(&format!("/admin/v1/chain-breaks?limit=2&cursor={cursor}")));
    assert_eq!(second["next_cursor"], Value::Null);
    let listed: Vec<&str> = items(&first)
        .iter()
        .chain(items(&second))
        .map(|b| b["device_id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ids.iter().map(String::as_str).collect::<Vec<_>>());
    // Without the refused bytes: what is listed is what a person reads.
    assert!(items(&first)[0]["refused"][0].get("record").is_none());
    assert_eq!(items(&first)[0]["refused"][0]["seq"], 1);
}

#[test]
fn employees_and_devices_are_pages_and_cursors_read_in_sql() {
    let ts = TestServer::start();
    ts.publish();
    let mut devices = Vec::new();
    for employee in ["e-1", "e-2", "e-3"] {
        devices.push(ts.enrolled_device(employee).id);
        ts.admin.set_team(employee, Some("ops")).unwrap();
    }
    ts.admin.add_employee("e-4", "No device").unwrap();
    devices.sort();
    let hr = add_staff(&ts, "hr", Role::HrAdmin, None).sign_in(ts.addr());
    let walk = |path: &str, key: &str| {
        let mut seen = Vec::new();
        let mut next = format!("{path}?limit=2");
        loop {
            let page = ok(hr.get(&next));
            assert!(items(&page).len() <= 2, "{page}");
            seen.extend(
                items(&page)
                    .iter()
                    .map(|i| i[key].as_str().unwrap().to_string()),
            );
            match page["next_cursor"].as_str() {
                Some(cursor) => next = format!("{path}?limit=2&cursor={cursor}"),
                None => return seen,
            }
        }
    };
    assert_eq!(
        walk("/admin/v1/employees", "employee_id"),
        ["e-1", "e-2", "e-3", "e-4"]
    );
    assert_eq!(walk("/admin/v1/devices", "device_id"), devices);
    let ops = ok(hr.get("/admin/v1/employees?team=ops"));
    assert_eq!(items(&ops).len(), 3, "{ops}");
}

#[test]
fn key_rotations_waiting_for_hr_are_a_page_and_a_cursor_read_in_sql() {
    use punch_model::ledger::event::ChainEvent;
    use punch_model::ledger::key_rotation::{KeyRotation, RotationReason, key_fingerprint};
    use punch_model::ledger::signing::{Signer as _, SoftwareSigner};
    use punch_model::rules::assurance::{AssuranceLevel, BelowMinimum};
    let ts = TestServer::start();
    // The employer wants hardware keys: a software key's rotation waits for HR.
    let mut strict = ts.admin.settings().unwrap();
    strict.min_assurance = AssuranceLevel::HardwareTee;
    strict.below_min_assurance = BelowMinimum::Review;
    ts.admin.set_settings(strict).unwrap();
    let version = ts.publish();
    let mut noise = ts.enrolled_device("e-noise");
    make_ups(&ts, &mut noise, version, 60);
    let mut waiting = Vec::new();
    for i in 0..7 {
        let mut device = ts.enrolled_device(&format!("e-{i}"));
        let (new_key, _) = SoftwareSigner::generate().unwrap();
        let event = device.next_event(
            version,
            ChainEvent::KeyRotation(KeyRotation {
                punch_key: new_key.public_key_spki().unwrap(),
                replaces: key_fingerprint(&device.spki),
                reason: RotationReason::Lost,
                attestation: None,
            }),
        );
        let resp = device.upload_ok(ts.addr(), vec![event]);
        assert_eq!(resp.key_rotation_pending, Some(device.head_seq));
        waiting.push(device.id.clone());
    }
    let hr = add_staff(&ts, "hr", Role::HrAdmin, None).sign_in(ts.addr());
    let mut seen = Vec::new();
    let mut path = "/admin/v1/key-rotations?limit=3".to_string();
    loop {
        let (read, page) = rows_read(&ts, || ok(hr.get(&path)));
        assert!(read <= 4, "a page of 3 read {read} event rows");
        seen.extend(
            items(&page)
                .iter()
                .map(|r| r["device_id"].as_str().unwrap().to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/admin/v1/key-rotations?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    // Each waiting rotation once, oldest first; no request among them.
    assert_eq!(seen, waiting);
}
