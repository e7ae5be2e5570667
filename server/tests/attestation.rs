//! Attestation at enrollment: the real Android chains from real Pixels and
//! Apple's published sample (attest/tests/data), through the server's own
//! verification and enrollment rules on a real SQLite store; and the policy
//! minimum enforced end to end through the real HTTP server.

use crate::common;

use std::time::Duration;

use base64::Engine as _;
use common::*;
use punch_model::rules::assurance::{AssuranceLevel, BelowMinimum};
use punch_model::rules::policy::{Settings, Site};
use punch_model::wire::{self, DeviceAttestation, EnrollRequest};
use punch_server::AttestationConfig;
use punch_server::StoreExt;
use punch_server::internal::attestation;
use punch_server::internal::attestation::Proven;
use punch_server::internal::enroll;
use punch_server::internal::enroll::{EnrollRefusal, code_hash};
use punch_server::internal::store::ChallengeRow;
use punch_server::{Admin, SqliteStore};
use serde_json::Value;
use x509_parser::prelude::{FromDer, X509Certificate};

fn data(rel: &str) -> String {
    let path = format!("{}/../attest/tests/data/{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn b64d(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

struct Chain {
    ders: Vec<Vec<u8>>,
    expected: Value,
    challenge: Vec<u8>,
    leaf_spki: Vec<u8>,
    /// A time inside every certificate's validity window.
    at: i64,
}

fn chain(name: &str) -> Chain {
    let ders = punch_attest::x509::parse_pem_chain(&data(&format!("android/{name}.pem"))).unwrap();
    let expected: Value = serde_json::from_str(&data(&format!("android/{name}.json"))).unwrap();
    let (mut lo, mut hi) = (i64::MIN, i64::MAX);
    for d in &ders {
        let (_, c) = X509Certificate::from_der(d).unwrap();
        lo = lo.max(c.validity().not_before.timestamp());
        hi = hi.min(c.validity().not_after.timestamp());
    }
    let (_, leaf) = X509Certificate::from_der(&ders[0]).unwrap();
    Chain {
        challenge: b64d(expected["attestationChallenge"].as_str().unwrap()),
        leaf_spki: leaf.public_key().raw.to_vec(),
        ders,
        expected,
        at: lo + (hi - lo) / 2,
    }
}

/// The operator's allowlist for the app that made `c` (package + signer digest).
fn config_for(c: &Chain) -> AttestationConfig {
    let app = &c.expected["softwareEnforced"]["attestationApplicationId"];
    let package = app["packages"][0]["name"].as_str().unwrap();
    let digests: Vec<&str> = app["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    let locked = c.expected["hardwareEnforced"]["rootOfTrust"]["deviceLocked"]
        .as_bool()
        .unwrap_or(false);
    AttestationConfig {
        android_apps: vec![format!("{package}:{}", digests.join(","))],
        require_locked_bootloader: locked,
        require_verified_boot: locked,
        ..AttestationConfig::default()
    }
}

fn android(c: &Chain) -> DeviceAttestation {
    DeviceAttestation::Android {
        challenge: c.challenge.clone(),
        certificate_chain: c.ders.clone(),
    }
}

const GENUINE: [(&str, AssuranceLevel); 4] = [
    ("akita_sdk34_TEE_EC_NONE", AssuranceLevel::HardwareTee),
    ("blueline_sdk28_TEE_EC_NONE", AssuranceLevel::HardwareTee),
    ("caiman_sdk36_SB_EC_RKP", AssuranceLevel::HardwareStrongbox),
    ("caiman_sdk36_TEE_EC_RKP", AssuranceLevel::HardwareTee),
];

/// A store with one employee, one code and the chain's challenge issued for it.
fn store_with_challenge(dir: &tempfile::TempDir, challenge: &[u8]) -> (SqliteStore, String) {
    let db = dir.path().join("server.db");
    let admin = Admin::open(&db).unwrap();
    admin.add_employee("e-1", "Ada").unwrap();
    let code = admin
        .create_enrollment_code("e-1", Duration::from_secs(3600))
        .unwrap();
    let store = SqliteStore::open(&db).unwrap();
    store
        .write(|tx| {
            tx.enrollment().insert_challenge(&ChallengeRow {
                challenge_hash: attestation::challenge_hash(challenge),
                code_hash: code_hash(tx, &code)?,
                created_at_ms: now_ms(),
                expires_at_ms: now_ms() + 600_000,
                used_at_ms: None,
            })
        })
        .unwrap();
    (store, code)
}

fn request(code: &str, spki: &[u8], attestation: Option<DeviceAttestation>) -> EnrollRequest {
    EnrollRequest {
        code: code.into(),
        device_id: uuid::Uuid::new_v4().to_string(),
        public_key: spki.to_vec(),
        key_storage: "hardware".into(),
        platform: "android test".into(),
        attestation,
        channel_key: None,
        channel_attestation: None,
        punch_key_proof: None,
    }
}

#[test]
fn every_shared_chain_enrolls_with_its_level_and_facts() {
    for (name, level) in GENUINE {
        let c = chain(name);
        let proven = attestation::verify(&config_for(&c), &android(&c), &c.leaf_spki, c.at)
            .unwrap_or_else(|f| panic!("{name}: {f:?}"));
        assert_eq!(proven.level, level, "{name}");
        let facts: Value = serde_json::from_str(&proven.detail).unwrap();
        assert_eq!(facts["platform"], "android", "{name}");
        let rested = facts["restedOn"].to_string();
        assert!(rested.contains("challenge matched"), "{name}: {rested}");
        assert!(
            rested.contains("attested key is the enrolled key"),
            "{name}: {rested}"
        );

        let dir = tempfile::tempdir().unwrap();
        let (store, code) = store_with_challenge(&dir, &c.challenge);
        let req = request(&code, &c.leaf_spki, Some(android(&c)));
        let bound = store
            .write(|tx| enroll::enroll(tx, &req, &proven, &Proven::software(), now_ms()))
            .unwrap();
        assert_eq!(bound, Ok("e-1".to_string()), "{name}");
        let device = store
            .read(|tx| tx.devices().device(&req.device_id))
            .unwrap()
            .unwrap();
        assert_eq!(device.assurance, level.as_str(), "{name}");
        assert_eq!(device.attestation.as_deref(), Some(proven.detail.as_str()));
        // The challenge was single-use: the same request again (another device) is refused.
        let again = request(&code, &c.leaf_spki, Some(android(&c)));
        assert_eq!(
            store
                .write(|tx| enroll::enroll(tx, &again, &proven, &Proven::software(), now_ms()))
                .unwrap(),
            Err(EnrollRefusal::CodeInvalid)
        );
    }
}

fn refusal(config: &AttestationConfig, att: &DeviceAttestation, spki: &[u8], at: i64) -> String {
    match attestation::verify(config, att, spki, at) {
        Ok(p) => panic!("accepted: {p:?}"),
        Err(f) => f.code,
    }
}

#[test]
fn each_change_is_refused_for_its_own_reason() {
    let c = chain("caiman_sdk36_SB_EC_RKP");
    let config = config_for(&c);
    let att = android(&c);
    // Another challenge than the key was generated with.
    let other = DeviceAttestation::Android {
        challenge: b"another challenge".to_vec(),
        certificate_chain: c.ders.clone(),
    };
    assert_eq!(
        refusal(&config, &other, &c.leaf_spki, c.at),
        "challenge_mismatch"
    );
    // Another key than the one attested (someone replays a genuine chain).
    let (_, pkcs8) = punch_model::ledger::signing::SoftwareSigner::generate().unwrap();
    let mine = punch_model::ledger::signing::SoftwareSigner::from_pkcs8(&pkcs8).unwrap();
    use punch_model::ledger::signing::Signer;
    let my_spki = mine.public_key_spki().unwrap();
    assert_eq!(refusal(&config, &att, &my_spki, c.at), "key_mismatch");
    // Another app than the employer's.
    let other_app = AttestationConfig {
        android_apps: vec![
            "com.acme.punch:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
                .into(),
        ],
        ..config.clone()
    };
    assert_eq!(refusal(&other_app, &att, &c.leaf_spki, c.at), "unknown_app");
    // Outside the certificates' validity.
    assert_eq!(
        refusal(&config, &att, &c.leaf_spki, c.at + 10 * 365 * 86_400),
        "expired_certificate"
    );
    // A truncated chain.
    let truncated = DeviceAttestation::Android {
        challenge: c.challenge.clone(),
        certificate_chain: c.ders[..1].to_vec(),
    };
    assert_eq!(
        refusal(&config, &truncated, &c.leaf_spki, c.at),
        "truncated_chain"
    );
    // No app allowed at all: the operator's mistake, named as such.
    let unconfigured = AttestationConfig::default();
    let f = attestation::verify(&unconfigured, &att, &c.leaf_spki, c.at).unwrap_err();
    assert_eq!(
        (f.code.as_str(), f.category.as_str()),
        ("server_misconfigured", "configuration")
    );
    // A userdebug phone whose root is not Google's.
    let marlin = chain("marlin_sdk29_TEE_EC_NONE");
    let mut lenient = config_for(&marlin);
    lenient.require_locked_bootloader = false;
    lenient.require_verified_boot = false;
    assert_eq!(
        refusal(&lenient, &android(&marlin), &marlin.leaf_spki, marlin.at),
        "untrusted_root"
    );
    // An unlocked phone under the employer's default (locked) policy.
    let akita = chain("akita_sdk34_TEE_EC_NONE");
    let strict = AttestationConfig {
        require_locked_bootloader: true,
        require_verified_boot: true,
        ..config_for(&akita)
    };
    assert_eq!(
        refusal(&strict, &android(&akita), &akita.leaf_spki, akita.at),
        "unlocked_bootloader"
    );
}

#[test]
fn the_challenge_must_be_fresh_unused_and_for_this_code() {
    let c = chain("caiman_sdk36_TEE_EC_RKP");
    let proven = attestation::verify(&config_for(&c), &android(&c), &c.leaf_spki, c.at).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (store, code) = store_with_challenge(&dir, &c.challenge);
    // Another code of the same server: the challenge was not issued for it.
    let admin = Admin::open(dir.path().join("server.db")).unwrap();
    admin.add_employee("e-2", "Bo").unwrap();
    let other_code = admin
        .create_enrollment_code("e-2", Duration::from_secs(3600))
        .unwrap();
    let wrong_code = request(&other_code, &c.leaf_spki, Some(android(&c)));
    assert_eq!(
        store
            .write(|tx| enroll::enroll(tx, &wrong_code, &proven, &Proven::software(), now_ms()))
            .unwrap(),
        Err(EnrollRefusal::ChallengeInvalid)
    );
    // Expired: judged eleven minutes on (the code itself is good for an hour).
    let late = request(&code, &c.leaf_spki, Some(android(&c)));
    assert_eq!(
        store
            .write(|tx| enroll::enroll(
                tx,
                &late,
                &proven,
                &Proven::software(),
                now_ms() + 11 * 60_000
            ))
            .unwrap(),
        Err(EnrollRefusal::ChallengeInvalid)
    );
    // A challenge never issued.
    let forged = DeviceAttestation::Android {
        challenge: b"never issued".to_vec(),
        certificate_chain: c.ders.clone(),
    };
    let unknown = request(&code, &c.leaf_spki, Some(forged));
    assert_eq!(
        store
            .write(|tx| enroll::enroll(tx, &unknown, &proven, &Proven::software(), now_ms()))
            .unwrap(),
        Err(EnrollRefusal::ChallengeInvalid)
    );
}

#[test]
fn apples_sample_verifies_and_is_bound_to_the_device_key() {
    use punch_attest::apple::{AppleExpectations, AppleVerifier};
    let object = b64d(
        &data("apple/apple_sample_attestation.b64")
            .split_whitespace()
            .collect::<String>(),
    );
    let at = 1_713_441_600; // 2024-04-18T12:00:00Z, inside the credential's window
    let app_id = "0352187391.com.apple.example_app_attest";
    // Apple's own sample, whose clientDataHash is the challenge's bytes as-is.
    let sample = AppleVerifier::default()
        .verify(
            &object,
            &AppleExpectations::strict(b"test_server_challenge".to_vec(), vec![app_id.into()]),
            at,
        )
        .unwrap();
    assert_eq!(
        punch_attest::apple_assurance(&sample).level,
        punch_attest::AssuranceLevel::AttestedApp
    );
    // Through the server, an attestation binds the device key: the sample
    // was not made over SHA-256(challenge ‖ this device's key), so it is refused.
    let config = AttestationConfig {
        apple_app_ids: vec![app_id.into()],
        ..AttestationConfig::default()
    };
    let att = DeviceAttestation::Apple {
        challenge: b"test_server_challenge".to_vec(),
        key_id: b64d("bSrEhF8TIzIvWSPwvZ0i2+UOBre4ASH84rK15m6emNY="),
        attestation_object: object,
    };
    let f = attestation::verify(&config, &att, &Device::new().spki, at).unwrap_err();
    assert_eq!(f.code, "nonce_mismatch", "{f:?}");
}

fn set_minimum(server: &TestServer, min: AssuranceLevel, below: BelowMinimum) -> u64 {
    server
        .admin
        .set_settings(Settings {
            min_assurance: min,
            below_min_assurance: below,
            ..Settings::default()
        })
        .unwrap();
    server.publish()
}

#[test]
fn the_policy_minimum_refuses_a_software_key_through_the_server() {
    let server = TestServer::start();
    set_minimum(&server, AssuranceLevel::HardwareTee, BelowMinimum::Refuse);
    let code = server.employee_code("e-1");
    let device = Device::new();
    let resp = device.enroll(server.addr(), &code);
    resp.assert_error(403, "assurance_too_low");
    assert_eq!(resp.json()["reason"], "software");
    assert!(server.admin.devices().unwrap().is_empty());
    // The code was not used up: the employee can enroll an attested phone.
    let challenge = request_challenge(&server, &code);
    assert_eq!(challenge.status, 200);
}

/// A device enrolled before the employer raised the minimum to `refuse`
/// is refused on upload too, not let through unflagged (audit finding 19).
#[test]
fn a_raised_minimum_refuses_uploads_from_devices_enrolled_before() {
    let server = TestServer::start();
    let version = server.publish();
    let mut device = server.enrolled_device("e-1");
    let first = device.next(version, |_| {});
    device.upload_ok(server.addr(), vec![first]);
    let raised = set_minimum(&server, AssuranceLevel::HardwareTee, BelowMinimum::Refuse);
    let next = device.next(raised, |_| {});
    let resp = device.upload(server.addr(), vec![next]);
    resp.assert_error(403, "assurance_too_low");
    assert_eq!(resp.json()["reason"], "software");
    assert_eq!(server.admin.punches().unwrap().len(), 1);
}

fn request_challenge(server: &TestServer, code: &str) -> Http {
    let body = serde_json::to_vec(&wire::EnrollChallengeRequest { code: code.into() }).unwrap();
    common::request(
        server.addr(),
        "POST",
        wire::PATH_ENROLL_CHALLENGE,
        &[],
        &body,
    )
}

#[test]
fn review_mode_enrolls_and_flags_every_punch_with_the_level() {
    let server = TestServer::start();
    let version = set_minimum(&server, AssuranceLevel::HardwareTee, BelowMinimum::Review);
    let mut device = server.enrolled_device("e-1");
    let info = &server.admin.devices().unwrap()[0];
    assert_eq!(info.assurance, "software");
    assert_eq!(info.attestation, None);
    let record = device.next(version, |_| {});
    device.upload_ok(server.addr(), vec![record]);
    let punches = server.admin.punches().unwrap();
    assert_eq!(punches.len(), 1);
    assert_eq!(punches[0].assurance, "software");
    assert!(
        punches[0].review_flags.iter().any(|f| matches!(
            f,
            punch_model::ledger::review::ReviewFlag::AssuranceBelowMinimum {
                device: AssuranceLevel::Software,
                required: AssuranceLevel::HardwareTee
            }
        )),
        "{:?}",
        punches[0].review_flags
    );
}

#[test]
fn a_site_minimum_flags_punches_there_only() {
    let server = TestServer::start();
    let guarded: Site = serde_json::from_value(serde_json::json!({
        "id": "vault", "name": "Vault",
        "shape": {"type": "circle", "center": {"lat": 52.53, "lon": 13.41}, "radius_m": 80.0},
        "min_assurance": "hardware_strongbox"
    }))
    .unwrap();
    server.admin.upsert_site(guarded).unwrap();
    let version = server.publish();
    let mut device = server.enrolled_device("e-1");
    let at_hq = device.next(version, |_| {});
    let at_vault = device.next(version, |r| r.evaluation.site_id = Some("vault".into()));
    device.upload_ok(server.addr(), vec![at_hq, at_vault]);
    let flagged: Vec<bool> = server
        .admin
        .punches()
        .unwrap()
        .iter()
        .map(|p| {
            p.review_flags.iter().any(|f| {
                matches!(
                    f,
                    punch_model::ledger::review::ReviewFlag::AssuranceBelowMinimum { .. }
                )
            })
        })
        .collect();
    assert_eq!(flagged, [false, true]);
}

#[test]
fn a_replayed_genuine_chain_is_refused_over_http_with_its_reason() {
    let server = TestServer::start();
    let code = server.employee_code("e-1");
    let c = chain("caiman_sdk36_SB_EC_RKP");
    server.admin.set_attestation_config(config_for(&c)).unwrap();
    // A fresh challenge, answered with a chain made for another challenge and key.
    let challenge: wire::EnrollChallengeResponse = request_challenge(&server, &code).parse();
    let device = Device::new();
    let body = serde_json::to_vec(&EnrollRequest {
        code: code.clone(),
        device_id: device.id.clone(),
        public_key: device.spki.clone(),
        key_storage: "hardware".into(),
        platform: "android 16".into(),
        attestation: Some(DeviceAttestation::Android {
            challenge: challenge.challenge,
            certificate_chain: c.ders.clone(),
        }),
        channel_key: None,
        channel_attestation: None,
        punch_key_proof: None,
    })
    .unwrap();
    let resp = device.signed(server.addr(), "POST", wire::PATH_ENROLL, &body);
    resp.assert_error(403, "attestation_refused");
    let reason = resp.json()["reason"].as_str().unwrap_or("").to_string();
    // Today the RKP certificates have expired; inside their window the key
    // and challenge checks refuse it. Either way: refused, and named.
    assert!(
        ["expired_certificate", "challenge_mismatch", "key_mismatch"].contains(&reason.as_str()),
        "{reason}"
    );
    assert!(server.admin.devices().unwrap().is_empty());
}

/// The switch for chains that ended with Google's 2016 RSA root: accept by
/// default (a configuration stored before the switch existed reads as
/// accept), `refuse` kept as set, anything else refused at save.
#[test]
fn the_expired_2016_root_switch_defaults_to_accept_and_is_kept() {
    use punch_server::ExpiredRootPolicy;
    let old: AttestationConfig =
        serde_json::from_str(r#"{"android_apps": ["com.example.punch"]}"#).unwrap();
    assert_eq!(old.expired_google_2016_root, ExpiredRootPolicy::Accept);
    let server = TestServer::start();
    let refuse: AttestationConfig = serde_json::from_str(
        r#"{"android_apps": ["com.example.punch"], "expired_google_2016_root": "refuse"}"#,
    )
    .unwrap();
    server.admin.set_attestation_config(refuse).unwrap();
    assert_eq!(
        server
            .admin
            .attestation_config()
            .unwrap()
            .expired_google_2016_root,
        ExpiredRootPolicy::Refuse
    );
    assert!(
        serde_json::from_str::<AttestationConfig>(r#"{"expired_google_2016_root": "review"}"#)
            .is_err()
    );
}
