//! Load test: N `punch-server` processes on loopback over one database, M
//! enrolled devices uploading pre-signed batches round-robin across them.
//! One JSON line per figure: {"bench","value","unit","baseline","ratio"}
//! plus details. After every run the database is checked: exactly the
//! expected records, no (device, seq) or punch id twice, every device's
//! stored hashes equal to its chain and its head at the last record.
//!
//!   scripts/with-postgres.sh cargo run --release -p punch-tests --bin scale_bench
//!   ... -- --smoke            (a few seconds: what CI runs)
//!   ... -- --devices 1000 --records 100 --batch 50 --servers 1,2,4
//!
//! PostgreSQL runs need PUNCH_PG_URL (scripts/with-postgres.sh sets it);
//! SQLite runs always happen. Only 127.0.0.1 is ever contacted, and every
//! loop is bounded (a run stops at its deadline).

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use punch_model::ledger::record::{
    GENESIS_HASH, PunchKind, PunchRecord, RECORD_FORMAT, RecordedEvidence, new_punch_id,
};
use punch_model::ledger::signing::{self, Signer, SoftwareSigner};
use punch_model::rules::evaluate::{Decision, Evaluation};
use punch_model::rules::policy::Site;
use punch_model::wire::{self, EnrollRequest, UploadRecord, UploadRequest};
use punch_server::{Admin, DbUrl, PostgresStore};
use serde_json::json;

type Fail = Box<dyn std::error::Error + Send + Sync>;
type Res<T> = Result<T, Fail>;

struct Opts {
    devices: usize,
    records: usize,
    batch: usize,
    servers: Vec<usize>,
    clients: usize,
    deadline: Duration,
}

fn opts() -> Res<Opts> {
    let mut o = Opts {
        devices: 1000,
        records: 100,
        batch: 50,
        servers: vec![1, 2, 4],
        clients: 8,
        deadline: Duration::from_secs(300),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = || args.get(i + 1).cloned().ok_or("missing value");
        match args[i].as_str() {
            "--smoke" => {
                o.devices = 20;
                o.records = 20;
                o.batch = 10;
                o.servers = vec![1, 2];
                o.clients = 4;
                o.deadline = Duration::from_secs(60);
                i += 1;
                continue;
            }
            "--devices" => o.devices = value()?.parse()?,
            "--records" => o.records = value()?.parse()?,
            "--batch" => o.batch = value()?.parse()?,
            "--clients" => o.clients = value()?.parse()?,
            "--servers" => {
                o.servers = value()?
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()?
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
        i += 2;
    }
    Ok(o)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// utime + stime of a process, in seconds (Linux /proc).
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU seconds of every process named `postgres` (the database's share).
fn postgres_cpu() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "postgres")
        })
        .map(cpu_seconds)
        .sum()
}

fn self_cpu() -> f64 {
    cpu_seconds(std::process::id())
}

/// A keep-alive HTTP/1.1 connection (loopback only).
struct Conn {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn open(addr: SocketAddr) -> Res<Conn> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        Ok(Conn {
            reader: BufReader::new(stream.try_clone()?),
            stream,
        })
    }

    fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Res<(u16, Vec<u8>)> {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\nContent-Type: application/json\r\n",
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        self.stream.write_all(head.as_bytes())?;
        self.stream.write_all(body)?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status: u16 = line.split(' ').nth(1).ok_or("no status")?.parse()?;
        let mut len = 0usize;
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                len = v.trim().parse()?;
            }
        }
        let mut body = vec![0u8; len];
        self.reader.read_exact(&mut body)?;
        Ok((status, body))
    }
}

