//! The admin API against a real server: sign-in with a real TOTP code,
//! lockout, CSRF, API token scopes; every route refuses every role the
//! permission table does not allow; a manager never sees another team's
//! data on any route; each person's action lands in the audit chain, and
//! an edited audit row is detected.

use crate::common;

use common::staff::{Session, Staff, add_staff, ok};
use common::{Device, TestServer, request};
use punch_model::ledger::event::ChainEvent;
use punch_model::rules::evaluate::Decision;
use punch_model::rules::forgotten::{ForgottenClockOut, ForgottenState};
use punch_model::rules::makeup::MakeUpRequest;
use punch_model::rules::punch_kind::PunchKind;
use punch_server::StoreExt;
use punch_server::internal::forgotten::ForgottenRow;
use punch_server::internal::staff::role::allows;
use punch_server::routes::admin as admin_api;
use punch_server::routes::admin::AdminRoute;
use punch_server::{Permission, Role};
use serde_json::{Value, json};

/// Two teams, one flagged punch each, a refused record each, three staff.
struct World {
    ts: TestServer,
    /// Pending make-up requests: two of Ann's (team A), one of Bob's (B).
    ann_requests: Vec<String>,
    bob_request: String,
    /// Pending punch-key rotations: Ann's, then Bob's.
    rotations: Vec<String>,
    /// Ann's passkey (browser punching): its device id.
    ann_passkey: String,
    a: Device,
    b: Device,
    hr: Session,
    mgr: Session,
    aud: Session,
}

fn flagged_punch(ts: &TestServer, device: &mut Device, version: u64) {
    // With a photo (its route is walked too), uploaded after the record.
    let photo = format!("photo of {}", device.employee_id).into_bytes();
    let sha = hex::encode(punch_model::ledger::signing::sha256(&photo));
    let up = device.next(version, |r| {
        r.evaluation.decision = Decision::Review;
        r.photo = Some(punch_model::rules::photo::PhotoRef {
            sha256: sha.clone(),
            size_bytes: photo.len() as u64,
            media_type: "image/jpeg".into(),
        });
    });
    let resp = device.upload_ok(ts.addr(), vec![up]);
    assert_eq!(resp.head_seq, device.head_seq);
    let path = format!("{}/{sha}", punch_model::wire::PATH_ATTACHMENTS);
    assert_eq!(device.signed(ts.addr(), "PUT", &path, &photo).status, 200);
}

/// A make-up request for a forgotten clock-out an hour ago; its event id.
fn make_up(ts: &TestServer, device: &mut Device, version: u64) -> String {
    let before: Vec<String> = ids(ts);
    let event = device.next_event(
        version,
        ChainEvent::MakeUpRequest(MakeUpRequest {
            kind: PunchKind::ClockOut,
            intended_time_ms: common::now_ms() - 3_600_000,
            site_id: None,
            reason: "forgot to clock out".into(),
            attachments: Vec::new(),
            refused_attempt: None,
            fault: None,
        }),
    );
    device.upload_ok(ts.addr(), vec![event]);
    ids(ts)
        .into_iter()
        .find(|id| !before.contains(id))
        .expect("a new pending request")
}

/// A punch-key rotation the server holds for HR (the employer wanted a
/// hardware key at that moment); its event id.
fn pending_rotation(ts: &TestServer, device: &mut Device) -> String {
    use punch_model::ledger::key_rotation::{KeyRotation, RotationReason, key_fingerprint};
    use punch_model::ledger::signing::Signer as _;
    use punch_model::rules::assurance::{AssuranceLevel, BelowMinimum};
    let before = ts.admin.settings().unwrap();
    let mut strict = before.clone();
    strict.min_assurance = AssuranceLevel::HardwareTee;
    strict.below_min_assurance = BelowMinimum::Review;
    ts.admin.set_settings(strict).unwrap();
    let version = ts.publish();
    let (new_key, _) = punch_model::ledger::signing::SoftwareSigner::generate().unwrap();
    let event = device.next_event(
        version,
        ChainEvent::KeyRotation(KeyRotation {
            punch_key: new_key.public_key_spki().unwrap(),
            replaces: key_fingerprint(&device.spki),
            reason: RotationReason::Lost,
            attestation: None,
        }),
    );
    let resp = device.upload_ok(ts.addr(), vec![event]);
    assert_eq!(resp.key_rotation_pending, Some(device.head_seq));
    ts.admin.set_settings(before).unwrap();
    ts.publish();
    ts.admin
        .pending_key_rotations()
        .unwrap()
        .into_iter()
        .find(|e| e.device_id == device.id)
        .expect("a pending rotation")
        .event_id
}

