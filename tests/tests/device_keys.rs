//! Two device keys through the real server: the punch key (may need the
//! user) signs records, the channel key (never needs the user) signs
//! requests and key rotations; enrollment cannot skip an attestation the
//! employer requires.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use geographiclib_rs::{DirectGeodesic, Geodesic};
use punch_core::ServerConfig;
use punch_core::{
    Clock, EngineOptions, EnrollError, Evidence, GpsFix, KeyProvider, KeyRole, ProvidedKey,
    PunchEngine, PunchError, PunchKind, PunchRecord, RotationReason, Signer, SignerError,
    SoftwareSigner,
};
use punch_model::ledger::event::{ChainEvent, EntryTag, EventRecord};
use punch_model::ledger::key_rotation::{KeyRotation, key_fingerprint};
use punch_model::ledger::record::{RECORD_FORMAT, Uuid};
use punch_model::ledger::signing::sha256;
use punch_model::rules::assurance::{AssuranceLevel, BelowMinimum};
use punch_model::rules::policy::Settings;
use punch_model::wire::RejectReason;
use punch_tests::world::{HQ, World, fast_retry};

/// A platform key that needs the user (a biometric prompt per use) and
/// that the OS can invalidate (a fingerprint added).
struct UserKey {
    key: SoftwareSigner,
    user_present: AtomicBool,
    invalidated: AtomicBool,
}

impl UserKey {
    fn new() -> Arc<UserKey> {
        Arc::new(UserKey {
            key: SoftwareSigner::generate().unwrap().0,
            user_present: AtomicBool::new(true),
            invalidated: AtomicBool::new(false),
        })
    }
}

