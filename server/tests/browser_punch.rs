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

/// `employee` (added if new) registers a passkey with a fresh code: it and
/// its device id.
pub fn register_passkey(ts: &TestServer, employee: &str) -> (SoftPasskey, String) {
    if ts.admin.device_slots(employee).is_err() {
        ts.admin.add_employee(employee, employee).unwrap();
    }
    let code = ts.admin.create_enrollment_code(employee, DAY).unwrap();
    register_with(ts, &code)
}

/// A passkey registered with enrollment code `code`, and its device id.
fn register_with(ts: &TestServer, code: &str) -> (SoftPasskey, String) {
    let passkey = SoftPasskey::new(ts.addr().port());
    let start = ok(post(
        ts,
        "/browser/v1/register/options",
        OFFICE,
        &json!({"code": code}),
    ));
    let done = ok(post(
        ts,
        "/browser/v1/register",
        OFFICE,
        &json!({"ceremony": start["ceremony"], "credential": passkey.create(&start["options"])}),
    ));
    let device = done["device_id"].as_str().unwrap().to_string();
    (passkey, device)
}

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
    let (passkey, device) = register_with(&ts, &code);
    assert_eq!(ts.admin.passkeys("ann").unwrap()[0].device_id, device);
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

/// The passkey gets no challenge (erased, revoked).
fn no_challenge_for(ts: &TestServer, device: &str) {
    post(
        ts,
        "/browser/v1/punch/options",
        OFFICE,
        &json!({"employee_id": "ann", "device_id": device, "kind": "clock_out",
                "client_time_ms": now_ms()}),
    )
    .assert_error(403, "bad_request");
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
    no_challenge_for(&ts, &device);
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

/// A fresh punch of `device` with `location`, from address `from`.
fn punch_at(
    ts: &TestServer,
    passkey: &mut SoftPasskey,
    device: &str,
    location: Value,
    from: &str,
) -> Http {
    let start = options(ts, device, location);
    punch_with(ts, passkey, &start, from)
}

fn punch_with(ts: &TestServer, passkey: &mut SoftPasskey, start: &Value, from: &str) -> Http {
    post(
        ts,
        "/browser/v1/punch",
        from,
        &json!({"ceremony": start["ceremony"], "credential": passkey.get(&challenge(start))}),
    )
}

/// HR lists an employee's passkeys and revokes one (the admin API, audited;
/// the CLI and the reviewer page call the same): it punches no more, not
/// even with a challenge it was given before, and that attempt is kept.
#[test]
fn a_revoked_passkey_punches_no_more() {
    use common::staff::{add_staff, ok as admin_ok};
    let (ts, mut passkey, device) = registered(json!([]));
    let hr = add_staff(&ts, "hr", punch_server::Role::HrAdmin, None).sign_in(ts.addr());
    let auditor = add_staff(&ts, "aud", punch_server::Role::Auditor, None).sign_in(ts.addr());
    // One punch, and a challenge asked for before the revocation.
    let start = options(&ts, &device, Value::Null);
    assert_eq!(ok(punch_with(&ts, &mut passkey, &start, OFFICE))["seq"], 1);
    let pending = options(&ts, &device, Value::Null);
    let list = admin_ok(hr.get("/admin/v1/employees/ann/passkeys"));
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["device_id"], device.as_str());
    assert_eq!(items[0]["head_seq"], 1);
    assert!(items[0]["revoked_at_ms"].is_null());
    // The auditor sees it but may not revoke it.
    admin_ok(auditor.get("/admin/v1/employees/ann/passkeys"));
    let path = format!("/admin/v1/employees/ann/passkeys/{device}/revoke");
    assert_eq!(
        auditor.post(&path, &json!({"reason": "x"})).status,
        403,
        "auditors change nothing"
    );
    let revoked = admin_ok(hr.post(&path, &json!({"reason": "laptop stolen"})));
    let at = revoked["passkey"]["revoked_at_ms"].as_i64().unwrap();
    // Again: nothing changes; another employee's or an unknown one: 404.
    let again = admin_ok(hr.post(&path, &json!({"reason": "laptop stolen"})));
    assert_eq!(again["passkey"]["revoked_at_ms"], at);
    let unknown = hr.post(
        "/admin/v1/employees/ann/passkeys/browser-nope/revoke",
        &json!({"reason": "x"}),
    );
    assert_eq!(unknown.status, 404);
    // Audited, with its reason.
    let audit = ts.admin.audit_rows(0, 100).unwrap();
    let row = audit
        .iter()
        .find(|r| r.action == "passkey.revoke")
        .expect("audited");
    assert_eq!(
        (row.actor.as_str(), row.target.as_str(), row.reason.as_str()),
        ("hr", format!("device:{device}").as_str(), "laptop stolen")
    );
    // No new challenge; the one handed out before is refused at the punch,
    // and that attempt is kept as evidence.
    no_challenge_for(&ts, &device);
    let refused = punch_with(&ts, &mut passkey, &pending, OFFICE);
    refused.assert_error(403, "bad_request");
    assert!(
        refused.json()["message"]
            .as_str()
            .unwrap()
            .contains("revoked")
    );
    assert_eq!(ts.admin.punches().unwrap().len(), 1);
    let kept = ts.admin.rejected().unwrap();
    assert!(
        kept.iter()
            .any(|r| r.device_id == device && r.reason == "passkey_revoked"),
        "{kept:?}"
    );
    // The operator's view (the CLI's `passkeys`) shows it revoked; its
    // chain still verifies.
    let listed = ts.admin.passkeys("ann").unwrap();
    assert_eq!(listed[0].revoked_at_ms, Some(at));
    assert!(ts.admin.verify_chain(&device).unwrap().is_intact());
}

