//! Test helpers shared by the integration tests: a real server on a temp
//! database, a minimal HTTP/1.1 client over TcpStream, and a device that
//! signs requests and builds chained punch records like the app does.
//!
//! The back end is chosen by `PUNCH_TEST_DB`: unset (or `sqlite`) for a
//! SQLite file per test, or a PostgreSQL URL (`postgres://…/postgres`) on
//! which each test gets a fresh database. `scripts/test.sh` runs the suite
//! both ways.
#![allow(dead_code)]

pub mod staff;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use punch_model::ledger::record::{
    GENESIS_HASH, PunchKind, PunchRecord, RECORD_FORMAT, RecordedEvidence, TimeAnchor,
};
use punch_model::ledger::signing::{self, Signer, SoftwareSigner};
use punch_model::rules::evaluate::{Decision, Evaluation};
use punch_model::wire::{self, EnrollRequest, UploadRecord, UploadRequest};
use punch_server::{Admin, DbUrl, PostgresStore, ServerConfig, ServerHandle};
use serde_json::Value;

pub const DAY: Duration = Duration::from_secs(86_400);

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A parsed HTTP response.
#[derive(Debug)]
pub struct Http {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Http {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {} body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {} body does not parse ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The wire error code of an error response.
    pub fn error_code(&self) -> String {
        self.json()["error"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Asserts status and error code, with the body in the message.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status, self.error_code().as_str()),
            (status, code),
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        self.assert_stamped();
    }

    /// Every response: body server_time_ms equal to the header, near now.
    pub fn assert_stamped(&self) {
        let header: i64 = self
            .header(wire::HEADER_SERVER_TIME)
            .expect("x-punch-server-time header")
            .parse()
            .unwrap();
        assert!((header - now_ms()).abs() < 60_000, "server time {header}");
        if let Some(body) = serde_json::from_slice::<Value>(&self.body)
            .ok()
            .and_then(|v| v["server_time_ms"].as_i64())
        {
            assert_eq!(body, header, "body and header server time differ");
        } else {
            panic!("no server_time_ms in body");
        }
    }
}

/// One HTTP/1.1 exchange on a fresh connection (Connection: close).
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> Http {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        head.push_str("Content-Type: application/json\r\n");
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> Http {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = std::str::from_utf8(&raw[..split]).unwrap();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.trim().to_ascii_lowercase(), v.trim().to_string())
        })
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Http {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size_text = std::str::from_utf8(&data[..line_end]).unwrap();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// Reads one HTTP response (headers and a Content-Length body) or EOF.
pub fn read_response(stream: &mut TcpStream) -> Option<Http> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if raw.len() >= end + 4 + len {
                break;
            }
        }
    }
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..end]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some(Http {
        status,
        headers,
        body: raw[end + 4..].to_vec(),
    })
}

pub fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

/// Dropping the audit log's append-only trigger (what someone with write
/// access to the database does first).
pub fn audit_trigger_drop_sql(db: &DbUrl) -> String {
    match db {
        DbUrl::Sqlite(_) => "DROP TRIGGER audit_log_no_update".into(),
        DbUrl::Postgres(_) => "DROP TRIGGER audit_log_append_only ON audit_log".into(),
    }
}

/// SQL behind the server's back (our own literals).
pub fn execute_sql(db: &DbUrl, sql: &str) -> Result<(), String> {
    match db {
        DbUrl::Sqlite(path) => rusqlite::Connection::open(path)
            .and_then(|db| db.execute_batch(sql))
            .map_err(|e| e.to_string()),
        DbUrl::Postgres(url) => {
            let out = std::process::Command::new("psql")
                .args(["-v", "ON_ERROR_STOP=1", "-q", url, "-c", sql])
                .output()
                .expect("psql runs");
            if out.status.success() {
                Ok(())
            } else {
                Err(String::from_utf8_lossy(&out.stderr).into_owned())
            }
        }
    }
}

/// A fresh, empty database of the back end under test (see the module doc).
pub fn test_db(dir: &Path) -> TestDb {
    match std::env::var("PUNCH_TEST_DB").ok().as_deref() {
        None | Some("") | Some("sqlite") => TestDb {
            url: DbUrl::Sqlite(dir.join("server.db")),
            scratch: None,
        },
        Some(url) if url.starts_with("postgres") => TestDb::scratch(url, "punch_t"),
        Some(other) => panic!("PUNCH_TEST_DB={other:?}: use sqlite or a postgres:// URL"),
    }
}

/// A database under test (a [`DbUrl`] by `Deref`). A PostgreSQL scratch
/// database is dropped with it, so runs against a long-lived server leave
/// none behind; SQLite's file goes with the test's directory. Declare it
/// before the servers and stores on it: they are dropped first.
pub struct TestDb {
    url: DbUrl,
    /// (server URL, database name) of a scratch database to drop.
    scratch: Option<(String, String)>,
}

