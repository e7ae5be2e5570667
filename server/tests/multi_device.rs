//! More than one device per employee, through the real server: the
//! published policy's `settings.max_devices` bounds how many are bound at
//! once; one more takes HR's single-use approval (admin API, audited,
//! listed); and attendance is the server's reading per employee across
//! devices — a shift begun on one phone and ended on the other is one shift
//! in the export, whichever phone uploads first, and each phone's own
//! verdict stays advisory (no mismatch flag for what it could not see).

use crate::common;

use common::staff::{add_staff, ok};
use common::{Device, TestServer};
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use punch_model::ledger::record::PunchKind;
use punch_model::ledger::review::ReviewFlag;
use punch_model::rules::device_limit::MaxDevices;
use punch_model::rules::makeup::MakeUpRules;
use punch_model::rules::shift::{Attendance, Shift};
use punch_model::wire::UploadRecord;
use punch_server::{Role, Schedule};
use serde_json::json;

const ZONE: &str = "Asia/Shanghai";

fn at(local: &str) -> i64 {
    let dt: DateTime = local.parse().unwrap();
    TimeZone::get(ZONE)
        .unwrap()
        .to_ambiguous_timestamp(dt)
        .compatible()
        .unwrap()
        .as_millisecond()
}

fn allow(ts: &TestServer, n: u32) -> u64 {
    let mut settings = ts.admin.settings().unwrap();
    settings.max_devices = MaxDevices::new(n).unwrap();
    ts.admin.set_settings(settings).unwrap();
    ts.publish()
}

fn enroll(ts: &TestServer, employee: &str) -> (Device, common::Http) {
    let code = ts
        .admin
        .create_enrollment_code(employee, common::DAY)
        .unwrap();
    let mut device = Device::new();
    device.employee_id = employee.to_string();
    let resp = device.enroll(ts.addr(), &code);
    (device, resp)
}

#[test]
fn max_devices_one_refuses_a_second_device_without_approval() {
    let ts = TestServer::start();
    allow(&ts, 1);
    let first = ts.enrolled_device("mei");
    let (_, refused) = enroll(&ts, "mei");
    refused.assert_error(409, "device_already_bound");
    assert!(
        refused.json()["message"]
            .as_str()
            .unwrap_or_default()
            .contains("approve a rebind"),
        "{}",
        refused.json()
    );
    assert_eq!(first.time(ts.addr()).status, 200);
}

