//! One entry point per decoder of outside data, shared by the cargo-fuzz
//! targets (`fuzz/`) and the stable mutation test (`tests/decoder_mutation.rs`).
//!
//! Each takes arbitrary bytes and drives the real code a hostile peer
//! reaches: the JSON decoders, then whatever the product does next with what
//! decoded (prepare and evaluate a policy, verify a bundle's signature and
//! install it, walk a chain, ingest a batch into a real server database,
//! bind a device, judge evidence). Where a signature would stop every
//! mutated input at the door, one input bit asks the harness to re-sign
//! with the key the fixture holds, so the paths behind the check are fuzzed
//! too. A panic is the finding; some entry points also assert a property
//! (a decoded wire message re-encodes to itself).

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use punch_core::{
    ClockReading, EngineOptions, GpsFix, PunchEngine, PunchKind, test_support::ManualClock,
};
use punch_core::{HttpRequest, HttpResponse, Transport, TransportError};
use punch_core::{RetryConfig, ServerConfig};
use punch_model::ledger::chain::CopiedColumns;
use punch_model::ledger::chain_walk::{ChainWalk, Link, LinkBody};
use punch_model::ledger::record::PunchRecord;
use punch_model::ledger::signing::{Signer, SoftwareSigner};
use punch_model::rules::evaluate::evaluate;
use punch_model::rules::evidence::Evidence;
use punch_model::rules::policy::{Policy, PreparedPolicy};
use punch_model::wire::{self, EnrollRequest, UploadRequest};
use punch_server::Admin;
use punch_server::AttestationConfig;
use punch_server::StoreExt;
use punch_server::internal::AppState;
use punch_server::internal::attestation;
use punch_server::internal::attestation::Proven;
use punch_server::internal::{enroll, ingest};

use crate::world::{EMPLOYEE, HQ, employer, now_ms};

/// Every target, by name (the fuzz/ binaries and corpus folders use these).
pub const TARGETS: &[&str] = &[
    "policy_json",
    "policy_bundle",
    "record_json",
    "upload_batch",
    "server_response",
    "client_answers",
    "retry_after",
    "enroll_request",
    "evidence",
];

/// Runs target `name` on `data`.
pub fn run(name: &str, data: &[u8]) {
    match name {
        "policy_json" => policy_json(data),
        "policy_bundle" => policy_bundle(data),
        "record_json" => record_json(data),
        "upload_batch" => upload_batch(data),
        "server_response" => server_response(data),
        "client_answers" => client_answers(data),
        "retry_after" => retry_after(data),
        "enroll_request" => enroll_request(data),
        "evidence" => evidence(data),
        other => panic!("unknown decoder target {other}"),
    }
}

/// Scratch space: memory-backed where the OS has it (fsync is then cheap).
fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::tempdir_in(shm)
    {
        return dir;
    }
    tempfile::tempdir().expect("tempdir")
}

fn key() -> SoftwareSigner {
    SoftwareSigner::generate().expect("key").0
}

