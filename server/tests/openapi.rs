//! openapi.json matches the real server: every documented route exists and
//! answers with documented statuses, headers and required properties; every
//! served route is documented.

use crate::common;

use std::collections::BTreeSet;

use common::{Device, Http, TestServer, request};
use punch_model::wire;
use serde_json::Value;

fn doc() -> Value {
    serde_json::from_str(punch_server::OPENAPI_JSON).expect("openapi.json is JSON")
}

/// Follows a local `$ref`.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let pointer = r.strip_prefix('#').expect("local ref");
            let target = doc
                .pointer(pointer)
                .unwrap_or_else(|| panic!("dangling {r}"));
            resolve(doc, target)
        }
        None => v,
    }
}

/// A small JSON Schema check: types, required, properties, items, enums.
fn validate(doc: &Value, schema: &Value, value: &Value, at: &str) {
    let schema = resolve(doc, schema);
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        assert!(options.contains(value), "{at}: {value} not in {options:?}");
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("object") => {
            let obj = value
                .as_object()
                .unwrap_or_else(|| panic!("{at}: not an object"));
            for req in schema["required"].as_array().into_iter().flatten() {
                let name = req.as_str().unwrap();
                assert!(
                    obj.contains_key(name),
                    "{at}: required property {name} missing"
                );
            }
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (name, sub) in props {
                    if let Some(v) = obj.get(name) {
                        validate(doc, sub, v, &format!("{at}.{name}"));
                    }
                }
            }
        }
        Some("array") => {
            let items = value
                .as_array()
                .unwrap_or_else(|| panic!("{at}: not an array"));
            for (i, item) in items.iter().enumerate() {
                validate(doc, &schema["items"], item, &format!("{at}[{i}]"));
            }
        }
        Some("string") => assert!(value.is_string(), "{at}: not a string"),
        Some("integer") => assert!(value.is_i64() || value.is_u64(), "{at}: not an integer"),
        _ => {}
    }
}

/// Checks one live answer against the operation's documented response.
fn check(
    doc: &Value,
    seen: &mut BTreeSet<(String, String, u16)>,
    method: &str,
    path: &str,
    resp: &Http,
) {
    let op = &doc["paths"][path][method.to_ascii_lowercase()];
    assert!(op.is_object(), "{method} {path} is not documented");
    let documented = &op["responses"][resp.status.to_string()];
    assert!(
        documented.is_object(),
        "{method} {path} answered undocumented status {}: {}",
        resp.status,
        String::from_utf8_lossy(&resp.body)
    );
    let documented = resolve(doc, documented);
    for (name, header) in documented["headers"].as_object().into_iter().flatten() {
        if resolve(doc, header)["required"] == Value::Bool(true) {
            assert!(
                resp.header(name).is_some(),
                "{method} {path} {}: header {name} missing",
                resp.status
            );
        }
    }
    let schema = &documented["content"]["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "{method} {path} {}: no schema",
        resp.status
    );
    validate(
        doc,
        schema,
        &resp.json(),
        &format!("{method} {path} {}", resp.status),
    );
    seen.insert((method.to_string(), path.to_string(), resp.status));
}

#[test]
fn documented_routes_are_exactly_the_served_routes() {
    let doc = doc();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.to_ascii_uppercase(), path.clone()));
        }
    }
    let served: BTreeSet<(String, String)> = punch_server::routes::all()
        .into_iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(documented, served);
    // The wire error codes and reject reasons are all documented.
    let codes = &doc["components"]["schemas"]["ErrorCode"]["enum"];
    let reasons = &doc["components"]["schemas"]["RejectReason"]["enum"];
    for code in [
        "bad_request",
        "enrollment_code_invalid",
        "device_already_bound",
        "unknown_device",
        "device_unbound",
        "bad_request_signature",
        "stale_timestamp",
        "replayed_nonce",
        "no_policy",
        "batch_too_large",
        "internal",
    ] {
        let v =
            serde_json::to_value(serde_json::from_value::<wire::ErrorCode>(code.into()).unwrap())
                .unwrap();
        assert!(codes.as_array().unwrap().contains(&v), "{code}");
    }
    for reason in reasons.as_array().unwrap() {
        serde_json::from_value::<wire::RejectReason>(reason.clone()).unwrap();
    }
}

