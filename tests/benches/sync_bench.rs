//! Sync benchmarks against the real punch-server on 127.0.0.1 (its SQLite
//! file, its HTTP stack, its verification). One JSON line per measurement:
//! `{"bench", "value", "unit", "baseline", "ratio"}`, each baseline measured
//! in the same run on the same machine and disk; details go to stderr.
//! Run: `cargo bench -p punch-tests --bench sync_bench`.
//!
//! Every run starts from the same two snapshots, taken once: a server
//! database (employee, site, policy v1 published, the device enrolled) and
//! the enrolled device's database (policy v1 installed, time anchor taken,
//! empty queue). Each measurement copies them, so every server is fresh.
//!
//! - 10,000 punches are taken with `PunchEngine::punch` (ManualClock moved up
//!   to real time before each punch, never past it); copies of that queue
//!   are uploaded with batches of 500 (median of 3) and one per request.
//! - Server verification throughput drives `punch_server::internal::ingest` directly,
//!   as the upload handler does (`check_signatures` on all cores, then
//!   `ingest_checked`, 500 records per write transaction; request
//!   authentication and HTTP excluded), against bare inserts of the rows it
//!   stored.
//! - Client peak memory: 100,000 (and 1,000) properly signed, hash-chained
//!   records are generated with the device's own key and inserted into its
//!   queue; a child process (this binary re-run) only opens the engine and
//!   syncs, then reports VmHWM.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use geographiclib_rs::{DirectGeodesic, Geodesic};
use punch_core::ReqwestTransport;
use punch_core::ServerConfig;
use punch_core::{
    Clock, ClockReading, Decision, EngineOptions, Evidence, GpsFix, PunchEngine, PunchKind,
    PunchRecord, Signer, SoftwareSigner, SyncReport, Transport, test_support::ManualClock,
};
use punch_model::ledger::record::GENESIS_HASH;
use punch_model::ledger::sealed::DataKey;
use punch_model::wire::{RecordStatus, UploadRecord};
use punch_server::AtRestKeys;
use punch_server::StoreExt;
use punch_tests::world::{EMPLOYEE, HQ, now_ms, start_server};
use rusqlite::{Connection, params};

const BOOT_ID: &str = "bench-boot";
const BATCH: u32 = 500;
const UPLOAD_PUNCHES: usize = 10_000;
const MEMORY_PUNCHES: u64 = 100_000;
const MEMORY_BASELINE_PUNCHES: u64 = 1_000;

/// Set in the environment of the re-run binary: "sync" or "idle".
const CHILD_ENV: &str = "PUNCH_SYNC_BENCH_CHILD";
const CHILD_URL: &str = "PUNCH_SYNC_BENCH_URL";
const CHILD_DB: &str = "PUNCH_SYNC_BENCH_DB";
const CHILD_KEY: &str = "PUNCH_SYNC_BENCH_POLICY_KEY_FILE";
const CHILD_MONO: &str = "PUNCH_SYNC_BENCH_MONOTONIC_MS";

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

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The device's clocks: a ManualClock that is only ever moved forward up to
/// real time, so no record's trusted time is after the server receives it.
struct DeviceTime {
    clock: Arc<ManualClock>,
    origin: Instant,
    origin_wall_ms: i64,
}

impl DeviceTime {
    fn new() -> DeviceTime {
        let origin_wall_ms = now_ms();
        DeviceTime {
            clock: Arc::new(ManualClock::new(ClockReading {
                wall_time_ms: origin_wall_ms,
                utc_offset_min: 480,
                monotonic_ms: 10_000_000,
                boot_id: BOOT_ID.into(),
            })),
            origin: Instant::now(),
            origin_wall_ms,
        }
    }

    fn catch_up(&self) -> ClockReading {
        let real = self.origin_wall_ms + self.origin.elapsed().as_millis() as i64;
        let device = self.clock.now().wall_time_ms;
        if real > device {
            self.clock.advance_ms((real - device) as u64);
        }
        self.clock.now()
    }
}

