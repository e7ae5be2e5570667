//! The browser punch through the real server, without a browser: a small
//! software passkey (ES256, "none" attestation) answers the WebAuthn
//! ceremonies as Chromium would. Registration with an enrollment code, a
//! punch from the office's address (accepted, stored in the passkey's own
//! chain, verifying again), one from elsewhere (refused with reasons), a
//! replayed and an altered assertion, a signature over another content, a
//! site that takes no browser punches, and the page's security headers.
//! `web_browser_punch` drives the same in headless Chromium.

use crate::common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use common::{DAY, Http, TestServer, now_ms};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};

fn sha256(bytes: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .to_vec()
}

/// A passkey in software, for `http://localhost:<port>`.
pub struct SoftPasskey {
    key: EcdsaKeyPair,
    cred_id: Vec<u8>,
    counter: u32,
    origin: String,
}

impl SoftPasskey {
    pub fn new(port: u16) -> SoftPasskey {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        SoftPasskey {
            key: EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
                .unwrap(),
            cred_id: sha256(pkcs8.as_ref())[..16].to_vec(),
            counter: 0,
            origin: format!("http://localhost:{port}"),
        }
    }

    fn client_data(&self, kind: &str, challenge: &str) -> Vec<u8> {
        json!({"type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": false})
            .to_string()
            .into_bytes()
    }

    /// navigator.credentials.create() for `options` (a CreationChallengeResponse).
    pub fn create(&self, options: &Value) -> Value {
        let challenge = options["publicKey"]["challenge"].as_str().unwrap();
        let point = self.key.public_key().as_ref();
        // COSE_Key {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}.
        let mut cose = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20];
        cose.extend_from_slice(&point[1..33]);
        cose.extend_from_slice(&[0x22, 0x58, 0x20]);
        cose.extend_from_slice(&point[33..65]);
        let mut auth = sha256(b"localhost");
        auth.push(0x45); // user present, user verified, attested credential data
        auth.extend_from_slice(&0u32.to_be_bytes());
        auth.extend_from_slice(&[0u8; 16]);
        auth.extend_from_slice(&(self.cred_id.len() as u16).to_be_bytes());
        auth.extend_from_slice(&self.cred_id);
        auth.extend_from_slice(&cose);
        // {"fmt": "none", "attStmt": {}, "authData": bytes}
        let mut att = vec![0xa3, 0x63];
        att.extend_from_slice(b"fmt");
        att.push(0x64);
        att.extend_from_slice(b"none");
        att.push(0x67);
        att.extend_from_slice(b"attStmt");
        att.extend_from_slice(&[0xa0, 0x68]);
        att.extend_from_slice(b"authData");
        att.extend_from_slice(&[0x59]);
        att.extend_from_slice(&(auth.len() as u16).to_be_bytes());
        att.extend_from_slice(&auth);
        let id = B64.encode(&self.cred_id);
        json!({"id": id, "rawId": id, "type": "public-key", "extensions": {},
               "response": {"attestationObject": B64.encode(att),
                            "clientDataJSON": B64.encode(self.client_data("webauthn.create", challenge))}})
    }

    /// navigator.credentials.get() answering `challenge` (base64url).
    pub fn get(&mut self, challenge: &str) -> Value {
        self.counter += 1;
        let client_data = self.client_data("webauthn.get", challenge);
        let mut auth = sha256(b"localhost");
        auth.push(0x05); // user present, user verified
        auth.extend_from_slice(&self.counter.to_be_bytes());
        let mut signed = auth.clone();
        signed.extend_from_slice(&sha256(&client_data));
        let signature = self.key.sign(&SystemRandom::new(), &signed).unwrap();
        let id = B64.encode(&self.cred_id);
        json!({"id": id, "rawId": id, "type": "public-key", "extensions": {},
               "response": {"authenticatorData": B64.encode(auth),
                            "clientDataJSON": B64.encode(client_data),
                            "signature": B64.encode(signature.as_ref()),
                            "userHandle": null}})
    }
}

fn post(ts: &TestServer, path: &str, from: &str, body: &Value) -> Http {
    common::request(
        ts.addr(),
        "POST",
        path,
        &[
            ("content-type", "application/json".into()),
            ("x-forwarded-for", from.into()),
        ],
        body.to_string().as_bytes(),
    )
}

fn ok(resp: Http) -> Value {
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    resp.json()
}

const OFFICE: &str = "203.0.113.9";
const ELSEWHERE: &str = "198.51.100.7";