fn ids(ts: &TestServer) -> Vec<String> {
    ts.admin
        .requests(Some("pending"))
        .unwrap()
        .into_iter()
        .map(|r| r.event_id)
        .collect()
}

/// An authentic record that does not link to the accepted head (a broken
/// chain): refused and kept as evidence.
fn refused_record(ts: &TestServer, device: &Device, version: u64) {
    let record = device.record(device.head_seq + 1, &"ab".repeat(32), version);
    let up = device.sign(&record);
    let resp = device.upload_ok(ts.addr(), vec![up]);
    assert_eq!(common::outcomes(&resp)[0].1, "rejected");
}

fn world() -> World {
    let ts = TestServer::start();
    let version = ts.publish();
    let mut a = ts.enrolled_device("ann");
    let mut b = ts.enrolled_device("bob");
    ts.admin.set_team("ann", Some("A")).unwrap();
    ts.admin.set_team("bob", Some("B")).unwrap();
    flagged_punch(&ts, &mut a, version);
    flagged_punch(&ts, &mut b, version);
    for device in [&mut a, &mut b] {
        let fault = device.next_event(
            version,
            ChainEvent::Fault(punch_model::ledger::fault::FaultReport {
                kind: punch_model::ledger::fault::FaultKind::WifiOff,
                source: punch_model::ledger::fault::FaultSource::Engine,
                text: String::new(),
                attachments: Vec::new(),
            }),
        );
        device.upload_ok(ts.addr(), vec![fault]);
    }
    let ann_requests = vec![make_up(&ts, &mut a, version), make_up(&ts, &mut a, version)];
    let bob_request = make_up(&ts, &mut b, version);
    refused_record(&ts, &a, version);
    refused_record(&ts, &b, version);
    let rotations = vec![pending_rotation(&ts, &mut a), pending_rotation(&ts, &mut b)];
    let ann_passkey = crate::browser_punch::register_passkey(&ts, "ann").1;
    crate::browser_punch::register_passkey(&ts, "bob");
    let addr = ts.addr();
    let hr = add_staff(&ts, "hr", Role::HrAdmin, None).sign_in(addr);
    let mgr = add_staff(&ts, "mgr.a", Role::Manager, Some("A")).sign_in(addr);
    let aud = add_staff(&ts, "auditor", Role::Auditor, None).sign_in(addr);
    // Whom the lifecycle routes act on in the walk (`unlock`: harmless).
    add_staff(&ts, "victim", Role::Auditor, None);
    World {
        ts,
        ann_requests,
        bob_request,
        rotations,
        ann_passkey,
        a,
        b,
        hr,
        mgr,
        aud,
    }
}

