//! The server judges a kiosk's punches per employee: two employees on one
//! shift clock in and out interleaved at one kiosk, which judged each
//! against that employee's own open shift (as the app does). The server's
//! own reading agrees (no mismatch flag), stores both as on time, and the
//! export gives each their day.
//!
//! Shift Mon–Fri 09:00–18:00 Asia/Shanghai, 5 minutes' grace; Monday
//! 2 November 2026: Li in 08:55, Wang in 08:58, Li out 18:00, Wang out 18:04.

use crate::common;

use common::TestServer;
use common::staff::{add_staff, ok};
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use punch_model::ledger::record::PunchKind;
use punch_model::ledger::review::ReviewFlag;
use punch_model::rules::policy::Settings;
use punch_model::rules::shift::{self, Attendance, OpenShift, PreparedShift, Shift};
use punch_server::Role;
use punch_server::Schedule;
use std::collections::HashMap;
use std::time::Duration;

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

#[test]
fn a_kiosks_punches_are_judged_per_employee() {
    let ts = TestServer::start();
    let shift: Shift = serde_json::from_value(serde_json::json!({
        "id": "day", "days": ["mon", "tue", "wed", "thu", "fri"],
        "start": "09:00", "end": "18:00", "grace_late_min": 5, "grace_early_min": 5
    }))
    .unwrap();
    ts.admin
        .set_schedule(Schedule {
            time_zone: Some(ZONE.into()),
            shifts: vec![shift.clone()],
            ..Schedule::default()
        })
        .unwrap();
    ts.admin
        .set_settings(Settings {
            pin: Some(punch_model::pin::PinSettings {
                pbkdf2_iterations: 100_000,
                ..Default::default()
            }),
            ..Default::default()
        })
        .unwrap();
    let version = ts.publish();
    for (id, name, pin) in [("li", "李丽", "4827"), ("wang", "王伟", "5930")] {
        ts.admin.add_employee(id, name).unwrap();
        ts.admin.set_kiosk_pin("hq", id, pin).unwrap();
    }
    let code = ts
        .admin
        .kiosk_enrollment_code("hq", Duration::from_secs(600))
        .unwrap();
    let mut kiosk = common::Device::new();
    let resp = kiosk.enroll(ts.addr(), &code);
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    kiosk.employee_id = "kiosk:hq".into();

    // The kiosk judges each employee against their own open shift.
    let prepared = [PreparedShift::new(&shift, Some(ZONE)).unwrap()];
    let mut open: HashMap<&str, OpenShift> = HashMap::new();
    let day = [
        ("li", "2026-11-02T08:55", PunchKind::ClockIn),
        ("wang", "2026-11-02T08:58", PunchKind::ClockIn),
        ("li", "2026-11-02T18:00", PunchKind::ClockOut),
        ("wang", "2026-11-02T18:04", PunchKind::ClockOut),
    ];
    let mut ups = Vec::new();
    for (employee, local, kind) in day {
        let t = at(local);
        let attendance = shift::judge(&prepared, Some("hq"), kind, t, open.get(employee));
        match shift::open_after(kind, attendance.as_ref()) {
            Some(Some(o)) => {
                open.insert(employee, o);
            }
            Some(None) => {
                open.remove(employee);
            }
            None => {}
        }
        ups.push(kiosk.next(version, |r| {
            r.employee_id = employee.into();
            r.kind = kind;
            r.wall_time_ms = t;
            r.evaluation.attendance = attendance;
        }));
    }
    let resp = kiosk.upload_ok(ts.addr(), ups);
    assert_eq!(resp.head_seq, 4, "{resp:?}");

    let stored = ts.admin.punches().unwrap();
    let judged: Vec<(&str, Option<&str>)> = stored
        .iter()
        .map(|p| {
            (
                p.employee_id.as_str(),
                p.attendance.as_ref().map(Attendance::code),
            )
        })
        .collect();
    assert_eq!(
        judged,
        [
            ("li", Some("on_time")),
            ("wang", Some("on_time")),
            ("li", Some("on_time")),
            ("wang", Some("on_time")),
        ]
    );
    for p in &stored {
        assert!(
            !p.review_flags
                .iter()
                .any(|f| matches!(f, ReviewFlag::AttendanceMismatch { .. })),
            "the kiosk and the server disagree on {p:?}"
        );
    }

    let hr = add_staff(&ts, "hr", Role::HrAdmin, None).sign_in(ts.addr());
    let rows = ok(hr.get("/admin/v1/attendance?from=2026-11-02&to=2026-11-02"))["rows"].clone();
    let days: Vec<_> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["employee_id"].as_str().unwrap().to_string(),
                r["worked_min"].as_i64().unwrap(),
                r["late_min"].as_i64().unwrap(),
                r["early_min"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        days,
        [
            ("li".to_string(), 9 * 60 + 5, 0, 0),
            ("wang".to_string(), 9 * 60 + 6, 0, 0),
        ],
        "{rows}"
    );
}
