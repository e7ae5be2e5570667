//! Attendance on a kiosk is judged per employee, on the kiosk and on the
//! server: two employees on one shift clock in and out interleaved at one
//! kiosk; neither is "already clocked in" or "not clocked in" because of the
//! other, both sides agree (no mismatch flag), and the server's stored
//! judgement (what payroll reads) says the same.

use std::sync::Arc;
use std::time::Duration;

use punch_core::{ClockReading, PunchKind, test_support::ManualClock};
use punch_model::ledger::review::ReviewFlag;
use punch_model::rules::policy::Settings;
use punch_model::rules::shift::Attendance;
use punch_tests::fault_proxy::FaultProxy;
use punch_tests::world::{
    EMPLOYEE, device, employer, inside_hq, now_ms, schedule_current_shift, server_db, start_server,
};

const OTHER: &str = "emp-8";

#[test]
fn two_employees_clock_in_and_out_interleaved_at_one_kiosk() {
    let dir = tempfile::tempdir().unwrap();
    let db = server_db(dir.path());
    let admin = employer(&db);
    admin.add_employee(OTHER, "Zhang Min").unwrap();
    schedule_current_shift(&admin);
    admin
        .set_settings(Settings {
            max_clock_skew_s: 120.0,
            pin: Some(punch_model::pin::PinSettings {
                pbkdf2_iterations: 100_000,
                ..Default::default()
            }),
            ..Default::default()
        })
        .unwrap();
    admin.set_kiosk_pin("hq", EMPLOYEE, "4827").unwrap();
    admin.set_kiosk_pin("hq", OTHER, "5930").unwrap();
    admin
        .publish_policy(Duration::from_secs(30 * 86_400))
        .unwrap();
    let server = start_server(&db);
    let proxy = FaultProxy::start(server.addr());
    let clock = Arc::new(ManualClock::new(ClockReading {
        wall_time_ms: now_ms(),
        utc_offset_min: 480,
        monotonic_ms: 10_000_000,
        boot_id: "boot-1".into(),
    }));
    let kiosk = device(&dir.path().join("kiosk.db"), &proxy, &admin, &clock, 100);
    let code = admin
        .kiosk_enrollment_code("hq", Duration::from_secs(600))
        .unwrap();
    assert_eq!(kiosk.enroll(&code).unwrap(), "kiosk:hq");
    assert!(kiosk.sync().unwrap().error.is_none());

    let punch = |employee: &str, pin: &str, kind: PunchKind| {
        clock.advance_ms(60_000);
        let receipt = kiosk
            .kiosk_punch(employee, pin, kind, &inside_hq(&kiosk))
            .unwrap();
        receipt
            .evaluation
            .attendance
            .expect("the policy has shifts")
    };
    let judged = [
        punch(EMPLOYEE, "4827", PunchKind::ClockIn),
        punch(OTHER, "5930", PunchKind::ClockIn),
        punch(EMPLOYEE, "4827", PunchKind::ClockOut),
        punch(OTHER, "5930", PunchKind::ClockOut),
    ];
    let codes: Vec<&str> = judged.iter().map(Attendance::code).collect();
    assert_eq!(
        codes,
        ["on_time", "on_time", "early_leave", "early_leave"],
        "on the kiosk: {judged:?}"
    );
    // Both clock-outs close their own employee's occurrence.
    assert_eq!(judged[2].occurrence(), judged[0].occurrence());
    assert_eq!(judged[3].occurrence(), judged[1].occurrence());

    let report = kiosk.sync().unwrap();
    assert!(report.error.is_none(), "{report:?}");
    assert!(report.rejected.is_empty(), "{report:?}");
    let kiosk_id = kiosk.device().unwrap().device_id;
    let stored: Vec<_> = admin
        .punches()
        .unwrap()
        .into_iter()
        .filter(|p| p.device_id == kiosk_id)
        .collect();
    let judged_there: Vec<(&str, Option<&str>)> = stored
        .iter()
        .map(|p| {
            (
                p.employee_id.as_str(),
                p.attendance.as_ref().map(Attendance::code),
            )
        })
        .collect();
    assert_eq!(
        judged_there,
        [
            (EMPLOYEE, Some("on_time")),
            (OTHER, Some("on_time")),
            (EMPLOYEE, Some("early_leave")),
            (OTHER, Some("early_leave")),
        ],
        "on the server"
    );
    for p in &stored {
        assert!(
            !p.review_flags
                .iter()
                .any(|f| matches!(f, ReviewFlag::AttendanceMismatch { .. })),
            "the kiosk and the server disagree on {p:?}"
        );
    }
    server.stop();
}
