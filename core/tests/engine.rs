//! The engine through a real SQLite file: durability, the signed chain,
//! tamper detection, refusal, bad input, threads.

use crate::common;

use std::sync::Arc;

use common::*;
use punch_core::{Clock, Decision, PunchEngine, PunchError, PunchKind, Signer, SignerError};
use punch_model::ledger::chain::ChainProblem;
use punch_model::ledger::record::{GENESIS_HASH, PunchRecord};

fn inside(clock: &punch_core::test_support::ManualClock) -> punch_core::Evidence {
    gps(offset(HQ, 30.0, 20.0), 8.0, clock.now().wall_time_ms)
}

#[test]
fn punches_are_durable_chained_and_signed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("device.db");
    let clock = clock();
    let device_id;
    {
        let engine = engine_at(&db, clock.clone());
        device_id = engine.device().unwrap().device_id;
        for kind in [
            PunchKind::ClockIn,
            PunchKind::BreakStart,
            PunchKind::BreakEnd,
        ] {
            clock.advance_ms(60_000);
            let r = engine.punch(kind, &inside(&clock)).unwrap();
            assert_eq!(r.evaluation.decision, Decision::Accepted);
            assert_eq!(r.evaluation.site_id.as_deref(), Some("hq"));
        }
    }
    // A new engine on the same file sees every record, in order, linked.
    let engine = PunchEngine::open_with(
        &db,
        punch_core::EngineOptions {
            signer: None,
            clock: clock.clone(),
            ..Default::default()
        },
    )
    .unwrap();
    let stored = engine.punches(0, 10).unwrap();
    assert_eq!(
        stored.iter().map(|p| p.seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    let mut prev = GENESIS_HASH.to_string();
    // One boot, named by the device's keyed id, never the OS's (privacy).
    let first_boot = PunchRecord::from_bytes(&stored[0].record).unwrap().boot_id;
    assert_ne!(first_boot, "boot-a");
    for p in &stored {
        let rec = PunchRecord::from_bytes(&p.record).unwrap();
        assert_eq!(rec.seq, p.seq);
        assert_eq!(rec.device_id, device_id);
        assert_eq!(rec.employee_id, "emp-1");
        assert_eq!(rec.prev_hash, prev);
        assert_eq!(rec.policy_version, 1);
        assert_eq!(rec.boot_id, first_boot);
        assert_eq!(p.upload_state, "pending");
        let key = engine.device().unwrap().public_key_spki;
        punch_model::ledger::signing::verify(&key, &p.record, &p.signature).unwrap();
        prev = hex::encode(punch_model::ledger::signing::sha256(&p.record));
    }
    assert_eq!(engine.pending_count().unwrap(), 3);
    assert!(engine.verify_chain().unwrap().is_intact());
}

fn raw(db: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(db).unwrap()
}

fn three_punches(db: &std::path::Path) -> PunchEngine {
    let clock = clock();
    let engine = engine_at(db, clock.clone());
    for _ in 0..3 {
        clock.advance_ms(60_000);
        engine.punch(PunchKind::ClockIn, &inside(&clock)).unwrap();
    }
    engine
}

#[test]
fn edited_bytes_are_pinpointed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let engine = three_punches(&db);
    let bytes: Vec<u8> = raw(&db)
        .query_row("SELECT record FROM punches WHERE seq = 2", [], |r| r.get(0))
        .unwrap();
    let edited = String::from_utf8(bytes)
        .unwrap()
        .replace("\"clock_in\"", "\"clock_out\"");
    raw(&db)
        .execute(
            "UPDATE punches SET record = ?1 WHERE seq = 2",
            [edited.as_bytes()],
        )
        .unwrap();
    let report = engine.verify_chain().unwrap();
    let at2: Vec<_> = report
        .breaks
        .iter()
        .filter(|b| b.seq == 2)
        .map(|b| &b.problem)
        .collect();
    assert!(at2.contains(&&ChainProblem::HashMismatch), "{report:?}");
    assert!(at2.contains(&&ChainProblem::BadSignature), "{report:?}");
    assert!(report.breaks.iter().all(|b| b.seq >= 2));
    assert!(
        report
            .breaks
            .iter()
            .any(|b| b.seq == 3 && matches!(b.problem, ChainProblem::PrevHashMismatch { .. }))
    );
}