/// A fix at HQ, judged by the policy the fixtures publish.
fn hq_evidence(at_ms: i64) -> Evidence {
    Evidence {
        gps: Some(GpsFix {
            lat: HQ.0,
            lon: HQ.1 + 0.0002,
            accuracy_m: 10.0,
            fix_time_ms: at_ms,
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

/// Policy JSON: decode, prepare (validation, geometry, index), evaluate.
pub fn policy_json(data: &[u8]) {
    let Ok(policy) = Policy::from_json(data) else {
        return;
    };
    let Ok(prepared) = PreparedPolicy::new(policy) else {
        return;
    };
    let now = now_ms();
    let valid = hq_evidence(now)
        .validate()
        .expect("fixed evidence is valid");
    let _ = evaluate(&prepared, &valid, now, None);
}

/// Evidence from the platform (JSON for the fuzzer): validate, then judge
/// against a fixed two-site policy.
pub fn evidence(data: &[u8]) {
    static POLICY: OnceLock<PreparedPolicy> = OnceLock::new();
    let policy = POLICY.get_or_init(|| {
        let json = include_str!("../../cli/src/sample_policy.json");
        PreparedPolicy::new(Policy::from_json(json.as_bytes()).expect("sample policy"))
            .expect("sample policy prepares")
    });
    let Ok(evidence) = serde_json::from_slice::<Evidence>(data) else {
        return;
    };
    let Ok(valid) = evidence.validate() else {
        return;
    };
    let at = evidence
        .gps
        .as_ref()
        .map_or(policy.policy.issued_at_ms, |g| g.fix_time_ms);
    let _ = evaluate(policy, &valid, at, None);
}

/// A device engine with a pinned policy key held by the fixture, a manual
/// clock, and a transport that answers with whatever the fuzzer says.
struct ClientFixture {
    _dir: tempfile::TempDir,
    policy_key: SoftwareSigner,
    clock: Arc<ManualClock>,
    answer: Arc<Mutex<HttpResponse>>,
    engine: PunchEngine,
}

struct Scripted(Arc<Mutex<HttpResponse>>);

impl Transport for Scripted {
    fn send(&self, _request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        Ok(self.0.lock().unwrap_or_else(|e| e.into_inner()).clone())
    }
}

fn client() -> &'static ClientFixture {
    static FIXTURE: OnceLock<ClientFixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = scratch();
        let policy_key = key();
        let clock = Arc::new(ManualClock::new(ClockReading {
            wall_time_ms: now_ms(),
            utc_offset_min: 480,
            monotonic_ms: 10_000_000,
            boot_id: "boot-fuzz".into(),
        }));
        let answer = Arc::new(Mutex::new(HttpResponse {
            status: 503,
            headers: vec![],
            body: vec![],
        }));
        let mut server = ServerConfig::new(
            "http://127.0.0.1:9",
            policy_key.public_key_spki().expect("spki"),
        );
        server.retry = RetryConfig {
            base_delay_ms: 0,
            max_delay_ms: 0,
            max_attempts_per_sync: 1,
            max_inline_wait_ms: 0,
        };
        let engine = PunchEngine::open_with(
            dir.path().join("device.db"),
            EngineOptions {
                clock: clock.clone(),
                server: Some(server),
                transport: Some(Arc::new(Scripted(answer.clone()))),
                ..Default::default()
            },
        )
        .expect("engine");
        engine.set_employee(EMPLOYEE).expect("bind");
        let body = sample_policy(1, clock_now(&clock));
        let sig = policy_key.sign(&body).expect("sign");
        engine
            .install_policy_json(&body, Some(&sig))
            .expect("install policy v1");
        ClientFixture {
            _dir: dir,
            policy_key,
            clock,
            answer,
            engine,
        }
    })
}

fn clock_now(clock: &ManualClock) -> i64 {
    use punch_core::Clock;
    clock.now().wall_time_ms
}

/// The fixtures' policy: one circle at HQ, no expiry.
pub fn sample_policy(version: u64, issued_at_ms: i64) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "version": version,
        "issued_at_ms": issued_at_ms,
        "expires_at_ms": null,
        "settings": {},
        "sites": [{
            "id": "hq", "name": "HQ",
            "shape": {"type": "circle", "center": {"lat": HQ.0, "lon": HQ.1}, "radius_m": 150.0},
            "rule": {"mode": "any"}
        }]
    }))
    .expect("policy json")
}

/// A signed policy bundle (`GET /v1/policy`): decode; verify and install
/// through a real engine pinned to the fixture's key. Bit 0 of the first
/// byte re-signs the body with that key so the install path behind the
/// signature check is fuzzed too.
pub fn policy_bundle(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Ok(mut bundle) = serde_json::from_slice::<wire::PolicyResponse>(rest) else {
        return;
    };
    let fx = client();
    if flags & 1 == 1 {
        bundle.signature = fx.policy_key.sign(&bundle.body).expect("sign");
    }
    let _ = fx
        .engine
        .install_policy_json(&bundle.body, Some(&bundle.signature));
    // Whatever was (or was not) installed, the engine still answers.
    let _ = fx
        .engine
        .evaluate(&hq_evidence(fx.engine.estimated_server_time_ms()));
}

