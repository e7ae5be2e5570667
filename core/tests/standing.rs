//! "Where do I stand" and the history screen's newest-first pages, through
//! the engine on a real database file.

use crate::common;

use std::sync::Arc;

use common::*;
use punch_core::{ClockReading, EngineOptions, PunchEngine, PunchKind, test_support::ManualClock};

/// 2026-03-02 07:00 in Shanghai (a Monday), UTC ms: before the day shift's window.
const MON_0700_SHANGHAI: i64 = 1_772_406_000_000;
const HOUR: i64 = 3_600_000;

fn engine(dir: &tempfile::TempDir, clock: &Arc<ManualClock>) -> PunchEngine {
    let mut p: serde_json::Value = serde_json::from_str(&policy_json(1, None)).unwrap();
    p["time_zone"] = "Asia/Shanghai".into();
    p["shifts"] = serde_json::json!([{
        "id": "day", "name": "Day", "days": ["mon", "tue", "wed", "thu", "fri"],
        "start": "09:00", "end": "18:00"
    }]);
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
        .install_policy_json(p.to_string().as_bytes(), None)
        .unwrap();
    engine
}

fn punch(engine: &PunchEngine, clock: &ManualClock, kind: PunchKind) -> u64 {
    use punch_core::Clock;
    let evidence = gps(HQ, 10.0, clock.now().wall_time_ms);
    engine.punch(kind, &evidence).expect("punch").seq
}

#[test]
fn standing_follows_clock_in_break_and_clock_out() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(ClockReading {
        wall_time_ms: MON_0700_SHANGHAI,
        utc_offset_min: 480,
        monotonic_ms: 1_000,
        boot_id: "b".into(),
    }));
    let engine = engine(&dir, &clock);

    let s = engine.standing().unwrap();
    assert!(!s.clocked_in && !s.on_break);
    assert_eq!((s.since_ms, s.last_punch.as_ref()), (None, None));
    assert_eq!(s.next_kind, PunchKind::ClockIn);
    let shift = s.shift.expect("today's shift is next");
    assert_eq!(
        (shift.shift_id.as_str(), shift.name.as_str()),
        ("day", "Day")
    );
    assert_eq!(shift.start_ms, MON_0700_SHANGHAI + 2 * HOUR);
    assert_eq!(s.sync.pending, 0);

    clock.set_wall_ms(MON_0700_SHANGHAI + 2 * HOUR);
    let clock_in_at = MON_0700_SHANGHAI + 2 * HOUR;
    punch(&engine, &clock, PunchKind::ClockIn);
    clock.set_wall_ms(MON_0700_SHANGHAI + 5 * HOUR);
    punch(&engine, &clock, PunchKind::BreakStart);
    let s = engine.standing().unwrap();
    assert!(s.clocked_in && s.on_break);
    assert_eq!(s.since_ms, Some(clock_in_at));
    assert_eq!(s.next_kind, PunchKind::BreakEnd);
    assert_eq!(s.last_punch.as_ref().map(|p| p.seq), Some(2));
    assert_eq!(s.shift.as_ref().map(|o| o.start_ms), Some(clock_in_at));
    assert_eq!(s.sync.pending, 2);

    punch(&engine, &clock, PunchKind::BreakEnd);
    let s = engine.standing().unwrap();
    assert!(s.clocked_in && !s.on_break);
    assert_eq!(s.since_ms, Some(clock_in_at));
    assert_eq!(s.next_kind, PunchKind::ClockOut);

    clock.set_wall_ms(MON_0700_SHANGHAI + 11 * HOUR);
    punch(&engine, &clock, PunchKind::ClockOut);
    let s = engine.standing().unwrap();
    assert!(!s.clocked_in);
    assert_eq!(s.since_ms, None);
    assert_eq!(s.next_kind, PunchKind::ClockIn);
    assert_eq!(s.sync.pending, 4);
    // Past Monday's window: Tuesday's is next.
    clock.set_wall_ms(MON_0700_SHANGHAI + 16 * HOUR);
    let next = engine.standing().unwrap().shift.expect("tuesday");
    assert_eq!(next.start_ms, MON_0700_SHANGHAI + 26 * HOUR);
}

#[test]
fn history_pages_newest_first_to_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = engine_at(&dir.path().join("d.db"), clock.clone());
    for i in 0..7 {
        let kind = if i % 2 == 0 {
            PunchKind::ClockIn
        } else {
            PunchKind::ClockOut
        };
        punch(&engine, &clock, kind);
    }
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = engine.punches_newest_first(before, 3).unwrap();
        assert!(page.iter().all(|p| p.verified));
        seen.extend(page.iter().map(|p| p.seq));
        if page.len() < 3 {
            break;
        }
        before = page.last().map(|p| p.seq);
    }
    assert_eq!(seen, vec![7, 6, 5, 4, 3, 2, 1]);
}