/// A concrete request for a route: its path filled in, a valid body.
fn concrete(route: &AdminRoute, w: &World, who: &str) -> (String, Option<Value>) {
    let a = &w.a;
    let request = match who {
        "hr" => w.ann_requests[0].as_str(),
        _ => w.ann_requests[1].as_str(),
    };
    let request = if route.path == admin_api::PATH_KEY_ROTATION_DECISION {
        w.rotations[0].as_str()
    } else {
        request
    };
    // A token of the caller's own (the walk made one at `POST /tokens`).
    let token_id = match who {
        "hr" | "mgr" => {
            let (session, owner) = if who == "hr" {
                (&w.hr, "hr")
            } else {
                (&w.mgr, "mgr.a")
            };
            let listed = ok(session.get(admin_api::PATH_TOKENS));
            listed["tokens"]
                .as_array()
                .and_then(|t| {
                    t.iter()
                        .rev()
                        .find(|t| t["username"] == owner && t["revoked_at_ms"].is_null())
                })
                .and_then(|t| t["token_id"].as_str())
                .unwrap_or("none")
                .to_string()
        }
        _ => "none".to_string(),
    };
    // The passkey route names a passkey's device; the others a phone.
    let device = if route.path == admin_api::PATH_PASSKEY_REVOKE {
        &w.ann_passkey
    } else {
        &a.id
    };
    let path = route
        .path
        .replace("{token_id}", &token_id)
        .replace("{event_id}", request)
        .replace("{employee_id}", "ann")
        .replace("{device_id}", device)
        .replace("{seq}", "1")
        .replace("{username}", "victim")
        .replace("{change}", "unlock");
    let body = match route.path {
        admin_api::PATH_EMPLOYEES if route.method == "POST" => {
            Some(json!({"employee_id": format!("new-{who}"), "name": "New", "team": "A"}))
        }
        admin_api::PATH_REBIND
        | admin_api::PATH_EXTRA_DEVICE
        | admin_api::PATH_PASSKEY_REVOKE
        | admin_api::PATH_ACK_BREAK
        | admin_api::PATH_PIN_RESET => Some(json!({"reason": "phone replaced"})),
        admin_api::PATH_PUNCH_REVIEW => Some(json!({"verdict": "approve", "comment": "ok"})),
        admin_api::PATH_TOKENS => {
            Some(json!({"name": "payroll", "scopes": ["view_punches"], "ttl_days": 30}))
        }
        admin_api::PATH_STAFF => Some(json!({
            "username": format!("made-by-{who}"), "display_name": "X", "role": "auditor",
            "password": "another long password"
        })),
        admin_api::PATH_PUBLISH => Some(json!({"ttl_days": 30, "reason": "new shift times"})),
        admin_api::PATH_STAFF_CHANGE => Some(json!({"reason": "forgot the code"})),
        admin_api::PATH_TOKEN_REVOKE => Some(json!({"reason": "leaked"})),
        admin_api::PATH_REQUEST_DECISION => {
            Some(json!({"decision": "approve", "comment": "seen on the gate log"}))
        }
        admin_api::PATH_KEY_ROTATION_DECISION => {
            Some(json!({"decision": "approve", "comment": "new fingerprint, checked in person"}))
        }
        _ => None,
    };
    let path = if route.path == admin_api::PATH_ATTENDANCE {
        format!("{path}?from=2020-01-01&to=2020-12-31")
    } else {
        path
    };
    (path, body)
}

#[test]
fn every_route_refuses_every_role_the_table_does_not_allow() {
    let w = world();
    let mut checked = 0;
    for route in admin_api::routes() {
        let Some(permission) = route.permission else {
            continue;
        };
        for (who, session) in [("hr", &w.hr), ("mgr", &w.mgr), ("aud", &w.aud)] {
            let (path, body) = concrete(&route, &w, who);
            let resp = session.call(route.method.as_str(), &path, body.as_ref());
            let allowed = allows(session.role, permission);
            if allowed {
                assert_eq!(
                    resp.status,
                    200,
                    "{who} {} {path}: {}",
                    route.method,
                    String::from_utf8_lossy(&resp.body)
                );
            } else {
                resp.assert_error(403, "forbidden");
            }
            checked += 1;
        }
        // No credentials at all: 401 on every route, before anything else.
        let (path, body) = concrete(&route, &w, "nobody");
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        request(w.ts.addr(), route.method.as_str(), &path, &[], &bytes)
            .assert_error(401, "unauthenticated");
    }
    assert!(checked >= 45, "{checked}");
}

