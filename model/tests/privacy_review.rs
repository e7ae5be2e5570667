//! What the server's review can still check in each minimisation mode: a
//! modified app signs "accepted at hq" for a fix that is not there.

use punch_model::geofence::{LatLon, Shape, distance_m};
use punch_model::ledger::minimise::{coarsen, minimise};
use punch_model::ledger::record::{GENESIS_HASH, PunchKind, PunchRecord, RECORD_FORMAT, Uuid};
use punch_model::ledger::review::{ReviewFlag, review, review_opening};
use punch_model::rules::evaluate::{Decision, evaluate};
use punch_model::rules::evidence::{Evidence, GpsFix};
use punch_model::rules::policy::{Policy, PreparedPolicy, Settings, Site};
use punch_model::rules::privacy::{LocationPrecision, PrivacySettings};

const NOW: i64 = 1_767_225_600_000;
const HQ: LatLon = LatLon::new(52.52, 13.405);

fn policy(location: LocationPrecision) -> PreparedPolicy {
    PreparedPolicy::new(Policy {
        version: 1,
        issued_at_ms: NOW,
        expires_at_ms: None,
        settings: Settings {
            privacy: Some(PrivacySettings {
                location,
                ..PrivacySettings::default()
            }),
            ..Settings::default()
        },
        sites: vec![Site {
            id: "hq".into(),
            name: "HQ".into(),
            shape: Shape::Circle {
                center: HQ,
                radius_m: 150.0,
            },
            wifi: Default::default(),
            cidrs: vec![],
            rule: Default::default(),
            min_assurance: None,
            terminals: Default::default(),
        }],
        time_zone: None,
        shifts: vec![],
        make_up: Default::default(),
    })
    .expect("policy")
}

/// The record a modified app would sign for a fix `north_m` north of HQ's
/// centre: the phone's real minimisation, then the verdict forged.
fn forged(policy: &PreparedPolicy, north_m: f64) -> (PunchRecord, Option<Vec<u8>>) {
    let lat = HQ.lat + north_m / 111_320.0;
    let valid = Evidence {
        gps: Some(GpsFix {
            lat,
            lon: HQ.lon,
            accuracy_m: 10.0,
            fix_time_ms: NOW,
            provider: "gps".into(),
            is_mock: false,
            speed_mps: None,
            elapsed_realtime_ms: None,
            reduced_accuracy: false,
            external_receiver: false,
        }),
        ..Evidence::default()
    }
    .validate()
    .expect("valid");
    let honest = evaluate(policy, &valid, NOW, None);
    assert_eq!(honest.decision, Decision::Rejected, "the fix is outside");
    let kept = minimise(&valid, policy, &honest).expect("minimise");
    let mut evaluation = kept.evaluation;
    evaluation.decision = Decision::Accepted;
    evaluation.site_id = Some("hq".into());
    evaluation.nearest_site = None;
    let record = PunchRecord {
        format: RECORD_FORMAT,
        punch_id: Uuid::new_v4(),
        device_id: "d".into(),
        employee_id: "e".into(),
        seq: 1,
        kind: PunchKind::ClockIn,
        wall_time_ms: NOW,
        utc_offset_min: 0,
        monotonic_ms: 1,
        boot_id: "b".into(),
        anchor: None,
        policy_version: 1,
        evidence: kept.evidence,
        evaluation,
        prev_hash: GENESIS_HASH.into(),
        notice: None,
        sealed: None,
        photo: None,
        biometric_verified: None,
    };
    (record, kept.opening)
}

fn mismatch(flags: &[ReviewFlag]) -> bool {
    flags
        .iter()
        .any(|f| matches!(f, ReviewFlag::EvaluationMismatch { .. }))
}

#[test]
fn exact_mode_catches_any_forged_verdict() {
    let p = policy(LocationPrecision::Exact);
    for north in [400.0, 5_000.0] {
        let (record, opening) = forged(&p, north);
        assert!(opening.is_none());
        assert!(mismatch(&review(&p, &record, NOW)), "{north} m");
    }
}

#[test]
fn coarse_mode_catches_a_cell_wholly_outside_but_not_a_near_miss() {
    let p = policy(LocationPrecision::Coarse { grid_m: 1000.0 });
    let (far, _) = forged(&p, 5_000.0);
    assert!(mismatch(&review(&p, &far, NOW)), "5 km away is caught");
    // A fix outside the 150 m fence whose cell's centre is near HQ: the
    // cell overlaps the fence, so the server cannot tell.
    let north = (20..100)
        .map(|i| f64::from(i) * 10.0)
        .find(|&n| {
            let fix = LatLon::new(HQ.lat + n / 111_320.0, HQ.lon);
            distance_m(coarsen(fix, 1000.0), HQ) < 500.0
        })
        .expect("a near miss");
    let (near, opening) = forged(&p, north);
    assert!(
        !mismatch(&review(&p, &near, NOW)),
        "{north} m north hides in a 1 km cell"
    );
    // The exact evidence, if the employee reveals it, settles it.
    let opened = review_opening(&p, &near, &opening.expect("opening")).expect("matches");
    assert!(mismatch(&opened));
}

#[test]
fn verdict_only_mode_cannot_check_a_gps_verdict_until_revealed() {
    let p = policy(LocationPrecision::VerdictOnly);
    let (record, opening) = forged(&p, 5_000.0);
    assert!(record.evidence.gps.is_none());
    // The forged evaluation rests on the GPS check the app claimed passed.
    let mut record = record;
    for site in &mut record.evaluation.sites {
        for check in &mut site.checks {
            check.outcome = punch_model::rules::evaluate::Outcome::Pass;
        }
        site.passed = true;
    }
    assert!(
        !mismatch(&review(&p, &record, NOW)),
        "nothing left to re-judge"
    );
    let opening = opening.expect("opening");
    assert!(mismatch(
        &review_opening(&p, &record, &opening).expect("matches")
    ));
    // A made-up opening does not match the signed commitment.
    let mut forged_opening = opening.clone();
    forged_opening[10] ^= 1;
    assert!(review_opening(&p, &record, &forged_opening).is_err());
}
