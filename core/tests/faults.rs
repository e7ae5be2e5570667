//! Fault reports on a real SQLite file: the faults the engine sees at a
//! punch are recorded once per episode, never change the punch's outcome,
//! and verify in the chain (signed by the channel key); the employee's own
//! reports are checked, and a make-up request may cite one.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::*;
use punch_core::{
    Clock, EngineOptions, Evidence, FaultCitation, FaultKind, FaultRefusal, MakeUpRequest,
    PunchEngine, PunchError, PunchKind, Signer, SignerError, SoftwareSigner,
};

/// The common policy with `settings.faults` (recording on) or without.
fn policy(version: u64, record: bool) -> Vec<u8> {
    let mut p: serde_json::Value = serde_json::from_str(&policy_json(version, None)).unwrap();
    if record {
        p["settings"]["faults"] = serde_json::json!({ "upload_failing_after_min": 30 });
    }
    p.to_string().into_bytes()
}

fn recording_engine(
    path: &std::path::Path,
    clock: Arc<punch_core::test_support::ManualClock>,
) -> PunchEngine {
    let engine = engine_at(path, clock);
    engine.install_policy_json(&policy(2, true), None).unwrap();
    engine
}

fn kinds(engine: &PunchEngine) -> Vec<FaultKind> {
    engine
        .faults()
        .unwrap()
        .into_iter()
        .map(|f| f.report.kind)
        .collect()
}

/// At HQ by Wi-Fi only (no fix), by GPS only (no Wi-Fi), and by both.
fn wifi_only() -> Evidence {
    wifi("aa:bb:cc:dd:ee:01", Some("HQ-Staff"))
}

/// A fresh fix at HQ, taken at the clock's `now_ms`.
fn gps_only(now_ms: i64) -> Evidence {
    gps(HQ, 10.0, now_ms - 1_000)
}

fn both(now_ms: i64) -> Evidence {
    Evidence {
        wifi: wifi_only().wifi,
        ..gps_only(now_ms)
    }
}

#[test]
fn each_fault_is_recorded_once_per_episode_and_the_punches_stand() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = recording_engine(&dir.path().join("d.db"), clock.clone());
    let punch = |kind, evidence: fn(i64) -> Evidence| {
        clock.advance_ms(60_000);
        let now = clock.now().wall_time_ms;
        let r = engine
            .punch(kind, &evidence(now))
            .expect("the punch stands");
        assert_eq!(r.evaluation.site_id.as_deref(), Some("hq"));
    };
    punch(PunchKind::ClockIn, |_| wifi_only());
    assert_eq!(kinds(&engine), [FaultKind::LocationUnavailable]);
    // The same episode: no second event.
    punch(PunchKind::BreakStart, |_| wifi_only());
    assert_eq!(kinds(&engine), [FaultKind::LocationUnavailable]);
    // Location back, Wi-Fi gone (the policy has Wi-Fi sites).
    punch(PunchKind::BreakEnd, gps_only);
    punch(PunchKind::ClockOut, gps_only);
    assert_eq!(
        kinds(&engine),
        [FaultKind::LocationUnavailable, FaultKind::WifiOff]
    );
    punch(PunchKind::ClockIn, both);
    // A new episode of the first fault is a new event.
    punch(PunchKind::ClockOut, |_| wifi_only());
    assert_eq!(
        kinds(&engine),
        [
            FaultKind::LocationUnavailable,
            FaultKind::WifiOff,
            FaultKind::LocationUnavailable
        ]
    );
    let faults = engine.faults().unwrap();
    assert!(
        faults
            .iter()
            .all(|f| f.report.text == "no usable location fix"
                || f.report.text == "no access point seen")
    );
    // Six punches and three faults, one chain, every signature good (the
    // faults' by the channel key), all waiting for upload.
    let report = engine.verify_chain().unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(engine.pending_count().unwrap(), 9);
    assert_eq!(engine.punches(0, 100).unwrap().len(), 6);
}

#[test]
fn a_policy_without_fault_settings_records_none() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = engine_at(&dir.path().join("d.db"), clock.clone());
    engine.punch(PunchKind::ClockIn, &wifi_only()).unwrap();
    assert!(engine.faults().unwrap().is_empty());
    // Turned on later: the next punch records what it sees.
    engine.install_policy_json(&policy(2, true), None).unwrap();
    clock.advance_ms(60_000);
    engine.punch(PunchKind::ClockOut, &wifi_only()).unwrap();
    assert_eq!(kinds(&engine), [FaultKind::LocationUnavailable]);
}

#[test]
fn a_refused_punch_is_still_refused_and_its_fault_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = recording_engine(&dir.path().join("d.db"), clock.clone());
    // Nothing at all: no fix, no Wi-Fi.
    match engine.punch(PunchKind::ClockIn, &Evidence::default()) {
        Err(PunchError::Refused(_)) => {}
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(engine.refused_attempts().unwrap().len(), 1);
    assert_eq!(
        kinds(&engine),
        [FaultKind::LocationUnavailable, FaultKind::WifiOff]
    );
}

