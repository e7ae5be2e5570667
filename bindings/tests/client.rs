//! The FFI layer from Rust: the same objects Kotlin and Swift get, with
//! Rust implementations of the foreign traits.

use std::sync::Arc;
use std::time::{Duration, Instant};

use punchcore::{
    ClientOptions, Decision, DeviceSigner, Evidence, GpsFix, KeyProvider, KeyRole, PlatformError,
    ProvidedKey, PunchClient, PunchError, PunchKind, RotationReason, panic_probe,
};

const POLICY: &str = r#"{ "version": 1, "issued_at_ms": 1767225600000, "sites": [
  { "id": "hq", "shape": { "type": "circle", "center": { "lat": 52.520008, "lon": 13.404954 }, "radius_m": 120 } } ] }"#;

fn options() -> ClientOptions {
    ClientOptions {
        server_url: None,
        policy_key_base64: None,
        batch_size: None,
        request_timeout: None,
        signer: None,
        channel_signer: None,
        signer_timeout: None,
        transport: None,
        clock: None,
        key_wrapper: None,
    }
}

fn at(metres_north: f64) -> Evidence {
    Evidence {
        gps: Some(GpsFix {
            lat: 52.520008 + metres_north / 111_320.0,
            lon: 13.404954,
            accuracy_m: 10.0,
            fix_time: std::time::SystemTime::now(),
            provider: "gps".into(),
            is_mock: false,
            speed_mps: None,
            elapsed_realtime: None,
            reduced_accuracy: false,
            external_receiver: false,
        }),
        wifi: vec![],
        ip_addresses: vec![],
    }
}

fn local(dir: &std::path::Path, options: ClientOptions) -> Arc<PunchClient> {
    let client = wait(PunchClient::open(dir.display().to_string(), options)).expect("open");
    wait(client.bind_employee("e-1".into())).expect("bind");
    wait(client.install_policy(POLICY.as_bytes().to_vec(), None)).expect("policy");
    client
}

/// Runs one async call to its end, as an app's coroutine or Task would.
fn wait<F: std::future::Future>(call: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(call)
}

#[test]
fn a_panic_is_an_internal_error() {
    match panic_probe() {
        // The panic's own text goes to the log, not the message.
        Err(PunchError::Internal { detail }) => {
            assert!(detail.contains("bug"), "{detail}");
            assert!(!detail.contains("deliberate"), "{detail}");
        }
        other => panic!("expected Internal, got {other:?}"),
    }
}

#[test]
fn punches_are_stored_and_a_refusal_carries_its_evaluation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let client = local(dir.path(), options());
    let receipt = wait(client.punch(PunchKind::ClockIn, at(0.0))).expect("inside punch");
    assert_eq!(receipt.evaluation.decision, Decision::Accepted);
    assert_eq!(receipt.seq, 1);
    match wait(client.punch(PunchKind::ClockOut, at(3_000.0))) {
        Err(PunchError::Refused { evaluation, .. }) => {
            assert_eq!(evaluation.decision, Decision::Rejected);
            assert_eq!(
                evaluation.nearest_site.map(|n| n.site_id).as_deref(),
                Some("hq")
            );
        }
        other => panic!("expected Refused, got {other:?}"),
    }
    let page = wait(client.history(None, 10)).expect("history");
    assert_eq!(page.entries.len(), 1);
    assert!(page.entries[0].verified);
    assert!(page.next_before_seq.is_none());
    assert!(wait(client.verify_chain()).expect("chain").intact);
}

#[test]
fn options_are_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut half = options();
    half.server_url = Some("http://127.0.0.1:1".into());
    assert!(matches!(
        wait(PunchClient::open(dir.path().display().to_string(), half)),
        Err(PunchError::InvalidInput { .. })
    ));
}

/// Answers its public key, then never signs.
struct HangingSigner(punch_core::SoftwareSigner);

#[async_trait::async_trait]
impl DeviceSigner for HangingSigner {
    fn public_key_spki(&self) -> Result<Vec<u8>, PlatformError> {
        punch_core::Signer::public_key_spki(&self.0).map_err(|e| PlatformError::Failed {
            detail: e.to_string(),
        })
    }
    async fn sign(&self, _message: Vec<u8>) -> Result<Vec<u8>, PlatformError> {
        std::future::pending().await
    }
    async fn attestation(
        &self,
        _challenge: Vec<u8>,
    ) -> Result<Option<punchcore::DeviceAttestation>, PlatformError> {
        Ok(None)
    }
}

