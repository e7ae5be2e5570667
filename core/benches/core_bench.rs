//! punch-core benchmarks. One JSON line per measurement:
//! `{"bench", "value", "unit", "baseline", "ratio"}`, each baseline measured
//! in the same run on the same machine and disk. Run: `cargo bench -p punch-core`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use punch_core::{
    ClockReading, EngineOptions, Evidence, GpsFix, PunchEngine, PunchKind, Signer, SoftwareSigner,
    test_support::ManualClock,
};
use punch_model::geofence::{LatLon, PreparedShape, Shape, SiteIndex};

fn emit(bench: &str, value: f64, unit: &str, baseline: f64, ratio: f64) {
    println!(
        "{}",
        serde_json::json!({ "bench": bench, "value": round(value), "unit": unit,
                            "baseline": round(baseline), "ratio": round(ratio) })
    );
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64()
}

fn median_f64(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Deterministic xorshift so every run measures the same sites.
struct Rng(u64);
impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next_f64()
    }
}

/// 10,000 sites over a country-sized box: circles of 50–500 m and 4–12-gons.
fn sites(n: usize, rng: &mut Rng) -> Vec<Shape> {
    (0..n)
        .map(|i| {
            let lat = rng.range(22.0, 41.0);
            let lon = rng.range(100.0, 122.0);
            if i % 2 == 0 {
                Shape::Circle {
                    center: LatLon { lat, lon },
                    radius_m: rng.range(50.0, 500.0),
                }
            } else {
                let k = 4 + (i % 9);
                let r = rng.range(100.0, 600.0) / 111_000.0;
                let exterior = (0..k)
                    .map(|j| {
                        let a = j as f64 / k as f64 * std::f64::consts::TAU;
                        LatLon {
                            lat: lat + r * a.sin(),
                            lon: lon + r * a.cos() / lat.to_radians().cos(),
                        }
                    })
                    .collect();
                Shape::Polygon {
                    exterior,
                    holes: vec![],
                }
            }
        })
        .collect()
}

fn bench_geofence() {
    let mut rng = Rng(0x5eed);
    let shapes = sites(10_000, &mut rng);
    let centres: Vec<LatLon> = shapes
        .iter()
        .map(|s| match s {
            Shape::Circle { center, .. } => *center,
            Shape::Polygon { exterior, .. } => exterior[0],
        })
        .collect();
    let prepared: Vec<PreparedShape> = shapes
        .iter()
        .map(|s| PreparedShape::new(s).expect("valid"))
        .collect();
    let index = SiteIndex::build(prepared);
    // Fixes within ~300 m of a site's centre: at or near the fence, so the
    // exact geodesic work runs (the realistic, expensive case).
    let queries: Vec<LatLon> = (0..2_000)
        .map(|i| {
            let c = centres[(i * 7919) % centres.len()];
            LatLon {
                lat: c.lat + rng.range(-0.003, 0.003),
                lon: c.lon + rng.range(-0.003, 0.003),
            }
        })
        .collect();
    let (accuracy, search) = (20.0, 200.0);
    let t = Instant::now();
    let mut found = 0usize;
    for _ in 0..5 {
        for q in &queries {
            found += black_box(index.query(*q, accuracy, search)).len();
        }
    }
    let indexed = t.elapsed().as_secs_f64() / (5 * queries.len()) as f64;
    let t = Instant::now();
    let mut found_linear = 0usize;
    let linear_queries = &queries[..100];
    for q in linear_queries {
        found_linear += black_box(index.linear_scan(*q, accuracy, search)).len();
    }
    let linear = t.elapsed().as_secs_f64() / linear_queries.len() as f64;
    eprintln!(
        "geofence: {:.2} sites per query (indexed), {:.2} (linear, first 100)",
        found as f64 / (5 * queries.len()) as f64,
        found_linear as f64 / linear_queries.len() as f64
    );
    emit(
        "geofence_query_10000_sites_vs_linear_scan",
        indexed * 1e6,
        "us/eval",
        linear * 1e6,
        linear / indexed,
    );

    // 10 vs 10,000 sites: the index should make them cost about the same.
    let small = SiteIndex::build(
        shapes[..10]
            .iter()
            .map(|s| PreparedShape::new(s).expect("valid"))
            .collect(),
    );
    let small_queries: Vec<LatLon> = (0..2_000)
        .map(|i| {
            let c = centres[i % 10];
            LatLon {
                lat: c.lat + rng.range(-0.003, 0.003),
                lon: c.lon + rng.range(-0.003, 0.003),
            }
        })
        .collect();
    let t = Instant::now();
    for _ in 0..5 {
        for q in &small_queries {
            black_box(small.query(*q, accuracy, search));
        }
    }
    let small_t = t.elapsed().as_secs_f64() / (5 * small_queries.len()) as f64;
    emit(
        "geofence_query_10000_sites_vs_10_sites",
        indexed * 1e6,
        "us/eval",
        small_t * 1e6,
        indexed / small_t,
    );
}