/// Every server answer through the real client: one punch is kept pending
/// and `sync_now()` reads the fuzzer's answer for the time refresh, the
/// policy fetch and the upload alike. First byte: status; second: length of
/// a Retry-After value that follows; then the body.
pub fn client_answers(data: &[u8]) {
    const STATUSES: [u16; 12] = [200, 200, 200, 200, 400, 401, 404, 409, 413, 429, 500, 503];
    let [status, ra_len, rest @ ..] = data else {
        return;
    };
    let ra_len = usize::from(*ra_len % 40).min(rest.len());
    let (retry_after, body) = rest.split_at(ra_len);
    let fx = client();
    let mut headers = vec![(
        wire::HEADER_SERVER_TIME.to_string(),
        clock_now(&fx.clock).to_string(),
    )];
    if !retry_after.is_empty() {
        headers.push((
            "retry-after".into(),
            String::from_utf8_lossy(retry_after).into_owned(),
        ));
    }
    *fx.answer.lock().unwrap_or_else(|e| e.into_inner()) = HttpResponse {
        status: STATUSES[usize::from(*status) % STATUSES.len()],
        headers,
        body: body.to_vec(),
    };
    // Past any backoff the previous answer asked for.
    fx.clock.advance_ms(2 * 86_400_000);
    if fx.engine.pending_count().expect("pending") == 0 {
        let _ = fx.engine.punch(
            PunchKind::ClockIn,
            &hq_evidence(fx.engine.estimated_server_time_ms()),
        );
    }
    let _ = fx
        .engine
        .sync_now()
        .expect("sync is never a local error here");
    let _ = fx.engine.status().expect("status");
    assert!(
        fx.engine.verify_chain().expect("verify").is_intact(),
        "a server answer broke the local chain"
    );
}

/// Each response type the client decodes; what decodes re-encodes to an
/// equal value (nothing is silently dropped or changed). First byte: type.
pub fn server_response(data: &[u8]) {
    fn round_trip<T>(bytes: &[u8])
    where
        T: serde::de::DeserializeOwned + serde::Serialize + PartialEq + std::fmt::Debug,
    {
        if let Ok(value) = serde_json::from_slice::<T>(bytes) {
            let again: T = serde_json::from_slice(&serde_json::to_vec(&value).expect("encode"))
                .expect("re-decode");
            assert_eq!(value, again);
        }
    }
    let Some((&kind, body)) = data.split_first() else {
        return;
    };
    match kind % 6 {
        0 => round_trip::<wire::UploadResponse>(body),
        1 => round_trip::<wire::TimeResponse>(body),
        2 => round_trip::<wire::PolicyResponse>(body),
        3 => round_trip::<wire::EnrollResponse>(body),
        4 => round_trip::<wire::ErrorResponse>(body),
        _ => round_trip::<wire::EnrollChallengeResponse>(body),
    }
}

/// Retry-After: both forms, and the contract callers rely on.
pub fn retry_after(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let now = 1_790_000_000_000;
    let parsed = punch_core::test_support::parse_retry_after_ms(&text, now);
    let trimmed = text.trim();
    if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        let expect = trimmed
            .parse::<u64>()
            .map_or(u64::MAX, |s| s.saturating_mul(1000));
        assert_eq!(parsed, Some(expect), "delta-seconds {trimmed:?}");
    }
}

/// A chain walk over records the fuzzer writes: decode; then verify as the
/// first record of its claimed device (bit 0 re-signs with the fixture key,
/// so the continuity checks run), and as a one-record chain.
pub fn record_json(data: &[u8]) {
    static KEY: OnceLock<SoftwareSigner> = OnceLock::new();
    let Some((&flags, bytes)) = data.split_first() else {
        return;
    };
    let key = KEY.get_or_init(key);
    let public = key.public_key_spki().expect("spki");
    let signature = if flags & 1 == 1 {
        key.sign(bytes).expect("sign")
    } else {
        bytes.iter().rev().take(72).copied().collect()
    };
    let device_id = match PunchRecord::from_bytes(bytes) {
        Ok(r) => r.device_id,
        Err(_) => "fuzz-device".into(),
    };
    let hash = punch_model::ledger::signing::sha256(bytes);
    let mut walk = ChainWalk::new(&public, &device_id);
    // The second row also carries columns to compare with the signed bytes.
    let columns = CopiedColumns {
        punch_id: &device_id,
        kind: "clock_in",
        wall_time_ms: i64::from(flags),
        decision: "accepted",
    };
    for (seq, copied) in [(flags >> 1, None), ((flags >> 1) + 1, Some(columns))] {
        walk.next(Link {
            seq: u64::from(seq),
            body: LinkBody::Stored {
                bytes,
                signature: &signature,
                hash: &hash,
                copied,
            },
        });
    }
    let report = walk.finish(Some(u64::from(flags)));
    if flags & 1 == 1 && flags >> 1 == 1 {
        // Signed by the right key, stored at its own place: a record that
        // decodes as seq 1 from genesis verifies.
        if let Ok(r) = PunchRecord::from_bytes(bytes)
            && r.seq == 1
            && r.prev_hash == punch_model::ledger::record::GENESIS_HASH
        {
            assert!(
                !report.breaks.iter().any(|b| b.seq == 1),
                "{:?}",
                report.breaks
            );
        }
    }
}