#[test]
fn a_hanging_signer_fails_the_punch_in_time_and_blocks_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (software, _) = punch_core::SoftwareSigner::generate().expect("key");
    let mut opts = options();
    opts.signer = Some(Arc::new(HangingSigner(software)));
    opts.signer_timeout = Some(Duration::from_millis(300));
    let client = local(dir.path(), opts);
    let started = Instant::now();
    match wait(client.punch(PunchKind::ClockIn, at(0.0))) {
        Err(PunchError::Signer { detail }) => assert!(detail.contains("no answer"), "{detail}"),
        other => panic!("expected Signer, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(wait(client.status()).expect("status").pending, 0);
}

/// Signs with a software key, or (while `prompt` is set) waits like an open
/// biometric prompt, saying when it starts waiting and when its wait is dropped.
struct PromptSigner {
    key: punch_core::SoftwareSigner,
    prompt: std::sync::atomic::AtomicBool,
    entered: std::sync::Mutex<Option<std::sync::mpsc::Sender<()>>>,
    dropped: Arc<std::sync::atomic::AtomicBool>,
}

struct SetOnDrop(Arc<std::sync::atomic::AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

#[async_trait::async_trait]
impl DeviceSigner for PromptSigner {
    fn public_key_spki(&self) -> Result<Vec<u8>, PlatformError> {
        punch_core::Signer::public_key_spki(&self.key).map_err(|e| PlatformError::Failed {
            detail: e.to_string(),
        })
    }
    async fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, PlatformError> {
        if self.prompt.load(std::sync::atomic::Ordering::SeqCst) {
            let _dropped = SetOnDrop(self.dropped.clone());
            if let Some(entered) = self.entered.lock().expect("lock").take() {
                let _ = entered.send(());
            }
            std::future::pending::<()>().await;
        }
        punch_core::Signer::sign(&self.key, &message).map_err(|e| PlatformError::Failed {
            detail: e.to_string(),
        })
    }
    async fn attestation(
        &self,
        _challenge: Vec<u8>,
    ) -> Result<Option<punchcore::DeviceAttestation>, PlatformError> {
        Ok(None)
    }
}

#[test]
fn cancelling_a_punch_ends_the_signer_wait_and_stores_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (software, _) = punch_core::SoftwareSigner::generate().expect("key");
    let (entered_tx, entered) = std::sync::mpsc::channel();
    let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let signer = Arc::new(PromptSigner {
        key: software,
        prompt: std::sync::atomic::AtomicBool::new(true),
        entered: std::sync::Mutex::new(Some(entered_tx)),
        dropped: dropped.clone(),
    });
    let mut opts = options();
    opts.signer = Some(signer.clone());
    let client = local(dir.path(), opts);
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let task = runtime.spawn({
        let client = client.clone();
        async move { client.punch(PunchKind::ClockIn, at(0.0)).await }
    });
    entered
        .recv_timeout(Duration::from_secs(10))
        .expect("the signer was asked");
    // The user walks away: the app cancels the punch (the default timeout is 120 s).
    task.abort();
    while !dropped.load(std::sync::atomic::Ordering::SeqCst) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the signer's wait was not dropped"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(wait(client.status()).expect("status").pending, 0);
    // The turn is free again: the next punch signs and is stored.
    signer
        .prompt
        .store(false, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        wait(client.punch(PunchKind::ClockIn, at(0.0)))
            .expect("punch")
            .seq,
        1
    );
}

/// A platform key as the foreign side gives it: a software key, which the
/// OS may have invalidated (it then throws `KeyInvalidated`).
struct PlatformKey {
    key: punch_core::SoftwareSigner,
    invalidated: bool,
}

#[async_trait::async_trait]
impl DeviceSigner for PlatformKey {
    fn public_key_spki(&self) -> Result<Vec<u8>, PlatformError> {
        punch_core::Signer::public_key_spki(&self.key).map_err(|e| PlatformError::Failed {
            detail: e.to_string(),
        })
    }
    async fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, PlatformError> {
        if self.invalidated {
            return Err(PlatformError::KeyInvalidated {
                detail: "KeyPermanentlyInvalidatedException".into(),
            });
        }
        punch_core::Signer::sign(&self.key, &message).map_err(|e| PlatformError::Failed {
            detail: e.to_string(),
        })
    }
    async fn attestation(
        &self,
        _challenge: Vec<u8>,
    ) -> Result<Option<punchcore::DeviceAttestation>, PlatformError> {
        Ok(None)
    }
}

/// A key store that makes `PlatformKey`s, or (`hang`) never answers.
struct KeyStore {
    hang: bool,
    invalidated: bool,
    challenges: std::sync::Mutex<Vec<Option<Vec<u8>>>>,
}

impl KeyStore {
    fn new(hang: bool, invalidated: bool) -> Arc<KeyStore> {
        Arc::new(KeyStore {
            hang,
            invalidated,
            challenges: Default::default(),
        })
    }
}

#[async_trait::async_trait]
impl KeyProvider for KeyStore {
    async fn create_key(
        &self,
        role: KeyRole,
        challenge: Option<Vec<u8>>,
    ) -> Result<ProvidedKey, PlatformError> {
        assert_eq!(role, KeyRole::Punch, "a rotation asks for a punch key");
        if self.hang {
            std::future::pending::<()>().await;
        }
        self.challenges.lock().expect("lock").push(challenge);
        let (key, _) = punch_core::SoftwareSigner::generate().expect("key");
        let signer = PlatformKey {
            key,
            invalidated: self.invalidated,
        };
        Ok(ProvidedKey {
            public_key_spki: signer.public_key_spki()?,
            signer: Arc::new(signer),
            attestation: None,
        })
    }
}

#[test]
fn a_rotation_waits_for_the_key_store_in_time_and_an_invalidated_key_is_typed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut opts = options();
    opts.signer_timeout = Some(Duration::from_millis(300));
    let client = local(dir.path(), opts);
    wait(client.punch(PunchKind::ClockIn, at(0.0))).expect("punch");
    let first_key = wait(client.device_info()).expect("info").public_key_spki;

    // A key store that never answers fails the rotation in time; nothing stored.
    let started = Instant::now();
    let stuck =
        wait(client.rotate_punch_key(Some(KeyStore::new(true, false)), RotationReason::Renewed));
    assert!(matches!(stuck, Err(PunchError::Signer { .. })), "{stuck:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(wait(client.verify_chain()).expect("chain").records, 1);

    // The new key is in force from the next record, announced by the channel key.
    let store = KeyStore::new(false, true);
    let rotation = wait(client.rotate_punch_key(Some(store.clone()), RotationReason::Renewed))
        .expect("rotation");
    assert_eq!(rotation.seq, 2);
    let challenge = store.challenges.lock().expect("lock")[0].clone();
    assert!(
        challenge.is_some_and(|c| !c.is_empty()),
        "bound to the chain"
    );
    let info = wait(client.device_info()).expect("info");
    assert_ne!(info.public_key_spki, first_key);
    assert!(info.platform_key);
    assert_ne!(info.channel_key_spki, info.public_key_spki);

    // That key was invalidated by the OS: typed, nothing stored.
    match wait(client.punch(PunchKind::BreakStart, at(0.0))) {
        Err(PunchError::KeyInvalidated { detail }) => {
            assert!(detail.contains("rotatePunchKey"), "{detail}")
        }
        other => panic!("expected KeyInvalidated, got {other:?}"),
    }
    assert_eq!(wait(client.verify_chain()).expect("chain").records, 2);

    // Rotated again (to a software key), punching goes on; the chain holds.
    let again = wait(client.rotate_punch_key(None, RotationReason::Invalidated)).expect("rotation");
    assert_eq!(again.seq, 3);
    assert!(!wait(client.device_info()).expect("info").platform_key);
    let receipt = wait(client.punch(PunchKind::BreakStart, at(0.0))).expect("punch");
    assert_eq!(receipt.seq, 4);
    let chain = wait(client.verify_chain()).expect("chain");
    assert!(chain.intact, "{:?}", chain.breaks);
    assert_eq!(chain.records, 4);
}
