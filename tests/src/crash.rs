//! Crash harness: the real punch-and-sync loop in a child process (real
//! device SQLite file, real server on 127.0.0.1 in another child process),
//! killed with SIGKILL at random moments, restarted, and checked.
//!
//! The device child (`punch-crash device`) prints a marker before each
//! `punch()` (`PUNCH`) and each `sync_now()` (`SYNC`), and after `punch()`
//! returns the acknowledgement `ACK <seq> <punch id> <hash>`: what the app
//! would have shown the employee. The parent kills it at a random moment
//! after a chosen marker, reads everything it printed up to its death, and
//! classifies the kill by the last line (`PUNCH` = during a punch, `SYNC` =
//! during a sync). The second mode kills the server child while the device
//! is uploading and restarts it on the same port and database.
//!
//! At the end: every acknowledged punch is on the device exactly once (same
//! seq and hash), `verify_chain()` is intact, and after a final sync the
//! server holds each exactly once, with nothing rejected.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use geographiclib_rs::{DirectGeodesic, Geodesic};
use punch_core::{EngineOptions, Evidence, GpsFix, PunchEngine, PunchKind};
use punch_core::{RetryConfig, ServerConfig};
use punch_server::Admin;

use crate::world::{EMPLOYEE, HQ, employer};

/// A small seeded generator (SplitMix64): the same seed replays the same
/// choice of kill moments (the moments themselves depend on the machine).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
}

/// A seed from the clock, for runs that do not pass one.
pub fn fresh_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
        ^ u64::from(std::process::id())
}

#[derive(Debug, Clone)]
pub struct CrashConfig {
    /// The `punch-crash` executable (children are started from it).
    pub exe: PathBuf,
    pub device_kills: u32,
    pub server_kills: u32,
    pub seed: u64,
    /// Print one line per round.
    pub verbose: bool,
}

/// What the harness saw and checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrashReport {
    pub seed: u64,
    pub device_kills: u32,
    pub kills_during_punch: u32,
    pub kills_during_sync: u32,
    /// Kills that landed between a punch and a sync (after an ACK or a sync's end).
    pub kills_between: u32,
    pub server_kills: u32,
    /// Server kills while the device had a sync in flight.
    pub server_kills_mid_sync: u32,
    pub acknowledged: u64,
    /// Acknowledged punches missing on the device (or with another seq/hash).
    pub lost_on_device: u64,
    /// Acknowledged punches the server does not hold after the final sync.
    pub lost_on_server: u64,
    /// Punch ids stored more than once (device or server).
    pub duplicated: u64,
    pub chain_failures: u64,
    /// Records the server rejected (a crash must never produce one).
    pub rejected_on_server: u64,
    pub records_on_device: u64,
    pub records_on_server: u64,
}

impl CrashReport {
    /// The harness's verdict: nothing lost, doubled, broken or rejected.
    pub fn is_clean(&self) -> bool {
        self.lost_on_device == 0
            && self.lost_on_server == 0
            && self.duplicated == 0
            && self.chain_failures == 0
            && self.rejected_on_server == 0
    }

    /// The table `scripts/crash.sh` prints.
    pub fn table(&self) -> String {
        let rows = [
            ("seed", self.seed.to_string()),
            ("rounds (device kills)", self.device_kills.to_string()),
            ("  kills during punch", self.kills_during_punch.to_string()),
            ("  kills during sync", self.kills_during_sync.to_string()),
            ("  kills between", self.kills_between.to_string()),
            ("server kills", self.server_kills.to_string()),
            (
                "  with a sync in flight",
                self.server_kills_mid_sync.to_string(),
            ),
            ("acknowledged punches", self.acknowledged.to_string()),
            ("records on device", self.records_on_device.to_string()),
            ("records on server", self.records_on_server.to_string()),
            ("lost (device)", self.lost_on_device.to_string()),
            ("lost (server)", self.lost_on_server.to_string()),
            ("duplicated", self.duplicated.to_string()),
            ("chain failures", self.chain_failures.to_string()),
            ("rejected by server", self.rejected_on_server.to_string()),
        ];
        let mut out = String::new();
        for (k, v) in rows {
            out.push_str(&format!("| {k:<24} | {v:>20} |\n"));
        }
        out
    }
}

/// One acknowledged punch, as the child printed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    pub seq: u64,
    pub punch_id: String,
    pub hash: String,
}

impl Ack {
    fn parse(line: &str) -> Option<Ack> {
        let mut parts = line.strip_prefix("ACK ")?.split(' ');
        let ack = Ack {
            seq: parts.next()?.parse().ok()?,
            punch_id: parts.next()?.to_string(),
            hash: parts.next()?.to_string(),
        };
        parts.next().is_none().then_some(ack)
    }
}

