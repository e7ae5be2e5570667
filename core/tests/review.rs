//! Server-side re-judging of a record's evidence.

use crate::common;

use common::*;
use punch_core::{Clock, PunchKind, PunchRecord};
use punch_model::ledger::review::{ReviewFlag, review};
use punch_model::rules::evaluate::Decision;
use punch_model::rules::policy::{Policy, PreparedPolicy};

fn prepared(json: &str) -> PreparedPolicy {
    PreparedPolicy::new(Policy::from_json(json.as_bytes()).unwrap()).unwrap()
}

fn stored_record(evidence: punch_core::Evidence) -> PunchRecord {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_at(&dir.path().join("d.db"), clock());
    engine.punch(PunchKind::ClockIn, &evidence).unwrap();
    PunchRecord::from_bytes(&engine.punches(0, 1).unwrap()[0].record).unwrap()
}

#[test]
fn honest_records_raise_no_flags() {
    let policy = prepared(&policy_json(1, None));
    let c = clock();
    for evidence in [
        gps(offset(HQ, 10.0, 30.0), 5.0, c.now().wall_time_ms),
        gps(offset(HQ, 0.0, 95.0), 20.0, c.now().wall_time_ms), // uncertain: review
        wifi("aa:bb:cc:dd:ee:01", Some("HQ-Staff")),
        wifi("11:22:33:44:55:66", Some("HQ-Staff")), // SSID only: review
        punch_core::Evidence {
            ip_addresses: vec!["198.51.100.9".into()],
            ..Default::default()
        },
    ] {
        let record = stored_record(evidence);
        assert_eq!(
            review(&policy, &record, record.wall_time_ms),
            vec![],
            "{record:?}"
        );
    }
}

#[test]
fn a_forged_verdict_is_caught() {
    let policy = prepared(&policy_json(1, None));
    // An honest punch near the fence needed review...
    let mut record = stored_record(gps(offset(HQ, 0.0, 95.0), 20.0, T0));
    assert_eq!(record.evaluation.decision, Decision::Review);
    // ...a tampered app signs "accepted" instead.
    record.evaluation.decision = Decision::Accepted;
    let flags = review(&policy, &record, record.wall_time_ms);
    assert_eq!(
        flags,
        vec![ReviewFlag::EvaluationMismatch {
            device: Decision::Accepted,
            device_site: Some("hq".into()),
            evidence: Decision::Review,
            evidence_site: Some("hq".into()),
        }]
    );
    // Or moves the fix 3 km away but keeps the verdict.
    let mut moved = stored_record(gps(offset(HQ, 10.0, 30.0), 5.0, T0));
    if let Some(fix) = moved.evidence.gps.as_mut() {
        let far = offset(HQ, 270.0, 3000.0);
        fix.point.lat = far.0;
        fix.point.lon = far.1;
    }
    assert!(matches!(
        review(&policy, &moved, moved.wall_time_ms)[..],
        [ReviewFlag::EvaluationMismatch {
            evidence: Decision::Rejected,
            ..
        }]
    ));
}

#[test]
fn expired_policy_and_version_mismatch_are_flagged() {
    let policy = prepared(&policy_json(1, Some(T0 + 1_000)));
    let mut record = stored_record(wifi("aa:bb:cc:dd:ee:01", None));
    assert!(review(&policy, &record, T0).is_empty());
    assert_eq!(
        review(&policy, &record, T0 + 5_000),
        vec![ReviewFlag::PolicyExpired {
            expires_at_ms: T0 + 1_000,
            punch_time_ms: T0 + 5_000
        }]
    );
    record.evaluation.policy_version = 7;
    assert_eq!(
        review(&policy, &record, T0),
        vec![ReviewFlag::PolicyVersionMismatch {
            named: 1,
            evaluated: 7
        }]
    );
}
