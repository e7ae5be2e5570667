//! The cost of sealing record payloads at rest (AES-256-GCM): a punch commit
//! with and without encryption, interleaved in the same run on the same
//! disk. One JSON line: `{"bench", "value", "unit", "baseline", "ratio"}`.
//! Run: `cargo bench -p punch-core --bench privacy_bench`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use punch_core::{
    ClockReading, EngineOptions, Evidence, GpsFix, PunchEngine, PunchKind, SoftwareKeyWrapper,
    test_support::ManualClock,
};

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64()
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn engine(
    dir: &std::path::Path,
    name: &str,
    clock: &Arc<ManualClock>,
    sealed: bool,
) -> PunchEngine {
    let engine = PunchEngine::open_with(
        dir.join(name),
        EngineOptions {
            clock: clock.clone(),
            key_wrapper: sealed.then(|| Arc::new(SoftwareKeyWrapper) as _),
            ..Default::default()
        },
    )
    .expect("engine");
    engine.set_employee("emp-bench").expect("employee");
    let policy = include_str!("../../cli/src/sample_policy.json");
    engine
        .install_policy_json(policy.as_bytes(), None)
        .expect("policy");
    engine
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("benchmarks run with `cargo bench -p punch-core --bench privacy_bench`");
        return;
    }
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
    let clock = Arc::new(ManualClock::new(ClockReading {
        wall_time_ms: 1_790_000_000_000,
        utc_offset_min: 0,
        monotonic_ms: 1_000,
        boot_id: "bench".into(),
    }));
    let clear = engine(dir.path(), "clear.db", &clock, false);
    let sealed = engine(dir.path(), "sealed.db", &clock, true);
    let evidence = |t: i64| Evidence {
        gps: Some(GpsFix {
            lat: 52.52,
            lon: 13.405,
            accuracy_m: 8.0,
            fix_time_ms: t,
            provider: "gps".into(),
            is_mock: false,
            speed_mps: None,
            elapsed_realtime_ms: None,
            reduced_accuracy: false,
            external_receiver: false,
        }),
        ..Evidence::default()
    };
    let n = 300;
    let (mut clear_t, mut sealed_t) = (Vec::with_capacity(n), Vec::with_capacity(n));
    // Interleaved so disk hiccups hit both sides alike.
    for i in 0..n {
        clock.advance_ms(1_000);
        let e = evidence(1_790_000_000_000 + i as i64 * 1000);
        // Alternate which goes first: the second commit of a pair may find
        // the disk's queue warmer or busier.
        let order = if i % 2 == 0 {
            [(&clear, &mut clear_t), (&sealed, &mut sealed_t)]
        } else {
            [(&sealed, &mut sealed_t), (&clear, &mut clear_t)]
        };
        for (engine, times) in order {
            let t = Instant::now();
            engine.punch(PunchKind::ClockIn, &e).expect("punch");
            times.push(t.elapsed());
        }
    }
    let (s, c) = (median(sealed_t) * 1e3, median(clear_t) * 1e3);
    println!(
        "{}",
        serde_json::json!({ "bench": "punch_commit_sealed_vs_clear", "value": round(s),
                            "unit": "ms/punch", "baseline": round(c), "ratio": round(s / c) })
    );
}
