//! Enrollment and request authentication, over real HTTP and SQLite.

use crate::common;

use punch_model::ledger::signing::Signer as _;
use std::time::Duration;

use common::{Device, TestServer, fresh_nonce, now_ms, request};
use punch_model::wire::{self, EnrollResponse, TimeResponse};
use punch_server::ServerError;

#[test]
fn enrollment_binds_the_device_and_starts_its_time_anchor() {
    let server = TestServer::start();
    let code = server.employee_code("e-100");
    assert_eq!(code.len(), 10);
    let device = Device::new();

    let resp = device.enroll(server.addr(), &code);
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    resp.assert_stamped();
    let body: EnrollResponse = resp.parse();
    assert_eq!(body.employee_id, "e-100");
    assert_eq!(body.device_id, device.id);
    assert_eq!(body.time_token.len(), 64);

    let devices = server.admin.devices().unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].device_id, device.id);
    assert_eq!(devices[0].employee_id, "e-100");
    assert_eq!(devices[0].public_key, device.spki);
    assert!(devices[0].is_bound());
    assert_eq!(
        server.admin.head(&device.id).unwrap(),
        (0, punch_model::ledger::record::GENESIS_HASH.to_string())
    );

    // The enrolled key now authenticates requests.
    let time = device.time(server.addr());
    assert_eq!(time.status, 200);
    time.assert_stamped();
    assert_eq!(time.header(wire::HEADER_POLICY_VERSION), Some("0"));
    let t: TimeResponse = time.parse();
    assert_eq!(t.policy_version, 0);

    // Codes are forgiving about case and dashes.
    let code2 = server.employee_code("e-101");
    let sloppy = format!("{}-{}", code2[..5].to_lowercase(), &code2[5..]);
    assert_eq!(Device::new().enroll(server.addr(), &sloppy).status, 200);
}

#[test]
fn bad_expired_and_reused_codes_are_refused() {
    let server = TestServer::start();
    server.admin.add_employee("e-1", "One").unwrap();

    Device::new()
        .enroll(server.addr(), "NOTACODE22")
        .assert_error(403, "enrollment_code_invalid");

    let expired = server
        .admin
        .create_enrollment_code("e-1", Duration::ZERO)
        .unwrap();
    Device::new()
        .enroll(server.addr(), &expired)
        .assert_error(403, "enrollment_code_invalid");

    let code = server
        .admin
        .create_enrollment_code("e-1", common::DAY)
        .unwrap();
    let first = Device::new();
    assert_eq!(first.enroll(server.addr(), &code).status, 200);
    // The same device retrying (its answer was lost) is idempotent...
    let again = first.enroll(server.addr(), &code);
    assert_eq!(again.status, 200);
    assert_eq!(again.parse::<EnrollResponse>().employee_id, "e-1");
    // ...but the used code enrolls nobody else.
    Device::new()
        .enroll(server.addr(), &code)
        .assert_error(403, "enrollment_code_invalid");

    // Codes only for known employees.
    assert!(matches!(
        server.admin.create_enrollment_code("nobody", common::DAY),
        Err(ServerError::UnknownEmployee(_))
    ));
    assert_eq!(server.admin.devices().unwrap().len(), 1);
}

#[test]
fn same_device_same_key_reenrolls_with_a_new_code() {
    let server = TestServer::start();
    let device = server.enrolled_device("e-1");
    let code = server
        .admin
        .create_enrollment_code("e-1", common::DAY)
        .unwrap();
    assert_eq!(device.enroll(server.addr(), &code).status, 200);
    assert_eq!(server.admin.devices().unwrap().len(), 1);
}

#[test]
fn malformed_enrollments_are_bad_requests() {
    let server = TestServer::start();
    let code = server.employee_code("e-1");
    let mut bad_key = Device::new();
    bad_key.spki = bad_key.spki[26..].to_vec(); // a bare point, not SPKI
    bad_key
        .enroll(server.addr(), &code)
        .assert_error(400, "bad_request");
    let mut off_key = Device::new();
    off_key.spki[26] = 0x02; // not an uncompressed point
    off_key
        .enroll(server.addr(), &code)
        .assert_error(400, "bad_request");
    let mut bad_id = Device::new();
    bad_id.id = "has space".into();
    bad_id
        .enroll(server.addr(), &code)
        .assert_error(400, "bad_request");
    request(server.addr(), "POST", wire::PATH_ENROLL, &[], b"{not json")
        .assert_error(400, "bad_request");
    // None of that used the code.
    assert_eq!(Device::new().enroll(server.addr(), &code).status, 200);
}