/// What a manager of team A gets for team B's data, route by route. A new
/// route a manager may use must get a case here (the match is exhaustive
/// over the table by failing on paths it does not know).
#[test]
fn a_manager_never_sees_another_teams_data_on_any_route() {
    let w = world();
    let (m, b) = (&w.mgr, &w.b);
    let has_b = |v: &Value| v.to_string().contains(&b.id) || v.to_string().contains("\"bob\"");
    let mut covered = Vec::new();
    for route in admin_api::routes() {
        let Some(p) = route.permission else { continue };
        if !allows(Role::Manager, p) {
            continue;
        }
        let path = route.path;
        match (route.method.as_str(), path) {
            ("GET", admin_api::PATH_EMPLOYEES)
            | ("GET", admin_api::PATH_REQUESTS)
            | ("GET", admin_api::PATH_PUNCHES)
            | ("GET", admin_api::PATH_DEVICES)
            | ("GET", admin_api::PATH_FAULTS)
            | ("GET", admin_api::PATH_CHAIN_BREAKS) => {
                let mine = ok(m.get(path));
                assert!(!has_b(&mine), "{path}: {mine}");
                assert!(
                    !mine["items"].as_array().unwrap().is_empty(),
                    "{path}: own team missing"
                );
                m.get(&format!("{path}?team=B"))
                    .assert_error(403, "not_your_team");
                // HR sees both teams on the same route.
                assert!(has_b(&ok(w.hr.get(path))), "{path}");
            }
            ("GET", admin_api::PATH_FORGOTTEN) => {
                // One forgotten clock-out each (as detection stores them).
                let store = punch_server::internal::store::open(&w.ts.db).unwrap();
                for (i, who) in ["ann", "bob"].into_iter().enumerate() {
                    let row = ForgottenRow {
                        employee_id: who.into(),
                        notice: ForgottenClockOut {
                            shift_id: "day".into(),
                            start_ms: 1_000,
                            end_ms: 2_000,
                            closes_ms: 3_000,
                            clock_in_punch_id: format!("in-{i}"),
                            clock_in_at_ms: 1_000,
                            state: ForgottenState::Flagged,
                            server_clock_out_ms: None,
                            superseded_by: None,
                            detected_at_ms: 4_000,
                        },
                        policy_version: 1,
                        superseded_at_ms: None,
                        updated_at_ms: 4_000,
                    };
                    assert!(
                        store
                            .write(|tx| tx.forgotten().insert_forgotten(&row))
                            .unwrap()
                    );
                }
                let mine = ok(m.get(path));
                assert!(!has_b(&mine), "{path}: {mine}");
                assert_eq!(mine["items"].as_array().map(Vec::len), Some(1), "{mine}");
                m.get(&format!("{path}?team=B"))
                    .assert_error(403, "not_your_team");
                assert!(has_b(&ok(w.hr.get(path))), "{path}");
            }
            ("GET", admin_api::PATH_KEY_ROTATIONS) => {
                let mine = ok(m.get(path));
                assert!(!has_b(&mine), "{path}: {mine}");
                assert_eq!(
                    mine["items"].as_array().map(Vec::len),
                    Some(1),
                    "{path}: {mine}"
                );
                assert!(has_b(&ok(w.hr.get(path))), "{path}");
            }
            ("GET", admin_api::PATH_PUNCH) => {
                m.get(&format!("/admin/v1/punches/{}/1", b.id))
                    .assert_error(403, "not_your_team");
                ok(m.get(&format!("/admin/v1/punches/{}/1", w.a.id)));
            }
            ("GET", admin_api::PATH_PUNCH_PHOTO) => {
                m.get(&format!("/admin/v1/punches/{}/1/photo", b.id))
                    .assert_error(403, "not_your_team");
                let mine = m.get(&format!("/admin/v1/punches/{}/1/photo", w.a.id));
                assert_eq!(
                    (mine.status, mine.body.as_slice()),
                    (200, &b"photo of ann"[..])
                );
            }
            ("POST", admin_api::PATH_PIN_RESET) => {
                m.post(
                    "/admin/v1/employees/bob/pin-reset",
                    &json!({"reason": "forgot it"}),
                )
                .assert_error(403, "not_your_team");
                ok(m.post(
                    "/admin/v1/employees/ann/pin-reset",
                    &json!({"reason": "forgot it"}),
                ));
                // Nobody by that name: the same answer as another team's.
                m.post(
                    "/admin/v1/employees/nobody/pin-reset",
                    &json!({"reason": "forgot it"}),
                )
                .assert_error(403, "not_your_team");
                // Ordered and audited: the reset waits for ann's phone.
                let audit = ok(w.hr.get(admin_api::PATH_AUDIT));
                assert!(audit.to_string().contains("pin.reset"), "{audit}");
            }
            ("POST", admin_api::PATH_PUNCH_REVIEW) => {
                m.post(
                    &format!("/admin/v1/punches/{}/1/review", b.id),
                    &json!({"verdict": "approve", "comment": ""}),
                )
                .assert_error(403, "not_your_team");
            }
            ("POST", admin_api::PATH_REQUEST_DECISION) => {
                let decide = |id: &str| {
                    m.post(
                        &format!("/admin/v1/requests/{id}/decision"),
                        &json!({"decision": "approve", "comment": ""}),
                    )
                };
                decide(&w.bob_request).assert_error(403, "not_your_team");
                assert_eq!(ok(decide(&w.ann_requests[1]))["status"], "approved");
                // Deciding twice is a conflict, not a second decision.
                decide(&w.ann_requests[1]).assert_error(409, "conflict");
            }
            ("GET", admin_api::PATH_PASSKEYS) => {
                m.get("/admin/v1/employees/bob/passkeys")
                    .assert_error(403, "not_your_team");
                let mine = ok(m.get("/admin/v1/employees/ann/passkeys"));
                assert!(!has_b(&mine), "{mine}");
                assert_eq!(mine["items"][0]["device_id"], w.ann_passkey.as_str());
            }
            ("GET", admin_api::PATH_DEVICE_SLOTS) => {
                m.get("/admin/v1/employees/bob/device-slots")
                    .assert_error(403, "not_your_team");
                m.get("/admin/v1/employees/nobody/device-slots")
                    .assert_error(403, "not_your_team");
                let mine = ok(m.get("/admin/v1/employees/ann/device-slots"));
                assert!(!has_b(&mine), "{mine}");
                assert_eq!(mine["employee_id"], "ann", "{mine}");
            }
            ("GET", admin_api::PATH_ATTENDANCE) => {
                let q = "from=2000-01-01&to=2000-12-31";
                m.get(&format!("{path}?{q}&team=B"))
                    .assert_error(403, "not_your_team");
                m.get(&format!("{path}?{q}&employee=bob"))
                    .assert_error(403, "not_your_team");
                let today = jiff::tz::TimeZone::UTC
                    .to_datetime(jiff::Timestamp::now())
                    .date();
                let all = ok(m.get(&format!(
                    "{path}?from={}&to={}",
                    today.yesterday().unwrap(),
                    today.tomorrow().unwrap()
                )));
                assert!(!has_b(&all), "{all}");
                assert!(all.to_string().contains("\"ann\""), "{all}");
            }
            // Not team data: the token acts with the manager's own scope.
            ("POST", admin_api::PATH_TOKENS) => {
                let t = ok(m.post(
                    path,
                    &json!({"name": "mine", "scopes": ["view_punches"], "ttl_days": 1}),
                ));
                let token = t["token"].as_str().unwrap();
                let resp = request(
                    m.addr,
                    "GET",
                    admin_api::PATH_PUNCHES,
                    &[("authorization", format!("Bearer {token}"))],
                    b"",
                );
                assert!(!has_b(&ok(resp)));
            }
            // Not team data either: a manager lists only their own tokens.
            ("GET", admin_api::PATH_TOKENS) => {
                let mine = ok(m.get(path));
                let owners: Vec<&Value> = mine["tokens"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| &t["username"])
                    .collect();
                assert!(owners.iter().all(|u| *u == "mgr.a"), "{mine}");
            }
            // A manager revokes only their own tokens; HR's is answered as
            // one that does not exist.
            ("POST", admin_api::PATH_TOKEN_REVOKE) => {
                ok(w.hr.post(
                    admin_api::PATH_TOKENS,
                    &json!({"name": "hr's", "scopes": ["view_punches"], "ttl_days": 1}),
                ));
                let all = ok(w.hr.get(admin_api::PATH_TOKENS));
                let id_of = |owner: &str| {
                    all["tokens"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|t| t["username"] == owner && t["revoked_at_ms"].is_null())
                        .map(|t| t["token_id"].as_str().unwrap().to_string())
                        .unwrap()
                };
                let revoke = |id: &str| {
                    m.post(
                        &format!("/admin/v1/tokens/{id}/revoke"),
                        &json!({"reason": "leaked"}),
                    )
                };
                revoke(&id_of("hr")).assert_error(403, "not_your_team");
                ok(revoke(&id_of("mgr.a")));
            }
            ("GET", admin_api::PATH_FAULTS_SILENT) => {
                // Both phones silent for four days.
                let long_ago = common::now_ms() - 96 * 3_600_000;
                common::execute_sql(
                    &w.ts.db,
                    &format!("UPDATE device_seen SET last_seen_ms = {long_ago}"),
                )
                .unwrap();
                let mine = ok(m.get(path));
                assert!(!has_b(&mine), "{path}: {mine}");
                assert_eq!(mine["items"].as_array().map(Vec::len), Some(1), "{mine}");
                m.get(&format!("{path}?team=B"))
                    .assert_error(403, "not_your_team");
                assert!(has_b(&ok(w.hr.get(path))), "{path}");
            }
            other => panic!("no team-isolation case for {other:?}: add one"),
        }
        covered.push(path);
    }
    assert!(covered.len() >= 8, "{covered:?}");
}

