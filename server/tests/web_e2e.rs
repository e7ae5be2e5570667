//! The reviewer page end to end: a real server with two teams' flagged
//! punches, driven by `server/web-tests/reviewer.mjs` in headless Chromium
//! (Debian's chromium + playwright-core; `scripts/setup.sh` installs both).
//! Ignored by plain `cargo test` (it needs them); `scripts/test.sh` runs it
//! with `--ignored`. Screenshots land in `target/web-screens/`.

use crate::common;

use common::staff::{PASSWORD, add_staff};
use common::{Device, TestServer, now_ms};
use punch_model::geofence::LatLon;
use punch_model::rules::evaluate::Decision;
use punch_model::rules::evidence::ValidFix;
use punch_server::Role;

fn flagged(
    ts: &TestServer,
    device: &mut Device,
    version: u64,
    (decision, site): (Decision, &str),
    fix: (f64, f64, f64),
    photo: Option<&[u8]>,
) {
    let sha = photo.map(|p| hex::encode(punch_model::ledger::signing::sha256(p)));
    let up = device.next(version, |r| {
        if let (Some(photo), Some(sha)) = (photo, &sha) {
            r.biometric_verified = Some(true);
            r.photo = Some(punch_model::rules::photo::PhotoRef {
                sha256: sha.clone(),
                size_bytes: photo.len() as u64,
                media_type: "image/svg+xml".into(),
            });
        }
        r.evaluation.decision = decision;
        r.evaluation.site_id = Some(site.into());
        r.evaluation.reasons = vec![format!("the accuracy circle straddles the fence of {site}")];
        r.evidence.gps = Some(ValidFix {
            point: LatLon {
                lat: fix.0,
                lon: fix.1,
            },
            accuracy_m: fix.2,
            fix_time_ms: now_ms(),
            provider: "gps".into(),
            is_mock: false,
            speed_mps: None,
            age_ms: None,
            elapsed_realtime_ms: None,
            reduced_accuracy: false,
            external_receiver: false,
        });
    });
    device.upload_ok(ts.addr(), vec![up]);
    if let (Some(photo), Some(sha)) = (photo, sha) {
        let path = format!("{}/{sha}", punch_model::wire::PATH_ATTACHMENTS);
        assert_eq!(device.signed(ts.addr(), "PUT", &path, photo).status, 200);
    }
}

/// A "photo" the browser draws (an SVG portrait placeholder): what a phone
/// took at the punch (a step-up), named by the record and uploaded after it.
const PHOTO_SVG: &str = "<svg xmlns='http://www.w3.org/2000/svg' width='240' height='180' \
    viewBox='0 0 240 180'><rect width='240' height='180' fill='#cfe3f3'/>\
    <circle cx='120' cy='70' r='38' fill='#8a6a52'/>\
    <rect x='62' y='112' width='116' height='68' rx='30' fill='#2f4f6f'/>\
    <text x='8' y='172' font-size='12' fill='#123'>photo at the punch</text></svg>";

/// Ann's flagged forgotten clock-out of yesterday, Bob's closed by the server.
fn forgotten(ts: &TestServer) {
    use punch_model::rules::forgotten::{ForgottenClockOut, ForgottenState};
    use punch_server::StoreExt;
    use punch_server::internal::forgotten::ForgottenRow;
    let start = now_ms() - 86_400_000;
    let store = punch_server::internal::store::open(&ts.db).unwrap();
    for (who, closed) in [("ann", None), ("bob", Some(start + 8 * 3_600_000))] {
        let row = ForgottenRow {
            employee_id: who.into(),
            notice: ForgottenClockOut {
                shift_id: "day".into(),
                start_ms: start,
                end_ms: start + 8 * 3_600_000,
                closes_ms: start + 9 * 3_600_000,
                clock_in_punch_id: format!("in-{who}"),
                clock_in_at_ms: start,
                state: ForgottenState::of(closed.is_some(), false),
                server_clock_out_ms: closed,
                superseded_by: None,
                detected_at_ms: start + 9 * 3_600_000,
            },
            policy_version: 1,
            superseded_at_ms: None,
            updated_at_ms: start + 9 * 3_600_000,
        };
        store
            .write(|tx| tx.forgotten().insert_forgotten(&row))
            .unwrap();
    }
}