fn bench_crypto() {
    let (signer, _) = SoftwareSigner::generate().expect("key");
    let key = signer.public_key_spki().expect("spki");
    let msg = vec![0x5au8; 1500]; // about one record
    let n = 2_000;
    let t = Instant::now();
    for _ in 0..n {
        black_box(punch_model::ledger::signing::sha256(black_box(&msg)));
    }
    let hash = t.elapsed().as_secs_f64() / n as f64;
    let t = Instant::now();
    let mut sig = Vec::new();
    for _ in 0..n {
        sig = signer.sign(black_box(&msg)).expect("sign");
    }
    let sign = t.elapsed().as_secs_f64() / n as f64;
    let t = Instant::now();
    for _ in 0..n {
        punch_model::ledger::signing::verify(&key, black_box(&msg), &sig).expect("verify");
    }
    let verify = t.elapsed().as_secs_f64() / n as f64;
    emit(
        "p256_sign_vs_sha256_1500B",
        sign * 1e6,
        "us/op",
        hash * 1e6,
        sign / hash,
    );
    emit(
        "p256_verify_vs_sha256_1500B",
        verify * 1e6,
        "us/op",
        hash * 1e6,
        verify / hash,
    );
}

fn bench_commit() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
    let clock = Arc::new(ManualClock::new(ClockReading {
        wall_time_ms: 1_790_000_000_000,
        utc_offset_min: 0,
        monotonic_ms: 1_000,
        boot_id: "bench".into(),
    }));
    let engine = PunchEngine::open_with(
        dir.path().join("engine.db"),
        EngineOptions {
            clock: clock.clone(),
            ..Default::default()
        },
    )
    .expect("engine");
    engine.set_employee("emp-bench").expect("employee");
    let policy = include_str!("../../cli/src/sample_policy.json");
    engine
        .install_policy_json(policy.as_bytes(), None)
        .expect("policy");
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
    // Baseline: the same durability settings, one row of the same size.
    let bare = rusqlite::Connection::open(dir.path().join("bare.db")).expect("bare db");
    bare.pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    bare.pragma_update(None, "synchronous", "FULL")
        .expect("full");
    bare.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, record BLOB NOT NULL, signature BLOB NOT NULL, hash BLOB NOT NULL)")
        .expect("table");
    let first = engine
        .punch(PunchKind::ClockIn, &evidence(1_790_000_000_000))
        .expect("punch");
    let row = engine.punches(0, 1).expect("row").remove(0);
    let size = row.record.len();
    let n = 300;
    let (mut punch_t, mut bare_t) = (Vec::with_capacity(n), Vec::with_capacity(n));
    // Interleaved so disk hiccups hit both sides alike.
    for i in 0..n {
        clock.advance_ms(1_000);
        let t = Instant::now();
        engine
            .punch(
                PunchKind::ClockIn,
                &evidence(1_790_000_000_000 + i as i64 * 1000),
            )
            .expect("punch");
        punch_t.push(t.elapsed());
        let t = Instant::now();
        let tx = bare.unchecked_transaction().expect("tx");
        tx.execute(
            "INSERT INTO t (record, signature, hash) VALUES (?1, ?2, ?3)",
            rusqlite::params![row.record, row.signature, row.hash],
        )
        .expect("insert");
        tx.commit().expect("commit");
        bare_t.push(t.elapsed());
    }
    black_box(first);
    let (p, b) = (median(punch_t), median(bare_t));
    emit(
        &format!("punch_commit_vs_bare_durable_insert_{size}B"),
        p * 1e3,
        "ms/punch",
        b * 1e3,
        p / b,
    );
}