#[test]
fn the_live_server_answers_as_documented() {
    let doc = doc();
    let server = TestServer::start();
    let addr = server.addr();
    let mut seen = BTreeSet::new();
    let enroll = wire::PATH_ENROLL;
    let (time, policy, punches) = (wire::PATH_TIME, wire::PATH_POLICY, wire::PATH_PUNCHES);

    // Attestation challenge: 200, 400, 403 (the code is not used up).
    let code = server.employee_code("e-1");
    let challenge = wire::PATH_ENROLL_CHALLENGE;
    let ask = |code: &str| {
        let body = serde_json::to_vec(&wire::EnrollChallengeRequest { code: code.into() }).unwrap();
        request(addr, "POST", challenge, &[], &body)
    };
    check(&doc, &mut seen, "POST", challenge, &ask(&code));
    check(&doc, &mut seen, "POST", challenge, &ask("WRONGCODE2"));
    check(
        &doc,
        &mut seen,
        "POST",
        challenge,
        &request(addr, "POST", challenge, &[], b"{"),
    );

    // Enrollment: 200, 400, 403, 409.
    let mut device = Device::new();
    device.employee_id = "e-1".into();
    check(&doc, &mut seen, "POST", enroll, &device.enroll(addr, &code));
    check(
        &doc,
        &mut seen,
        "POST",
        enroll,
        &request(addr, "POST", enroll, &[], b"[]"),
    );
    check(
        &doc,
        &mut seen,
        "POST",
        enroll,
        &Device::new().enroll(addr, "WRONGCODE2"),
    );
    let second = server
        .admin
        .create_enrollment_code("e-1", common::DAY)
        .unwrap();
    check(
        &doc,
        &mut seen,
        "POST",
        enroll,
        &Device::new().enroll(addr, &second),
    );

    // Authenticated routes: 400 (no headers), 401 (unknown device), then success.
    let stranger = Device::new();
    for (method, path) in [("GET", time), ("GET", policy), ("POST", punches)] {
        check(
            &doc,
            &mut seen,
            method,
            path,
            &request(addr, method, path, &[], b""),
        );
        check(
            &doc,
            &mut seen,
            method,
            path,
            &stranger.signed(addr, method, path, b""),
        );
    }
    check(&doc, &mut seen, "GET", time, &device.time(addr));
    check(
        &doc,
        &mut seen,
        "GET",
        policy,
        &device.signed(addr, "GET", policy, b""),
    );
    let version = server.publish();
    check(
        &doc,
        &mut seen,
        "GET",
        policy,
        &device.signed(addr, "GET", policy, b""),
    );
    let good = device.next(version, |_| {});
    let gap = device.sign(&device.record(9, "00", version));
    check(
        &doc,
        &mut seen,
        "POST",
        punches,
        &device.upload(addr, vec![good, gap]),
    );
    check(
        &doc,
        &mut seen,
        "POST",
        punches,
        &device.signed(addr, "POST", punches, b"{"),
    );

    // Export: the device's employee's data.
    let export = wire::privacy::PATH_EXPORT;
    check(
        &doc,
        &mut seen,
        "GET",
        export,
        &device.signed(addr, "GET", export, b""),
    );

    // Data key: 200 for a well-formed key, 400 for one that is not its id.
    let data_key = wire::privacy::PATH_DATA_KEY;
    for (key_id, key) in [
        (punch_model::ledger::sealed::key_id(&[7; 32]), vec![7; 32]),
        ("0000000000000000".to_string(), vec![7; 32]),
    ] {
        let body = serde_json::to_vec(&wire::privacy::DataKeyRequest { key_id, key }).unwrap();
        check(
            &doc,
            &mut seen,
            "POST",
            data_key,
            &device.signed(addr, "POST", data_key, &body),
        );
    }

    // Reveal: 200 for the opening a record committed to, 400 otherwise.
    let reveal = wire::privacy::PATH_EVIDENCE_REVEAL;
    let opening = br#"{"salt":"00","gps":null,"wifi":[],"ips":[]}"#.to_vec();
    let committed = device.next(version, |r| {
        r.evidence.commitment = Some(hex::encode(punch_model::ledger::signing::sha256(&opening)));
    });
    let seq = committed.seq;
    device.upload_ok(addr, vec![committed]);
    for (seq, opening) in [(seq, opening.clone()), (seq + 50, opening)] {
        let body = serde_json::to_vec(&wire::privacy::RevealRequest { seq, opening }).unwrap();
        check(
            &doc,
            &mut seen,
            "POST",
            reveal,
            &device.signed(addr, "POST", reveal, &body),
        );
    }

    let many = vec![device.next(version, |_| {}); wire::MAX_BATCH + 1];
    check(&doc, &mut seen, "POST", punches, &device.upload(addr, many));

    // PIN resets: 409 (no contact / no secret), 403 (wrong code / identity),
    // then success on each (8 requests: within the per-employee limit).
    use punch_model::pin::wire as pin;
    let (code_path, redeem, selfs, admin_reset) = (
        pin::PATH_PIN_CODE,
        pin::PATH_PIN_CODE_REDEEM,
        pin::PATH_PIN_SELF_SERVICE,
        pin::PATH_PIN_ADMIN_RESET,
    );
    let pin_req = |path: &str, body: &[u8]| device.signed(addr, "POST", path, body);
    check(
        &doc,
        &mut seen,
        "POST",
        code_path,
        &pin_req(code_path, b"{}"),
    );
    let self_body = br#"{"employee_number":"e-1","secret":"4711"}"#;
    check(&doc, &mut seen, "POST", selfs, &pin_req(selfs, self_body));
    server
        .admin
        .set_pin_contact("e-1", "email", "e1@example.com")
        .unwrap();
    server.admin.set_pin_identity_secret("e-1", "4711").unwrap();
    server.admin.order_pin_reset("e-1").unwrap();
    check(
        &doc,
        &mut seen,
        "POST",
        code_path,
        &pin_req(code_path, b"{}"),
    );
    let codes = std::fs::read_to_string(server.dir.path().join("codes.jsonl")).unwrap();
    let sent: Value = serde_json::from_str(codes.lines().last().unwrap()).unwrap();
    let code = sent["code"].as_str().unwrap();
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let body = |c: &str| serde_json::to_vec(&serde_json::json!({ "code": c })).unwrap();
    check(
        &doc,
        &mut seen,
        "POST",
        redeem,
        &pin_req(redeem, &body(wrong)),
    );
    check(
        &doc,
        &mut seen,
        "POST",
        redeem,
        &pin_req(redeem, &body(code)),
    );
    let wrong_self = br#"{"employee_number":"e-1","secret":"0000"}"#;
    check(&doc, &mut seen, "POST", selfs, &pin_req(selfs, wrong_self));
    check(&doc, &mut seen, "POST", selfs, &pin_req(selfs, self_body));
    check(
        &doc,
        &mut seen,
        "POST",
        admin_reset,
        &pin_req(admin_reset, b"{}"),
    );

    // Requests and attachments: a make-up request naming a file, its file.
    let requests_path = wire::PATH_REQUESTS;
    let attachment_route = "/v1/attachments/{sha256}";
    let file = b"a photo of the broken reader".to_vec();
    let sha = hex::encode(punch_model::ledger::signing::sha256(&file));
    // A device of its own: the batch above moved this one's local head.
    let mut device = server.enrolled_device("e-2");
    let put = |device: &common::Device, sha: &str, body: &[u8]| {
        let path = format!("{}/{sha}", wire::PATH_ATTACHMENTS);
        device.signed(addr, "PUT", &path, body)
    };
    // No request names it yet: 422.
    check(
        &doc,
        &mut seen,
        "PUT",
        attachment_route,
        &put(&device, &sha, &file),
    );
    let make_up = punch_model::ledger::event::ChainEvent::MakeUpRequest(
        punch_model::rules::makeup::MakeUpRequest {
            kind: punch_model::rules::punch_kind::PunchKind::ClockIn,
            intended_time_ms: common::now_ms() - 3_600_000,
            site_id: Some("hq".into()),
            reason: "the reader was broken".into(),
            attachments: vec![punch_model::rules::makeup::Attachment {
                sha256: sha.clone(),
                size_bytes: file.len() as u64,
                media_type: "image/jpeg".into(),
            }],
            refused_attempt: None,
            fault: None,
        },
    );
    let filed = device.next_event(version, make_up);
    let stored = device.upload_ok(addr, vec![filed]);
    assert_eq!(common::outcomes(&stored)[0].1, "accepted", "{stored:?}");
    check(
        &doc,
        &mut seen,
        "PUT",
        attachment_route,
        &put(&device, &sha, &file),
    );
    check(
        &doc,
        &mut seen,
        "GET",
        requests_path,
        &device.signed(addr, "GET", requests_path, b""),
    );
    check(
        &doc,
        &mut seen,
        "GET",
        requests_path,
        &stranger.signed(addr, "GET", requests_path, b""),
    );

    // Unbound: 403 on every authenticated route.
    server.admin.unbind_device(&device.id).unwrap();
    for (method, path) in [
        ("GET", time),
        ("GET", policy),
        ("POST", punches),
        ("POST", wire::privacy::PATH_EVIDENCE_REVEAL),
        ("POST", wire::privacy::PATH_DATA_KEY),
        ("GET", wire::privacy::PATH_EXPORT),
    ] {
        check(
            &doc,
            &mut seen,
            method,
            path,
            &device.signed(addr, method, path, b""),
        );
    }

    // Operations routes: liveness, readiness (JSON), metrics (Prometheus text).
    for path in [
        punch_server::routes::PATH_HEALTHZ,
        punch_server::routes::PATH_READYZ,
    ] {
        check(
            &doc,
            &mut seen,
            "GET",
            path,
            &request(addr, "GET", path, &[], b""),
        );
    }
    let metrics_path = punch_server::routes::PATH_METRICS;
    let metrics = request(addr, "GET", metrics_path, &common::metrics_auth(), b"");
    assert_eq!(metrics.status, 200);
    assert!(
        doc["paths"][metrics_path]["get"]["responses"]["200"]["content"]["text/plain"].is_object()
    );
    assert!(metrics.header(wire::HEADER_SERVER_TIME).is_some());
    assert!(String::from_utf8_lossy(&metrics.body).contains("punch_http_requests_total"));
    seen.insert(("GET".into(), metrics_path.into(), 200));

    admin_and_web(&doc, &mut seen, &server);
    browser_punch(&doc, &mut seen, &server);

    // Every documented operation was seen succeeding.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let m = method.to_ascii_uppercase();
            assert!(
                seen.contains(&(m.clone(), path.clone(), 200)),
                "{m} {path} never answered 200"
            );
        }
    }
    let expected: BTreeSet<u16> = [200, 400, 401, 403, 404, 409, 413, 422].into();
    let statuses: BTreeSet<u16> = seen.iter().map(|(_, _, s)| *s).collect();
    assert_eq!(statuses, expected);

    // Methods not documented on a documented path are not served.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            if item.get(method.to_ascii_lowercase()).is_none() {
                let resp = request(addr, method, path, &[], b"");
                assert_eq!(resp.status, 405, "{method} {path}");
                resp.assert_stamped();
            }
        }
    }
}