#[test]
fn sign_in_needs_both_factors_locks_out_and_spends_codes() {
    let ts = TestServer::start();
    let addr = ts.addr();
    let s = add_staff(&ts, "hr", Role::HrAdmin, None);
    ts.admin.add_employee("ann", "Ann").unwrap();
    // Wrong code, wrong password, unknown user: the same answer.
    s.try_sign_in(addr, common::staff::PASSWORD, "000000")
        .assert_error(401, "unauthenticated");
    s.try_sign_in(addr, "wrong password here", &s.code())
        .assert_error(401, "unauthenticated");
    Staff {
        username: "nobody".into(),
        role: Role::HrAdmin,
        totp_secret: s.totp_secret.clone(),
    }
    .try_sign_in(addr, common::staff::PASSWORD, &s.code())
    .assert_error(401, "unauthenticated");
    let session = s.sign_in(addr);
    // The same code a second time (a replay) is refused.
    s.try_sign_in(addr, common::staff::PASSWORD, &s.code())
        .assert_error(401, "unauthenticated");
    // A state change without the CSRF token is refused; with it, it works.
    let body = json!({"employee_id": "ann", "name": "Ann", "team": "A"}).to_string();
    request(
        addr,
        "POST",
        admin_api::PATH_EMPLOYEES,
        &[
            ("cookie", session.cookie.clone()),
            ("content-type", "application/json".into()),
        ],
        body.as_bytes(),
    )
    .assert_error(403, "csrf_failed");
    ok(session.post(
        admin_api::PATH_EMPLOYEES,
        &serde_json::from_str(&body).unwrap(),
    ));
    // Signing out ends the session.
    ok(session.post(admin_api::PATH_SESSION_END, &json!({})));
    session
        .get(admin_api::PATH_EMPLOYEES)
        .assert_error(401, "unauthenticated");
    // Five attempts from one address on one account in 15 minutes: the
    // sixth is refused, even with the right factors (the successful sign-in
    // cleared the count; the replay was one). See `signin_throttle.rs`.
    for _ in 0..4 {
        s.try_sign_in(addr, "wrong password here", "000000")
            .assert_error(401, "unauthenticated");
    }
    let locked = s.try_sign_in(addr, "wrong password here", "000000");
    locked.assert_error(429, "locked");
    // Told when to come back: the end of the 15-minute window, in seconds.
    let wait: u64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!((880..=900).contains(&wait), "{wait}");
    s.try_sign_in(addr, common::staff::PASSWORD, &s.code())
        .assert_error(429, "locked");
}