#[test]
fn edit_with_recomputed_hash_still_fails_the_signature() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let engine = three_punches(&db);
    let bytes: Vec<u8> = raw(&db)
        .query_row("SELECT record FROM punches WHERE seq = 3", [], |r| r.get(0))
        .unwrap();
    let edited = String::from_utf8(bytes)
        .unwrap()
        .replace("\"emp-1\"", "\"emp-2\"");
    let hash = punch_model::ledger::signing::sha256(edited.as_bytes()).to_vec();
    raw(&db)
        .execute(
            "UPDATE punches SET record = ?1, hash = ?2 WHERE seq = 3",
            rusqlite::params![edited.as_bytes(), hash],
        )
        .unwrap();
    let report = engine.verify_chain().unwrap();
    assert_eq!(report.breaks.len(), 1, "{report:?}");
    assert_eq!(report.breaks[0].seq, 3);
    assert_eq!(report.breaks[0].problem, ChainProblem::BadSignature);
}

#[test]
fn deleted_middle_and_tail_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let engine = three_punches(&db);
    raw(&db)
        .execute("DELETE FROM punches WHERE seq = 2", [])
        .unwrap();
    let report = engine.verify_chain().unwrap();
    assert!(
        report.breaks.iter().any(|b| b.seq == 3
            && b.problem
                == ChainProblem::Gap {
                    expected: 2,
                    found: 3
                }),
        "{report:?}"
    );

    let dir2 = tempfile::tempdir().unwrap();
    let db2 = dir2.path().join("d.db");
    let engine2 = three_punches(&db2);
    raw(&db2)
        .execute("DELETE FROM punches WHERE seq = 3", [])
        .unwrap();
    let report = engine2.verify_chain().unwrap();
    assert_eq!(
        report.breaks.iter().map(|b| &b.problem).collect::<Vec<_>>(),
        vec![&ChainProblem::MissingTail {
            recorded: 3,
            found: 2
        }]
    );
    // The next punch does not paper over the deleted record: it takes seq 4.
    let clock = clock();
    clock.advance_ms(10 * 60_000);
    assert_eq!(
        engine2
            .punch(PunchKind::ClockOut, &inside(&clock))
            .unwrap()
            .seq,
        4
    );
    let report = engine2.verify_chain().unwrap();
    assert!(
        report.breaks.iter().any(|b| b.seq == 4
            && b.problem
                == ChainProblem::Gap {
                    expected: 3,
                    found: 4
                }),
        "{report:?}"
    );
}

#[test]
fn garbage_row_is_reported_not_panicked() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let engine = three_punches(&db);
    raw(&db)
        .execute(
            "UPDATE punches SET record = x'00ff00', signature = x'' WHERE seq = 1",
            [],
        )
        .unwrap();
    let report = engine.verify_chain().unwrap();
    assert!(
        report
            .breaks
            .iter()
            .any(|b| b.seq == 1 && b.problem == ChainProblem::BadSignature)
    );
    // The engine still appends after a corrupt row, continuing from the stored head.
    let clock = clock();
    clock.advance_ms(10 * 60_000);
    let r = engine.punch(PunchKind::ClockOut, &inside(&clock)).unwrap();
    assert_eq!(r.seq, 4);
}