#[test]
fn second_device_needs_an_approved_rebind_and_the_old_one_is_then_refused() {
    let server = TestServer::start();
    let old = server.enrolled_device("e-7");
    let new = Device::new();
    let code = server
        .admin
        .create_enrollment_code("e-7", common::DAY)
        .unwrap();

    let refused = new.enroll(server.addr(), &code);
    refused.assert_error(409, "device_already_bound");
    assert_eq!(old.time(server.addr()).status, 200);

    server.admin.approve_rebind("e-7").unwrap();
    // The refused attempt did not consume the code.
    let resp = new.enroll(server.addr(), &code);
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));

    old.time(server.addr()).assert_error(403, "device_unbound");
    assert_eq!(new.time(server.addr()).status, 200);
    let devices = server.admin.devices().unwrap();
    let state = |id: &str| {
        devices
            .iter()
            .find(|d| d.device_id == id)
            .unwrap()
            .is_bound()
    };
    assert!(!state(&old.id));
    assert!(state(&new.id));

    // The approval allowed one replacement, not more.
    let third = Device::new();
    let code3 = server
        .admin
        .create_enrollment_code("e-7", common::DAY)
        .unwrap();
    third
        .enroll(server.addr(), &code3)
        .assert_error(409, "device_already_bound");
}

#[test]
fn admin_unbind_stops_the_key_and_frees_the_employee() {
    let server = TestServer::start();
    let device = server.enrolled_device("e-2");
    assert_eq!(device.time(server.addr()).status, 200);
    server.admin.unbind_device(&device.id).unwrap();
    let refused = device.time(server.addr());
    refused.assert_error(403, "device_unbound");
    assert!(refused.header(wire::HEADER_POLICY_VERSION).is_some());
    device
        .upload(server.addr(), vec![])
        .assert_error(403, "device_unbound");
    // With no bound device, the employee enrolls a new one without approval.
    let code = server
        .admin
        .create_enrollment_code("e-2", common::DAY)
        .unwrap();
    assert_eq!(Device::new().enroll(server.addr(), &code).status, 200);
    assert!(matches!(
        server.admin.unbind_device("no-such-device"),
        Err(ServerError::UnknownDevice(_))
    ));
}

#[test]
fn request_signatures_are_checked() {
    let server = TestServer::start();
    let device = server.enrolled_device("e-3");
    let addr = server.addr();
    let path = wire::PATH_TIME;

    // Signed by another key.
    let mut impostor = Device::new();
    impostor.id = device.id.clone();
    impostor
        .time(addr)
        .assert_error(401, "bad_request_signature");

    // Signed over another path / method / body than sent.
    let headers = device.auth_headers("GET", wire::PATH_POLICY, b"", now_ms(), &fresh_nonce());
    request(addr, "GET", path, &headers, b"").assert_error(401, "bad_request_signature");
    let body = br#"{"device_id":"x","records":[]}"#;
    let headers = device.auth_headers("POST", wire::PATH_PUNCHES, body, now_ms(), &fresh_nonce());
    let tampered = br#"{"device_id":"y","records":[]}"#;
    request(addr, "POST", wire::PATH_PUNCHES, &headers, tampered)
        .assert_error(401, "bad_request_signature");

    // Garbage signature header.
    let mut headers = device.auth_headers("GET", path, b"", now_ms(), &fresh_nonce());
    headers[3].1 = "%%%".into();
    request(addr, "GET", path, &headers, b"").assert_error(400, "bad_request");

    // Unknown device: answered exactly like a bad signature, so nobody can
    // probe which device ids are enrolled.
    let stranger = Device::new();
    let unknown = stranger.time(addr);
    unknown.assert_error(401, "bad_request_signature");
    let mut headers = device.auth_headers("GET", path, b"", now_ms(), &fresh_nonce());
    headers[3].1 = wire::b64::encode(&stranger.signer.sign(b"another message").unwrap());
    let forged = request(addr, "GET", path, &headers, b"");
    assert_eq!(unknown.json()["message"], forged.json()["message"]);

    // Missing headers.
    request(addr, "GET", path, &[], b"").assert_error(400, "bad_request");
}