/// A server behind a trusted proxy (127.0.0.1), an office with an address
/// range, an employee with a code, a registered passkey.
fn registered(terminals: Value) -> (TestServer, SoftPasskey, String) {
    let limits = punch_server::Limits {
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        ..Default::default()
    };
    let ts = TestServer::with_limits(limits);
    let site: punch_model::rules::policy::Site = serde_json::from_value(json!({
        "id": "hq", "name": "Head office",
        "shape": {"type": "circle", "center": {"lat": 52.520008, "lon": 13.404954}, "radius_m": 150.0},
        "cidrs": ["203.0.113.0/24"], "terminals": terminals
    }))
    .unwrap();
    ts.admin.upsert_site(site).unwrap();
    ts.admin.publish_policy(DAY * 30).unwrap();
    ts.admin.add_employee("ann", "Ann").unwrap();
    let code = ts.admin.create_enrollment_code("ann", DAY).unwrap();
    let passkey = SoftPasskey::new(ts.addr().port());
    let start = ok(post(
        &ts,
        "/browser/v1/register/options",
        OFFICE,
        &json!({"code": code}),
    ));
    assert_eq!(start["employee_id"], "ann");
    let done = ok(post(
        &ts,
        "/browser/v1/register",
        OFFICE,
        &json!({"ceremony": start["ceremony"], "credential": passkey.create(&start["options"])}),
    ));
    let device = done["device_id"].as_str().unwrap().to_string();
    // The code is spent: it registers nothing more (and enrolls no phone).
    post(
        &ts,
        "/browser/v1/register/options",
        OFFICE,
        &json!({"code": code}),
    )
    .assert_error(403, "enrollment_code_invalid");
    (ts, passkey, device)
}

fn options(ts: &TestServer, device: &str, location: Value) -> Value {
    ok(post(
        ts,
        "/browser/v1/punch/options",
        OFFICE,
        &json!({"employee_id": "ann", "device_id": device, "kind": "clock_in",
                "client_time_ms": now_ms(), "utc_offset_min": 60, "location": location}),
    ))
}

fn challenge(options: &Value) -> String {
    options["options"]["publicKey"]["challenge"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_passkey_registers_and_punches_like_a_phone() {
    let (ts, mut passkey, device) = registered(json!([]));
    // From the office's address, with a fix: accepted, stored in the passkey's chain.
    let start = options(
        &ts,
        &device,
        json!({"lat": 52.520013, "lon": 13.404961, "accuracy_m": 12.5}),
    );
    let assertion = passkey.get(&challenge(&start));
    let punch = json!({"ceremony": start["ceremony"], "credential": assertion});
    let out = ok(post(&ts, "/browser/v1/punch", OFFICE, &punch));
    assert_eq!(out["decision"], "accepted", "{out}");
    assert_eq!(out["site_id"], "hq");
    assert_eq!(out["terminal"], "browser");
    assert_eq!(out["assurance"], "software");
    assert_eq!(out["seq"], 1);
    // The same assertion again: its challenge is used up.
    let replay = post(&ts, "/browser/v1/punch", OFFICE, &punch);
    replay.assert_error(403, "bad_request");
    assert!(replay.json()["message"].as_str().unwrap().contains("used"));
    // Elsewhere, with a fix outside the fence: refused, with reasons, not stored.
    let start = options(
        &ts,
        &device,
        json!({"lat": 52.53, "lon": 13.43, "accuracy_m": 20.0}),
    );
    let away = ok(post(
        &ts,
        "/browser/v1/punch",
        ELSEWHERE,
        &json!({"ceremony": start["ceremony"], "credential": passkey.get(&challenge(&start))}),
    ));
    assert_eq!(away["decision"], "rejected", "{away}");
    let reasons = away["reasons"].to_string();
    assert!(reasons.contains("not at any site"), "{reasons}");
    assert!(away.get("seq").is_none());
    // The punch joins the employee's punches, marked with its terminal and
    // assurance, and its chain verifies again (assertion and content).
    let punches = ts.admin.punches().unwrap();
    let stored: Vec<_> = punches.iter().filter(|p| p.device_id == device).collect();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].employee_id, "ann");
    assert_eq!(stored[0].assurance, "software");
    assert_eq!(stored[0].decision, "accepted");
    assert_eq!(stored[0].time_status, "server_clock");
    let report = ts.admin.verify_chain(&device).unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.records, 1);
    // Erased: the record's bytes go (the assertion holds no content), the
    // chain still verifies by its kept hash, and the passkey punches no more.
    ts.admin.erase_employee("ann", now_ms()).unwrap();
    let report = ts.admin.verify_chain(&device).unwrap();
    assert!(report.is_intact(), "{report:?}");
    post(
        &ts,
        "/browser/v1/punch/options",
        OFFICE,
        &json!({"employee_id": "ann", "device_id": device, "kind": "clock_out",
                "client_time_ms": now_ms()}),
    )
    .assert_error(403, "bad_request");
}