impl TestDb {
    /// A fresh database `<prefix>_<uuid>` on the PostgreSQL server `url` reaches.
    pub fn scratch(url: &str, prefix: &str) -> TestDb {
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let db = PostgresStore::create_database(url, &name).expect("scratch database");
        TestDb {
            url: DbUrl::Postgres(db),
            scratch: Some((url.to_string(), name)),
        }
    }
}

/// A database the test made itself: nothing to drop.
impl From<DbUrl> for TestDb {
    fn from(url: DbUrl) -> TestDb {
        TestDb { url, scratch: None }
    }
}

impl std::ops::Deref for TestDb {
    type Target = DbUrl;

    fn deref(&self) -> &DbUrl {
        &self.url
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((url, name)) = &self.scratch
            && let Err(e) = PostgresStore::drop_database(url, name)
        {
            // Never a panic in drop (it may run while a test unwinds).
            eprintln!("scratch database {name} not dropped: {e}");
        }
    }
}

/// The same database as text, for `--db` on the command line.
pub fn db_arg(db: &DbUrl) -> String {
    match db {
        DbUrl::Sqlite(path) => path.display().to_string(),
        DbUrl::Postgres(url) => url.clone(),
    }
}

/// The `/metrics` token test servers are configured with.
pub const METRICS_TOKEN: &str = "test-metrics-token";

/// The header a scraper sends.
pub fn metrics_auth() -> Vec<(&'static str, String)> {
    vec![("authorization", format!("Bearer {METRICS_TOKEN}"))]
}

/// A server on `db` at a free loopback port.
pub fn start_on(db: &DbUrl, limits: punch_server::Limits) -> ServerHandle {
    ServerHandle::start(ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        limits,
        metrics_token: Some(METRICS_TOKEN.into()),
        ..ServerConfig::new(db.clone())
    })
    .unwrap()
}

/// Like [`start_on`], with PIN reset codes written to `codes` (JSON lines).
pub fn start_with_codes(db: &DbUrl, codes: &std::path::Path) -> ServerHandle {
    ServerHandle::start(ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        pin_codes: punch_server::CodeDelivery::File(codes.to_path_buf()),
        metrics_token: Some(METRICS_TOKEN.into()),
        ..ServerConfig::new(db.clone())
    })
    .unwrap()
}

/// A real server on a temp database, plus an Admin on the same database.
pub struct TestServer {
    pub handle: Option<ServerHandle>,
    pub admin: Admin,
    /// Dropped after the server and admin on it (fields drop in order).
    pub db: TestDb,
    pub dir: tempfile::TempDir,
}

impl TestServer {
    pub fn start() -> TestServer {
        Self::with_limits(punch_server::Limits::default())
    }

    pub fn with_limits(limits: punch_server::Limits) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let db = test_db(dir.path());
        let handle = if limits == punch_server::Limits::default() {
            start_with_codes(&db, &dir.path().join("codes.jsonl"))
        } else {
            start_on(&db, limits)
        };
        let admin = Admin::connect(&db).unwrap();
        TestServer {
            dir,
            db,
            handle: Some(handle),
            admin,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.handle.as_ref().expect("server running").addr()
    }

    pub fn stop(&mut self) -> SocketAddr {
        let handle = self.handle.take().expect("server running");
        let addr = handle.addr();
        handle.stop();
        addr
    }

    pub fn restart(&mut self) {
        if self.handle.is_some() {
            self.stop();
        }
        self.handle = Some(start_on(&self.db, punch_server::Limits::default()));
    }

    /// An employee with a fresh code.
    pub fn employee_code(&self, employee_id: &str) -> String {
        self.admin.add_employee(employee_id, "Test Person").unwrap();
        self.admin.create_enrollment_code(employee_id, DAY).unwrap()
    }

    /// Adds one circle site and publishes; returns the version.
    pub fn publish(&self) -> u64 {
        let site: punch_model::rules::policy::Site = serde_json::from_value(serde_json::json!({
            "id": "hq",
            "name": "Head office",
            "shape": {"type": "circle", "center": {"lat": 52.520008, "lon": 13.404954}, "radius_m": 150.0}
        }))
        .unwrap();
        self.admin.upsert_site(site).unwrap();
        self.admin.publish_policy(DAY * 30).unwrap()
    }

    /// A device enrolled for a new employee, with a published policy.
    pub fn enrolled_device(&self, employee_id: &str) -> Device {
        let code = self.employee_code(employee_id);
        let mut device = Device::new();
        let resp = device.enroll(self.addr(), &code);
        assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
        device.employee_id = employee_id.to_string();
        device
    }
}