#[test]
fn api_tokens_are_shown_once_stored_hashed_and_bounded_by_scope() {
    let w = world();
    let t = ok(w.hr.post(
        admin_api::PATH_TOKENS,
        &json!({"name": "payroll", "scopes": ["export_attendance", "view_punches"], "ttl_days": 7}),
    ));
    let token = t["token"].as_str().unwrap().to_string();
    let bearer = [("authorization", format!("Bearer {token}"))];
    ok(request(
        w.ts.addr(),
        "GET",
        admin_api::PATH_PUNCHES,
        &bearer,
        b"",
    ));
    request(w.ts.addr(), "GET", admin_api::PATH_EMPLOYEES, &bearer, b"")
        .assert_error(403, "forbidden");
    // A manager cannot grant what their role lacks.
    w.mgr
        .post(
            admin_api::PATH_TOKENS,
            &json!({"name": "x", "scopes": ["view_audit"], "ttl_days": 1}),
        )
        .assert_error(400, "bad_request");
    // Nowhere in the database in the clear.
    let dump = format!("{:?}", w.ts.admin.audit_rows(0, 1000).unwrap());
    assert!(!dump.contains(&token));
    let bogus = [("authorization", format!("Bearer {token}x"))];
    request(w.ts.addr(), "GET", admin_api::PATH_PUNCHES, &bogus, b"")
        .assert_error(401, "unauthenticated");
}