#[test]
#[ignore = "needs chromium and node (scripts/setup.sh); scripts/test.sh runs it"]
fn the_reviewer_page_in_headless_chromium() {
    let ts = TestServer::start();
    // A polygon site with a courtyard cut out, beside the circle `hq`.
    let yard: punch_model::rules::policy::Site = serde_json::from_value(serde_json::json!({
        "id": "yard", "name": "Depot yard",
        "shape": {"type": "polygon",
            "exterior": [{"lat": 52.5290, "lon": 13.3985}, {"lat": 52.5290, "lon": 13.4015},
                         {"lat": 52.5308, "lon": 13.4015}, {"lat": 52.5308, "lon": 13.3985}],
            "holes": [[{"lat": 52.5296, "lon": 13.3995}, {"lat": 52.5296, "lon": 13.4005},
                       {"lat": 52.5302, "lon": 13.4005}, {"lat": 52.5302, "lon": 13.3995}]]}
    }))
    .unwrap();
    ts.admin.upsert_site(yard).unwrap();
    let version = ts.publish();
    let mut ann = ts.enrolled_device("ann");
    let mut bob = ts.enrolled_device("bob");
    ts.admin.set_team("ann", Some("A")).unwrap();
    ts.admin.set_team("bob", Some("B")).unwrap();
    // Ann near the edge of hq (150 m circle), her app claiming "accepted":
    // the server's review flags the mismatch. Bob in the yard's courtyard.
    flagged(
        &ts,
        &mut ann,
        version,
        (Decision::Accepted, "hq"),
        (52.5213, 13.4050, 40.0),
        None,
    );
    flagged(
        &ts,
        &mut bob,
        version,
        (Decision::Review, "yard"),
        (52.5299, 13.4001, 25.0),
        Some(PHOTO_SVG.as_bytes()),
    );
    let ann_flags = &ts
        .admin
        .punches()
        .unwrap()
        .into_iter()
        .find(|p| p.employee_id == "ann")
        .unwrap()
        .review_flags;
    assert!(
        matches!(
            ann_flags.as_slice(),
            [punch_model::ledger::review::ReviewFlag::EvaluationMismatch { .. }]
        ),
        "{ann_flags:?}"
    );
    // Ann reports that her phone found no location, and cites that
    // report in the make-up request for the clock-out she missed.
    let fault = ann.next_event(
        version,
        punch_model::ledger::event::ChainEvent::Fault(punch_model::ledger::fault::FaultReport {
            kind: punch_model::ledger::fault::FaultKind::LocationUnavailable,
            source: punch_model::ledger::fault::FaultSource::Employee,
            text: "no GPS in the car park".into(),
            attachments: Vec::new(),
        }),
    );
    let cited = punch_model::rules::makeup::FaultCitation {
        device_id: ann.id.clone(),
        seq: fault.seq,
    };
    ann.upload_ok(ts.addr(), vec![fault]);
    // Ann forgot yesterday's clock-out: a make-up request.
    let make_up = ann.next_event(
        version,
        punch_model::ledger::event::ChainEvent::MakeUpRequest(
            punch_model::rules::makeup::MakeUpRequest {
                kind: punch_model::rules::punch_kind::PunchKind::ClockOut,
                intended_time_ms: now_ms() - 3_600_000,
                site_id: Some("hq".into()),
                reason: "forgot to clock out".into(),
                attachments: Vec::new(),
                refused_attempt: None,
                fault: Some(cited),
            },
        ),
    );
    ann.upload_ok(ts.addr(), vec![make_up]);
    // Ann also punches from a computer: a passkey, for HR to revoke.
    let (_, passkey_device) = crate::browser_punch::register_passkey(&ts, "ann");
    // Two forgotten clock-outs, as detection stores them: Ann's flagged,
    // Bob's closed by the server at the shift's end.
    forgotten(&ts);
    let hr = add_staff(&ts, "hr", Role::HrAdmin, None);
    let mgr = add_staff(&ts, "mgr.a", Role::Manager, Some("A"));
    // Someone holds this auditor's password and guessed codes: locked.
    let locked = add_staff(&ts, "locked.one", Role::Auditor, None);
    for _ in 0..5 {
        locked.try_sign_in(ts.addr(), PASSWORD, "000001");
    }
    locked
        .try_sign_in(ts.addr(), PASSWORD, &locked.code())
        .assert_error(429, "locked");
    // Someone who forgot password and phone, and an integration with two
    // tokens, one of them leaked.
    add_staff(&ts, "forgetful", Role::Auditor, None);
    let integrator = add_staff(&ts, "integrator", Role::Manager, Some("A")).sign_in(ts.addr());
    let mint = || {
        let made = common::staff::ok(integrator.post(
            "/admin/v1/tokens",
            &serde_json::json!({"name": "payroll", "scopes": ["view_punches"], "ttl_days": 30}),
        ));
        (
            made["token_id"].as_str().unwrap().to_string(),
            made["token"].as_str().unwrap().to_string(),
        )
    };
    let (leaked_id, leaked) = mint();
    let (_, kept) = mint();
    let bearer = |token: &str| {
        common::request(
            ts.addr(),
            "GET",
            "/admin/v1/punches",
            &[("authorization", format!("Bearer {token}"))],
            b"",
        )
        .status
    };
    let who = |s: &common::staff::Staff| serde_json::json!({"username": s.username, "password": PASSWORD, "totp_secret": s.totp_secret});
    let cfg = serde_json::json!({
        "base_url": format!("http://{}", ts.addr()),
        "hr": who(&hr),
        "manager": who(&mgr),
        "locked": who(&locked),
        "forgetful": "forgetful",
        "token_id": leaked_id,
        "team_a_employee": "ann",
        "team_b_employee": "bob",
        "team_b": "B",
        "team_b_device": bob.id,
        "team_b_accuracy_m": 25.0,
        "passkey_device": passkey_device,
        "team_a_flag_text": "The evidence does not support the verdict the device recorded: \
            the phone said accepted (site hq), the evidence reads review (site hq).",
    });
    common::run_web_test("reviewer.mjs", &cfg);
    // What the browser did is on the server too.
    let audit = ts.admin.audit_rows(0, 1000).unwrap();
    let approve = audit
        .iter()
        .find(|r| r.action == "punch.approve")
        .expect("approve audited");
    assert_eq!(approve.actor, "hr");
    assert_eq!(approve.target, format!("punch:{}/1", bob.id));
    assert!(
        audit
            .iter()
            .any(|r| r.action == "punch.reject" && r.actor == "hr")
    );
    // The lifecycle changes the browser made, audited with their reasons.
    for (action, target) in [
        ("staff.revoke", "staff:mgr.a"),
        ("staff.disable", "staff:mgr.a"),
        ("staff.unlock", "staff:locked.one"),
        ("staff.reset-password", "staff:forgetful"),
        ("staff.reset-totp", "staff:forgetful"),
        ("token.revoke", format!("token:{leaked_id}").as_str()),
    ] {
        assert!(
            audit
                .iter()
                .any(|r| r.action == action && r.target == target && r.actor == "hr"),
            "{action} {target}"
        );
    }
    assert!(
        audit
            .iter()
            .any(|r| r.action == "passkey.revoke" && r.target == format!("device:{passkey_device}"))
    );
    // The revoked token stops; the integration's other one goes on.
    assert_eq!((bearer(&leaked), bearer(&kept)), (401, 200));
    assert!(ts.admin.verify_audit().unwrap().broken.is_none());
}