#[test]
fn refused_and_invalid_punches_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = engine_at(&dir.path().join("d.db"), clock.clone());
    let far = gps(offset(HQ, 270.0, 3000.0), 10.0, T0);
    match engine.punch(PunchKind::ClockIn, &far) {
        Err(PunchError::Refused(ev)) => {
            assert_eq!(ev.decision, Decision::Rejected);
            let nearest = ev.nearest_site.expect("nearest site reported");
            assert_eq!(nearest.site_id, "hq");
            assert!((nearest.distance_m - 2900.0).abs() < 1.0, "{nearest:?}");
            assert!(
                ev.reasons[0].contains("not at any site"),
                "{:?}",
                ev.reasons
            );
        }
        other => panic!("expected refusal, got {other:?}"),
    }
    let bad = gps((f64::NAN, 1.0), 10.0, T0);
    assert!(matches!(
        engine.punch(PunchKind::ClockIn, &bad),
        Err(PunchError::Evidence(_))
    ));
    let bad_wifi = wifi("not-a-mac", None);
    assert!(matches!(
        engine.punch(PunchKind::ClockIn, &bad_wifi),
        Err(PunchError::Evidence(_))
    ));
    assert_eq!(engine.punches(0, 10).unwrap().len(), 0);
}

#[test]
fn policy_rollback_expiry_and_missing_setup_are_typed() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = PunchEngine::open_with(
        dir.path().join("d.db"),
        punch_core::EngineOptions {
            signer: None,
            clock: clock.clone(),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(matches!(
        engine.punch(PunchKind::ClockIn, &inside(&clock)),
        Err(PunchError::NoPolicy)
    ));
    engine
        .install_policy_json(policy_json(5, Some(T0 + 3_600_000)).as_bytes(), None)
        .unwrap();
    assert!(matches!(
        engine.punch(PunchKind::ClockIn, &inside(&clock)),
        Err(PunchError::NoEmployee)
    ));
    engine.set_employee("emp-1").unwrap();
    assert!(matches!(
        engine.set_employee("emp-2"),
        Err(PunchError::EmployeeMismatch { .. })
    ));
    assert!(matches!(
        engine.install_policy_json(policy_json(4, None).as_bytes(), None),
        Err(PunchError::PolicyRollback {
            offered: 4,
            installed: 5
        })
    ));
    assert!(matches!(
        engine.install_policy_json(b"{not json", None),
        Err(PunchError::Policy(_))
    ));
    engine.punch(PunchKind::ClockIn, &inside(&clock)).unwrap();
    clock.advance_ms(2 * 3_600_000);
    assert!(matches!(
        engine.punch(PunchKind::ClockOut, &inside(&clock)),
        Err(PunchError::Policy(
            punch_model::rules::policy::PolicyError::Expired { .. }
        ))
    ));
    assert_eq!(engine.policy_version(), Some(5));
}

#[test]
fn concurrent_punches_stay_gapless() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = Arc::new(engine_at(&dir.path().join("d.db"), clock.clone()));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let engine = engine.clone();
            let clock = clock.clone();
            std::thread::spawn(move || {
                for _ in 0..10 {
                    engine.punch(PunchKind::ClockIn, &inside(&clock)).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let seqs: Vec<u64> = engine
        .punches(0, 100)
        .unwrap()
        .iter()
        .map(|p| p.seq)
        .collect();
    assert_eq!(seqs, (1..=40).collect::<Vec<_>>());
    assert!(engine.verify_chain().unwrap().is_intact());
}

/// A platform-style signer (as Keystore would be), here over a ring key.
struct PlatformSigner(punch_core::SoftwareSigner);

impl Signer for PlatformSigner {
    fn public_key_spki(&self) -> Result<Vec<u8>, SignerError> {
        self.0.public_key_spki()
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError> {
        self.0.sign(message)
    }
}

#[test]
fn platform_signer_is_used_and_checked_on_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let clock = clock();
    let (key, _) = punch_core::SoftwareSigner::generate().unwrap();
    let spki = key.public_key_spki().unwrap();
    let signer: Arc<dyn Signer> = Arc::new(PlatformSigner(key));
    let open = |signer: Option<Arc<dyn Signer>>| {
        PunchEngine::open_with(
            &db,
            punch_core::EngineOptions {
                signer,
                clock: clock.clone(),
                ..Default::default()
            },
        )
    };
    let engine = open(Some(signer.clone())).unwrap();
    assert_eq!(engine.device().unwrap().public_key_spki, spki);
    engine.set_employee("emp-1").unwrap();
    engine
        .install_policy_json(policy_json(1, None).as_bytes(), None)
        .unwrap();
    engine.punch(PunchKind::ClockIn, &inside(&clock)).unwrap();
    assert!(engine.verify_chain().unwrap().is_intact());
    drop(engine);
    // The key lives in the platform: opening without it is a clear error.
    assert!(matches!(open(None), Err(PunchError::CorruptState(_))));
    let other: Arc<dyn Signer> = Arc::new(PlatformSigner(
        punch_core::SoftwareSigner::generate().unwrap().0,
    ));
    assert!(matches!(
        open(Some(other)),
        Err(PunchError::DeviceKeyMismatch)
    ));
    assert!(open(Some(signer)).is_ok());
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    raw(&db).pragma_update(None, "user_version", 99).unwrap();
    assert!(matches!(
        PunchEngine::open(&db),
        Err(PunchError::SchemaTooNew { found: 99, .. })
    ));
}

/// Opening defers preparing the stored policy to the first use; a reopened
/// engine judges exactly as the one that installed it, and a stored body
/// that no longer parses is an error of that first use, not of open.
#[test]
fn a_reopened_engine_prepares_its_policy_on_first_use() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("device.db");
    let clock = clock();
    let before = {
        let engine = engine_at(&db, clock.clone());
        engine.evaluate(&inside(&clock)).unwrap()
    };
    let engine = PunchEngine::open_with(
        &db,
        punch_core::EngineOptions {
            clock: clock.clone(),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(engine.policy_version(), Some(1));
    engine.prepare_policy().unwrap();
    assert_eq!(engine.evaluate(&inside(&clock)).unwrap(), before);
    drop(engine);

    // A garbled body with no prepared form kept is reported, not panicked.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute("UPDATE policy SET body = x'7b7d'", [])
        .unwrap();
    conn.execute("DELETE FROM policy_prepared", []).unwrap();
    drop(conn);
    let engine = PunchEngine::open_with(
        &db,
        punch_core::EngineOptions {
            clock: clock.clone(),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(engine.policy_version(), Some(1));
    assert!(matches!(
        engine.evaluate(&inside(&clock)),
        Err(PunchError::Policy(_))
    ));
}

#[test]
fn copied_columns_are_checked_against_the_signed_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let engine = three_punches(&db);
    // Someone with the file edits what lists show, not the signed bytes.
    raw(&db)
        .execute(
            "UPDATE punches SET kind = 'clock_out', wall_time_ms = 1, decision = 'accepted',
                                punch_id = 'forged' WHERE seq = 2",
            [],
        )
        .unwrap();
    let report = engine.verify_chain().unwrap();
    let columns: Vec<String> = report
        .breaks
        .iter()
        .filter(|b| b.seq == 2)
        .filter_map(|b| match &b.problem {
            ChainProblem::CopiedColumnMismatch { column, .. } => Some(column.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(columns, ["punch_id", "kind", "wall_time_ms"], "{report:?}");
    // What the API returns comes from the verified bytes.
    let listed = engine.punches(1, 1).unwrap().remove(0);
    assert!(listed.verified);
    assert_eq!(listed.kind, "clock_in");
    assert_ne!(listed.wall_time_ms, 1);
    assert_ne!(listed.punch_id, "forged");
    // Edited bytes: not verified, shown as stored.
    raw(&db)
        .execute(
            "UPDATE punches SET record = CAST('{}' AS BLOB) WHERE seq = 3",
            [],
        )
        .unwrap();
    assert!(!engine.punches(2, 1).unwrap()[0].verified);
}