struct Dev {
    id: String,
    signer: SoftwareSigner,
    /// Pre-serialised upload bodies, one per batch.
    bodies: Vec<Vec<u8>>,
    /// Each body's signed request headers, made before the clock starts
    /// (the load generator should spend the shared cores on sending).
    headers: Vec<Vec<(&'static str, String)>>,
    /// Expected hash per seq (index seq-1).
    hashes: Vec<String>,
}

/// Signed like the engine signs: uploads state the device's chain head.
fn signed_headers(
    dev: &Dev,
    method: &str,
    path: &str,
    body: &[u8],
    n: usize,
    head: Option<&wire::HeadStatement>,
) -> Res<Vec<(&'static str, String)>> {
    let ts = now_ms();
    let nonce = format!("bench-{}-{n}-{ts}", std::process::id());
    let msg = wire::request_signing_string(method, path, body, ts, &nonce, head);
    let sig = dev.signer.sign(&msg).map_err(|e| e.to_string())?;
    let mut headers = vec![
        (wire::HEADER_DEVICE, dev.id.clone()),
        (wire::HEADER_TIMESTAMP, ts.to_string()),
        (wire::HEADER_NONCE, nonce),
        (wire::HEADER_SIGNATURE, wire::b64::encode(&sig)),
    ];
    if let Some(h) = head {
        headers.push((wire::HEADER_HEAD, h.to_string()));
    }
    Ok(headers)
}

fn make_device(i: usize, employee: &str, policy_version: u64, o: &Opts) -> Res<Dev> {
    let (signer, _) = SoftwareSigner::generate().map_err(|e| e.to_string())?;
    let id = format!("bench-dev-{i:05}-{}", now_ms());
    let mut prev = GENESIS_HASH.to_string();
    let mut ups = Vec::with_capacity(o.records);
    let mut hashes = Vec::with_capacity(o.records);
    for seq in 1..=o.records as u64 {
        let wall_time_ms = now_ms();
        let record = PunchRecord {
            format: RECORD_FORMAT,
            // As the phone makes them (core's recorder).
            punch_id: new_punch_id(wall_time_ms),
            device_id: id.clone(),
            employee_id: employee.to_string(),
            seq,
            kind: if seq % 2 == 1 {
                PunchKind::ClockIn
            } else {
                PunchKind::ClockOut
            },
            wall_time_ms,
            utc_offset_min: 60,
            monotonic_ms: 10_000_000 + seq * 1000,
            boot_id: "boot-1".into(),
            anchor: None,
            policy_version,
            evidence: RecordedEvidence::default(),
            evaluation: Evaluation {
                decision: Decision::Accepted,
                site_id: Some("hq".into()),
                policy_version,
                sites: Vec::new(),
                flags: Vec::new(),
                nearest_site: None,
                reasons: Vec::new(),
                attendance: None,
            },
            prev_hash: prev.clone(),
            notice: None,
            sealed: None,
            photo: None,
            biometric_verified: None,
        };
        let bytes = record.to_bytes().map_err(|e| e.to_string())?;
        prev = hex::encode(signing::sha256(&bytes));
        hashes.push(prev.clone());
        ups.push(UploadRecord {
            seq,
            signature: signer.sign(&bytes).map_err(|e| e.to_string())?,
            record: bytes,
        });
    }
    let bodies = ups
        .chunks(o.batch)
        .map(|c| {
            serde_json::to_vec(&UploadRequest {
                device_id: id.clone(),
                records: c.to_vec(),
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Dev {
        id,
        signer,
        bodies,
        headers: Vec::new(),
        hashes,
    })
}

struct Servers {
    children: Vec<Child>,
    addrs: Vec<SocketAddr>,
}

impl Drop for Servers {
    /// SIGTERM first (the server's graceful stop, and what lets a wrapper
    /// such as `perf stat` report), SIGKILL after 10 s.
    fn drop(&mut self) {
        for c in &self.children {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        for c in &mut self.children {
            while matches!(c.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn server_bin() -> Res<PathBuf> {
    if let Ok(p) = std::env::var("PUNCH_SERVER_BIN") {
        return Ok(p.into());
    }
    let here = std::env::current_exe()?;
    let bin = here.parent().ok_or("no exe dir")?.join("punch-server");
    if bin.exists() {
        Ok(bin)
    } else {
        Err(format!(
            "{} missing: cargo build -p punch-server first",
            bin.display()
        )
        .into())
    }
}

fn start_servers(db: &str, n: usize) -> Res<Servers> {
    let bin = server_bin()?;
    let mut s = Servers {
        children: Vec::new(),
        addrs: Vec::new(),
    };
    for _ in 0..n {
        let mut child = Command::new(&bin)
            .args(["serve", "--db", db, "--listen", "127.0.0.1:0"])
            .env("PUNCH_METRICS_TOKEN", METRICS_TOKEN)
            // Per-request info logs cost CPU that the figure should not include.
            .env("RUST_LOG", "warn")
            .env("PUNCH_LOG_FORMAT", "text")
            // The bench enrolls every device from one address.
            .env("PUNCH_LIMITS__ENROLL_PER_IP__HITS", "100000000")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        s.children.push(child);
        let mut lines = BufReader::new(stderr).lines();
        let addr = loop {
            let line = lines.next().ok_or("server exited before listening")??;
            if let Some(url) = line.strip_prefix("punch-server listening on http://") {
                break url.trim().parse::<SocketAddr>()?;
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        s.addrs.push(addr);
    }
    Ok(s)
}

/// The servers' `/metrics` token (metrics are off without one).
const METRICS_TOKEN: &str = "scale-bench";

/// Server-side totals from /metrics: (db µs, /v1/punches request seconds).
fn scrape(addr: SocketAddr) -> Res<(f64, f64)> {
    let mut c = Conn::open(addr)?;
    let auth = [("authorization", format!("Bearer {METRICS_TOKEN}"))];
    let (_, body) = c.send("GET", "/metrics", &auth, b"")?;
    let text = String::from_utf8_lossy(&body);
    let sum = |prefix: &str| -> f64 {
        text.lines()
            .filter(|l| l.starts_with(prefix))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    Ok((
        sum("punch_db_time_microseconds_total"),
        sum("punch_http_request_seconds_sum{route=\"/v1/punches\"}"),
    ))
}

struct RunResult {
    records_per_s: f64,
    seconds: f64,
    db_cpu_share: f64,
    db_wait_share: f64,
    server_cpu_s: f64,
    /// The load generator's CPU (this process) during the run.
    client_cpu_s: f64,
    /// The postgres processes' CPU during the run.
    db_cpu_s: f64,
    db_ok: bool,
    stored: usize,
    problems: Vec<String>,
}

fn fresh_db(backend: &str, dir: &Path, tag: &str) -> Res<DbUrl> {
    Ok(match backend {
        "sqlite" => DbUrl::Sqlite(dir.join(format!("{tag}.db"))),
        _ => {
            let base = std::env::var("PUNCH_PG_URL")?;
            let name = format!("bench_{tag}_{}", now_ms());
            DbUrl::Postgres(PostgresStore::create_database(&base, &name)?)
        }
    })
}

fn db_arg(db: &DbUrl) -> String {
    match db {
        DbUrl::Sqlite(p) => p.display().to_string(),
        DbUrl::Postgres(u) => u.clone(),
    }
}

fn run(backend: &str, n: usize, o: &Opts, dir: &Path) -> Res<RunResult> {
    let db = fresh_db(backend, dir, &format!("{backend}_{n}"))?;
    let admin = Admin::connect(&db)?;
    let site: Site = serde_json::from_value(json!({
        "id": "hq", "name": "HQ",
        "shape": {"type": "circle", "center": {"lat": 52.520008, "lon": 13.404954}, "radius_m": 150.0}
    }))?;
    admin.upsert_site(site)?;
    let version = admin.publish_policy(Duration::from_secs(86_400))?;
    let servers = start_servers(&db_arg(&db), n)?;
    // Devices: keys, chains and bodies made before the clock starts.
    let mut devs = Vec::with_capacity(o.devices);
    let mut codes = Vec::with_capacity(o.devices);
    for i in 0..o.devices {
        let emp = format!("emp-{i:05}");
        admin.add_employee(&emp, "Bench")?;
        codes.push(admin.create_enrollment_code(&emp, Duration::from_secs(3600))?);
        devs.push(make_device(i, &emp, version, o)?);
    }
    for (i, (d, code)) in devs.iter().zip(&codes).enumerate() {
        let body = serde_json::to_vec(&EnrollRequest {
            code: code.clone(),
            device_id: d.id.clone(),
            public_key: d.signer.public_key_spki().map_err(|e| e.to_string())?,
            key_storage: "software".into(),
            platform: "bench".into(),
            attestation: None,
            channel_key: None,
            channel_attestation: None,
            punch_key_proof: None,
        })?;
        let mut c = Conn::open(servers.addrs[i % n])?;
        let headers = signed_headers(d, "POST", wire::PATH_ENROLL, &body, 0, None)?;
        let (status, resp) = c.send("POST", wire::PATH_ENROLL, &headers, &body)?;
        if status != 200 {
            return Err(format!("enroll {status}: {}", String::from_utf8_lossy(&resp)).into());
        }
    }
    // Every upload signed now, each with its own nonce; a run lasts far
    // less than the request timestamp window.
    let mut k = 0usize;
    for d in &mut devs {
        let head = wire::HeadStatement {
            seq: d.hashes.len() as u64,
            hash: d.hashes.last().cloned().unwrap_or_default(),
        };
        d.headers = d
            .bodies
            .iter()
            .map(|body| {
                k += 1;
                signed_headers(d, "POST", wire::PATH_PUNCHES, body, k, Some(&head))
            })
            .collect::<Res<_>>()?;
    }
    let devs = Arc::new(devs);
    let batches = devs.first().map_or(0, |d| d.bodies.len());
    let server_pids: Vec<u32> = servers.children.iter().map(Child::id).collect();
    let cpu0: f64 = server_pids.iter().map(|&p| cpu_seconds(p)).sum();
    let pg0 = postgres_cpu();
    let me0 = self_cpu();
    let m0: Vec<(f64, f64)> = servers
        .addrs
        .iter()
        .map(|&a| scrape(a))
        .collect::<Res<_>>()?;
    let started = Instant::now();
    let deadline = started + o.deadline;
    let failures = Arc::new(AtomicUsize::new(0));
    std::thread::scope(|s| -> Res<()> {
        let mut workers = Vec::new();
        for w in 0..o.clients {
            let devs = devs.clone();
            let addrs = servers.addrs.clone();
            let failures = failures.clone();
            workers.push(s.spawn(move || -> Res<()> {
                let mut conns: Vec<Conn> =
                    addrs.iter().map(|&a| Conn::open(a)).collect::<Res<_>>()?;
                let mut k = 0usize;
                // Round-robin: each device's batch r goes to server (device + r) % n.
                for r in 0..batches {
                    for (d_i, d) in devs.iter().enumerate().skip(w).step_by(o.clients) {
                        if Instant::now() > deadline {
                            return Err("deadline".into());
                        }
                        let target = (d_i + r) % conns.len();
                        let body = &d.bodies[r];
                        k += 1;
                        // A server may close an idle keep-alive connection (its
                        // header timeout): reconnect and send again, as a phone
                        // would; the upload is idempotent, that is the point.
                        let sent =
                            conns[target].send("POST", wire::PATH_PUNCHES, &d.headers[r], body);
                        let (status, resp) = match sent {
                            Ok(answer) => answer,
                            Err(_) => {
                                conns[target] = Conn::open(addrs[target])?;
                                let head = wire::HeadStatement {
                                    seq: d.hashes.len() as u64,
                                    hash: d.hashes.last().cloned().unwrap_or_default(),
                                };
                                let headers = signed_headers(
                                    d,
                                    "POST",
                                    wire::PATH_PUNCHES,
                                    body,
                                    k + 1_000_000_000,
                                    Some(&head),
                                )?;
                                conns[target].send("POST", wire::PATH_PUNCHES, &headers, body)?
                            }
                        };
                        if status != 200 {
                            failures.fetch_add(1, Ordering::Relaxed);
                            eprintln!("upload {status}: {}", String::from_utf8_lossy(&resp));
                        }
                    }
                }
                Ok(())
            }));
        }
        for w in workers {
            w.join().map_err(|_| "worker panicked")??;
        }
        Ok(())
    })?;
    let seconds = started.elapsed().as_secs_f64();
    let server_cpu = server_pids.iter().map(|&p| cpu_seconds(p)).sum::<f64>() - cpu0;
    let pg_cpu = postgres_cpu() - pg0;
    let me_cpu = self_cpu() - me0;
    let m1: Vec<(f64, f64)> = servers
        .addrs
        .iter()
        .map(|&a| scrape(a))
        .collect::<Res<_>>()?;
    let db_us: f64 = m1.iter().zip(&m0).map(|(a, b)| a.0 - b.0).sum();
    let req_s: f64 = m1.iter().zip(&m0).map(|(a, b)| a.1 - b.1).sum();
    drop(servers);

    // The database holds exactly what was sent, once, in intact chains.
    let mut problems = Vec::new();
    let punches = admin.punches()?;
    let expected = o.devices * o.records;
    if punches.len() != expected {
        problems.push(format!(
            "{} records stored, {expected} expected",
            punches.len()
        ));
    }
    let mut seen = HashSet::new();
    let mut ids = HashSet::new();
    let mut by_dev: HashMap<&str, Vec<(u64, &str)>> = HashMap::new();
    for p in &punches {
        if !seen.insert((p.device_id.as_str(), p.seq)) {
            problems.push(format!("{} seq {} twice", p.device_id, p.seq));
        }
        if !ids.insert(p.punch_id.as_str()) {
            problems.push(format!("punch id {} twice", p.punch_id));
        }
        by_dev
            .entry(&p.device_id)
            .or_default()
            .push((p.seq, &p.hash));
    }
    for d in devs.iter() {
        let mut got = by_dev.remove(d.id.as_str()).unwrap_or_default();
        got.sort();
        let hashes: Vec<&str> = got.iter().map(|(_, h)| *h).collect();
        let want: Vec<&str> = d.hashes.iter().map(String::as_str).collect();
        let seqs_ok = got.iter().enumerate().all(|(i, (s, _))| *s == i as u64 + 1);
        if hashes != want || !seqs_ok {
            problems.push(format!("{}: chain differs from what was sent", d.id));
        }
        let head = admin.head(&d.id)?;
        if head
            != (
                o.records as u64,
                d.hashes.last().cloned().unwrap_or_default(),
            )
        {
            problems.push(format!("{}: head {head:?}", d.id));
        }
    }
    let rejected = admin.rejected()?.len();
    if rejected > 0 {
        problems.push(format!("{rejected} records rejected"));
    }
    let failed = failures.load(Ordering::Relaxed);
    if failed > 0 {
        problems.push(format!("{failed} uploads failed"));
    }
    problems.truncate(5);
    let total_cpu = server_cpu + pg_cpu + me_cpu;
    let db_cpu = if backend == "postgres" { pg_cpu } else { 0.0 };
    Ok(RunResult {
        records_per_s: expected as f64 / seconds,
        seconds,
        db_cpu_share: if total_cpu > 0.0 {
            db_cpu / total_cpu
        } else {
            0.0
        },
        db_wait_share: if req_s > 0.0 {
            db_us / 1e6 / req_s
        } else {
            0.0
        },
        server_cpu_s: server_cpu,
        client_cpu_s: me_cpu,
        db_cpu_s: db_cpu,
        db_ok: problems.is_empty(),
        stored: punches.len(),
        problems,
    })
}

/// Single-core P-256 verifications per second (what ingest spends most on).
fn verify_per_core() -> Res<f64> {
    let (signer, _) = SoftwareSigner::generate().map_err(|e| e.to_string())?;
    let key = signer.public_key_spki().map_err(|e| e.to_string())?;
    let msg = vec![7u8; 900];
    let sig = signer.sign(&msg).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < Duration::from_millis(1500) {
        for _ in 0..100 {
            signing::verify(&key, &msg, &sig).map_err(|e| e.to_string())?;
        }
        n += 100;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

fn line(v: serde_json::Value) {
    println!("{v}");
}

fn main() {
    if let Err(e) = real_main() {
        eprintln!("scale_bench: {e}");
        std::process::exit(1);
    }
}

fn real_main() -> Res<()> {
    let o = opts()?;
    let dir = tempfile::tempdir()?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_core = verify_per_core()?;
    let capacity = per_core * cores as f64;
    line(
        json!({"bench": "p256_verify_per_core", "value": per_core.round(), "unit": "verifications/s", "baseline": null, "ratio": null, "cores": cores, "capacity": capacity.round()}),
    );
    let mut backends = vec!["sqlite"];
    if std::env::var("PUNCH_PG_URL").is_ok() && std::env::var("BENCH_SQLITE_ONLY").is_err() {
        backends.insert(0, "postgres");
    } else {
        eprintln!(
            "scale_bench: PUNCH_PG_URL unset (run under scripts/with-postgres.sh): SQLite only"
        );
    }
    let mut all_ok = true;
    for backend in backends {
        let mut baseline = None;
        for &n in &o.servers {
            // Other work on the machine moves the verification rate: the
            // share is taken against the rate measured right before and
            // right after this run (their mean), not once at the start.
            let before = verify_per_core()?;
            let r = run(backend, n, &o, dir.path())?;
            let after = verify_per_core()?;
            let capacity = (before + after) / 2.0 * cores as f64;
            let base = *baseline.get_or_insert(r.records_per_s);
            let records = (o.devices * o.records) as f64;
            all_ok &= r.db_ok;
            line(json!({
                "bench": format!("ingest_{backend}_servers_{n}"),
                "value": r.records_per_s.round(),
                "unit": "records/s",
                "baseline": base.round(),
                "ratio": (r.records_per_s / base * 100.0).round() / 100.0,
                "of_verify_capacity": (r.records_per_s / capacity * 100.0).round() / 100.0,
                "verify_capacity": capacity.round(),
                "devices": o.devices, "records": o.devices * o.records, "batch": o.batch,
                "seconds": (r.seconds * 100.0).round() / 100.0,
                "server_cpu_s": (r.server_cpu_s * 100.0).round() / 100.0,
                "client_cpu_s": (r.client_cpu_s * 100.0).round() / 100.0,
                // CPU per record: servers, database, load generator; and one
                // verification at this run's rate, the part no server avoids.
                "us_per_record": {
                    "server": (r.server_cpu_s * 1e6 / records).round(),
                    "db": (r.db_cpu_s * 1e6 / records).round(),
                    "client": (r.client_cpu_s * 1e6 / records).round(),
                    "verify": (cores as f64 * 1e6 / capacity).round(),
                },
                "db_cpu_share": (r.db_cpu_share * 100.0).round() / 100.0,
                "db_wait_share": (r.db_wait_share * 100.0).round() / 100.0,
                "db_check": if r.db_ok { "ok".to_string() } else { r.problems.join("; ") },
                "stored": r.stored,
            }));
        }
    }
    if all_ok {
        Ok(())
    } else {
        Err("the database did not hold exactly the expected records".into())
    }
}