/// The admin API and the reviewer page, each operation answered as
/// documented: 200 for an HR admin with a valid request, 401 without a
/// session, 403 for an auditor where the role lacks the permission.
/// A punch-key rotation held for HR (the policy wanted a hardware key when
/// it arrived); its event id.
fn pending_key_rotation(server: &TestServer) -> String {
    use punch_model::ledger::key_rotation::{KeyRotation, RotationReason, key_fingerprint};
    use punch_model::ledger::signing::{Signer as _, SoftwareSigner};
    use punch_model::rules::assurance::{AssuranceLevel, BelowMinimum};
    let mut device = server.enrolled_device("admin-k");
    let before = server.admin.settings().unwrap();
    let mut strict = before.clone();
    strict.min_assurance = AssuranceLevel::HardwareTee;
    strict.below_min_assurance = BelowMinimum::Review;
    server.admin.set_settings(strict).unwrap();
    let version = server.publish();
    let (new_key, _) = SoftwareSigner::generate().unwrap();
    let rotation = device.next_event(
        version,
        punch_model::ledger::event::ChainEvent::KeyRotation(KeyRotation {
            punch_key: new_key.public_key_spki().unwrap(),
            replaces: key_fingerprint(&device.spki),
            reason: RotationReason::Invalidated,
            attestation: None,
        }),
    );
    let resp = device.upload_ok(server.addr(), vec![rotation]);
    assert_eq!(resp.key_rotation_pending, Some(device.head_seq));
    server.admin.set_settings(before).unwrap();
    server.publish();
    server.admin.pending_key_rotations().unwrap()[0]
        .event_id
        .clone()
}