struct Setup {
    dir: tempfile::TempDir,
    policy_key: Vec<u8>,
    /// Snapshot: employee, site, policy v1, the device enrolled, no punches.
    server_db: PathBuf,
    /// Snapshot: the enrolled device, policy installed, anchored, empty queue.
    device_db: PathBuf,
    device_id: String,
    time: DeviceTime,
}

impl Setup {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// A consistent copy of a (closed or open) SQLite database.
fn snapshot(src: &Path, dst: &Path) {
    let _ = std::fs::remove_file(dst);
    let conn = Connection::open(src).expect("open for snapshot");
    conn.execute("VACUUM INTO ?1", [dst.to_str().expect("utf-8 path")])
        .expect("vacuum into");
}

fn open_device(
    db: &Path,
    base_url: &str,
    policy_key: &[u8],
    batch_size: u32,
    clock: &Arc<ManualClock>,
    transport: Option<Arc<dyn Transport>>,
) -> PunchEngine {
    let mut server = ServerConfig::new(base_url, policy_key.to_vec());
    server.batch_size = batch_size;
    PunchEngine::open_with(
        db,
        EngineOptions {
            clock: clock.clone(),
            server: Some(server),
            transport,
            ..Default::default()
        },
    )
    .expect("device engine")
}

fn setup() -> Setup {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
    let live_server = dir.path().join("live-server.db");
    let live_device = dir.path().join("live-device.db");
    let admin = punch_tests::world::employer(&live_server.as_path().into());
    let policy_key = admin.policy_public_key().expect("policy key");
    let code = admin
        .create_enrollment_code(EMPLOYEE, Duration::from_secs(600))
        .expect("code");
    let server = start_server(&live_server.as_path().into());
    let time = DeviceTime::new();
    let engine = open_device(
        &live_device,
        &server.base_url(),
        &policy_key,
        BATCH,
        &time.clock,
        None,
    );
    engine.enroll(&code).expect("enroll");
    let report = engine.sync().expect("first sync");
    assert!(
        report.error.is_none() && report.policy_installed == Some(1),
        "first sync: {report:?}"
    );
    let device_id = engine.device().expect("device").device_id;
    drop(engine);
    server.stop();
    drop(admin);
    let server_db = dir.path().join("setup-server.db");
    let device_db = dir.path().join("setup-device.db");
    snapshot(&live_server, &server_db);
    snapshot(&live_device, &device_db);
    Setup {
        dir,
        policy_key,
        server_db,
        device_db,
        device_id,
        time,
    }
}

/// `n` punches through `PunchEngine::punch` (each durable: fsynced), clock-in
/// and clock-out alternating, 25 m inside the HQ circle with a fresh fix.
fn punch_queue(setup: &Setup, n: usize) -> PathBuf {
    let db = setup.path(&format!("queue-{n}.db"));
    snapshot(&setup.device_db, &db);
    let engine = PunchEngine::open_with(
        &db,
        EngineOptions {
            clock: setup.time.clock.clone(),
            ..Default::default()
        },
    )
    .expect("engine");
    let at: (f64, f64) = Geodesic::wgs84().direct(HQ.0, HQ.1, 30.0, 25.0);
    let t = Instant::now();
    for i in 0..n {
        let now = setup.time.catch_up();
        let evidence = Evidence {
            gps: Some(GpsFix {
                lat: at.0,
                lon: at.1,
                accuracy_m: 8.0,
                fix_time_ms: now.wall_time_ms,
                provider: "gps".into(),
                is_mock: false,
                speed_mps: None,
                elapsed_realtime_ms: None,
                reduced_accuracy: false,
                external_receiver: false,
            }),
            ..Evidence::default()
        };
        let kind = if i % 2 == 0 {
            PunchKind::ClockIn
        } else {
            PunchKind::ClockOut
        };
        let receipt = engine.punch(kind, &evidence).expect("punch");
        assert_eq!(receipt.evaluation.decision, Decision::Accepted);
    }
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "built the {n}-punch queue with PunchEngine::punch in {secs:.1} s ({:.2} ms/punch)",
        secs * 1e3 / n as f64
    );
    assert_eq!(engine.pending_count().expect("pending"), n as u64);
    db
}

