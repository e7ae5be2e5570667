//! A platform signer is foreign code: it may block for seconds (a biometric
//! prompt), fail, or answer with another key. None of that may block the
//! engine's other calls, store a record, or send a request.

use crate::common;

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use punch_core::{
    EngineOptions, HttpRequest, HttpResponse, PunchEngine, PunchError, PunchKind, ServerConfig,
    Signer, SignerError, SoftwareSigner, Transport, TransportError, test_support::ManualClock,
};

/// What the fake platform key does when asked to sign.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Sign,
    Block(Duration),
    Fail,
    OtherKey,
}

struct FakePlatformKey {
    key: SoftwareSigner,
    other: SoftwareSigner,
    mode: Mutex<Mode>,
    signing: AtomicBool,
}

impl FakePlatformKey {
    fn new() -> Arc<FakePlatformKey> {
        Arc::new(FakePlatformKey {
            key: SoftwareSigner::generate().unwrap().0,
            other: SoftwareSigner::generate().unwrap().0,
            mode: Mutex::new(Mode::Sign),
            signing: AtomicBool::new(false),
        })
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }
}

impl Signer for FakePlatformKey {
    fn public_key_spki(&self) -> Result<Vec<u8>, SignerError> {
        self.key.public_key_spki()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError> {
        let mode = *self.mode.lock().unwrap();
        self.signing.store(true, Ordering::SeqCst);
        let out = match mode {
            Mode::Sign => self.key.sign(message),
            Mode::Block(d) => {
                std::thread::sleep(d);
                self.key.sign(message)
            }
            Mode::Fail => Err(SignerError::Signing("user cancelled the prompt".into())),
            Mode::OtherKey => self.other.sign(message),
        };
        self.signing.store(false, Ordering::SeqCst);
        out
    }
}

/// Counts requests and answers none: any request sent is a failure of the test.
#[derive(Default)]
struct CountingTransport(AtomicU32);

impl Transport for CountingTransport {
    fn send(&self, _request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Err(TransportError::Connect("no server in this test".into()))
    }
}

fn open(
    dir: &tempfile::TempDir,
    key: &Arc<FakePlatformKey>,
    clock: &Arc<ManualClock>,
    transport: Option<Arc<CountingTransport>>,
) -> PunchEngine {
    let server = transport.as_ref().map(|_| {
        ServerConfig::new(
            "http://127.0.0.1:9",
            SoftwareSigner::generate()
                .unwrap()
                .0
                .public_key_spki()
                .unwrap(),
        )
    });
    let engine = PunchEngine::open_with(
        dir.path().join("d.db"),
        EngineOptions {
            signer: Some(key.clone()),
            // The same platform key in both roles: its failures reach punches and requests alike.
            channel_signer: Some(key.clone()),
            clock: clock.clone(),
            server,
            transport: transport.map(|t| t as Arc<dyn Transport>),
            key_wrapper: None,
        },
    )
    .unwrap();
    engine.set_employee("emp-1").unwrap();
    engine
}

fn inside(clock: &ManualClock) -> punch_core::Evidence {
    use punch_core::Clock;
    gps(HQ, 10.0, clock.now().wall_time_ms)
}

#[test]
fn a_signer_blocking_for_two_seconds_blocks_no_other_call() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let key = FakePlatformKey::new();
    let engine = Arc::new(open(&dir, &key, &clock, None));
    engine
        .install_policy_json(policy_json(1, None).as_bytes(), None)
        .unwrap();
    key.set(Mode::Block(Duration::from_secs(2)));
    let punching = {
        let (engine, clock) = (engine.clone(), clock.clone());
        std::thread::spawn(move || engine.punch(PunchKind::ClockIn, &inside(&clock)))
    };
    while !key.signing.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(5));
    }
    // The prompt is up: the UI keeps working.
    let t = Instant::now();
    let status = engine.status().unwrap();
    let verdict = engine.evaluate(&inside(&clock)).unwrap();
    let history = engine.punches(0, 10).unwrap();
    let elapsed = t.elapsed();
    assert!(key.signing.load(Ordering::SeqCst), "still signing");
    assert!(elapsed < Duration::from_millis(1_000), "{elapsed:?}");
    assert_eq!(status.pending, 0);
    assert_eq!(verdict.decision, punch_core::Decision::Accepted);
    assert!(history.is_empty());
    let receipt = punching.join().unwrap().unwrap();
    assert_eq!(receipt.seq, 1);
    assert_eq!(engine.pending_count().unwrap(), 1);
    assert!(engine.verify_chain().unwrap().is_intact());
}