/// A policy JSON with `n` sites from [`sites`].
fn policy_with_sites(n: usize) -> Vec<u8> {
    let mut rng = Rng(0x0be7);
    let sites: Vec<_> = sites(n, &mut rng)
        .into_iter()
        .enumerate()
        .map(|(i, shape)| serde_json::json!({ "id": format!("s{i}"), "shape": shape }))
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "version": 1, "issued_at_ms": 1_767_225_600_000i64, "sites": sites
    }))
    .expect("policy json")
}

/// Counts live heap bytes, so open's footprint is measured exactly (RSS
/// would hide it: the allocator reuses pages freed by the previous round).
struct CountingAlloc;
static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

// The one unsafe code of the workspace outside the FFI scaffolding: a global
// allocator must be an unsafe impl; it only forwards to the system's.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn live_bytes() -> f64 {
    LIVE_BYTES.load(Ordering::Relaxed) as f64
}

/// Cold start: opening an engine whose database holds a 10,000-site policy,
/// against the same with a 10-site policy. Also what the first evaluate
/// (which prepares the policy) then costs.
fn bench_open() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
    let make = |name: &str, n: usize| {
        let path = dir.path().join(name);
        let engine = PunchEngine::open(&path).expect("engine");
        engine
            .install_policy_json(&policy_with_sites(n), None)
            .expect("policy");
        path
    };
    let (small, large) = (make("small.db", 10), make("large.db", 10_000));
    let rounds = 15;
    let (mut small_t, mut large_t, mut large_mem, mut small_mem) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        for (path, times, mem) in [
            (&small, &mut small_t, &mut small_mem),
            (&large, &mut large_t, &mut large_mem),
        ] {
            let before = live_bytes();
            let t = Instant::now();
            let engine = PunchEngine::open(path).expect("open");
            times.push(t.elapsed());
            mem.push((live_bytes() - before) / 1e6);
            black_box(engine.policy_version());
            drop(engine);
        }
    }
    let (s, l) = (median(small_t), median(large_t));
    emit(
        "open_10000_sites_vs_10_sites",
        l * 1e3,
        "ms",
        s * 1e3,
        l / s,
    );
    let (sm, lm) = (median_f64(small_mem), median_f64(large_mem));
    emit("open_10000_sites_memory_vs_10_sites", lm, "MB", sm, lm / sm);
    // The deferred cost: the first evaluate prepares the policy.
    let evidence = Evidence {
        gps: Some(GpsFix {
            lat: 30.0,
            lon: 110.0,
            accuracy_m: 10.0,
            fix_time_ms: 1_790_000_000_000,
            provider: "gps".into(),
            is_mock: false,
            speed_mps: None,
            elapsed_realtime_ms: None,
            reduced_accuracy: false,
            external_receiver: false,
        }),
        ..Evidence::default()
    };
    // Median of a few cold starts: each opens the engine and times its first
    // evaluate, which loads the policy's kept prepared form.
    let first_eval = |path: &std::path::Path| {
        let (mut times, mut mem) = (Vec::new(), Vec::new());
        for _ in 0..5 {
            let before = live_bytes();
            let engine = PunchEngine::open(path).expect("open");
            let t = Instant::now();
            black_box(engine.evaluate(&evidence).expect("evaluate"));
            times.push(t.elapsed());
            // What the engine holds once the policy is loaded.
            mem.push((live_bytes() - before) / 1e6);
        }
        (median(times), median_f64(mem))
    };
    let ((fs, fs_mem), (fl, fl_mem)) = (first_eval(&small), first_eval(&large));
    emit(
        "first_evaluate_10000_sites_vs_10_sites",
        fl * 1e3,
        "ms",
        fs * 1e3,
        fl / fs,
    );
    emit(
        "loaded_policy_memory_10000_sites_vs_10_sites",
        fl_mem,
        "MB",
        fs_mem,
        fl_mem / fs_mem,
    );
    // Against preparing from the signed body, as every start did before the
    // prepared form was kept (and as one still does if it is missing).
    let from_body = |path: &std::path::Path| {
        let runs: Vec<Duration> = (0..5)
            .map(|_| {
                rusqlite::Connection::open(path)
                    .expect("db")
                    .execute("DELETE FROM policy_prepared", [])
                    .expect("drop the prepared form");
                let engine = PunchEngine::open(path).expect("open");
                let t = Instant::now();
                black_box(engine.evaluate(&evidence).expect("evaluate"));
                t.elapsed()
            })
            .collect();
        median(runs)
    };
    let fb = from_body(&large);
    emit(
        "first_evaluate_10000_sites_kept_vs_from_body",
        fl * 1e3,
        "ms",
        fb * 1e3,
        fl / fb,
    );
}