impl Signer for UserKey {
    fn public_key_spki(&self) -> Result<Vec<u8>, SignerError> {
        self.key.public_key_spki()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError> {
        if self.invalidated.load(Ordering::SeqCst) {
            return Err(SignerError::Signing(
                "KeyPermanentlyInvalidatedException".into(),
            ));
        }
        if !self.user_present.load(Ordering::SeqCst) {
            return Err(SignerError::Signing("the user is not present".into()));
        }
        self.key.sign(message)
    }
}

/// A key store that makes user-bound punch keys and no attestation.
#[derive(Default)]
struct Provider {
    made: std::sync::Mutex<Vec<(KeyRole, Arc<UserKey>)>>,
}

impl KeyProvider for Provider {
    fn create_key(&self, role: KeyRole, _challenge: &[u8]) -> Result<ProvidedKey, SignerError> {
        let key = UserKey::new();
        self.made.lock().unwrap().push((role, key.clone()));
        Ok(ProvidedKey {
            signer: key,
            attestation: None,
        })
    }
}

fn server_config(w: &World) -> ServerConfig {
    let mut server = ServerConfig::new(&w.proxy.base_url(), w.admin.policy_public_key().unwrap());
    server.retry = fast_retry();
    server.request_timeout_ms = 2_000;
    server
}

fn open(w: &World, name: &str, signer: Option<Arc<dyn Signer>>) -> PunchEngine {
    PunchEngine::open_with(
        w.dir.path().join(name),
        EngineOptions {
            clock: w.clock.clone(),
            server: Some(server_config(w)),
            signer,
            ..Default::default()
        },
    )
    .unwrap()
}

/// A second employee's device, enrolled and with the policy.
fn enrolled(w: &World, employee: &str, signer: Option<Arc<dyn Signer>>) -> PunchEngine {
    w.admin.add_employee(employee, "Zhang Min").unwrap();
    let engine = open(w, &format!("{employee}.db"), signer);
    let code = w
        .admin
        .create_enrollment_code(employee, Duration::from_secs(600))
        .unwrap();
    engine.enroll(&code).unwrap();
    engine.sync().unwrap();
    engine
}

fn at_hq(w: &World) -> Evidence {
    let at: (f64, f64) = Geodesic::wgs84().direct(HQ.0, HQ.1, 30.0, 25.0);
    Evidence {
        gps: Some(GpsFix {
            lat: at.0,
            lon: at.1,
            accuracy_m: 8.0,
            fix_time_ms: w.clock.now().wall_time_ms,
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

fn punch(w: &World, engine: &PunchEngine) -> u64 {
    w.clock.advance_ms(60_000);
    engine.punch(PunchKind::ClockIn, &at_hq(w)).unwrap().seq
}

fn server_chain_intact(w: &World, engine: &PunchEngine) -> u64 {
    let device_id = engine.device().unwrap().device_id;
    let report = w.admin.verify_chain(&device_id).unwrap();
    assert!(report.is_intact(), "{report:?}");
    report.head_seq
}

fn raw(w: &World, name: &str) -> rusqlite::Connection {
    rusqlite::Connection::open(w.dir.path().join(name)).unwrap()
}

#[test]
fn background_sync_uploads_every_punch_while_the_punch_key_needs_the_user() {
    let w = World::new();
    let key = UserKey::new();
    let engine = enrolled(&w, "emp-8", Some(key.clone()));
    for _ in 0..3 {
        punch(&w, &engine);
    }
    // The app is in the background: no one is there to touch the sensor.
    key.user_present.store(false, Ordering::SeqCst);
    assert!(matches!(
        engine.punch(PunchKind::ClockOut, &at_hq(&w)),
        Err(PunchError::Signer(_))
    ));
    let report = engine.sync().unwrap();
    assert_eq!(report.error, None);
    assert_eq!(report.uploaded, 3);
    assert_eq!(engine.pending_count().unwrap(), 0);
    assert_eq!(server_chain_intact(&w, &engine), 3);
}

#[test]
fn an_invalidated_punch_key_is_rotated_and_everything_verifies_on_the_server() {
    let w = World::new();
    let key = UserKey::new();
    let engine = enrolled(&w, "emp-8", Some(key.clone()));
    punch(&w, &engine);
    punch(&w, &engine);
    // A fingerprint was added: Android invalidates the key.
    key.invalidated.store(true, Ordering::SeqCst);
    // What was signed before still uploads, through the channel key.
    assert_eq!(engine.sync().unwrap().uploaded, 2);
    let provider = Provider::default();
    let rotation = engine
        .rotate_punch_key(Some(&provider), RotationReason::Invalidated)
        .unwrap();
    assert_eq!(rotation.seq, 3);
    let new_key = provider.made.lock().unwrap()[0].1.clone();
    assert_eq!(
        engine.device().unwrap().public_key_spki,
        new_key.public_key_spki().unwrap()
    );
    punch(&w, &engine);
    punch(&w, &engine);
    let report = engine.sync().unwrap();
    assert_eq!(
        (report.uploaded, report.rejected.len()),
        (3, 0),
        "{report:?}"
    );
    assert_eq!(report.key_rotation_pending, None);
    assert_eq!(server_chain_intact(&w, &engine), 5);
    assert!(engine.verify_chain().unwrap().is_intact());
    // History reads every punch as authentic, before and after the rotation.
    let history = engine.punches(0, 100).unwrap();
    assert_eq!(history.len(), 4);
    assert!(history.iter().all(|p| p.verified), "{history:?}");
    // The server holds the new key as the one in force.
    let device_id = engine.device().unwrap().device_id;
    let on_server = w
        .admin
        .devices()
        .unwrap()
        .into_iter()
        .find(|d| d.device_id == device_id)
        .unwrap();
    assert_eq!(
        on_server.punch_key,
        Some(new_key.public_key_spki().unwrap())
    );
    // Reopened with the new platform key, the device goes on.
    drop(engine);
    let engine = open(&w, "emp-8.db", Some(new_key));
    punch(&w, &engine);
    assert_eq!(engine.sync().unwrap().uploaded, 1);
    assert!(engine.verify_chain().unwrap().is_intact());
    assert_eq!(server_chain_intact(&w, &engine), 6);
}

#[test]
fn a_rotation_below_the_required_assurance_waits_for_hr() {
    let w = World::new();
    // The employer wants hardware keys, and reviews (not refuses) the rest.
    let mut settings = w.admin.settings().unwrap();
    settings.min_assurance = AssuranceLevel::HardwareTee;
    settings.below_min_assurance = BelowMinimum::Review;
    w.admin.set_settings(settings).unwrap();
    w.admin.publish_policy(Duration::from_secs(86_400)).unwrap();
    let engine = enrolled(&w, "emp-8", None);
    punch(&w, &engine);
    let rotation = engine.rotate_punch_key(None, RotationReason::Lost).unwrap();
    punch(&w, &engine);
    punch(&w, &engine);
    let report = engine.sync().unwrap();
    assert_eq!(report.error, None);
    assert_eq!(report.key_rotation_pending, Some(rotation.seq));
    assert_eq!(report.uploaded, 2, "the punch and the rotation");
    assert_eq!(engine.pending_count().unwrap(), 2, "the rest waits");
    let pending = w.admin.pending_key_rotations().unwrap();
    assert_eq!(pending.len(), 1);
    w.admin
        .decide_key_rotation(&pending[0].event_id, true, "hr-1", "new phone key, checked")
        .unwrap();
    let report = engine.sync().unwrap();
    assert_eq!((report.uploaded, report.key_rotation_pending), (2, None));
    assert_eq!(server_chain_intact(&w, &engine), 4);
}

/// Records waiting behind a rotation HR has not approved are not a reason
/// for background sync to ask again and again.
#[test]
fn background_sync_does_not_spin_on_records_waiting_for_hr() {
    let w = World::new();
    let mut settings = w.admin.settings().unwrap();
    settings.min_assurance = AssuranceLevel::HardwareTee;
    settings.below_min_assurance = BelowMinimum::Review;
    w.admin.set_settings(settings).unwrap();
    w.admin.publish_policy(Duration::from_secs(86_400)).unwrap();
    let engine = Arc::new(enrolled(&w, "emp-8", None));
    engine.rotate_punch_key(None, RotationReason::Lost).unwrap();
    punch(&w, &engine);
    w.proxy.clear_seen();
    let background = engine.start_background_sync(Duration::from_secs(3_600));
    std::thread::sleep(Duration::from_millis(700));
    background.stop();
    let requests = w.proxy.seen().len();
    assert!((1..=6).contains(&requests), "{requests} requests in 0.7 s");
    assert_eq!(engine.pending_count().unwrap(), 1);
}

#[test]
fn a_denied_rotation_leaves_the_old_key_in_force() {
    let w = World::new();
    let mut settings = w.admin.settings().unwrap();
    settings.min_assurance = AssuranceLevel::HardwareTee;
    settings.below_min_assurance = BelowMinimum::Review;
    w.admin.set_settings(settings).unwrap();
    w.admin.publish_policy(Duration::from_secs(86_400)).unwrap();
    let engine = enrolled(&w, "emp-8", None);
    let rotation = engine.rotate_punch_key(None, RotationReason::Lost).unwrap();
    punch(&w, &engine);
    assert_eq!(
        engine.sync().unwrap().key_rotation_pending,
        Some(rotation.seq)
    );
    let pending = w.admin.pending_key_rotations().unwrap();
    w.admin
        .decide_key_rotation(
            &pending[0].event_id,
            false,
            "hr-1",
            "not this employee's phone",
        )
        .unwrap();
    // Deciding twice is refused.
    assert!(
        w.admin
            .decide_key_rotation(&pending[0].event_id, true, "hr-1", "")
            .is_err()
    );
    // What the refused key signed is refused: the device must enroll again.
    let report = engine.sync().unwrap();
    assert_eq!(report.key_rotation_pending, None);
    assert_eq!(
        report
            .rejected
            .iter()
            .map(|r| (r.seq, r.reason))
            .collect::<Vec<_>>(),
        vec![(rotation.seq + 1, Some(RejectReason::BadSignature))]
    );
    let device_id = engine.device().unwrap().device_id;
    let on_server = w
        .admin
        .devices()
        .unwrap()
        .into_iter()
        .find(|d| d.device_id == device_id)
        .unwrap();
    assert_eq!(on_server.punch_key, None);
}

#[test]
fn a_record_signed_by_the_channel_key_is_refused() {
    let w = World::new();
    let engine = enrolled(&w, "emp-8", None);
    punch(&w, &engine);
    let db = raw(&w, "emp-8.db");
    let channel: Vec<u8> = db
        .query_row("SELECT channel_pkcs8 FROM device", [], |r| r.get(0))
        .unwrap();
    // A chained, well-formed punch — signed by the key that signs requests.
    let last = engine.punches(0, 10).unwrap().pop().unwrap();
    let mut record = PunchRecord::from_bytes(&last.record).unwrap();
    record.seq = last.seq + 1;
    record.punch_id = Uuid::new_v4();
    record.prev_hash = hex::encode(sha256(&last.record));
    let bytes = record.to_bytes().unwrap();
    let signature = SoftwareSigner::from_pkcs8(&channel)
        .unwrap()
        .sign(&bytes)
        .unwrap();
    insert(
        &db,
        record.seq,
        &record.punch_id.to_string(),
        &bytes,
        &signature,
    );
    let report = engine.sync().unwrap();
    assert_eq!(
        report
            .rejected
            .iter()
            .map(|r| (r.seq, r.reason))
            .collect::<Vec<_>>(),
        vec![(2, Some(RejectReason::BadSignature))]
    );
    assert_eq!(server_chain_intact(&w, &engine), 1);
}

#[test]
fn a_rotation_not_signed_by_the_enrolled_channel_key_is_refused() {
    let w = World::new();
    let engine = enrolled(&w, "emp-8", None);
    punch(&w, &engine);
    let db = raw(&w, "emp-8.db");
    let punch_key: Vec<u8> = db
        .query_row("SELECT key_pkcs8 FROM device", [], |r| r.get(0))
        .unwrap();
    let punch_signer = SoftwareSigner::from_pkcs8(&punch_key).unwrap();
    let last = engine.punches(0, 10).unwrap().pop().unwrap();
    let header = PunchRecord::from_bytes(&last.record).unwrap();
    let (intruder, _) = SoftwareSigner::generate().unwrap();
    let rotation = EventRecord {
        format: RECORD_FORMAT,
        entry: EntryTag::Event,
        event_id: Uuid::new_v4(),
        device_id: header.device_id.clone(),
        employee_id: header.employee_id.clone(),
        seq: 2,
        wall_time_ms: header.wall_time_ms + 1_000,
        utc_offset_min: header.utc_offset_min,
        monotonic_ms: header.monotonic_ms + 1_000,
        boot_id: header.boot_id.clone(),
        anchor: header.anchor.clone(),
        policy_version: header.policy_version,
        event: ChainEvent::KeyRotation(KeyRotation {
            punch_key: intruder.public_key_spki().unwrap(),
            replaces: key_fingerprint(&punch_signer.public_key_spki().unwrap()),
            reason: RotationReason::Lost,
            attestation: None,
        }),
        prev_hash: hex::encode(sha256(&last.record)),
    };
    let bytes = rotation.to_bytes().unwrap();
    // Whoever holds only the punch key (or another key) cannot rotate it.
    for signer in [&punch_signer, &intruder] {
        let signature = signer.sign(&bytes).unwrap();
        db.execute("DELETE FROM punches WHERE seq = 2", []).unwrap();
        insert(&db, 2, &rotation.event_id.to_string(), &bytes, &signature);
        let report = engine.sync().unwrap();
        assert_eq!(
            report
                .rejected
                .iter()
                .map(|r| (r.seq, r.reason))
                .collect::<Vec<_>>(),
            vec![(2, Some(RejectReason::BadSignature))]
        );
    }
    // The key in force on the server is still the enrolled one.
    let device_id = engine.device().unwrap().device_id;
    let on_server = w
        .admin
        .devices()
        .unwrap()
        .into_iter()
        .find(|d| d.device_id == device_id)
        .unwrap();
    assert_eq!(on_server.punch_key, None);
    assert_eq!(server_chain_intact(&w, &engine), 1);
}

#[test]
fn enrollment_is_refused_with_a_typed_error_when_attestation_is_required_and_absent() {
    let w = World::new();
    w.admin
        .set_settings(Settings {
            max_clock_skew_s: 120.0,
            min_assurance: AssuranceLevel::HardwareTee,
            below_min_assurance: BelowMinimum::Refuse,
            ..Settings::default()
        })
        .unwrap();
    w.admin.publish_policy(Duration::from_secs(86_400)).unwrap();
    w.admin.add_employee("emp-8", "Zhang Min").unwrap();
    let code = w
        .admin
        .create_enrollment_code("emp-8", Duration::from_secs(600))
        .unwrap();
    let required = EnrollError::AttestationRequired {
        role: KeyRole::Punch,
        required: AssuranceLevel::HardwareTee,
    };
    // Keys made by the platform at enrollment, without an attestation.
    let engine = open(&w, "emp-8.db", None);
    let refused = engine.enroll_with_keys(&code, &Provider::default());
    assert!(
        matches!(&refused, Err(PunchError::Enrollment(e)) if *e == required),
        "{refused:?}"
    );
    // Software keys the engine made itself: the same, before anything is sent.
    let engine = open(&w, "emp-8b.db", None);
    let refused = engine.enroll(&code);
    assert!(
        matches!(&refused, Err(PunchError::Enrollment(e)) if *e == required),
        "{refused:?}"
    );
    // Nothing was bound; the code is still good for a device that attests.
    assert!(
        w.admin
            .devices()
            .unwrap()
            .iter()
            .all(|d| d.employee_id != "emp-8")
    );
}

fn insert(db: &rusqlite::Connection, seq: u64, id: &str, bytes: &[u8], signature: &[u8]) {
    db.execute(
        "INSERT INTO punches (seq, punch_id, record, signature, hash, kind, wall_time_ms, decision, created_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, 'clock_in', 0, 'accepted', 0)",
        rusqlite::params![seq as i64, id, bytes, signature, sha256(bytes).to_vec()],
    )
    .unwrap();
}