fn admin_and_web(doc: &Value, seen: &mut BTreeSet<(String, String, u16)>, server: &TestServer) {
    use punch_server::Role;
    use punch_server::routes::admin as a;
    use serde_json::json;
    let addr = server.addr();
    let version = server.admin.policy_version().unwrap().max(server.publish());
    let mut device = server.enrolled_device("admin-e");
    let up = device.next(version, |_| {});
    device.upload_ok(addr, vec![up]);
    let make_up = device.next_event(
        version,
        punch_model::ledger::event::ChainEvent::MakeUpRequest(
            punch_model::rules::makeup::MakeUpRequest {
                kind: punch_model::rules::punch_kind::PunchKind::ClockOut,
                intended_time_ms: common::now_ms() - 3_600_000,
                site_id: None,
                reason: "forgot".into(),
                attachments: Vec::new(),
                refused_attempt: None,
                fault: None,
            },
        ),
    );
    device.upload_ok(addr, vec![make_up]);
    let fault = device.next_event(
        version,
        punch_model::ledger::event::ChainEvent::Fault(punch_model::ledger::fault::FaultReport {
            kind: punch_model::ledger::fault::FaultKind::WifiOff,
            source: punch_model::ledger::fault::FaultSource::Engine,
            text: "no access point seen".into(),
            attachments: Vec::new(),
        }),
    );
    device.upload_ok(addr, vec![fault]);
    let request_id = server.admin.requests(Some("pending")).unwrap()[0]
        .event_id
        .clone();
    // A broken link from the same device: evidence to acknowledge.
    let stray = device.sign(&device.record(2, &"cd".repeat(32), version));
    device.upload_ok(addr, vec![stray]);
    let rotation_id = pending_key_rotation(server);
    let hr = common::staff::add_staff(server, "hr", Role::HrAdmin, None).sign_in(addr);
    let aud = common::staff::add_staff(server, "aud", Role::Auditor, None).sign_in(addr);
    let punch = format!("/admin/v1/punches/{}/1", device.id);
    // A token to revoke (the list's own POST /tokens makes another).
    let revocable = common::staff::ok(hr.post(
        a::PATH_TOKENS,
        &json!({"name": "to revoke", "scopes": ["view_punches"], "ttl_days": 1}),
    ))["token_id"]
        .as_str()
        .unwrap()
        .to_string();
    let calls: Vec<(&str, &str, String, Option<Value>)> = vec![
        ("GET", a::PATH_SESSION, a::PATH_SESSION.into(), None),
        (
            "GET",
            a::PATH_EMPLOYEES,
            format!("{}?limit=10", a::PATH_EMPLOYEES),
            None,
        ),
        (
            "POST",
            a::PATH_EMPLOYEES,
            a::PATH_EMPLOYEES.into(),
            Some(json!({"employee_id": "admin-e", "name": "E", "team": "T"})),
        ),
        (
            "POST",
            a::PATH_REBIND,
            "/admin/v1/employees/admin-e/rebind".into(),
            Some(json!({"reason": "new phone"})),
        ),
        (
            "POST",
            a::PATH_EXTRA_DEVICE,
            "/admin/v1/employees/admin-e/extra-device".into(),
            Some(json!({"reason": "depot tablet"})),
        ),
        (
            "GET",
            a::PATH_DEVICE_SLOTS,
            "/admin/v1/employees/admin-e/device-slots".into(),
            None,
        ),
        (
            "POST",
            a::PATH_PIN_RESET,
            "/admin/v1/employees/admin-e/pin-reset".into(),
            Some(json!({"reason": "forgot the PIN"})),
        ),
        (
            "GET",
            a::PATH_PUNCHES,
            format!("{}?needs_review=false", a::PATH_PUNCHES),
            None,
        ),
        ("GET", a::PATH_PUNCH, punch.clone(), None),
        (
            "POST",
            a::PATH_PUNCH_REVIEW,
            format!("{punch}/review"),
            Some(json!({"verdict": "approve"})),
        ),
        ("GET", a::PATH_DEVICES, a::PATH_DEVICES.into(), None),
        (
            "GET",
            a::PATH_CHAIN_BREAKS,
            a::PATH_CHAIN_BREAKS.into(),
            None,
        ),
        (
            "POST",
            a::PATH_ACK_BREAK,
            format!("/admin/v1/devices/{}/acknowledge-break", device.id),
            Some(json!({"reason": "corrupt record after a crash"})),
        ),
        (
            "GET",
            a::PATH_ATTENDANCE,
            format!("{}?from=2026-01-01&to=2026-01-02", a::PATH_ATTENDANCE),
            None,
        ),
        ("GET", a::PATH_AUDIT, a::PATH_AUDIT.into(), None),
        (
            "GET",
            a::PATH_AUDIT_VERIFY,
            a::PATH_AUDIT_VERIFY.into(),
            None,
        ),
        (
            "POST",
            a::PATH_TOKENS,
            a::PATH_TOKENS.into(),
            Some(json!({"name": "payroll", "scopes": ["export_attendance"], "ttl_days": 30})),
        ),
        (
            "POST",
            a::PATH_STAFF,
            a::PATH_STAFF.into(),
            Some(json!({
            "username": "mgr", "display_name": "M", "role": "manager", "team": "T",
            "password": "a long enough password"})),
        ),
        ("GET", a::PATH_STAFF, a::PATH_STAFF.into(), None),
        (
            "POST",
            a::PATH_STAFF_CHANGE,
            "/admin/v1/staff/mgr/revoke".into(),
            Some(json!({"reason": "contract test"})),
        ),
        ("GET", a::PATH_TOKENS, a::PATH_TOKENS.into(), None),
        (
            "POST",
            a::PATH_TOKEN_REVOKE,
            format!("/admin/v1/tokens/{revocable}/revoke"),
            Some(json!({"reason": "contract test"})),
        ),
        (
            "POST",
            a::PATH_PUBLISH,
            a::PATH_PUBLISH.into(),
            Some(json!({"ttl_days": 30, "reason": "contract test"})),
        ),
        ("GET", a::PATH_REQUESTS, a::PATH_REQUESTS.into(), None),
        ("GET", a::PATH_FORGOTTEN, a::PATH_FORGOTTEN.into(), None),
        (
            "POST",
            a::PATH_REQUEST_DECISION,
            format!("/admin/v1/requests/{request_id}/decision"),
            Some(json!({"decision": "approve"})),
        ),
        (
            "GET",
            a::PATH_KEY_ROTATIONS,
            a::PATH_KEY_ROTATIONS.into(),
            None,
        ),
        (
            "GET",
            a::PATH_FAULTS,
            format!("{}?team=T", a::PATH_FAULTS),
            None,
        ),
        (
            "GET",
            a::PATH_FAULTS_SILENT,
            a::PATH_FAULTS_SILENT.into(),
            None,
        ),
        (
            "POST",
            a::PATH_KEY_ROTATION_DECISION,
            format!("/admin/v1/key-rotations/{rotation_id}/decision"),
            Some(json!({"decision": "approve", "comment": "checked in person"})),
        ),
        (
            "POST",
            a::PATH_SESSION_END,
            a::PATH_SESSION_END.into(),
            Some(json!({})),
        ),
    ];
    for (method, documented, path, body) in &calls {
        let resp = hr.call(method, path, body.as_ref());
        check(doc, seen, method, documented, &resp);
        let bytes = body
            .as_ref()
            .map(|b| b.to_string().into_bytes())
            .unwrap_or_default();
        check(
            doc,
            seen,
            method,
            documented,
            &request(addr, method, path, &[], &bytes),
        );
        if *method == "POST" && *documented != a::PATH_SESSION_END {
            check(
                doc,
                seen,
                method,
                documented,
                &aud.call(method, path, body.as_ref()),
            );
        }
    }
    check(
        doc,
        seen,
        "GET",
        a::PATH_PUNCH,
        &aud.get(&format!("/admin/v1/punches/{}/9", device.id)),
    );
    // Deciding a request twice: 409.
    let again = common::staff::add_staff(server, "hr4", Role::HrAdmin, None).sign_in(addr);
    let twice = format!("/admin/v1/requests/{request_id}/decision");
    check(
        doc,
        seen,
        "POST",
        a::PATH_REQUEST_DECISION,
        &again.post(&twice, &json!({"decision": "deny", "comment": "x"})),
    );
    let staff = common::staff::add_staff(server, "hr2", Role::HrAdmin, None);
    check(
        doc,
        seen,
        "POST",
        a::PATH_SESSION,
        &staff.try_sign_in(addr, "wrong password!!", "000000"),
    );
    let signed_in = staff.try_sign_in(addr, common::staff::PASSWORD, &staff.code());
    check(doc, seen, "POST", a::PATH_SESSION, &signed_in);
    check(
        doc,
        seen,
        "POST",
        a::PATH_SESSION,
        &request(addr, "POST", a::PATH_SESSION, &[], b"{}"),
    );
    // Not JSON: the CSV export and the page's assets.
    let session = common::staff::add_staff(server, "hr3", Role::HrAdmin, None).sign_in(addr);
    let csv = session.get(&format!(
        "{}?from=2026-01-01&to=2026-01-02&format=csv",
        a::PATH_ATTENDANCE
    ));
    assert_eq!(csv.status, 200);
    assert!(
        doc["paths"][a::PATH_ATTENDANCE]["get"]["responses"]["200"]["content"]["text/csv"]
            .is_object()
    );
    // A punch with its photo: the detail names it, the image is served as signed.
    let photo = b"\xff\xd8 a small jpeg".repeat(20);
    let sha = hex::encode(punch_model::ledger::signing::sha256(&photo));
    let mut camera = server.enrolled_device("admin-photo");
    let up = camera.next(version, |r| {
        r.photo = Some(punch_model::rules::photo::PhotoRef {
            sha256: sha.clone(),
            size_bytes: photo.len() as u64,
            media_type: "image/jpeg".into(),
        })
    });
    camera.upload_ok(addr, vec![up]);
    let put = camera.signed(
        addr,
        "PUT",
        &format!("{}/{sha}", wire::PATH_ATTACHMENTS),
        &photo,
    );
    assert_eq!(put.status, 200, "{}", String::from_utf8_lossy(&put.body));
    let detail = session.get(&format!("/admin/v1/punches/{}/1", camera.id));
    check(doc, seen, "GET", a::PATH_PUNCH, &detail);
    let url = detail.json()["photo"]["url"].as_str().unwrap().to_string();
    let image = session.get(&url);
    assert_eq!(image.status, 200);
    assert_eq!(image.header("content-type"), Some("image/jpeg"));
    assert_eq!(image.body, photo);
    assert!(
        doc["paths"][a::PATH_PUNCH_PHOTO]["get"]["responses"]["200"]["content"]["image/*"]
            .is_object()
    );
    seen.insert(("GET".into(), a::PATH_PUNCH_PHOTO.into(), 200));
    for (path, ctype) in [
        (punch_server::routes::PATH_PAGE, "text/html"),
        (punch_server::routes::PATH_SCRIPT, "text/javascript"),
        (punch_server::routes::PATH_STYLE, "text/css"),
    ] {
        let resp = request(addr, "GET", path, &[], b"");
        assert_eq!(resp.status, 200, "{path}");
        assert!(
            resp.header("content-type").unwrap().starts_with(ctype),
            "{path}"
        );
        assert!(
            resp.header("content-security-policy")
                .unwrap()
                .contains("default-src 'none'")
        );
        assert!(
            doc["paths"][path]["get"]["responses"]["200"]["content"][ctype].is_object(),
            "{path}"
        );
        seen.insert(("GET".into(), path.into(), 200));
    }
}