#[test]
fn hostile_reports_are_typed_errors_and_a_good_one_can_be_cited() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = recording_engine(&dir.path().join("d.db"), clock.clone());
    let refused = |r: Result<punch_core::EventReceipt, PunchError>| match r {
        Err(PunchError::Fault(f)) => f,
        other => panic!("expected a fault refusal, got {other:?}"),
    };
    assert_eq!(
        refused(engine.report_fault("phone_on_fire", "smoke", vec![])),
        FaultRefusal::UnknownKind {
            kind: "phone_on_fire".into()
        }
    );
    assert!(matches!(
        refused(engine.report_fault("other", &"长".repeat(1001), vec![])),
        FaultRefusal::TextTooLong {
            chars: 1001,
            max: 1000
        }
    ));
    assert_eq!(
        refused(engine.report_fault("other", "  ", vec![])),
        FaultRefusal::NoText
    );
    assert_eq!(
        refused(engine.report_fault("other", "bell\u{7}", vec![])),
        FaultRefusal::ControlCharacters
    );
    let foreign = punch_core::Attachment {
        sha256: "ab".repeat(32),
        size_bytes: 3,
        media_type: "image/png".into(),
    };
    assert!(matches!(
        engine.report_fault("other", "GPS dead", vec![foreign]),
        Err(PunchError::UnknownReference {
            what: "attachment",
            ..
        })
    ));
    assert!(engine.faults().unwrap().is_empty(), "nothing was recorded");

    let photo = engine
        .attach(b"(a photo of the error screen)".to_vec(), "image/jpeg")
        .unwrap();
    let receipt = engine
        .report_fault(
            "location_unavailable",
            "GPS shows no fix in the hall",
            vec![photo.clone()],
        )
        .unwrap();
    let fault = engine.faults().unwrap().pop().unwrap();
    assert_eq!(fault.seq, receipt.seq);
    assert_eq!(fault.report.attachments, vec![photo]);
    assert_eq!(
        fault.report.source,
        punch_model::ledger::fault::FaultSource::Employee
    );

    let request = |citation: FaultCitation| MakeUpRequest {
        kind: PunchKind::ClockIn,
        intended_time_ms: T0 - 3_600_000,
        site_id: Some("hq".into()),
        reason: "no fix in the hall".into(),
        attachments: vec![],
        refused_attempt: None,
        fault: Some(citation),
    };
    // A seq of this device that is no fault.
    let wrong = FaultCitation {
        device_id: fault.device_id.clone(),
        seq: fault.seq + 5,
    };
    assert!(matches!(
        engine.file_make_up_request(request(wrong)),
        Err(PunchError::UnknownReference { what: "fault", .. })
    ));
    let filed = engine
        .file_make_up_request(request(fault.citation()))
        .unwrap();
    assert!(filed.seq > fault.seq);
    assert!(engine.verify_chain().unwrap().is_intact());
}

/// A platform punch key the OS invalidates mid-life.
struct InvalidatedKey {
    key: SoftwareSigner,
    invalid: AtomicBool,
}

impl Signer for InvalidatedKey {
    fn public_key_spki(&self) -> Result<Vec<u8>, SignerError> {
        self.key.public_key_spki()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError> {
        if self.invalid.load(Ordering::SeqCst) {
            return Err(SignerError::Invalidated);
        }
        self.key.sign(message)
    }
}

#[test]
fn an_invalidated_key_is_a_fault_the_channel_key_still_signs() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let key = Arc::new(InvalidatedKey {
        key: SoftwareSigner::generate().unwrap().0,
        invalid: AtomicBool::new(false),
    });
    let engine = PunchEngine::open_with(
        dir.path().join("d.db"),
        EngineOptions {
            signer: Some(key.clone()),
            clock: clock.clone(),
            ..Default::default()
        },
    )
    .unwrap();
    engine.set_employee("emp-1").unwrap();
    engine.install_policy_json(&policy(2, true), None).unwrap();
    engine
        .punch(PunchKind::ClockIn, &both(clock.now().wall_time_ms))
        .unwrap();
    key.invalid.store(true, Ordering::SeqCst);
    for _ in 0..2 {
        clock.advance_ms(60_000);
        assert!(matches!(
            engine.punch(PunchKind::ClockOut, &both(clock.now().wall_time_ms)),
            Err(PunchError::Signer(SignerError::Invalidated))
        ));
    }
    assert_eq!(kinds(&engine), [FaultKind::KeyInvalidated]);
    assert_eq!(
        engine.punches(0, 10).unwrap().len(),
        1,
        "no punch was stored"
    );
    assert!(engine.verify_chain().unwrap().is_intact());
}