#[test]
fn two_devices_enroll_freely_and_a_third_takes_a_single_use_approval() {
    let ts = TestServer::start();
    ts.admin.add_employee("mei", "Mei").unwrap();
    ts.admin.set_team("mei", Some("ops")).unwrap();
    allow(&ts, 2);
    let (a, resp) = enroll(&ts, "mei");
    assert_eq!(resp.status, 200, "{}", resp.json());
    let (b, resp) = enroll(&ts, "mei");
    assert_eq!(
        resp.status,
        200,
        "the second is within max_devices: {}",
        resp.json()
    );
    let (_, refused) = enroll(&ts, "mei");
    refused.assert_error(409, "device_already_bound");
    assert!(
        refused.json()["message"]
            .as_str()
            .unwrap_or_default()
            .contains("max_devices 2"),
        "{}",
        refused.json()
    );

    let hr = add_staff(&ts, "hr", Role::HrAdmin, None).sign_in(ts.addr());
    let approved = ok(hr.post(
        "/admin/v1/employees/mei/extra-device",
        &json!({"reason": "depot tablet"}),
    ));
    assert_eq!(approved["max_devices"], 2, "{approved}");
    assert_eq!(approved["approvals"][0]["used_at_ms"], json!(null));
    let (c, resp) = enroll(&ts, "mei");
    assert_eq!(resp.status, 200, "approved: {}", resp.json());
    // All three keep working: one more is added, nothing is replaced.
    for d in [&a, &b, &c] {
        assert_eq!(d.time(ts.addr()).status, 200);
    }
    // The approval was used up by the third.
    let (_, fourth) = enroll(&ts, "mei");
    fourth.assert_error(409, "device_already_bound");
    let slots = ok(hr.get("/admin/v1/employees/mei/device-slots"));
    assert_eq!(slots["bound_devices"].as_array().map(Vec::len), Some(3));
    assert_eq!(slots["approvals"][0]["used_by_device"], json!(c.id));
    assert_eq!(slots["approvals"][0]["approved_by"], "hr");
    assert_eq!(slots["approvals"][0]["reason"], "depot tablet");
    // Audited, and the CLI's view says the same.
    let audit = ok(hr.get("/admin/v1/audit"));
    assert!(
        audit.to_string().contains("device.extra_approve"),
        "{audit}"
    );
    let cli = ts.admin.device_slots("mei").unwrap();
    assert_eq!(cli.approvals.len(), 1);
    assert_eq!(
        cli.approvals[0].used_by_device.as_deref(),
        Some(c.id.as_str())
    );

    // A manager of another team neither sees nor approves (approval is HR's).
    let mgr = add_staff(&ts, "mgr", Role::Manager, Some("field")).sign_in(ts.addr());
    mgr.get("/admin/v1/employees/mei/device-slots")
        .assert_error(403, "not_your_team");
    mgr.post(
        "/admin/v1/employees/mei/extra-device",
        &json!({"reason": "x"}),
    )
    .assert_error(403, "forbidden");
    // Unbinding frees slots: with two of three left the limit is still
    // reached; with one left the next enrolls without approval.
    ts.admin.unbind_device(&a.id).unwrap();
    let (_, resp) = enroll(&ts, "mei");
    resp.assert_error(409, "device_already_bound");
    ts.admin.unbind_device(&b.id).unwrap();
    let (_, resp) = enroll(&ts, "mei");
    assert_eq!(resp.status, 200, "{}", resp.json());
}

#[test]
fn enrollments_racing_for_the_last_slots_bind_no_more_than_max_devices() {
    let ts = TestServer::start();
    ts.admin.add_employee("mei", "Mei").unwrap();
    allow(&ts, 2);
    let codes: Vec<String> = (0..6)
        .map(|_| ts.admin.create_enrollment_code("mei", common::DAY).unwrap())
        .collect();
    let addr = ts.addr();
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let racers: Vec<_> = codes
            .iter()
            .map(|code| scope.spawn(move || Device::new().enroll(addr, code).status))
            .collect();
        racers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        2,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        4,
        "{statuses:?}"
    );
    assert_eq!(ts.admin.device_slots("mei").unwrap().bound_devices.len(), 2);
}

fn shift_schedule(ts: &TestServer) -> u64 {
    let shift: Shift = serde_json::from_value(json!({
        "id": "day", "days": ["mon", "tue", "wed", "thu", "fri"],
        "start": "09:00", "end": "18:00",
        "grace_late_min": 5, "grace_early_min": 5,
        "breaks": [{"start": "12:00", "end": "13:00"}]
    }))
    .unwrap();
    ts.admin
        .set_schedule(Schedule {
            time_zone: Some(ZONE.into()),
            shifts: vec![shift],
            make_up: MakeUpRules::default(),
        })
        .unwrap();
    allow(ts, 2)
}

/// The device's next record: a punch of `kind` at `local` (Shanghai), with
/// the attendance the device itself judged (`claim`).
fn punched(
    device: &mut Device,
    version: u64,
    kind: PunchKind,
    local: &str,
    claim: Option<Attendance>,
) -> UploadRecord {
    device.next(version, |r| {
        r.kind = kind;
        r.wall_time_ms = at(local);
        r.evaluation.attendance = claim;
    })
}

fn on_time(local: &str) -> Attendance {
    Attendance::OnTime {
        shift_id: "day".into(),
        start_ms: at(local),
    }
}