/// Refused browser punches are kept where refused records are, bounded by
/// who can cause them: a verified punch the rules refused as the judged
/// record (its assertion verifies again), a bad assertion without the
/// location it claims and at most a few an hour.
#[test]
fn refused_browser_punches_are_kept_as_evidence() {
    use common::staff::{add_staff, ok as admin_ok};
    let (ts, mut passkey, device) = registered(json!([]));
    // Verified, refused by the rules (outside every site).
    let away = json!({"lat": 52.53, "lon": 13.43, "accuracy_m": 20.0});
    let out = ok(punch_at(&ts, &mut passkey, &device, away, ELSEWHERE));
    assert_eq!(out["decision"], "rejected");
    let kept = ts.admin.rejected().unwrap();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let r = &kept[0];
    assert_eq!(
        (r.device_id.as_str(), r.reason.as_str(), r.seq),
        (device.as_str(), "refused_by_rules", 1)
    );
    assert_eq!(r.employee_id.as_deref(), Some("ann"));
    assert!(r.detail.contains("not at any site"), "{}", r.detail);
    let record = punch_model::ledger::record::PunchRecord::from_bytes(&r.record).unwrap();
    assert_eq!(
        record.evaluation.decision,
        punch_model::rules::evaluate::Decision::Rejected
    );
    assert_eq!(
        r.punch_id.as_deref(),
        Some(record.punch_id.to_string().as_str())
    );
    punch_server::internal::browser::verify_record(&r.record, &r.signature)
        .expect("the kept refusal verifies");
    // Not a link: the chain's head did not move.
    assert_eq!(ts.admin.head(&device).unwrap().0, 0);
    // Assertions that do not verify: kept without the location they
    // claim, at most MAX_UNVERIFIED_PER_HOUR.
    let max = punch_server::internal::browser::MAX_UNVERIFIED_PER_HOUR;
    for _ in 0..max + 3 {
        let start = options(
            &ts,
            &device,
            json!({"lat": 52.520013, "lon": 13.404961, "accuracy_m": 12.5}),
        );
        let mut bad = passkey.get(&challenge(&start));
        bad["response"]["signature"] =
            json!(B64.encode([0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]));
        post(
            &ts,
            "/browser/v1/punch",
            OFFICE,
            &json!({"ceremony": start["ceremony"], "credential": bad}),
        )
        .assert_error(403, "bad_request");
    }
    let kept = ts.admin.rejected().unwrap();
    let bad: Vec<_> = kept
        .iter()
        .filter(|r| r.reason == "bad_signature")
        .collect();
    assert_eq!(bad.len() as u64, max, "{kept:?}");
    let claim = String::from_utf8(bad[0].record.clone()).unwrap();
    assert!(claim.contains("\"employee_id\":\"ann\""), "{claim}");
    assert!(
        !claim.contains("52.52"),
        "no unproven location kept: {claim}"
    );
    // Listed where refusals are: the chain-break list.
    let hr = add_staff(&ts, "hr", punch_server::Role::HrAdmin, None).sign_in(ts.addr());
    let breaks = admin_ok(hr.get("/admin/v1/chain-breaks"));
    let listed = breaks["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["device_id"] == device.as_str())
        .expect("the passkey's refusals listed");
    assert!(
        listed["refused"].to_string().contains("refused_by_rules"),
        "{listed}"
    );
    // None of it breaks the passkey's chain.
    assert!(ts.admin.verify_chain(&device).unwrap().is_intact());
}

/// The policy's location minimisation holds for browser records as for
/// phones' (`ledger::minimise`), and the stored assertion still verifies
/// the minimised record (`admin verify-chain`).
#[test]
fn browser_records_are_minimised_and_still_verify() {
    let (ts, mut passkey, device) = registered(json!([]));
    let mut settings = ts.admin.settings().unwrap();
    settings.privacy = Some(punch_model::rules::privacy::PrivacySettings {
        location: punch_model::rules::privacy::LocationPrecision::Coarse { grid_m: 1000.0 },
        ..Default::default()
    });
    ts.admin.set_settings(settings.clone()).unwrap();
    ts.admin.publish_policy(DAY * 30).unwrap();
    let exact = (52.520013, 13.404961);
    let fix = json!({"lat": exact.0, "lon": exact.1, "accuracy_m": 12.5});
    let out = ok(punch_at(&ts, &mut passkey, &device, fix.clone(), OFFICE));
    assert_eq!(out["decision"], "accepted");
    let bytes = ts.admin.punch_record(&device, 1).unwrap().unwrap();
    let record = punch_model::ledger::record::PunchRecord::from_bytes(&bytes).unwrap();
    let gps = record.evidence.gps.as_ref().expect("a coarse fix");
    assert_eq!(
        record.evidence.precision,
        Some(punch_model::rules::privacy::LocationPrecision::Coarse { grid_m: 1000.0 })
    );
    assert!(
        (gps.point.lat, gps.point.lon) != exact,
        "the exact fix is not kept"
    );
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains("52.520013"), "{text}");
    // The stored assertion verifies the minimised record.
    let report = ts.admin.verify_chain(&device).unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.records, 1);
    // Verdict only: no fix at all, still verifying; and back to exact,
    // where the record's fix must be the one signed.
    for location in [
        punch_model::rules::privacy::LocationPrecision::VerdictOnly,
        punch_model::rules::privacy::LocationPrecision::Exact,
    ] {
        settings.privacy = Some(punch_model::rules::privacy::PrivacySettings {
            location,
            ..Default::default()
        });
        ts.admin.set_settings(settings.clone()).unwrap();
        ts.admin.publish_policy(DAY * 30).unwrap();
        let out = ok(punch_at(&ts, &mut passkey, &device, fix.clone(), OFFICE));
        assert_eq!(out["decision"], "accepted");
    }
    let verdict_only = punch_model::ledger::record::PunchRecord::from_bytes(
        &ts.admin.punch_record(&device, 2).unwrap().unwrap(),
    )
    .unwrap();
    assert!(verdict_only.evidence.gps.is_none());
    let exact_record = punch_model::ledger::record::PunchRecord::from_bytes(
        &ts.admin.punch_record(&device, 3).unwrap().unwrap(),
    )
    .unwrap();
    let fix = exact_record.evidence.gps.unwrap();
    assert_eq!((fix.point.lat, fix.point.lon), exact);
    let report = ts.admin.verify_chain(&device).unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.records, 3);
}

/// The same from the command line: `admin passkeys` and `admin
/// revoke-passkey` (audited as the operator).
#[test]
fn the_cli_lists_and_revokes_passkeys() {
    let (ts, _passkey, device) = registered(json!([]));
    let db = common::db_arg(&ts.db);
    let cli = |args: &[&str]| crate::cli::admin(&db, args);
    let listed: Value = serde_json::from_str(&cli(&["--json", "passkeys", "ann"])).unwrap();
    assert_eq!(listed[0]["device_id"], device.as_str());
    assert!(listed[0]["revoked_at_ms"].is_null());
    let said = cli(&[
        "revoke-passkey",
        "ann",
        &device,
        "--reason",
        "left the company",
    ]);
    assert!(said.contains("revoked"), "{said}");
    assert!(cli(&["passkeys", "ann"]).contains("revoked at"));
    assert!(
        ts.admin
            .audit_rows(0, 100)
            .unwrap()
            .iter()
            .any(|r| r.action == "passkey.revoke" && r.reason == "left the company")
    );
    no_challenge_for(&ts, &device);
}