/// The browser punch's routes, answered by a software passkey.
fn browser_punch(doc: &Value, seen: &mut BTreeSet<(String, String, u16)>, server: &TestServer) {
    use crate::browser_punch::SoftPasskey;
    let addr = server.addr();
    let post = |path: &str, body: &Value| {
        let headers = [("content-type", "application/json".to_string())];
        request(addr, "POST", path, &headers, body.to_string().as_bytes())
    };
    server.admin.add_employee("web.ann", "Ann").unwrap();
    let code = server
        .admin
        .create_enrollment_code("web.ann", common::DAY)
        .unwrap();
    let mut passkey = SoftPasskey::new(addr.port());
    let path = "/browser/v1/register/options";
    let start = post(path, &serde_json::json!({"code": code}));
    check(doc, seen, "POST", path, &start);
    let start = start.json();
    let path = "/browser/v1/register";
    let done = post(
        path,
        &serde_json::json!({"ceremony": start["ceremony"], "credential": passkey.create(&start["options"])}),
    );
    check(doc, seen, "POST", path, &done);
    let device = done.json()["device_id"].clone();
    let path = "/browser/v1/punch/options";
    let options = post(
        path,
        &serde_json::json!({"employee_id": "web.ann", "device_id": device, "kind": "clock_in",
                            "client_time_ms": common::now_ms(),
                            "location": {"lat": 52.520008, "lon": 13.404954, "accuracy_m": 10.0}}),
    );
    check(doc, seen, "POST", path, &options);
    let options = options.json();
    let challenge = options["options"]["publicKey"]["challenge"]
        .as_str()
        .unwrap();
    let path = "/browser/v1/punch";
    let punch =
        serde_json::json!({"ceremony": options["ceremony"], "credential": passkey.get(challenge)});
    check(doc, seen, "POST", path, &post(path, &punch));
    // Replayed: its challenge is used up.
    check(doc, seen, "POST", path, &post(path, &punch));
    // HR: the employee's passkeys; one revoked; an unknown one.
    use punch_server::routes::admin as a;
    let hr = common::staff::add_staff(server, "hr.passkeys", punch_server::Role::HrAdmin, None)
        .sign_in(addr);
    let list = "/admin/v1/employees/web.ann/passkeys";
    check(doc, seen, "GET", a::PATH_PASSKEYS, &hr.get(list));
    let reason = serde_json::json!({"reason": "contract test"});
    let revoke = format!("{list}/{}/revoke", device.as_str().unwrap());
    check(
        doc,
        seen,
        "POST",
        a::PATH_PASSKEY_REVOKE,
        &hr.post(&revoke, &reason),
    );
    let unknown = format!("{list}/browser-none/revoke");
    check(
        doc,
        seen,
        "POST",
        a::PATH_PASSKEY_REVOKE,
        &hr.post(&unknown, &reason),
    );
    for path in [
        "/punch/",
        "/punch/assets/punch.js",
        "/punch/assets/punch.css",
    ] {
        seen.insert((
            "GET".into(),
            path.into(),
            request(addr, "GET", path, &[], b"").status,
        ));
    }
}