/// A child whose stdout lines arrive on a channel.
struct Watched {
    child: Child,
    lines: Receiver<String>,
    name: &'static str,
}

impl Watched {
    fn spawn(mut command: Command, name: &'static str) -> Result<Watched, String> {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("spawn {name}: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Watched { child, lines, name })
    }

    /// Waits for a line satisfying `want`; returns every line read, that one last.
    fn until(
        &mut self,
        timeout: Duration,
        mut want: impl FnMut(&str) -> bool,
    ) -> Result<Vec<String>, String> {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let done = want(&line);
                    seen.push(line);
                    if done {
                        return Ok(seen);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!(
                        "{}: no expected line within {timeout:?} (last: {:?})",
                        self.name,
                        seen.last()
                    ));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().map_err(|e| e.to_string())?;
                    return Err(format!(
                        "{} exited on its own ({status}); last line {:?}",
                        self.name,
                        seen.last()
                    ));
                }
            }
        }
    }

    /// SIGKILL, reap, and return every line printed before death.
    fn kill(mut self) -> Result<Vec<String>, String> {
        self.child
            .kill()
            .map_err(|e| format!("kill {}: {e}", self.name))?;
        self.child.wait().map_err(|e| e.to_string())?;
        // The pipe closes with the process: this ends.
        Ok(self.lines.iter().collect())
    }
}

/// How long the children may live at most (they stop by themselves).
const CHILD_MAX_MS: u64 = 15 * 60 * 1000;

fn server_command(exe: &Path, db: &Path, port: u16) -> Command {
    let mut c = Command::new(exe);
    c.arg("server")
        .arg("--db")
        .arg(db)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--max-ms")
        .arg(CHILD_MAX_MS.to_string());
    c
}