static NONCES: AtomicU64 = AtomicU64::new(0);

pub fn fresh_nonce() -> String {
    format!(
        "nonce-{}-{}",
        NONCES.fetch_add(1, Ordering::Relaxed),
        uuid::Uuid::new_v4()
    )
}

/// A device like the app: a P-256 key, request signing, a record chain.
pub struct Device {
    pub id: String,
    pub signer: SoftwareSigner,
    pub spki: Vec<u8>,
    pub employee_id: String,
    pub head_seq: u64,
    pub head_hash: String,
    pub boot_id: String,
    /// What the device says its platform is at enrollment.
    pub platform_label: String,
}

impl Default for Device {
    fn default() -> Device {
        Device::new()
    }
}

impl Device {
    pub fn new() -> Device {
        let (signer, _) = SoftwareSigner::generate().unwrap();
        let spki = signer.public_key_spki().unwrap();
        Device {
            id: uuid::Uuid::new_v4().to_string(),
            signer,
            spki,
            employee_id: String::new(),
            head_seq: 0,
            head_hash: GENESIS_HASH.to_string(),
            boot_id: "boot-1".into(),
            platform_label: "linux test".into(),
        }
    }

    pub fn enroll(&self, addr: SocketAddr, code: &str) -> Http {
        let body = serde_json::to_vec(&EnrollRequest {
            code: code.to_string(),
            device_id: self.id.clone(),
            public_key: self.spki.clone(),
            key_storage: "software".into(),
            platform: self.platform_label.clone(),
            attestation: None,
            channel_key: None,
            channel_attestation: None,
            punch_key_proof: None,
        })
        .unwrap();
        // Signed by the key being enrolled: proof of possession.
        self.signed(addr, "POST", wire::PATH_ENROLL, &body)
    }

    /// The four authentication headers for a request.
    pub fn auth_headers(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        timestamp_ms: i64,
        nonce: &str,
    ) -> Vec<(&'static str, String)> {
        let message = wire::request_signing_string(method, path, body, timestamp_ms, nonce, None);
        let signature = self.signer.sign(&message).unwrap();
        vec![
            (wire::HEADER_DEVICE, self.id.clone()),
            (wire::HEADER_TIMESTAMP, timestamp_ms.to_string()),
            (wire::HEADER_NONCE, nonce.to_string()),
            (wire::HEADER_SIGNATURE, wire::b64::encode(&signature)),
        ]
    }

