//! Shift rules judged offline at punch time, through the engine: late,
//! early leave, a forgotten clock-out, a restart, a phone in another zone.

use crate::common;

use std::sync::Arc;

use common::*;
use punch_core::{ClockReading, EngineOptions, PunchEngine, PunchKind, test_support::ManualClock};
use punch_model::rules::shift::Attendance;

/// 2026-03-02 09:00 in Shanghai (a Monday), UTC ms.
const MON_0900_SHANGHAI: i64 = 1_772_413_200_000;
const MINUTE: i64 = 60_000;

fn policy_with_shift() -> String {
    let mut p: serde_json::Value = serde_json::from_str(&policy_json(1, None)).unwrap();
    p["time_zone"] = "Asia/Shanghai".into();
    p["shifts"] = serde_json::json!([{
        "id": "day", "days": ["mon", "tue", "wed", "thu", "fri"],
        "start": "09:00", "end": "18:00", "grace_late_min": 5, "grace_early_min": 5
    }]);
    p.to_string()
}

/// A phone set to New York time (UTC-5): the shift is judged in Shanghai's zone anyway.
fn engine(dir: &tempfile::TempDir, clock: &Arc<ManualClock>) -> PunchEngine {
    let engine = PunchEngine::open_with(
        dir.path().join("d.db"),
        EngineOptions {
            clock: clock.clone(),
            ..Default::default()
        },
    )
    .unwrap();
    engine.set_employee("emp-1").unwrap();
    engine
        .install_policy_json(policy_with_shift().as_bytes(), None)
        .unwrap();
    engine
}

fn at_hq(clock: &ManualClock) -> punch_core::Evidence {
    use punch_core::Clock;
    gps(HQ, 10.0, clock.now().wall_time_ms)
}

fn set(clock: &ManualClock, ms: i64) {
    clock.set_wall_ms(ms);
}

#[test]
fn punches_are_judged_against_the_shift_offline_and_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(ClockReading {
        wall_time_ms: MON_0900_SHANGHAI,
        utc_offset_min: -300,
        monotonic_ms: 1_000,
        boot_id: "b".into(),
    }));
    let engine = engine(&dir, &clock);
    // Monday: 12 minutes late.
    set(&clock, MON_0900_SHANGHAI + 12 * MINUTE);
    let preview = engine.evaluate(&at_hq(&clock)).unwrap();
    assert_eq!(preview.attendance.as_ref().map(|a| a.code()), Some("late"));
    let r = engine.punch(PunchKind::ClockIn, &at_hq(&clock)).unwrap();
    assert_eq!(
        r.evaluation.attendance,
        Some(Attendance::Late {
            shift_id: "day".into(),
            start_ms: MON_0900_SHANGHAI,
            minutes: 12
        })
    );
    // Clocking in twice is told, not recorded as a clock-out.
    let again = engine
        .evaluate_kind(PunchKind::ClockIn, &at_hq(&clock))
        .unwrap();
    assert_eq!(
        again.attendance.map(|a| a.code()),
        Some("already_clocked_in")
    );
    // The natural next punch while clocked in is a clock-out: leaving at 17:00 is early.
    set(&clock, MON_0900_SHANGHAI + 8 * 60 * MINUTE);
    let preview = engine.evaluate(&at_hq(&clock)).unwrap();
    assert_eq!(
        preview.attendance,
        Some(Attendance::EarlyLeave {
            shift_id: "day".into(),
            start_ms: MON_0900_SHANGHAI,
            minutes: 60
        })
    );
    // The employee forgets to clock out. Tuesday 08:58: the clock-in is
    // Tuesday's, on time — never taken for Monday's clock-out.
    drop(engine);
    let engine = self::engine(&dir, &clock); // a restart reads the state from the records
    set(&clock, MON_0900_SHANGHAI + 24 * 60 * MINUTE - 2 * MINUTE);
    let tuesday = engine.punch(PunchKind::ClockIn, &at_hq(&clock)).unwrap();
    assert_eq!(
        tuesday.evaluation.attendance,
        Some(Attendance::OnTime {
            shift_id: "day".into(),
            start_ms: MON_0900_SHANGHAI + 24 * 60 * MINUTE
        })
    );
    // Saturday: no shift.
    set(&clock, MON_0900_SHANGHAI + 5 * 24 * 60 * MINUTE);
    let saturday = engine
        .evaluate_kind(PunchKind::ClockIn, &at_hq(&clock))
        .unwrap();
    assert_eq!(saturday.attendance, Some(Attendance::NoShift));
    // The judgement is signed in the record.
    let stored =
        punch_core::PunchRecord::from_bytes(&engine.punches(0, 1).unwrap()[0].record).unwrap();
    assert_eq!(stored.evaluation.attendance.map(|a| a.code()), Some("late"));
}