#[test]
fn review_decisions_and_exports_are_audited_and_an_edited_row_is_detected() {
    let w = world();
    let review = format!("/admin/v1/punches/{}/1/review", w.a.id);
    // Rejecting needs a comment.
    w.mgr
        .post(&review, &json!({"verdict": "reject", "comment": " "}))
        .assert_error(400, "bad_request");
    let r = ok(w.mgr.post(
        &review,
        &json!({"verdict": "reject", "comment": "not on site"}),
    ));
    assert_eq!(r["verdict"], "rejected");
    // Paging: one at a time, the next cursor given until the last.
    let first = ok(w.hr.get("/admin/v1/punches?limit=1"));
    assert_eq!(first["items"].as_array().unwrap().len(), 1);
    let cursor = first["next_cursor"].as_str().unwrap();
    let last =
        ok(w.hr.get(&format!("/admin/v1/punches?limit=1&cursor={cursor}")));
    assert_eq!(last["items"].as_array().unwrap().len(), 1);
    assert_ne!(last["items"][0], first["items"][0]);
    assert_eq!(last["next_cursor"], Value::Null);
    let queue = ok(w.mgr.get("/admin/v1/punches?needs_review=true"));
    assert_eq!(queue["items"], json!([]), "{queue}");
    let csv = w
        .aud
        .get("/admin/v1/attendance?from=2020-01-01&to=2020-01-31&format=csv");
    assert_eq!(csv.status, 200);
    assert!(csv.body.starts_with("\u{feff}employee_id,".as_bytes()));

    let audit = ok(w.aud.get(admin_api::PATH_AUDIT));
    let items = audit["items"].as_array().unwrap();
    let find = |action: &str| {
        items
            .iter()
            .find(|i| i["action"] == action)
            .unwrap_or_else(|| panic!("no {action} in {audit}"))
    };
    let rejected = find("punch.reject");
    assert_eq!(rejected["actor"], "mgr.a");
    assert_eq!(rejected["reason"], "not on site");
    assert_eq!(find("export.attendance")["actor"], "auditor");
    find("session.sign_in");
    find("policy.publish");
    let v = ok(w.aud.get(admin_api::PATH_AUDIT_VERIFY));
    assert_eq!(v["broken"], Value::Null, "{v}");

    // Someone with database access rewrites the reason (the append-only
    // trigger first refuses, so they drop it).
    let seq = rejected["seq"].as_u64().unwrap();
    let edit = format!("UPDATE audit_log SET reason = 'fine' WHERE seq = {seq}");
    let blocked = common::execute_sql(&w.ts.db, &edit);
    assert!(
        blocked.as_ref().is_err_and(|e| e.contains("append-only")),
        "the trigger refuses edits: {blocked:?}"
    );
    common::execute_sql(&w.ts.db, &common::audit_trigger_drop_sql(&w.ts.db)).unwrap();
    common::execute_sql(&w.ts.db, &edit).unwrap();
    let v = ok(w.aud.get(admin_api::PATH_AUDIT_VERIFY));
    assert_eq!(v["broken"]["seq"].as_u64(), Some(seq), "{v}");
    assert_eq!(v["broken"]["problem"], "hash");
    assert_eq!(v["head_seq"].as_u64(), Some(seq - 1));
    // Managers cannot read the audit log at all.
    w.mgr
        .get(admin_api::PATH_AUDIT)
        .assert_error(403, "forbidden");
}

#[test]
fn permission_of_reads_the_table() {
    assert_eq!(
        admin_api::permission_of(&axum::http::Method::GET, admin_api::PATH_AUDIT),
        Some(Permission::ViewAudit)
    );
    assert_eq!(
        admin_api::permission_of(&axum::http::Method::POST, admin_api::PATH_SESSION),
        None
    );
}