#[test]
fn stale_timestamps_are_refused_with_server_time_to_reanchor() {
    let server = TestServer::start();
    let device = server.enrolled_device("e-4");
    let addr = server.addr();
    let path = wire::PATH_TIME;
    let skew = wire::REQUEST_MAX_SKEW_MS;

    for ts in [now_ms() - skew - 60_000, now_ms() + skew + 60_000] {
        let headers = device.auth_headers("GET", path, b"", ts, &fresh_nonce());
        let resp = request(addr, "GET", path, &headers, b"");
        resp.assert_error(401, "stale_timestamp");
        // The client re-anchors on the server time and succeeds.
        let server_time = resp.json()["server_time_ms"].as_i64().unwrap();
        let headers = device.auth_headers("GET", path, b"", server_time, &fresh_nonce());
        assert_eq!(request(addr, "GET", path, &headers, b"").status, 200);
    }
    // Within the window is fine.
    let headers = device.auth_headers("GET", path, b"", now_ms() - skew / 2, &fresh_nonce());
    assert_eq!(request(addr, "GET", path, &headers, b"").status, 200);
}

#[test]
fn replayed_nonces_are_refused() {
    let server = TestServer::start();
    let device = server.enrolled_device("e-5");
    let addr = server.addr();
    let headers = device.auth_headers("GET", wire::PATH_TIME, b"", now_ms(), "nonce-fixed-1");
    assert_eq!(
        request(addr, "GET", wire::PATH_TIME, &headers, b"").status,
        200
    );
    request(addr, "GET", wire::PATH_TIME, &headers, b"").assert_error(401, "replayed_nonce");
    // Nonces are per device: another device may use the same string.
    let other = server.enrolled_device("e-6");
    let headers = other.auth_headers("GET", wire::PATH_TIME, b"", now_ms(), "nonce-fixed-1");
    assert_eq!(
        request(addr, "GET", wire::PATH_TIME, &headers, b"").status,
        200
    );
    // Short nonces are malformed.
    let headers = device.auth_headers("GET", wire::PATH_TIME, b"", now_ms(), "abc");
    request(addr, "GET", wire::PATH_TIME, &headers, b"").assert_error(400, "bad_request");
}

#[test]
fn unknown_routes_and_methods_answer_in_the_error_shape() {
    let server = TestServer::start();
    let resp = request(server.addr(), "GET", "/v1/nothing", &[], b"");
    resp.assert_error(404, "bad_request");
    let resp = request(server.addr(), "DELETE", wire::PATH_PUNCHES, &[], b"");
    resp.assert_error(405, "bad_request");
}

#[test]
fn enrollment_needs_proof_of_possession_of_the_key() {
    let server = TestServer::start();
    let code = server.employee_code("e-1");
    let victim = Device::new();
    let body = serde_json::to_vec(&wire::EnrollRequest {
        code: code.clone(),
        device_id: victim.id.clone(),
        public_key: victim.spki.clone(),
        key_storage: "software".into(),
        platform: "test".into(),
        attestation: None,
        channel_key: None,
        channel_attestation: None,
        punch_key_proof: None,
    })
    .unwrap();
    // Someone without the private key tries to bind it.
    let mut forger = Device::new();
    forger.id = victim.id.clone();
    let headers = forger.auth_headers("POST", wire::PATH_ENROLL, &body, now_ms(), &fresh_nonce());
    request(server.addr(), "POST", wire::PATH_ENROLL, &headers, &body)
        .assert_error(401, "bad_request_signature");
    // Unsigned: refused as malformed.
    request(server.addr(), "POST", wire::PATH_ENROLL, &[], &body).assert_error(400, "bad_request");
    // Signed by the right key but stamped an hour off: refused, with the server's time.
    let stale = victim.auth_headers(
        "POST",
        wire::PATH_ENROLL,
        &body,
        now_ms() - 3_600_000,
        &fresh_nonce(),
    );
    request(server.addr(), "POST", wire::PATH_ENROLL, &stale, &body)
        .assert_error(401, "stale_timestamp");
    // None of that used the code: the real device enrolls with it.
    assert_eq!(victim.enroll(server.addr(), &code).status, 200);
}