#[test]
fn altered_and_misdirected_assertions_are_refused() {
    let (ts, mut passkey, device) = registered(json!([]));
    // A signature altered in transit.
    let start = options(&ts, &device, Value::Null);
    let mut altered = passkey.get(&challenge(&start));
    let sig = altered["response"]["signature"]
        .as_str()
        .unwrap()
        .to_string();
    let mut bytes = B64.decode(sig).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    altered["response"]["signature"] = json!(B64.encode(bytes));
    post(
        &ts,
        "/browser/v1/punch",
        OFFICE,
        &json!({"ceremony": start["ceremony"], "credential": altered}),
    )
    .assert_error(403, "bad_request");
    // A valid signature over another content's hash (the page lied about
    // what the employee confirmed): the kept challenge does not match.
    let start = options(&ts, &device, Value::Null);
    let mut other = B64.decode(challenge(&start)).unwrap();
    other[40] ^= 0xff;
    let wrong = passkey.get(&B64.encode(other));
    let resp = post(
        &ts,
        "/browser/v1/punch",
        OFFICE,
        &json!({"ceremony": start["ceremony"], "credential": wrong}),
    );
    resp.assert_error(403, "bad_request");
    // Both ceremonies are used up; nothing was stored.
    assert!(ts.admin.punches().unwrap().is_empty());
    // The challenge commits to the content: nonce || SHA-256(content).
    let start = options(&ts, &device, Value::Null);
    let raw = B64.decode(challenge(&start)).unwrap();
    // The content's bytes as the server writes them (fields in order).
    let c = &start["content"];
    let content = format!(
        r#"{{"employee_id":"ann","device_id":"{device}","kind":"clock_in","client_time_ms":{},"utc_offset_min":60}}"#,
        c["client_time_ms"]
    );
    let content = content.as_bytes();
    assert_eq!(raw.len(), 64);
    assert_eq!(raw[32..], sha256(content)[..]);
}

#[test]
fn a_site_that_takes_no_browser_punches_refuses_them() {
    let (ts, mut passkey, device) = registered(json!([{"terminal": "phone"}]));
    let start = options(&ts, &device, Value::Null);
    let out = ok(post(
        &ts,
        "/browser/v1/punch",
        OFFICE,
        &json!({"ceremony": start["ceremony"], "credential": passkey.get(&challenge(&start))}),
    ));
    assert_eq!(out["decision"], "rejected", "{out}");
    assert!(
        out["reasons"]
            .to_string()
            .contains("does not accept browser"),
        "{out}"
    );
    let codes: Vec<&str> = out["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["code"].as_str())
        .collect();
    assert!(codes.contains(&"terminal_refused"), "{codes:?}");
}

#[test]
fn the_punch_page_is_served_with_a_strict_csp() {
    let ts = TestServer::start();
    for path in [
        "/punch/",
        "/punch/assets/punch.js",
        "/punch/assets/punch.css",
    ] {
        let resp = common::request(ts.addr(), "GET", path, &[], b"");
        assert_eq!(resp.status, 200, "{path}");
        let csp = resp.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert_eq!(resp.header("x-content-type-options"), Some("nosniff"));
    }
}

/// The sites' accepted terminals hold for phones too, where the server
/// judges their punches (ingest): a phone punch at a kiosk-only site is
/// stored (the phone signed it) and flagged for a manager.
#[test]
fn a_phone_punch_at_a_kiosk_only_site_is_flagged() {
    let ts = TestServer::start();
    let site: punch_model::rules::policy::Site = serde_json::from_value(json!({
        "id": "hq", "name": "Head office",
        "shape": {"type": "circle", "center": {"lat": 52.520008, "lon": 13.404954}, "radius_m": 150.0},
        "terminals": [{"terminal": "kiosk"}]
    }))
    .unwrap();
    ts.admin.upsert_site(site).unwrap();
    let version = ts.admin.publish_policy(DAY * 30).unwrap();
    let mut phone = ts.enrolled_device("bob");
    let up = phone.next(version, |_| {});
    phone.upload_ok(ts.addr(), vec![up]);
    let flags = &ts.admin.punches().unwrap()[0].review_flags;
    assert!(
        flags.iter().any(|f| matches!(
            f,
            punch_model::ledger::review::ReviewFlag::TerminalNotAccepted { terminal, site_id, .. }
                if *terminal == punch_model::rules::terminal::Terminal::Phone && site_id == "hq"
        )),
        "{flags:?}"
    );
}
