//! One employee, two phones, under `settings.max_devices` 2, through the
//! real phone engine and server: both enroll with their own codes, a third
//! waits for HR's approval; a clock-in on phone A and the clock-out on
//! phone B are one shift by the server's reading (per employee across
//! devices), while phone B's own verdict — it never saw A's clock-in — stays
//! advisory and is not flagged as a mismatch.

use std::sync::Arc;
use std::time::Duration;

use punch_core::{
    ClockReading, PunchEngine, PunchError, PunchKind, SyncError, test_support::ManualClock,
};
use punch_model::ledger::review::ReviewFlag;
use punch_model::rules::device_limit::MaxDevices;
use punch_model::rules::policy::Settings;
use punch_model::rules::shift::Attendance;
use punch_model::wire::ErrorCode;
use punch_tests::fault_proxy::FaultProxy;
use punch_tests::world::{
    EMPLOYEE, device, employer, inside_hq, now_ms, schedule_current_shift, server_db, start_server,
};

#[test]
fn a_shift_clocked_in_on_one_phone_and_out_on_the_other_is_one_shift() {
    let dir = tempfile::tempdir().unwrap();
    let db = server_db(dir.path());
    let admin = employer(&db);
    schedule_current_shift(&admin);
    admin
        .set_settings(Settings {
            max_clock_skew_s: 120.0,
            max_devices: MaxDevices::new(2).unwrap(),
            ..Default::default()
        })
        .unwrap();
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
    let code = || {
        admin
            .create_enrollment_code(EMPLOYEE, Duration::from_secs(600))
            .unwrap()
    };
    let a = device(&dir.path().join("a.db"), &proxy, &admin, &clock, 100);
    let b = device(&dir.path().join("b.db"), &proxy, &admin, &clock, 100);
    let c = device(&dir.path().join("c.db"), &proxy, &admin, &clock, 100);
    assert_eq!(a.enroll(&code()).unwrap(), EMPLOYEE);
    assert_eq!(b.enroll(&code()).unwrap(), EMPLOYEE);
    match c.enroll(&code()) {
        Err(PunchError::Sync(SyncError::Refused { code, .. })) => {
            assert_eq!(code, Some(ErrorCode::DeviceAlreadyBound))
        }
        other => panic!("a third device enrolled without approval: {other:?}"),
    }
    admin
        .approve_extra_device(EMPLOYEE, "a tablet for the depot")
        .unwrap();
    assert_eq!(c.enroll(&code()).unwrap(), EMPLOYEE);
    for phone in [&a, &b] {
        assert!(phone.sync().unwrap().error.is_none());
    }

    clock.advance_ms(60_000);
    let clock_in = a.punch(PunchKind::ClockIn, &inside_hq(&a)).unwrap();
    clock.advance_ms(60_000);
    let clock_out = b.punch(PunchKind::ClockOut, &inside_hq(&b)).unwrap();
    let code_of = |a: &Option<Attendance>| a.as_ref().map(Attendance::code);
    assert_eq!(code_of(&clock_in.evaluation.attendance), Some("on_time"));
    assert_eq!(
        code_of(&clock_out.evaluation.attendance),
        Some("not_clocked_in"),
        "phone B cannot see A's clock-in"
    );
    for phone in [&a, &b] {
        let report = phone.sync().unwrap();
        assert!(
            report.error.is_none() && report.rejected.is_empty(),
            "{report:?}"
        );
    }
    let stored = admin.punches().unwrap();
    let on_server = |engine: &PunchEngine, seq: u64| {
        let id = engine.device().unwrap().device_id;
        stored
            .iter()
            .find(|p| p.device_id == id && p.seq == seq)
            .cloned()
            .expect("stored")
    };
    let (p_in, p_out) = (on_server(&a, clock_in.seq), on_server(&b, clock_out.seq));
    assert_eq!(code_of(&p_in.attendance), Some("on_time"));
    assert_eq!(
        code_of(&p_out.attendance),
        Some("early_leave"),
        "the server reads both phones as one shift"
    );
    assert_eq!(
        p_out.attendance.as_ref().and_then(Attendance::occurrence),
        p_in.attendance.as_ref().and_then(Attendance::occurrence)
    );
    for p in [&p_in, &p_out] {
        assert!(
            !p.review_flags
                .iter()
                .any(|f| matches!(f, ReviewFlag::AttendanceMismatch { .. })),
            "advisory, not a mismatch: {p:?}"
        );
    }
    server.stop();
}