#[test]
fn review_flags_come_with_sentences_in_the_readers_language() {
    use punch_model::geofence::LatLon;
    use punch_model::rules::evidence::ValidFix;
    let ts = TestServer::start();
    let version = ts.publish();
    let mut dev = ts.enrolled_device("ann");
    // A modified app claims "accepted" for a fix straddling hq's fence; the
    // server's own judgement (review) disagrees.
    let up = dev.next(version, |r| {
        r.evaluation.decision = Decision::Accepted;
        r.evaluation.site_id = Some("hq".into());
        r.evidence.gps = Some(ValidFix {
            point: LatLon {
                lat: 52.5213,
                lon: 13.4050,
            },
            accuracy_m: 40.0,
            fix_time_ms: common::now_ms(),
            provider: "gps".into(),
            is_mock: false,
            speed_mps: None,
            age_ms: None,
            elapsed_realtime_ms: None,
            reduced_accuracy: false,
            external_receiver: false,
        });
    });
    dev.upload_ok(ts.addr(), vec![up]);
    let hr = add_staff(&ts, "hr", Role::HrAdmin, None).sign_in(ts.addr());
    let get = |path: &str, language: Option<&str>| {
        let mut headers = vec![("cookie", hr.cookie.clone())];
        if let Some(l) = language {
            headers.push(("accept-language", l.to_string()));
        }
        ok(request(ts.addr(), "GET", path, &headers, &[]))
    };
    let detail = format!("/admin/v1/punches/{}/1", dev.id);
    let english = "The evidence does not support the verdict the device recorded: the phone \
                   said accepted (site hq), the evidence reads review (site hq).";
    for (language, want) in [
        (None, english),
        (Some("fr-FR, en;q=0.5"), english),
        (
            Some("zh-CN,zh;q=0.9,en;q=0.8"),
            "证据不支持设备记录的判定结果：手机判定为accepted（地点hq），证据判定为review（地点hq）。",
        ),
    ] {
        let punch = &get(&detail, language)["punch"];
        assert_eq!(punch["review_flags"][0]["flag"], "evaluation_mismatch");
        assert_eq!(
            punch["review_messages"],
            json!([{"code": "evaluation_mismatch", "text": want}]),
            "{language:?}"
        );
    }
    let list = get(
        "/admin/v1/punches?review_flag=evaluation_mismatch",
        Some("zh"),
    );
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert!(
        list["items"][0]["review_messages"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("证据不支持")
    );
}

#[test]
fn staff_sign_in_is_rate_limited_per_address_before_any_password_is_checked() {
    let limits = punch_server::Limits {
        staff_signin_per_ip: punch_server::RateRule {
            hits: 3,
            // Long enough for three Argon2 checks in a debug build.
            window_s: 60,
        },
        ..punch_server::Limits::default()
    };
    let ts = TestServer::with_limits(limits);
    let addr = ts.addr();
    let s = add_staff(&ts, "hr", Role::HrAdmin, None);
    let refused_rows = |ts: &TestServer| {
        ts.admin
            .audit_rows(0, 1000)
            .unwrap()
            .iter()
            .filter(|r| r.action == "session.sign_in_refused")
            .count()
    };
    // Three attempts from this address: a malformed one and two wrong ones.
    request(addr, "POST", admin_api::PATH_SESSION, &[], b"{").assert_error(400, "bad_request");
    for _ in 0..2 {
        s.try_sign_in(addr, "wrong password here", "000000")
            .assert_error(401, "unauthenticated");
    }
    assert_eq!(refused_rows(&ts), 2);
    // The fourth is refused before anything is checked, right factors or not.
    let limited = s.try_sign_in(addr, common::staff::PASSWORD, &s.code());
    limited.assert_error(429, "rate_limited");
    let wait: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    s.try_sign_in(addr, "wrong password here", "000000")
        .assert_error(429, "rate_limited");
    assert_eq!(refused_rows(&ts), 2, "no password was checked");
    let metrics = request(addr, "GET", "/metrics", &common::metrics_auth(), &[]);
    let text = String::from_utf8_lossy(&metrics.body);
    assert!(
        text.lines()
            .any(|l| l.starts_with("punch_rate_limited_total{bucket=\"StaffSignInIp\"}")),
        "{text}"
    );
    // The account itself was not locked: two failures of five.
    assert!(
        !ts.admin
            .audit_rows(0, 1000)
            .unwrap()
            .iter()
            .any(|r| r.detail.contains("locked_until_ms"))
    );
}