/// The PIN verifier at the default work factor (OWASP's 600,000 PBKDF2
/// iterations) and at the policy floor, against one SHA-256 of a PIN-sized
/// input. Run under qemu ARM64 with `--target aarch64-unknown-linux-gnu`.
fn bench_pin() {
    use punch_model::pin::Verifier;
    use punch_model::pin::settings::{DEFAULT_PBKDF2_ITERATIONS, MIN_PBKDF2_ITERATIONS};
    let n = 20_000;
    let t = Instant::now();
    for _ in 0..n {
        black_box(punch_model::ledger::signing::sha256(black_box(b"4827")));
    }
    let sha = t.elapsed().as_secs_f64() / n as f64;
    for (name, iterations) in [
        ("pin_pbkdf2_600k_vs_sha256", DEFAULT_PBKDF2_ITERATIONS),
        ("pin_pbkdf2_100k_vs_sha256", MIN_PBKDF2_ITERATIONS),
    ] {
        let v = Verifier::derive("4827", iterations).expect("derive");
        let runs: Vec<Duration> = (0..5)
            .map(|_| {
                let t = Instant::now();
                black_box(v.matches(black_box("4827")).expect("verify"));
                t.elapsed()
            })
            .collect();
        let us = median(runs) * 1e6;
        emit(name, us, "us/verify", sha * 1e6, us / (sha * 1e6));
    }
}

fn main() {
    // `cargo test --benches` runs this with --bench absent: keep that fast.
    if !std::env::args().any(|a| a == "--bench") {
        println!("benchmarks run with `cargo bench -p punch-core`");
        return;
    }
    // `cargo bench -p punch-core --bench core_bench -- commit` runs only that group.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| name.contains(o.as_str()));
    if wanted("crypto") {
        bench_crypto();
    }
    if wanted("pin") {
        bench_pin();
    }
    if wanted("geofence") {
        bench_geofence();
    }
    if wanted("commit") {
        bench_commit();
    }
    if wanted("open") {
        bench_open();
    }
    if wanted("exceptions") {
        bench_exceptions();
    }
}