#[test]
fn a_failing_signer_is_a_local_error_and_nothing_is_stored_or_sent() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let key = FakePlatformKey::new();
    let transport = Arc::new(CountingTransport::default());
    let engine = open(&dir, &key, &clock, Some(transport.clone()));
    key.set(Mode::Fail);
    // Sync signs its first request: the failure is ours, typed, and nothing goes out.
    let sync = engine.sync();
    assert!(
        matches!(sync, Err(PunchError::Signer(SignerError::Signing(_)))),
        "{sync:?}"
    );
    assert_eq!(transport.0.load(Ordering::SeqCst), 0, "no request was sent");
    // The backoff is not touched by a local failure.
    assert_eq!(engine.status().unwrap().consecutive_failures, 0);
}

#[test]
fn a_failing_or_wrong_key_signer_stores_no_punch() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let key = FakePlatformKey::new();
    let engine = open(&dir, &key, &clock, None);
    engine
        .install_policy_json(policy_json(1, None).as_bytes(), None)
        .unwrap();
    key.set(Mode::Fail);
    let failed = engine.punch(PunchKind::ClockIn, &inside(&clock));
    assert!(matches!(failed, Err(PunchError::Signer(_))), "{failed:?}");
    // A signature by another key is caught before it is stored.
    key.set(Mode::OtherKey);
    let wrong = engine.punch(PunchKind::ClockIn, &inside(&clock));
    assert!(
        matches!(&wrong, Err(PunchError::Signer(SignerError::Signing(m))) if m.contains("does not verify")),
        "{wrong:?}"
    );
    assert_eq!(engine.punches(0, 10).unwrap().len(), 0);
    // The key works again: the chain starts at 1, intact.
    key.set(Mode::Sign);
    assert_eq!(
        engine
            .punch(PunchKind::ClockIn, &inside(&clock))
            .unwrap()
            .seq,
        1
    );
    assert!(engine.verify_chain().unwrap().is_intact());
}

/// A signer that calls back into the engine gets an answer, never a deadlock.
#[test]
fn a_signer_calling_back_into_the_engine_does_not_deadlock() {
    struct Reentrant {
        key: SoftwareSigner,
        engine: Mutex<Option<Arc<PunchEngine>>>,
        clock: Arc<ManualClock>,
        seen: Mutex<Vec<String>>,
    }
    impl Signer for Reentrant {
        fn public_key_spki(&self) -> Result<Vec<u8>, SignerError> {
            self.key.public_key_spki()
        }
        fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError> {
            let engine = self.engine.lock().unwrap().clone();
            if let Some(engine) = engine {
                let status = engine.status().map(|s| s.pending);
                let nested = engine.punch(PunchKind::ClockOut, &inside(&self.clock));
                self.seen
                    .lock()
                    .unwrap()
                    .push(format!("{status:?} {:?}", nested.err()));
            }
            self.key.sign(message)
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let signer = Arc::new(Reentrant {
        key: SoftwareSigner::generate().unwrap().0,
        engine: Mutex::new(None),
        clock: clock.clone(),
        seen: Mutex::new(Vec::new()),
    });
    let engine = Arc::new(
        PunchEngine::open_with(
            dir.path().join("d.db"),
            EngineOptions {
                signer: Some(signer.clone()),
                clock: clock.clone(),
                ..Default::default()
            },
        )
        .unwrap(),
    );
    engine.set_employee("emp-1").unwrap();
    engine
        .install_policy_json(policy_json(1, None).as_bytes(), None)
        .unwrap();
    *signer.engine.lock().unwrap() = Some(engine.clone());
    let receipt = engine.punch(PunchKind::ClockIn, &inside(&clock)).unwrap();
    *signer.engine.lock().unwrap() = None;
    assert_eq!(receipt.seq, 1);
    assert_eq!(
        signer.seen.lock().unwrap().as_slice(),
        ["Ok(0) Some(Busy)".to_string()]
    );
}
