//! Record payloads sealed at rest (AES-256-GCM under a platform-wrapped data
//! key), through the real server: the chain verifies with no key, the server
//! reviews with the escrowed key, and a lost platform key loses nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use punch_core::{
    Clock, DataKeyStatus, EngineOptions, Evidence, GpsFix, KeyWrapError, KeyWrapper, PunchEngine,
    PunchError, PunchKind, PunchRecord,
};
use punch_model::ledger::review::ReviewFlag;
use punch_tests::world::{HQ, World, fast_retry};

const EMPLOYEE: &str = "emp-sealed";

/// A platform wrapper whose key can be "lost" (Keystore reset).
struct TestWrapper {
    secret: u8,
    lost: AtomicBool,
}

impl KeyWrapper for TestWrapper {
    fn wrap(&self, key: &[u8]) -> Result<Vec<u8>, KeyWrapError> {
        Ok(key.iter().map(|b| b ^ self.secret).collect())
    }
    fn unwrap(&self, wrapped: &[u8]) -> Result<Vec<u8>, KeyWrapError> {
        if self.lost.load(Ordering::SeqCst) {
            return Err(KeyWrapError::Unavailable(
                "key permanently invalidated".into(),
            ));
        }
        Ok(wrapped.iter().map(|b| b ^ self.secret).collect())
    }
}

fn open(w: &World, wrapper: &Arc<TestWrapper>) -> PunchEngine {
    let mut server = punch_core::ServerConfig::new(
        &w.proxy.base_url(),
        w.admin.policy_public_key().expect("key"),
    );
    server.retry = fast_retry();
    PunchEngine::open_with(
        w.dir.path().join("sealed.db"),
        EngineOptions {
            clock: w.clock.clone(),
            server: Some(server),
            key_wrapper: Some(wrapper.clone()),
            ..Default::default()
        },
    )
    .expect("open")
}

fn setup() -> (World, Arc<TestWrapper>, PunchEngine) {
    let w = World::new();
    w.admin.add_employee(EMPLOYEE, "Sealed").expect("employee");
    let wrapper = Arc::new(TestWrapper {
        secret: 0x5a,
        lost: AtomicBool::new(false),
    });
    let engine = open(&w, &wrapper);
    let code = w
        .admin
        .create_enrollment_code(EMPLOYEE, Duration::from_secs(600))
        .expect("code");
    engine.enroll(&code).expect("enroll");
    engine.sync().expect("policy");
    (w, wrapper, engine)
}