/// Counts the server's stored punches by time status; all must be anchored.
fn check_server(db: &Path, expected: u64) {
    let conn = Connection::open(db).expect("server db");
    let mut stmt = conn
        .prepare("SELECT time_status, COUNT(*) FROM punches GROUP BY time_status")
        .expect("query");
    let counts: Vec<(String, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("rows")
        .collect::<rusqlite::Result<_>>()
        .expect("rows");
    assert_eq!(
        counts,
        vec![("anchored".to_string(), expected as i64)],
        "server time statuses"
    );
}

/// One `engine.sync()` of a copy of `queue` to a fresh server (a copy of the
/// set-up snapshot). The HTTP client is built before the clock starts.
fn upload(setup: &Setup, queue: &Path, batch: u32, tag: &str) -> (f64, SyncReport) {
    let server_db = setup.path(&format!("server-{tag}.db"));
    let device_db = setup.path(&format!("device-{tag}.db"));
    snapshot(&setup.server_db, &server_db);
    snapshot(queue, &device_db);
    let server = start_server(&server_db.as_path().into());
    let transport: Arc<dyn Transport> = Arc::new(ReqwestTransport::new().expect("transport"));
    let engine = open_device(
        &device_db,
        &server.base_url(),
        &setup.policy_key,
        batch,
        &setup.time.clock,
        Some(transport),
    );
    let pending = engine.pending_count().expect("pending");
    setup.time.catch_up();
    let t = Instant::now();
    let report = engine.sync().expect("sync");
    let secs = t.elapsed().as_secs_f64();
    assert!(
        report.error.is_none()
            && report.remaining == 0
            && report.uploaded == pending
            && report.rejected.is_empty()
            && report.policy_installed.is_none(),
        "sync {tag}: {report:?}"
    );
    drop(engine);
    server.stop();
    check_server(&server_db, pending);
    eprintln!(
        "{tag}: {pending} punches, batch {batch}: {secs:.3} s, {} requests",
        report.requests
    );
    (secs, report)
}

fn bench_upload(setup: &Setup, queue: &Path) {
    let mut times = Vec::new();
    let mut requests = 0;
    for rep in 0..3 {
        let (secs, report) = upload(setup, queue, BATCH, &format!("batch{BATCH}-{rep}"));
        times.push(secs);
        requests = report.requests;
    }
    let batched = median(times);
    let (single, single_report) = upload(setup, queue, 1, "batch1");
    let n = UPLOAD_PUNCHES;
    emit(
        &format!("sync_upload_{n}_batch{BATCH}_vs_one_per_request"),
        batched,
        "s",
        single,
        batched / single,
    );
    emit(
        &format!("sync_upload_{n}_requests_batch{BATCH}_vs_one_per_request"),
        f64::from(requests),
        "requests",
        f64::from(single_report.requests),
        f64::from(requests) / f64::from(single_report.requests),
    );
    eprintln!(
        "end to end: {:.0} records/s with batches of {BATCH}, {:.0} one per request",
        n as f64 / batched,
        n as f64 / single
    );
    eprintln!(
        "targets: upload {batched:.3} s (<= 1 s: {}), {requests} requests (<= 25: {}); \
         request counts are every HTTP request of the sync() call: uploads only, the \
         policy was installed at set-up and is not re-fetched",
        batched <= 1.0,
        requests <= 25
    );
}

fn queued_records(queue: &Path) -> Vec<UploadRecord> {
    let conn = Connection::open(queue).expect("queue db");
    let mut stmt = conn
        .prepare("SELECT seq, record, signature FROM punches ORDER BY seq")
        .expect("query");
    stmt.query_map([], |r| {
        Ok(UploadRecord {
            seq: r.get::<_, i64>(0)? as u64,
            record: r.get(1)?,
            signature: r.get(2)?,
        })
    })
    .expect("rows")
    .collect::<rusqlite::Result<_>>()
    .expect("rows")
}

/// The server's punches table (columns, keys, index) without the foreign key.
const BARE_PUNCHES: &str = "
CREATE TABLE punches (
    device_id TEXT NOT NULL, seq INTEGER NOT NULL, punch_id TEXT NOT NULL UNIQUE,
    employee_id TEXT NOT NULL, kind TEXT NOT NULL, wall_time_ms INTEGER NOT NULL,
    utc_offset_min INTEGER NOT NULL, trusted_time_ms INTEGER, skew_ms INTEGER,
    time_status TEXT NOT NULL, policy_version INTEGER NOT NULL, decision TEXT NOT NULL,
    site_id TEXT, record BLOB NOT NULL, signature BLOB NOT NULL, hash TEXT NOT NULL,
    received_at_ms INTEGER NOT NULL, PRIMARY KEY (device_id, seq));
CREATE INDEX punches_employee_time ON punches (employee_id, wall_time_ms);";
const PUNCH_COLUMNS: &str = "device_id, seq, punch_id, employee_id, kind, wall_time_ms, \
    utc_offset_min, trusted_time_ms, skew_ms, time_status, policy_version, decision, site_id, \
    record, signature, hash, received_at_ms";

/// Verified ingest, 500 records per write transaction: records per second.
/// With `at_rest`, the server seals the evidence columns as it stores them.
fn ingest_rate(
    setup: &Setup,
    records: &[UploadRecord],
    db: &Path,
    at_rest: Option<&Arc<AtRestKeys>>,
) -> f64 {
    snapshot(&setup.server_db, db);
    let store = punch_server::internal::at_rest::open(&db.into(), at_rest).expect("server store");
    let state = punch_server::internal::server::state_over(store, punch_server::Limits::default())
        .expect("server state");
    let public_key = punch_server::Admin::connect_with(&db.into(), at_rest)
        .expect("admin")
        .devices()
        .expect("devices")
        .into_iter()
        .find(|d| d.device_id == setup.device_id)
        .expect("enrolled device")
        .public_key;
    let t = Instant::now();
    for chunk in records.chunks(BATCH as usize) {
        // What the upload handler does: signatures on all cores, then the
        // chain checks and inserts in one write transaction.
        let checks =
            punch_server::internal::ingest::check_signatures(&public_key, &setup.device_id, chunk);
        let outcome = state
            .store
            .write(|tx| {
                punch_server::internal::ingest::ingest_checked(
                    tx,
                    &setup.device_id,
                    chunk,
                    &checks,
                    &state.tokens,
                    &state.policies,
                    now_ms(),
                )
            })
            .expect("ingest");
        assert!(
            outcome
                .results
                .iter()
                .all(|r| r.status == RecordStatus::Accepted),
            "ingest refused records"
        );
    }
    let secs = t.elapsed().as_secs_f64();
    drop(state);
    check_server(db, records.len() as u64);
    records.len() as f64 / secs
}

/// The same rows as stored by the server, bare inserts: records per second.
fn bare_rate(rows_from: &Path, db: &Path) -> f64 {
    let source = Connection::open(rows_from).expect("rows db");
    let mut stmt = source
        .prepare(&format!(
            "SELECT {PUNCH_COLUMNS} FROM punches ORDER BY device_id, seq"
        ))
        .expect("query");
    let rows: Vec<Vec<rusqlite::types::Value>> = stmt
        .query_map([], |r| (0..17).map(|i| r.get(i)).collect())
        .expect("rows")
        .collect::<rusqlite::Result<_>>()
        .expect("rows");
    let _ = std::fs::remove_file(db);
    let mut bare = Connection::open(db).expect("bare db");
    bare.pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    bare.pragma_update(None, "synchronous", "FULL")
        .expect("full");
    bare.execute_batch(BARE_PUNCHES).expect("table");
    let insert = format!(
        "INSERT INTO punches ({PUNCH_COLUMNS}) VALUES ({})",
        vec!["?"; 17].join(", ")
    );
    let t = Instant::now();
    for chunk in rows.chunks(BATCH as usize) {
        let tx = bare.transaction().expect("tx");
        {
            let mut stmt = tx.prepare_cached(&insert).expect("insert");
            for row in chunk {
                stmt.execute(rusqlite::params_from_iter(row.iter()))
                    .expect("insert");
            }
        }
        tx.commit().expect("commit");
    }
    let secs = t.elapsed().as_secs_f64();
    rows.len() as f64 / secs
}

fn bench_server_rate(setup: &Setup, queue: &Path) {
    let records = queued_records(queue);
    let bytes: usize = records.iter().map(|r| r.record.len()).sum();
    let keys = Arc::new(
        AtRestKeys::single("bench", DataKey::generate().expect("key")).expect("at-rest keys"),
    );
    let (mut verified, mut bare, mut sealed) = (Vec::new(), Vec::new(), Vec::new());
    // Interleaved so disk hiccups hit every side alike.
    for rep in 0..3 {
        let ingested = setup.path(&format!("ingest-{rep}.db"));
        verified.push(ingest_rate(setup, &records, &ingested, None));
        bare.push(bare_rate(&ingested, &setup.path(&format!("bare-{rep}.db"))));
        let at_rest = setup.path(&format!("ingest-sealed-{rep}.db"));
        sealed.push(ingest_rate(setup, &records, &at_rest, Some(&keys)));
    }
    let (v, b, s) = (median(verified), median(bare), median(sealed));
    eprintln!(
        "server ingest: {} records of {} B on average, {BATCH} per transaction",
        records.len(),
        bytes / records.len()
    );
    emit(
        &format!("server_verify_store_rate_vs_bare_insert_{BATCH}_per_tx"),
        v,
        "records/s",
        b,
        v / b,
    );
    // The cost of sealing evidence at rest (issue 14): same records, same
    // run, against ingest storing them clear.
    emit(
        &format!("server_ingest_sealed_at_rest_vs_clear_{BATCH}_per_tx"),
        s,
        "records/s",
        v,
        s / v,
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The serde name of a unit enum variant ("clock_in", "accepted").
fn enum_text(value: serde_json::Result<serde_json::Value>) -> String {
    value
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// xorshift64*, for punch ids that are as random as v4 UUIDs.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// A queue of `n` records generated as `punch()` would write them: the
/// template's content (the first real punch: same device, employee, policy,
/// anchor, evidence and evaluation) with a new id, seq, kind and times, then
/// serialised once, signed with the device's own key and hash-chained; all
/// inserted in one transaction. Times are spread evenly between the anchor
/// and now on the device's clocks, so none is after the server receives it.
fn generate_queue(setup: &Setup, template_queue: &Path, n: u64) -> PathBuf {
    let db = setup.path(&format!("generated-{n}.db"));
    snapshot(&setup.device_db, &db);
    let mut conn = Connection::open(&db).expect("device db");
    let (device_id, public_key, pkcs8): (String, Vec<u8>, Vec<u8>) = conn
        .query_row(
            "SELECT device_id, public_key, key_pkcs8 FROM device WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("device row");
    let signer = SoftwareSigner::from_pkcs8(&pkcs8).expect("device key");
    assert_eq!(signer.public_key_spki().expect("spki"), public_key);
    let template_bytes: Vec<u8> = Connection::open(template_queue)
        .expect("template db")
        .query_row("SELECT record FROM punches WHERE seq = 1", [], |r| r.get(0))
        .expect("template");
    let template = PunchRecord::from_bytes(&template_bytes).expect("template record");
    assert_eq!(template.device_id, device_id);
    let anchor = template.anchor.clone().expect("anchored template");
    // Records carry the monotonic clock shifted by a per-boot secret
    // (`clock_mask`): work in that domain, from the template's own reading,
    // never the raw clock (which is not comparable with the anchor's).
    let now = setup.time.catch_up();
    let elapsed = u64::try_from(now.wall_time_ms - template.wall_time_ms).unwrap_or(0);
    let now_monotonic = template.monotonic_ms + elapsed;
    let span = now_monotonic - anchor.monotonic_ms;
    let wall_minus_mono = template.wall_time_ms - template.monotonic_ms as i64;
    let mut rng = Rng(now_ms() as u64 | 1);
    let t = Instant::now();
    let tx = conn.transaction().expect("tx");
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO punches (seq, punch_id, record, signature, hash, kind, wall_time_ms,
                                      decision, upload_state, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9)",
            )
            .expect("insert");
        let mut prev_hash = GENESIS_HASH.to_string();
        for seq in 1..=n {
            let monotonic_ms = anchor.monotonic_ms + span * seq / n;
            let wall_time_ms = monotonic_ms as i64 + wall_minus_mono;
            let (hi, lo) = (rng.next(), rng.next());
            let id = format!(
                "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
                hi >> 32,
                (hi >> 16) & 0xffff,
                hi & 0xfff,
                0x8000 | ((lo >> 48) & 0x3fff),
                lo & 0xffff_ffff_ffff
            );
            let mut record = template.clone();
            record.punch_id = serde_json::from_value(serde_json::Value::String(id)).expect("uuid");
            record.seq = seq;
            record.kind = if seq % 2 == 1 {
                PunchKind::ClockIn
            } else {
                PunchKind::ClockOut
            };
            record.wall_time_ms = wall_time_ms;
            record.monotonic_ms = monotonic_ms;
            if let Some(fix) = record.evidence.gps.as_mut() {
                fix.fix_time_ms = wall_time_ms;
            }
            record.prev_hash = prev_hash;
            let bytes = record.to_bytes().expect("encode");
            let signature = signer.sign(&bytes).expect("sign");
            let hash = punch_model::ledger::signing::sha256(&bytes);
            insert
                .execute(params![
                    seq as i64,
                    record.punch_id.to_string(),
                    bytes,
                    signature,
                    hash.as_slice(),
                    enum_text(serde_json::to_value(record.kind)),
                    wall_time_ms,
                    enum_text(serde_json::to_value(record.evaluation.decision)),
                    wall_time_ms,
                ])
                .expect("insert");
            prev_hash = hex(&hash);
        }
    }
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('head_seq', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [n.to_string()],
    )
    .expect("head");
    tx.commit().expect("commit");
    eprintln!(
        "generated {n} signed, chained records in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    db
}

/// What a child process reports.
struct ChildRun {
    peak_rss_kb: f64,
    sync_s: f64,
}

/// Re-runs this binary as a client that only opens the engine on `queue` and
/// (mode "sync") syncs it to a fresh server, or (mode "idle") does nothing.
fn child_run(setup: &Setup, queue: &Path, mode: &str, tag: &str) -> ChildRun {
    let server_db = setup.path(&format!("server-{tag}.db"));
    let device_db = setup.path(&format!("device-{tag}.db"));
    snapshot(&setup.server_db, &server_db);
    snapshot(queue, &device_db);
    let key_file = setup.path("policy-key.der");
    std::fs::write(&key_file, &setup.policy_key).expect("key file");
    let server = start_server(&server_db.as_path().into());
    let now = setup.time.catch_up();
    let output = Command::new(std::env::current_exe().expect("current exe"))
        .env(CHILD_ENV, mode)
        .env(CHILD_URL, server.base_url())
        .env(CHILD_DB, &device_db)
        .env(CHILD_KEY, &key_file)
        .env(CHILD_MONO, now.monotonic_ms.to_string())
        .output()
        .expect("child");
    server.stop();
    assert!(
        output.status.success(),
        "child {tag} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().last().expect("child output");
    let report: serde_json::Value = serde_json::from_str(line).expect("child json");
    eprintln!("{tag}: {line}");
    if mode == "sync" {
        let pending = report["pending"].as_u64().expect("pending");
        assert_eq!(report["uploaded"].as_u64(), Some(pending), "{line}");
        assert_eq!(report["remaining"].as_u64(), Some(0), "{line}");
        check_server(&server_db, pending);
    }
    ChildRun {
        peak_rss_kb: report["vm_hwm_kb"].as_f64().expect("vm_hwm_kb"),
        sync_s: report["sync_s"].as_f64().expect("sync_s"),
    }
}

fn bench_memory(setup: &Setup, template_queue: &Path) {
    let big = generate_queue(setup, template_queue, MEMORY_PUNCHES);
    let small = generate_queue(setup, template_queue, MEMORY_BASELINE_PUNCHES);
    let idle = child_run(setup, &big, "idle", "idle-100000");
    let small_run = child_run(setup, &small, "sync", "sync-1000");
    let big_run = child_run(setup, &big, "sync", "sync-100000");
    let mb = |kb: f64| kb / 1024.0;
    emit(
        &format!("client_peak_rss_sync_{MEMORY_PUNCHES}_vs_sync_{MEMORY_BASELINE_PUNCHES}"),
        mb(big_run.peak_rss_kb),
        "MB",
        mb(small_run.peak_rss_kb),
        big_run.peak_rss_kb / small_run.peak_rss_kb,
    );
    emit(
        &format!("client_peak_rss_sync_{MEMORY_PUNCHES}_vs_idle_engine"),
        mb(big_run.peak_rss_kb),
        "MB",
        mb(idle.peak_rss_kb),
        big_run.peak_rss_kb / idle.peak_rss_kb,
    );
    // Baseline: the 1,000-punch sync scaled linearly (ratio 1 = linear).
    let scale = (MEMORY_PUNCHES / MEMORY_BASELINE_PUNCHES) as f64;
    emit(
        &format!("sync_{MEMORY_PUNCHES}_queued_wall_vs_{MEMORY_BASELINE_PUNCHES}_times_{scale}"),
        big_run.sync_s,
        "s",
        small_run.sync_s * scale,
        big_run.sync_s / (small_run.sync_s * scale),
    );
}

/// VmHWM (peak resident set) of this process, in kB.
fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn child_main(mode: &str) {
    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} not set"));
    let key = std::fs::read(var(CHILD_KEY)).expect("policy key");
    let clock = Arc::new(ManualClock::new(ClockReading {
        wall_time_ms: now_ms(),
        utc_offset_min: 480,
        monotonic_ms: var(CHILD_MONO).parse().expect("monotonic"),
        boot_id: BOOT_ID.into(),
    }));
    let engine = open_device(
        Path::new(&var(CHILD_DB)),
        &var(CHILD_URL),
        &key,
        BATCH,
        &clock,
        None,
    );
    let pending = engine.pending_count().expect("pending");
    let (sync_s, report) = if mode == "sync" {
        let t = Instant::now();
        let report = engine.sync().expect("sync");
        (t.elapsed().as_secs_f64(), report)
    } else {
        (0.0, SyncReport::default())
    };
    assert!(report.error.is_none(), "{report:?}");
    println!(
        "{}",
        serde_json::json!({
            "mode": mode, "pending": pending, "uploaded": report.uploaded,
            "duplicates": report.duplicates, "rejected": report.rejected.len(),
            "first_rejection": report.rejected.first().map(|r| format!("{:?}: {:?}", r.reason, r.detail)),
            "remaining": report.remaining, "requests": report.requests,
            "sync_s": sync_s, "vm_hwm_kb": vm_hwm_kb(),
        })
    );
}

fn main() {
    if let Ok(mode) = std::env::var(CHILD_ENV) {
        child_main(&mode);
        return;
    }
    // `cargo test --benches` runs this with --bench absent: keep that fast.
    if !std::env::args().any(|a| a == "--bench") {
        println!("benchmarks run with `cargo bench -p punch-tests --bench sync_bench`");
        return;
    }
    // `-- server` (or upload, memory) runs that group only.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| ["upload", "server", "memory"].contains(&a.as_str()))
        .collect();
    let run = |group: &str| only.is_empty() || only.iter().any(|g| g == group);
    let started = Instant::now();
    let setup = setup();
    let queue = punch_queue(&setup, UPLOAD_PUNCHES);
    if run("upload") {
        bench_upload(&setup, &queue);
    }
    if run("server") {
        bench_server_rate(&setup, &queue);
    }
    if run("memory") {
        bench_memory(&setup, &queue);
    }
    eprintln!("sync_bench took {:.1} s", started.elapsed().as_secs_f64());
}