fn start_server(exe: &Path, db: &Path, port: u16) -> Result<Watched, String> {
    // A killed server's port is free again at once (SO_REUSEADDR); retry a
    // little anyway in case the kernel is slow to release it.
    let mut last = String::new();
    for _ in 0..50 {
        let mut server = Watched::spawn(server_command(exe, db, port), "server")?;
        match server.until(Duration::from_secs(20), |l| l.starts_with("READY")) {
            Ok(_) => return Ok(server),
            Err(e) => {
                last = e;
                let _ = server.kill();
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    Err(format!("server did not start: {last}"))
}

fn device_command(exe: &Path, db: &Path, port: u16, key: &[u8], seed: u64, burst: u64) -> Command {
    let mut c = Command::new(exe);
    c.arg("device")
        .arg("--db")
        .arg(db)
        .arg("--server")
        .arg(format!("http://127.0.0.1:{port}"))
        .arg("--policy-key")
        .arg(hex::encode(key))
        .arg("--seed")
        .arg(seed.to_string())
        .arg("--burst")
        .arg(burst.to_string())
        .arg("--max-ms")
        .arg(CHILD_MAX_MS.to_string());
    c
}

/// The engine configuration the children and the parent share.
pub fn device_engine(
    db: &Path,
    base_url: &str,
    policy_key: Vec<u8>,
) -> punch_core::Result<PunchEngine> {
    let mut server = ServerConfig::new(base_url, policy_key);
    server.batch_size = 50;
    server.request_timeout_ms = 3_000;
    server.retry = RetryConfig {
        base_delay_ms: 5,
        max_delay_ms: 100,
        max_attempts_per_sync: 2,
        max_inline_wait_ms: 200,
    };
    PunchEngine::open_with(
        db,
        EngineOptions {
            server: Some(server),
            ..Default::default()
        },
    )
}

/// A fresh, accurate fix 25 m from HQ, timed by the engine's best clock.
pub fn hq_evidence(engine: &PunchEngine) -> Evidence {
    let at: (f64, f64) = Geodesic::wgs84().direct(HQ.0, HQ.1, 30.0, 25.0);
    Evidence {
        gps: Some(GpsFix {
            lat: at.0,
            lon: at.1,
            accuracy_m: 8.0,
            fix_time_ms: engine.estimated_server_time_ms(),
            provider: "gps".into(),
            is_mock: false,
            speed_mps: None,
            elapsed_realtime_ms: None,
            reduced_accuracy: false,
            external_receiver: false,
        }),
        ..Evidence::default()
    }
}

/// The device child: punch 1–`burst` times, sync, repeat, until killed (or `max_ms`).
pub fn device_child(
    db: &Path,
    base_url: &str,
    policy_key: Vec<u8>,
    seed: u64,
    burst: u64,
    max_ms: u64,
) -> Result<(), String> {
    let engine = device_engine(db, base_url, policy_key).map_err(|e| e.to_string())?;
    let mut rng = Rng::new(seed);
    let out = std::io::stdout();
    let say = |line: &str| {
        let mut o = out.lock();
        // A closed pipe means the parent is gone: stop quietly.
        if writeln!(o, "{line}").and_then(|_| o.flush()).is_err() {
            std::process::exit(0);
        }
    };
    say("OPEN");
    let deadline = Instant::now() + Duration::from_millis(max_ms);
    let kinds = [PunchKind::ClockIn, PunchKind::ClockOut];
    while Instant::now() < deadline {
        for _ in 0..rng.range(1, burst.max(1)) {
            let kind = kinds[rng.range(0, 1) as usize];
            let evidence = hq_evidence(&engine);
            say("PUNCH");
            let receipt = engine
                .punch(kind, &evidence)
                .map_err(|e| format!("punch: {e}"))?;
            say(&format!(
                "ACK {} {} {}",
                receipt.seq, receipt.punch_id, receipt.record_hash
            ));
        }
        say("SYNC");
        let report = engine.sync_now().map_err(|e| format!("sync: {e}"))?;
        say(&format!(
            "SYNCED {} {}",
            report.uploaded,
            report
                .error
                .map_or("ok".to_string(), |e| e.to_string().replace('\n', " "))
        ));
    }
    Ok(())
}

/// The server child: serve until killed (or `max_ms`).
pub fn server_child(db: &Path, listen: std::net::SocketAddr, max_ms: u64) -> Result<(), String> {
    let mut config = punch_server::ServerConfig::new(punch_server::DbUrl::Sqlite(db.to_path_buf()));
    config.listen = listen;
    let handle = punch_server::ServerHandle::start(config).map_err(|e| e.to_string())?;
    println!("READY {}", handle.addr());
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    std::thread::sleep(Duration::from_millis(max_ms));
    handle.stop();
    Ok(())
}

fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

/// Every acknowledged punch so far must be in the device file with its seq
/// and hash (read straight from SQLite, as the next open would).
fn check_device_file(db: &Path, acks: &[Ack]) -> Result<(u64, u64), String> {
    let conn = rusqlite::Connection::open(db).map_err(|e| e.to_string())?;
    let mut stmt = conn
        .prepare("SELECT seq, punch_id, lower(hex(hash)) FROM punches")
        .map_err(|e| e.to_string())?;
    let rows: Vec<(i64, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(|e| e.to_string())?
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let mut by_id: HashMap<&str, Vec<(u64, &str)>> = HashMap::new();
    for (seq, id, hash) in &rows {
        by_id.entry(id).or_default().push((*seq as u64, hash));
    }
    let duplicated = by_id.values().filter(|v| v.len() > 1).count() as u64;
    let lost = acks
        .iter()
        .filter(|a| {
            by_id
                .get(a.punch_id.as_str())
                .is_none_or(|v| v != &[(a.seq, a.hash.as_str())])
        })
        .count() as u64;
    Ok((lost, duplicated))
}

/// Runs the whole harness: device kills, then server kills, then the checks.
pub fn run(config: &CrashConfig) -> Result<CrashReport, String> {
    let mut report = CrashReport {
        seed: config.seed,
        ..CrashReport::default()
    };
    let mut rng = Rng::new(config.seed);
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let server_db = dir.path().join("server.db");
    let device_db = dir.path().join("device.db");
    let admin: Admin = employer(&punch_server::DbUrl::Sqlite(server_db.clone()));
    let key = admin.policy_public_key().map_err(|e| e.to_string())?;
    let port = free_port()?;
    let base_url = format!("http://127.0.0.1:{port}");
    let mut server = start_server(&config.exe, &server_db, port)?;

    {
        let engine =
            device_engine(&device_db, &base_url, key.clone()).map_err(|e| e.to_string())?;
        let code = admin
            .create_enrollment_code(EMPLOYEE, Duration::from_secs(600))
            .map_err(|e| e.to_string())?;
        engine.enroll(&code).map_err(|e| format!("enroll: {e}"))?;
        let first = engine.sync().map_err(|e| e.to_string())?;
        if first.error.is_some() {
            return Err(format!("first sync failed: {:?}", first.error));
        }
    }

    let mut acks: Vec<Ack> = Vec::new();
    let collect = |lines: &[String], acks: &mut Vec<Ack>| {
        acks.extend(lines.iter().filter_map(|l| Ack::parse(l)));
    };

    // Mode 1: kill the device at random moments of a punch or a sync.
    for round in 0..config.device_kills {
        let mut device = Watched::spawn(
            device_command(&config.exe, &device_db, port, &key, rng.next_u64(), 3),
            "device",
        )?;
        let during_sync = rng.range(0, 1) == 1;
        let marker = if during_sync { "SYNC" } else { "PUNCH" };
        let mut skip = rng.range(0, 2);
        let lines = device.until(Duration::from_secs(30), |l| {
            if l == marker {
                if skip == 0 {
                    return true;
                }
                skip -= 1;
            }
            false
        })?;
        collect(&lines, &mut acks);
        // A punch takes a few ms (fsync), a sync a few tens.
        let delay_us = if during_sync {
            rng.range(0, 40_000)
        } else {
            rng.range(0, 6_000)
        };
        std::thread::sleep(Duration::from_micros(delay_us));
        let rest = device.kill()?;
        collect(&rest, &mut acks);
        let last = rest.last().or(lines.last()).map(String::as_str);
        match last {
            Some("PUNCH") => report.kills_during_punch += 1,
            Some("SYNC") => report.kills_during_sync += 1,
            _ => report.kills_between += 1,
        }
        report.device_kills += 1;
        let (lost, dup) = check_device_file(&device_db, &acks)?;
        if config.verbose {
            println!(
                "device round {round}: aimed at {marker} +{delay_us} us, died after {last:?}, acks {} lost {lost} dup {dup}",
                acks.len()
            );
        }
        if lost > 0 || dup > 0 {
            return Err(format!(
                "round {round} (seed {}): {lost} acknowledged punch(es) lost, {dup} duplicated on the device",
                config.seed
            ));
        }
    }

    // Mode 2: kill the server while the device uploads; restart it.
    if config.server_kills > 0 {
        let mut device = Watched::spawn(
            // Bigger bursts: uploads of several batches, a wider window to hit.
            device_command(&config.exe, &device_db, port, &key, rng.next_u64(), 120),
            "device",
        )?;
        for round in 0..config.server_kills {
            let mut skip = rng.range(0, 3);
            let lines = device.until(Duration::from_secs(30), |l| {
                if l == "SYNC" {
                    if skip == 0 {
                        return true;
                    }
                    skip -= 1;
                }
                false
            })?;
            collect(&lines, &mut acks);
            let delay_us = rng.range(0, 15_000);
            std::thread::sleep(Duration::from_micros(delay_us));
            server.kill()?;
            // Was the device still inside that sync when the server died?
            let mut in_flight = true;
            while let Ok(line) = device.lines.try_recv() {
                if line.starts_with("SYNCED") {
                    in_flight = false;
                }
                if let Some(a) = Ack::parse(&line) {
                    acks.push(a);
                }
            }
            report.server_kills += 1;
            report.server_kills_mid_sync += u32::from(in_flight);
            // Let the device meet a dead server for a moment.
            std::thread::sleep(Duration::from_millis(rng.range(20, 200)));
            server = start_server(&config.exe, &server_db, port)?;
            if config.verbose {
                println!(
                    "server round {round}: killed +{delay_us} us after SYNC, sync in flight: {in_flight}, acks {}",
                    acks.len()
                );
            }
        }
        // One more full sync cycle against the live server, then stop the device.
        let lines = device.until(Duration::from_secs(30), |l| l.starts_with("SYNCED"))?;
        collect(&lines, &mut acks);
        let rest = device.kill()?;
        collect(&rest, &mut acks);
    }

    // The checks.
    report.acknowledged = acks.len() as u64;
    let (lost, dup) = check_device_file(&device_db, &acks)?;
    report.lost_on_device = lost;
    report.duplicated += dup;
    let engine = device_engine(&device_db, &base_url, key).map_err(|e| e.to_string())?;
    let chain = engine.verify_chain().map_err(|e| e.to_string())?;
    report.chain_failures = chain.breaks.len() as u64;
    report.records_on_device = chain.records;
    if !chain.is_intact() {
        eprintln!("chain breaks: {:?}", chain.breaks);
    }
    let mut pending = u64::MAX;
    for _ in 0..20 {
        let r = engine.sync_now().map_err(|e| e.to_string())?;
        pending = engine.pending_count().map_err(|e| e.to_string())?;
        if pending == 0 && r.error.is_none() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if pending != 0 {
        return Err(format!(
            "{pending} punches still pending after the final sync"
        ));
    }
    let punches = admin.punches().map_err(|e| e.to_string())?;
    let mut on_server: HashMap<&str, Vec<(u64, &str)>> = HashMap::new();
    for p in &punches {
        on_server
            .entry(p.punch_id.as_str())
            .or_default()
            .push((p.seq, p.hash.as_str()));
    }
    report.records_on_server = punches.len() as u64;
    report.duplicated += on_server.values().filter(|v| v.len() > 1).count() as u64;
    report.lost_on_server = acks
        .iter()
        .filter(|a| {
            on_server
                .get(a.punch_id.as_str())
                .is_none_or(|v| v != &[(a.seq, a.hash.as_str())])
        })
        .count() as u64;
    report.rejected_on_server = admin.rejected().map_err(|e| e.to_string())?.len() as u64;
    drop(engine);
    let _ = server.kill();
    Ok(report)
}