fn punch(w: &World, engine: &PunchEngine, kind: PunchKind) -> Result<u64, PunchError> {
    let evidence = Evidence {
        gps: Some(GpsFix {
            lat: HQ.0 + 0.0002,
            lon: HQ.1,
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
    };
    engine.punch(kind, &evidence).map(|r| r.seq)
}

fn server_flags(w: &World) -> Vec<Vec<ReviewFlag>> {
    w.admin
        .punches()
        .expect("punches")
        .into_iter()
        .filter(|p| p.employee_id == EMPLOYEE)
        .map(|p| p.review_flags)
        .collect()
}

#[test]
fn sealed_payloads_verify_without_a_key_and_the_server_reviews_them() {
    let (w, _wrapper, engine) = setup();
    punch(&w, &engine, PunchKind::ClockIn).expect("punch");
    let rows = engine.punches(0, 10).expect("punches");
    assert!(rows[0].verified);
    let bytes = &rows[0].record;
    let text = String::from_utf8_lossy(bytes);
    assert!(
        !text.contains(&format!("{:.4}", HQ.0)),
        "the fix is in clear: {text}"
    );
    let record = PunchRecord::from_bytes(bytes).expect("parse");
    assert!(record.sealed.is_some() && record.evidence.gps.is_none());
    assert!(
        record.evaluation.reasons.is_empty(),
        "reasons are sealed too"
    );
    assert!(engine.verify_chain().expect("verify").is_intact());
    let report = engine.sync().expect("sync");
    assert_eq!(report.uploaded, 1, "{report:?}");
    let device = engine.device().expect("device").device_id;
    let stored = w
        .admin
        .punch_record(&device, 1)
        .expect("read")
        .expect("stored");
    assert_eq!(
        &stored, bytes,
        "the server keeps the sealed bytes as signed"
    );
    assert_eq!(server_flags(&w), vec![Vec::<ReviewFlag>::new()]);
}

#[test]
fn a_lost_platform_key_refuses_new_punches_and_loses_nothing_unacknowledged() {
    let (w, wrapper, engine) = setup();
    punch(&w, &engine, PunchKind::ClockIn).expect("punch");
    punch(&w, &engine, PunchKind::ClockOut).expect("punch");
    drop(engine);
    wrapper.lost.store(true, Ordering::SeqCst);
    let engine = open(&w, &wrapper);
    assert!(matches!(
        engine.data_key_status(),
        DataKeyStatus::Unavailable { .. }
    ));
    assert!(matches!(
        punch(&w, &engine, PunchKind::ClockIn),
        Err(PunchError::DataKeyUnavailable { .. })
    ));
    // Nothing unacknowledged is lost: listed, verified and uploaded as is,
    // and the server reads them with the key escrowed at enrollment.
    assert_eq!(engine.pending_count().expect("pending"), 2);
    assert!(engine.verify_chain().expect("verify").is_intact());
    assert!(
        engine
            .punches(0, 10)
            .expect("list")
            .iter()
            .all(|r| r.verified)
    );
    let report = engine.sync().expect("sync");
    assert_eq!(report.uploaded, 2, "{report:?}");
    assert_eq!(server_flags(&w), vec![Vec::<ReviewFlag>::new(); 2]);
    // A new key for new punches; the server gets it before their upload.
    let old = engine.rotate_data_key().expect("rotate");
    assert!(matches!(
        engine.data_key_status(),
        DataKeyStatus::Ready { .. }
    ));
    punch(&w, &engine, PunchKind::ClockIn).expect("punch after rotation");
    let report = engine.sync().expect("sync");
    assert_eq!(report.uploaded, 1, "{report:?}");
    assert_eq!(server_flags(&w).concat(), vec![], "{old}");
}

#[test]
fn a_key_lost_before_it_was_escrowed_still_uploads_every_punch_flagged() {
    let (w, wrapper, engine) = setup();
    // Rotated offline, punched, then the platform lost the key before any sync.
    engine.rotate_data_key().expect("rotate");
    punch(&w, &engine, PunchKind::ClockIn).expect("punch");
    drop(engine);
    wrapper.lost.store(true, Ordering::SeqCst);
    let engine = open(&w, &wrapper);
    let report = engine.sync().expect("sync");
    assert_eq!(report.uploaded, 1, "the punch is not lost: {report:?}");
    let flags = server_flags(&w);
    assert!(
        matches!(flags[0].as_slice(), [ReviewFlag::PayloadUnreadable { .. }]),
        "{flags:?}"
    );
}

/// ~3 km west of HQ: refused.
fn far_away(w: &World) -> Evidence {
    Evidence {
        gps: Some(GpsFix {
            lat: HQ.0,
            lon: HQ.1 - 0.03,
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

#[test]
fn a_refused_attempt_is_sealed_on_the_server_and_opened_in_its_export_even_after_a_lost_key() {
    let (w, wrapper, engine) = setup();
    let evidence = far_away(&w);
    assert!(matches!(
        engine.punch(PunchKind::ClockIn, &evidence),
        Err(PunchError::Refused(_))
    ));
    let lat = format!("{:.4}", HQ.0);
    let lon = format!("{:.4}", HQ.1 - 0.03);
    // The platform loses its key before the attempt is uploaded.
    drop(engine);
    wrapper.lost.store(true, Ordering::SeqCst);
    let engine = open(&w, &wrapper);
    let attempts = engine.refused_attempts().expect("still listed");
    assert_eq!(attempts.len(), 1);
    assert!(attempts[0].unreadable.is_some(), "{:?}", attempts[0]);
    assert!(engine.verify_chain().expect("verify").is_intact());
    let report = engine.sync().expect("sync");
    assert_eq!(report.uploaded, 1, "still uploaded: {report:?}");

    // The server stores the sealed bytes as signed, and its copy of the
    // body is the sealed one too: no coordinates in either.
    let stored = w.admin.events(Some("refused_punch")).expect("events");
    assert_eq!(stored.len(), 1);
    let bytes = String::from_utf8_lossy(&stored[0].record).into_owned();
    for text in [&bytes, &stored[0].body] {
        assert!(
            !text.contains(&lat) && !text.contains(&lon),
            "in clear on the server: {text}"
        );
        assert!(text.contains("\"sealed\""), "{text}");
    }
    // The employee's export, through the API, opens it with the escrowed key.
    let export: serde_json::Value =
        serde_json::from_slice(&engine.fetch_server_export().expect("server export"))
            .expect("json");
    let events = export["requests"].as_array().expect("events");
    let refused = events
        .iter()
        .find(|e| e["event_type"] == "refused_punch")
        .expect("the refused attempt is exported");
    assert_eq!(refused["sealed_payload"], "opened", "{refused}");
    let body: serde_json::Value =
        serde_json::from_str(refused["body"].as_str().expect("body")).expect("body json");
    let gps = &body["evidence"]["gps"]["point"];
    assert!(
        (gps["lon"].as_f64().expect("lon") - (HQ.1 - 0.03)).abs() < 1e-9,
        "{body}"
    );
    assert!(
        !body["evaluation"]["reasons"]
            .as_array()
            .expect("reasons")
            .is_empty()
    );
    let device = engine.device().expect("device").device_id;
    let chain = w.admin.verify_chain(&device).expect("server chain");
    assert!(chain.is_intact(), "{chain:?}");
}
