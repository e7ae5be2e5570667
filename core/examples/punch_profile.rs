//! Profiling aid: 2,000 punches on one engine (`perf record` this).
use std::sync::Arc;

use punch_core::{
    ClockReading, EngineOptions, Evidence, GpsFix, PunchEngine, PunchKind,
    test_support::ManualClock,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let clock = Arc::new(ManualClock::new(ClockReading {
        wall_time_ms: 1_790_000_000_000,
        utc_offset_min: 0,
        monotonic_ms: 1_000,
        boot_id: "p".into(),
    }));
    let engine = PunchEngine::open_with(
        dir.path().join("p.db"),
        EngineOptions {
            clock: clock.clone(),
            ..Default::default()
        },
    )?;
    engine.set_employee("e")?;
    engine.install_policy_json(include_bytes!("../../cli/src/sample_policy.json"), None)?;
    for i in 0..2_000i64 {
        clock.advance_ms(1_000);
        let evidence = Evidence {
            gps: Some(GpsFix {
                lat: 52.52,
                lon: 13.405,
                accuracy_m: 8.0,
                fix_time_ms: 1_790_000_000_000 + (i + 1) * 1000,
                provider: "gps".into(),
                is_mock: false,
                speed_mps: None,
                elapsed_realtime_ms: None,
                reduced_accuracy: false,
                external_receiver: false,
            }),
            ..Evidence::default()
        };
        engine.punch(PunchKind::ClockIn, &evidence)?;
    }
    Ok(())
}