/// A real server database with one enrolled device whose key the fixture holds.
struct ServerFixture {
    _dir: tempfile::TempDir,
    state: AppState,
    admin: Admin,
    device_id: String,
    device_key: SoftwareSigner,
}

fn server() -> &'static ServerFixture {
    static FIXTURE: OnceLock<ServerFixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = scratch();
        let db = dir.path().join("server.db");
        let admin = employer(&punch_server::DbUrl::Sqlite(db.clone()));
        let state = punch_server::internal::server::app_state(&db).expect("server state");
        let device_key = key();
        let device_id = "fuzz-device-1".to_string();
        let code = admin
            .create_enrollment_code(EMPLOYEE, Duration::from_secs(86_400))
            .expect("code");
        let req = EnrollRequest {
            code,
            device_id: device_id.clone(),
            public_key: device_key.public_key_spki().expect("spki"),
            key_storage: "software".into(),
            platform: "fuzz".into(),
            attestation: None,
            channel_key: None,
            channel_attestation: None,
            punch_key_proof: None,
        };
        state
            .store
            .write(|tx| {
                enroll::enroll(tx, &req, &Proven::software(), &Proven::software(), now_ms())
            })
            .expect("enroll tx")
            .expect("enrolled");
        ServerFixture {
            _dir: dir,
            state,
            admin,
            device_id,
            device_key,
        }
    })
}

/// An upload batch (`POST /v1/punches` body) through the server's own
/// ingest: signatures in parallel, then chain, time and review in one write
/// transaction, as the HTTP handler does after authentication. Bit 0 of the
/// first byte makes each record the fixture device's (its id swapped in,
/// re-signed), so ingest goes past the signature check.
pub fn upload_batch(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Ok(mut req) = serde_json::from_slice::<UploadRequest>(rest) else {
        return;
    };
    let fx = server();
    if req.records.len() > wire::MAX_BATCH {
        return; // refused before ingest by the handler
    }
    if flags & 1 == 1 {
        for r in &mut req.records {
            if let Ok(parsed) = PunchRecord::from_bytes(&r.record)
                && !parsed.device_id.is_empty()
            {
                let text = String::from_utf8_lossy(&r.record)
                    .replace(&parsed.device_id, &fx.device_id)
                    .into_bytes();
                r.record = text;
            }
            r.signature = fx.device_key.sign(&r.record).expect("sign");
        }
    }
    let public = fx.device_key.public_key_spki().expect("spki");
    let checks = ingest::check_signatures(&public, &fx.device_id, &req.records);
    let outcome = fx
        .state
        .store
        .write(|tx| {
            ingest::ingest_checked(
                tx,
                &fx.device_id,
                &req.records,
                &checks,
                &fx.state.tokens,
                &fx.state.policies,
                now_ms(),
            )
        })
        .expect("ingest never fails on content");
    assert_eq!(outcome.results.len(), req.records.len());
}

/// An enrollment request (`POST /v1/enroll` body): decode; verify its
/// attestation if any (as the handler does before its transaction); bind
/// it. Bit 0 of the first byte swaps in a fresh valid code so the checks
/// behind the code are fuzzed too.
pub fn enroll_request(data: &[u8]) {
    static CONFIG: OnceLock<AttestationConfig> = OnceLock::new();
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Ok(mut req) = serde_json::from_slice::<EnrollRequest>(rest) else {
        return;
    };
    let fx = server();
    let config = CONFIG.get_or_init(|| fx.admin.attestation_config().expect("config"));
    let proven = match &req.attestation {
        Some(att) => match attestation::verify(config, att, &req.public_key, now_ms() / 1000) {
            Ok(p) => p,
            Err(_) => return,
        },
        None => Proven::software(),
    };
    if flags & 1 == 1 {
        // Another employee each time, so binding is possible at all.
        let n = fx.admin.devices().map_or(0, |d| d.len());
        let employee = format!("fuzz-emp-{n}");
        if fx.admin.add_employee(&employee, "Fuzz").is_ok()
            && let Ok(code) = fx
                .admin
                .create_enrollment_code(&employee, Duration::from_secs(600))
        {
            req.code = code;
        }
    }
    let _ = fx
        .state
        .store
        .write(|tx| enroll::enroll(tx, &req, &proven, &Proven::software(), now_ms()))
        .expect("enroll never fails on content");
    // What was bound is printable as the operator's CLI would list it.
    let _ = fx.admin.devices().expect("devices");
}