    /// A correctly signed request, now, with a fresh nonce.
    pub fn signed(&self, addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> Http {
        let headers = self.auth_headers(method, path, body, now_ms(), &fresh_nonce());
        request(addr, method, path, &headers, body)
    }

    /// A signed request that states `head` as the device's chain head (as
    /// the engine does on every request).
    pub fn signed_stating(
        &self,
        addr: SocketAddr,
        method: &str,
        path: &str,
        body: &[u8],
        head: &wire::HeadStatement,
    ) -> Http {
        let (ts, nonce) = (now_ms(), fresh_nonce());
        let message = wire::request_signing_string(method, path, body, ts, &nonce, Some(head));
        let signature = self.signer.sign(&message).unwrap();
        let headers = vec![
            (wire::HEADER_DEVICE, self.id.clone()),
            (wire::HEADER_TIMESTAMP, ts.to_string()),
            (wire::HEADER_NONCE, nonce),
            (wire::HEADER_SIGNATURE, wire::b64::encode(&signature)),
            (wire::HEADER_HEAD, head.to_string()),
        ];
        request(addr, method, path, &headers, body)
    }

    pub fn time(&self, addr: SocketAddr) -> Http {
        self.signed(addr, "GET", wire::PATH_TIME, b"")
    }

    /// An anchor as the app stores it after an exchange: server time + token
    /// from `GET /v1/time`, at `monotonic_ms` of this boot.
    pub fn anchor(&self, addr: SocketAddr, monotonic_ms: u64) -> TimeAnchor {
        let resp = self.time(addr);
        assert_eq!(resp.status, 200);
        let t: wire::TimeResponse = resp.parse();
        TimeAnchor {
            server_time_ms: t.server_time_ms,
            monotonic_ms,
            boot_id: self.boot_id.clone(),
            token: t.time_token,
        }
    }

    /// A record of this device at (seq, prev_hash), unanchored, punched now.
    pub fn record(&self, seq: u64, prev_hash: &str, policy_version: u64) -> PunchRecord {
        PunchRecord {
            format: RECORD_FORMAT,
            punch_id: uuid::Uuid::new_v4(),
            device_id: self.id.clone(),
            employee_id: self.employee_id.clone(),
            seq,
            kind: PunchKind::ClockIn,
            wall_time_ms: now_ms(),
            utc_offset_min: 60,
            monotonic_ms: 10_000_000,
            boot_id: self.boot_id.clone(),
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
            prev_hash: prev_hash.to_string(),
            notice: None,
            sealed: None,
            photo: None,
            biometric_verified: None,
        }
    }

    /// The record's bytes signed by this device.
    pub fn sign(&self, record: &PunchRecord) -> UploadRecord {
        let bytes = record.to_bytes().unwrap();
        UploadRecord {
            seq: record.seq,
            signature: self.signer.sign(&bytes).unwrap(),
            record: bytes,
        }
    }

    /// The next record of the local chain (tweaked), signed; the local head
    /// advances as if the server will accept it.
    pub fn next(
        &mut self,
        policy_version: u64,
        tweak: impl FnOnce(&mut PunchRecord),
    ) -> UploadRecord {
        let mut record = self.record(self.head_seq + 1, &self.head_hash.clone(), policy_version);
        tweak(&mut record);
        let up = self.sign(&record);
        self.head_seq = up.seq;
        self.head_hash = hex::encode(signing::sha256(&up.record));
        up
    }

    /// The next record of the local chain as an event, signed; the local
    /// head advances as with [`Device::next`].
    pub fn next_event(
        &mut self,
        policy_version: u64,
        event: punch_model::ledger::event::ChainEvent,
    ) -> UploadRecord {
        self.next_event_with(policy_version, event, |_| {})
    }

    /// [`Device::next_event`], with the record finished by `finish` (e.g.
    /// sealed) once its header is set, before it is signed.
    pub fn next_event_with(
        &mut self,
        policy_version: u64,
        event: punch_model::ledger::event::ChainEvent,
        finish: impl FnOnce(&mut punch_model::ledger::event::EventRecord),
    ) -> UploadRecord {
        use punch_model::ledger::event::{EntryTag, EventRecord};
        let mut record = EventRecord {
            format: RECORD_FORMAT,
            entry: EntryTag::Event,
            event_id: uuid::Uuid::new_v4(),
            device_id: self.id.clone(),
            employee_id: self.employee_id.clone(),
            seq: self.head_seq + 1,
            wall_time_ms: now_ms(),
            utc_offset_min: 60,
            monotonic_ms: 10_000_000,
            boot_id: self.boot_id.clone(),
            anchor: None,
            policy_version,
            event,
            prev_hash: self.head_hash.clone(),
        };
        finish(&mut record);
        let bytes = record.to_bytes().unwrap();
        let up = UploadRecord {
            seq: record.seq,
            signature: self.signer.sign(&bytes).unwrap(),
            record: bytes,
        };
        self.head_seq = up.seq;
        self.head_hash = hex::encode(signing::sha256(&up.record));
        up
    }

    pub fn upload(&self, addr: SocketAddr, records: Vec<UploadRecord>) -> Http {
        let body = serde_json::to_vec(&UploadRequest {
            device_id: self.id.clone(),
            records,
        })
        .unwrap();
        self.signed(addr, "POST", wire::PATH_PUNCHES, &body)
    }

    /// Uploads and returns the parsed response (asserting 200).
    pub fn upload_ok(&self, addr: SocketAddr, records: Vec<UploadRecord>) -> wire::UploadResponse {
        let resp = self.upload(addr, records);
        assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
        resp.assert_stamped();
        resp.parse()
    }
}

/// (status, reason) of each result, for compact assertions.
pub fn outcomes(resp: &wire::UploadResponse) -> Vec<(u64, &'static str, Option<String>)> {
    resp.results
        .iter()
        .map(|r| {
            let status = match r.status {
                wire::RecordStatus::Accepted => "accepted",
                wire::RecordStatus::Duplicate => "duplicate",
                wire::RecordStatus::Rejected => "rejected",
            };
            let reason = r.reason.map(|x| {
                serde_json::to_value(x)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string()
            });
            (r.seq, status, reason)
        })
        .collect()
}

/// Runs `server/web-tests/<script>` in node with `cfg` as `PUNCH_WEB` and
/// screenshots going to `target/web-screens/`; panics unless it succeeds
/// and prints `"ok":true`. Returns its output.
pub fn run_web_test(script: &str, cfg: &Value) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::process::Command::new("node")
        .arg(Path::new("server/web-tests").join(script))
        .current_dir(&root)
        .env("PUNCH_WEB", cfg.to_string())
        .env("PUNCH_SHOTS", root.join("target/web-screens"))
        .output()
        .expect("node runs (scripts/setup.sh installs it)");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{script} failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("\"ok\":true"), "{stdout}");
    stdout.into_owned()
}