/// (device, seq) of the stored punches in time order, with the server's
/// reading and whether the device's own verdict was flagged as a mismatch.
fn readings(ts: &TestServer) -> Vec<(String, u64, Option<&'static str>, bool)> {
    let mut all = ts.admin.punches().unwrap();
    all.sort_by_key(|p| p.effective_time_ms());
    all.into_iter()
        .map(|p| {
            let mismatch = p
                .review_flags
                .iter()
                .any(|f| matches!(f, ReviewFlag::AttendanceMismatch { .. }));
            (p.device_id, p.seq, p.attendance.map(|a| a.code()), mismatch)
        })
        .collect()
}

#[test]
fn a_shift_begun_on_one_phone_and_ended_on_the_other_is_one_shift() {
    let ts = TestServer::start();
    let version = shift_schedule(&ts);
    ts.admin.add_employee("wei", "Wei").unwrap();
    let (mut a, resp) = enroll(&ts, "wei");
    assert_eq!(resp.status, 200);
    let (mut b, resp) = enroll(&ts, "wei");
    assert_eq!(resp.status, 200);
    // Monday 2 November 2026: in on phone A at 09:00, out on phone B at
    // 18:00. Each phone judged what it saw: B never saw A's clock-in.
    let clock_in = punched(
        &mut a,
        version,
        PunchKind::ClockIn,
        "2026-11-02T09:00",
        Some(on_time("2026-11-02T09:00")),
    );
    a.upload_ok(ts.addr(), vec![clock_in]);
    let clock_out = punched(
        &mut b,
        version,
        PunchKind::ClockOut,
        "2026-11-02T18:00",
        Some(Attendance::NotClockedIn {
            shift_id: "day".into(),
            start_ms: at("2026-11-02T09:00"),
        }),
    );
    b.upload_ok(ts.addr(), vec![clock_out]);
    // The server's reading is across both phones; B's own is advisory.
    assert_eq!(
        readings(&ts),
        vec![
            (a.id.clone(), 1, Some("on_time"), false),
            (b.id.clone(), 1, Some("on_time"), false),
        ]
    );
    // Tuesday: in on A; a second clock-in on B while A's is open.
    let tuesday_in = punched(
        &mut a,
        version,
        PunchKind::ClockIn,
        "2026-11-03T09:00",
        Some(on_time("2026-11-03T09:00")),
    );
    a.upload_ok(ts.addr(), vec![tuesday_in]);
    let again = punched(
        &mut b,
        version,
        PunchKind::ClockIn,
        "2026-11-03T09:30",
        Some(Attendance::Late {
            shift_id: "day".into(),
            start_ms: at("2026-11-03T09:00"),
            minutes: 30,
        }),
    );
    let out = punched(
        &mut b,
        version,
        PunchKind::ClockOut,
        "2026-11-03T18:00",
        Some(on_time("2026-11-03T09:00")),
    );
    b.upload_ok(ts.addr(), vec![again, out]);
    let stored = readings(&ts);
    assert_eq!(
        stored[3],
        (b.id.clone(), 2, Some("already_clocked_in"), false)
    );
    assert_eq!(stored[4], (b.id.clone(), 3, Some("on_time"), false));

    let hr = add_staff(&ts, "hr", Role::HrAdmin, None).sign_in(ts.addr());
    let rows =
        ok(hr.get("/admin/v1/attendance?from=2026-11-02&to=2026-11-03&employee=wei"))["rows"]
            .clone();
    let day = |i: usize, field: &str| rows[i][field].clone();
    assert_eq!(rows.as_array().map(Vec::len), Some(2), "{rows}");
    for i in 0..2 {
        assert_eq!(day(i, "first_in"), "09:00", "{rows}");
        assert_eq!(day(i, "last_out"), "18:00", "{rows}");
        assert_eq!(day(i, "worked_min"), 8 * 60, "one shift: {rows}");
        assert_eq!(day(i, "late_min"), 0, "the first clock-in counts: {rows}");
        let flags = day(i, "review_flags").to_string();
        assert!(
            !flags.contains("attendance_mismatch") && !flags.contains("no_clock_out"),
            "{rows}"
        );
    }
}