/// What one evaluate costs with 20 shifts and 10 active field-work sites
/// (the fix inside one of them), against the same 10 employer sites plus
/// one where the fix is, without shifts or field sites: the steps the engine
/// runs per evaluate (the active field sites picked, the evidence judged
/// against the policy prepared with them — prepared once and cached, as
/// `InstalledPolicy::current_for` does — and the shift verdict).
fn bench_exceptions() {
    use punch_model::rules::evaluate::evaluate;
    use punch_model::rules::field_work::{self, FieldSite};
    use punch_model::rules::policy::{Policy, PreparedPolicy};
    use punch_model::rules::shift;

    let base = Policy::from_json(&policy_with_sites(10)).expect("policy");
    let mut with_rules = base.clone();
    with_rules.time_zone = Some("Asia/Shanghai".into());
    with_rules.shifts = (0..20)
        .map(|i| {
            serde_json::from_value(serde_json::json!({
                "id": format!("shift{i}"), "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                "start": format!("{:02}:00", i % 24), "end": format!("{:02}:30", (i + 8) % 24),
                "grace_late_min": 5, "sites": [format!("s{}", i % 10)]
            }))
            .expect("shift")
        })
        .collect();
    let now = 1_767_225_600_000i64 + 3 * 3_600_000;
    let today = field_work::day_of(now, &field_work::policy_zone(&with_rules)).expect("day");
    let field: Vec<FieldSite> = (0..10)
        .map(|i| FieldSite {
            request_id: punch_model::ledger::record::Uuid::from_u128(i as u128 + 1),
            name: format!("client {i}"),
            center: LatLon {
                lat: 31.0 + f64::from(i) * 0.1,
                lon: 121.0,
            },
            radius_m: 300.0,
            from_date: today,
            to_date: today,
        })
        .collect();
    // The baseline holds an employer site where the fix is, so both sides
    // judge one containing circle (the exact geodesic verdict dominates).
    let mut plain = base;
    plain.sites.push(
        serde_json::from_value(serde_json::json!({
            "id": "here", "shape": {"type": "circle", "center": {"lat": 31.5, "lon": 121.0}, "radius_m": 300.0}
        }))
        .expect("site"),
    );
    let plain = PreparedPolicy::new(plain).expect("prepare");
    let active = field_work::active_at(&with_rules, &field, now);
    let base = PreparedPolicy::new(with_rules.clone()).expect("prepare");
    let prepared = field_work::prepare_with(&base, &active).expect("prepare with");
    // Field sites 11 km apart, the fix at the 6th: the shifts of its site do not apply, so
    // every shift is looked at and none matches.
    let evidence = Evidence {
        gps: Some(GpsFix {
            lat: 31.5,
            lon: 121.0,
            accuracy_m: 10.0,
            fix_time_ms: now - 1_000,
            provider: "gps".into(),
            is_mock: false,
            speed_mps: None,
            elapsed_realtime_ms: None,
            reduced_accuracy: false,
            external_receiver: false,
        }),
        ..Evidence::default()
    }
    .validate()
    .expect("evidence");
    let rounds = 20_000;
    let time = |f: &dyn Fn()| {
        let mut samples = Vec::with_capacity(50);
        for _ in 0..50 {
            let t = Instant::now();
            for _ in 0..rounds / 50 {
                f();
            }
            samples.push(t.elapsed() / (rounds / 50));
        }
        median(samples)
    };
    let baseline = time(&|| {
        black_box(evaluate(&plain, &evidence, now, None));
    });
    let measured = time(&|| {
        let active = field_work::active_at(&with_rules, &field, now);
        black_box(active.len());
        let e = evaluate(&prepared, &evidence, now, None);
        black_box(shift::judge(
            &prepared.shifts,
            e.site_id.as_deref(),
            PunchKind::ClockIn,
            now,
            None,
        ));
    });
    emit(
        "evaluate_20_shifts_10_field_sites_vs_plain",
        measured * 1e6,
        "us",
        baseline * 1e6,
        measured / baseline,
    );
}