#[test]
fn a_phone_that_uploads_late_is_read_where_its_punches_happened() {
    let ts = TestServer::start();
    let version = shift_schedule(&ts);
    ts.admin.add_employee("wei", "Wei").unwrap();
    let (mut a, _) = enroll(&ts, "wei");
    let (mut b, _) = enroll(&ts, "wei");
    // Phone A (offline all day) clocked in at 09:00; phone B's early
    // clock-out at 17:00 arrives first.
    let clock_in = punched(
        &mut a,
        version,
        PunchKind::ClockIn,
        "2026-11-02T09:00",
        None,
    );
    let clock_out = punched(
        &mut b,
        version,
        PunchKind::ClockOut,
        "2026-11-02T17:00",
        None,
    );
    b.upload_ok(ts.addr(), vec![clock_out]);
    a.upload_ok(ts.addr(), vec![clock_in]);
    // The clock-in is read before the clock-out (time, not arrival), and
    // the export reads the day as one shift with the early leave.
    let hr = add_staff(&ts, "hr", Role::HrAdmin, None).sign_in(ts.addr());
    let rows =
        ok(hr.get("/admin/v1/attendance?from=2026-11-02&to=2026-11-02&employee=wei"))["rows"]
            .clone();
    assert_eq!(rows[0]["worked_min"], 7 * 60, "{rows}");
    assert_eq!(rows[0]["early_min"], 60, "{rows}");
    assert_eq!(rows[0]["late_min"], 0, "{rows}");

    // Tuesday: B's late clock-in at 09:30 arrives before A's at 09:00 (each
    // stored as a first clock-in); only the first counts, so nobody is late.
    let late_on_b = punched(
        &mut b,
        version,
        PunchKind::ClockIn,
        "2026-11-03T09:30",
        None,
    );
    let out_on_b = punched(
        &mut b,
        version,
        PunchKind::ClockOut,
        "2026-11-03T18:00",
        None,
    );
    b.upload_ok(ts.addr(), vec![late_on_b, out_on_b]);
    let on_time_on_a = punched(
        &mut a,
        version,
        PunchKind::ClockIn,
        "2026-11-03T09:00",
        None,
    );
    a.upload_ok(ts.addr(), vec![on_time_on_a]);
    let rows =
        ok(hr.get("/admin/v1/attendance?from=2026-11-03&to=2026-11-03&employee=wei"))["rows"]
            .clone();
    assert_eq!(rows[0]["late_min"], 0, "{rows}");
    assert_eq!(rows[0]["worked_min"], 8 * 60, "{rows}");
}

/// Erasure (GDPR/PIPL) takes the free text HR typed about an employee's
/// device approvals with the rest of their personal data; who approved
/// what and when stays, as the punch rows do.
#[test]
fn erasure_clears_the_reasons_hr_typed_for_device_approvals() {
    let ts = TestServer::start();
    ts.admin.add_employee("ann", "Ann").unwrap();
    ts.admin.add_employee("bob", "Bob").unwrap();
    let said = "second phone: her partner's, while hers is repaired";
    ts.admin.approve_extra_device("ann", said).unwrap();
    ts.admin
        .approve_extra_device("bob", "depot tablet")
        .unwrap();
    ts.admin.erase_employee("ann", common::now_ms()).unwrap();
    let ann = ts.admin.device_slots("ann").unwrap();
    assert_eq!(ann.approvals.len(), 1);
    assert_ne!(ann.approvals[0].reason, said);
    assert_eq!(ann.approvals[0].reason, "erased");
    assert!(!ann.approvals[0].approved_by.is_empty());
    // Nobody else's is touched.
    let bob = ts.admin.device_slots("bob").unwrap();
    assert_eq!(bob.approvals[0].reason, "depot tablet");
}
