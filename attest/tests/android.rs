//! Android Key Attestation against the real chains in tests/data/android.

use crate::common;

use base64::Engine as _;
use common::*;
use punch_attest::android::{
    AndroidApp, AndroidExpectations, AndroidVerifier, SecurityLevel, StatusList,
};
use punch_attest::{AssuranceLevel, Refusal, TrustedRoots, android_assurance};
use serde_json::Value;
use x509_parser::prelude::{FromDer, X509Certificate};

fn expected(name: &str) -> Value {
    serde_json::from_str(&read(&format!("android/{name}.json"))).expect("expected JSON parses")
}

fn b64d(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .expect("base64")
}

fn leaf_spki(ders: &[Vec<u8>]) -> Vec<u8> {
    let (_, c) = X509Certificate::from_der(&ders[0]).expect("leaf parses");
    c.public_key().raw.to_vec()
}

/// The app the shared chains were produced by, from the expected JSON.
fn app_of(exp: &Value) -> AndroidApp {
    let app = &exp["softwareEnforced"]["attestationApplicationId"];
    let name = app["packages"][0]["name"].as_str().expect("package name");
    let digests = app["signatures"]
        .as_array()
        .expect("signatures")
        .iter()
        .map(|s| {
            b64d(s.as_str().expect("digest"))
                .try_into()
                .expect("32 bytes")
        })
        .collect();
    AndroidApp::new(name, digests)
}

/// The expectations each genuine chain satisfies: its own challenge, key and app; boot
/// requirements only where the device was locked.
fn own_expectations(name: &str) -> AndroidExpectations {
    let exp = expected(name);
    let challenge = b64d(exp["attestationChallenge"].as_str().expect("challenge"));
    let mut e = AndroidExpectations::strict(challenge, leaf_spki(&ders(name)), vec![app_of(&exp)]);
    let locked = exp["hardwareEnforced"]["rootOfTrust"]["deviceLocked"]
        .as_bool()
        .unwrap_or(false);
    e.require_locked_bootloader = locked;
    e.require_verified_boot = locked;
    e
}

const GENUINE: &[&str] = &[
    "akita_sdk34_TEE_EC_NONE",
    "blueline_sdk28_TEE_EC_NONE",
    "caiman_sdk36_SB_EC_RKP",
    "caiman_sdk36_TEE_EC_RKP",
];

fn verify(name: &str, e: &AndroidExpectations, at: i64) -> Result<AssuranceLevel, Refusal> {
    AndroidVerifier::default()
        .verify(&ders(name), e, at)
        .map(|a| android_assurance(&a).level)
}

#[test]
fn genuine_chains_verify_with_their_own_challenge_key_and_app() {
    let levels = [
        AssuranceLevel::HardwareTee,
        AssuranceLevel::HardwareTee,
        AssuranceLevel::HardwareStrongbox,
        AssuranceLevel::HardwareTee,
    ];
    for (name, level) in GENUINE.iter().zip(levels) {
        let d = ders(name);
        let a = AndroidVerifier::default()
            .verify(&d, &own_expectations(name), inside(&d))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(android_assurance(&a).level, level, "{name}");
        assert_eq!(a.chain_len, d.len());
        assert!(a.signer_checked);
        assert!(
            a.skipped_checks
                .iter()
                .all(|c| c.contains("boot") || c.contains("bootloader"))
        );
        assert_eq!(
            a.root.spki_sha256_hex(),
            "feb2ea7551ee316ed4bb443c8293b884dbfdea40b603ee3e4f4a897e4580fbae"
        );
    }
}

#[test]
fn verify_pem_is_the_same_as_verify_der() {
    let name = "caiman_sdk36_SB_EC_RKP";
    let d = ders(name);
    let a = AndroidVerifier::default()
        .verify_pem(&pem(name), &own_expectations(name), inside(&d))
        .expect("verifies");
    assert_eq!(
        a.key_description.keymint_security_level,
        SecurityLevel::StrongBox
    );
}

#[test]
fn unlocked_devices_are_refused_when_policy_requires_a_locked_bootloader() {
    for name in ["akita_sdk34_TEE_EC_NONE", "blueline_sdk28_TEE_EC_NONE"] {
        let d = ders(name);
        let mut e = own_expectations(name);
        e.require_locked_bootloader = true;
        let err = verify(name, &e, inside(&d)).expect_err("unlocked");
        assert_eq!(err.code(), "unlocked_bootloader", "{name}: {err}");
        e.require_locked_bootloader = false;
        e.require_verified_boot = true;
        let err = verify(name, &e, inside(&d)).expect_err("unverified");
        assert_eq!(err.code(), "unverified_boot", "{name}: {err}");
        assert!(err.to_string().contains("UNVERIFIED"));
    }
}

#[test]
fn userdebug_chain_parses_then_is_refused_as_untrusted_root() {
    let name = "marlin_sdk29_TEE_EC_NONE";
    let d = ders(name);
    let err = verify(name, &AndroidExpectations::inspect_only(), inside(&d)).expect_err("refused");
    assert_eq!(err.code(), "untrusted_root");
    assert_eq!(err.category().as_str(), "untrusted");
    let msg = err.to_string();
    assert!(
        msg.contains("Android Keystore Software Attestation Root"),
        "{msg}"
    );
    assert!(msg.contains("not one of the 2 trusted roots"), "{msg}");

    // An operator who trusts that root still gets a software attestation refused by level.
    let root_pem = pem(name)
        .rsplit("-----BEGIN CERTIFICATE-----")
        .next()
        .map(|b| format!("-----BEGIN CERTIFICATE-----{b}"))
        .expect("last block");
    let roots = TrustedRoots::from_pem(&root_pem).expect("root loads");
    let mut e = AndroidExpectations::inspect_only();
    e.min_security_level = SecurityLevel::TrustedEnvironment;
    let err = AndroidVerifier::new(roots.clone())
        .verify(&d, &e, inside(&d))
        .expect_err("software attestation");
    assert_eq!(err.code(), "software_only_key", "{err}");
    let a = AndroidVerifier::new(roots)
        .verify(&d, &AndroidExpectations::inspect_only(), inside(&d))
        .expect("inspect only");
    assert_eq!(android_assurance(&a).level, AssuranceLevel::Software);
}

#[test]
fn invalid_chains_are_refused_for_their_malformed_extension() {
    for (name, needle) in [
        // deviceLocked is RootOfTrust's one BOOLEAN.
        (
            "invalid_malformed_rot_device_locked",
            "rootOfTrust: ASN.1 BOOLEAN",
        ),
        ("invalid_tags_not_in_ascending_order", "ascending order"),
    ] {
        let d = ders(name);
        let err =
            verify(name, &AndroidExpectations::inspect_only(), inside(&d)).expect_err("malformed");
        assert_eq!(err.code(), "malformed_extension", "{name}: {err}");
        assert!(err.to_string().contains(needle), "{name}: {err}");
    }
}

#[test]
fn another_challenge_is_refused() {
    for name in GENUINE {
        let d = ders(name);
        let mut e = own_expectations(name);
        e.challenge = Some(b"another challenge".to_vec());
        assert_eq!(
            verify(name, &e, inside(&d)).expect_err("refused"),
            Refusal::ChallengeMismatch
        );
    }
}

#[test]
fn another_key_is_refused() {
    let name = "caiman_sdk36_TEE_EC_RKP";
    let d = ders(name);
    let mut e = own_expectations(name);
    e.attested_key_spki = Some(leaf_spki(&ders("caiman_sdk36_SB_EC_RKP")));
    assert_eq!(
        verify(name, &e, inside(&d)).expect_err("refused").code(),
        "key_mismatch"
    );
    // An RSA key (the root's) is not even a candidate.
    let (_, root) = X509Certificate::from_der(&d[4]).expect("root");
    e.attested_key_spki = Some(root.public_key().raw.to_vec());
    let err = verify(name, &e, inside(&d)).expect_err("refused");
    assert_eq!(err.code(), "key_mismatch");
    assert!(err.to_string().contains("not an EC P-256"));
    e.attested_key_spki = Some(vec![0x30, 0x00]);
    assert_eq!(
        verify(name, &e, inside(&d)).expect_err("refused").code(),
        "key_mismatch"
    );
}

#[test]
fn another_app_is_refused() {
    let name = "caiman_sdk36_SB_EC_RKP";
    let d = ders(name);
    let exp = expected(name);
    let mut e = own_expectations(name);
    e.allowed_apps = Some(vec![AndroidApp::new(
        "com.example.punch",
        app_of(&exp).signature_digests,
    )]);
    let err = verify(name, &e, inside(&d)).expect_err("refused");
    assert_eq!(err.code(), "unknown_app");
    assert_eq!(err.category().as_str(), "configuration");
    assert!(
        err.to_string().contains("com.google.android.attestation"),
        "{err}"
    );
    // Right package, another signer: a repackaged app.
    e.allowed_apps = Some(vec![AndroidApp::new(
        app_of(&exp).package_name,
        vec![[7u8; 32]],
    )]);
    assert_eq!(
        verify(name, &e, inside(&d)).expect_err("refused").code(),
        "unknown_app"
    );
    // Empty allowlist allows nothing.
    e.allowed_apps = Some(vec![]);
    assert_eq!(
        verify(name, &e, inside(&d)).expect_err("refused").code(),
        "unknown_app"
    );
    // Package-only entry (hand checks): accepted, and says the signer was not checked.
    e.allowed_apps = Some(vec![
        AndroidApp::parse("com.google.android.attestation").expect("parses"),
    ]);
    let a = AndroidVerifier::default()
        .verify(&d, &e, inside(&d))
        .expect("accepted");
    assert!(!a.signer_checked);
}

#[test]
fn times_outside_the_windows_are_refused() {
    for name in GENUINE {
        let d = ders(name);
        // The chain's own copy of the root is a trust anchor: its dates are not checked.
        let (lo, hi) = window_of(&d[..d.len() - 1]);
        let e = own_expectations(name);
        assert!(verify(name, &e, lo).is_ok(), "{name} at notBefore");
        assert!(verify(name, &e, hi).is_ok(), "{name} at notAfter");
        let before = verify(name, &e, lo - 1).expect_err("before");
        assert_eq!(before.code(), "not_yet_valid", "{name}: {before}");
        assert_eq!(before.category().as_str(), "validity");
        let after = verify(name, &e, hi + 1).expect_err("after");
        assert_eq!(after.code(), "expired_certificate", "{name}: {after}");
    }
}

#[test]
fn truncated_and_overlong_chains_are_refused() {
    let name = "caiman_sdk36_TEE_EC_RKP";
    let d = ders(name);
    let at = inside(&d);
    let e = own_expectations(name);
    let v = AndroidVerifier::default();
    // Without the root copy the chain still reaches the trusted key.
    assert!(v.verify(&d[..4], &e, at).is_ok());
    for n in 1..4 {
        let err = v.verify(&d[..n], &e, at).expect_err("truncated");
        assert_eq!(err.code(), "truncated_chain", "{n} certs: {err}");
    }
    let none: [Vec<u8>; 0] = [];
    assert_eq!(
        v.verify(&none, &e, at).expect_err("empty").code(),
        "truncated_chain"
    );
    let long: Vec<Vec<u8>> = d.iter().chain(d.iter()).cloned().collect();
    assert_eq!(
        v.verify(&long, &e, at).expect_err("long").code(),
        "chain_too_long"
    );
    // Out of order: the leaf's parent missing in the middle.
    let gap = vec![d[0].clone(), d[2].clone(), d[3].clone(), d[4].clone()];
    assert_eq!(
        v.verify(&gap, &e, at).expect_err("gap").code(),
        "bad_signature"
    );
}

#[test]
fn a_flipped_byte_in_any_certificate_is_refused() {
    let mut seen = std::collections::BTreeMap::<&'static str, usize>::new();
    for name in GENUINE {
        let d = ders(name);
        let at = inside(&d);
        let e = own_expectations(name);
        let v = AndroidVerifier::default();
        for (ci, cert) in d.iter().enumerate() {
            // Every third byte, low or high bit: thorough, and a few seconds in a debug build.
            for pos in (ci % 3..cert.len()).step_by(3) {
                let mut m = d.clone();
                m[ci][pos] ^= if pos % 2 == 0 { 0x01 } else { 0x80 };
                let err = v.verify(&m, &e, at).expect_err(&format!(
                    "{name}: cert {ci} byte {pos} flipped was accepted"
                ));
                let allowed: &[&str] = if ci == 0 {
                    // Structure first: a flip inside the leaf's KeyDescription that breaks its
                    // DER is named for what it breaks.
                    &[
                        "bad_signature",
                        "malformed_certificate",
                        "malformed_extension",
                        "missing_extension",
                    ]
                } else if ci == d.len() - 1 {
                    // A changed root key is simply a root nobody trusts.
                    &["bad_signature", "malformed_certificate", "untrusted_root"]
                } else {
                    &["bad_signature", "malformed_certificate"]
                };
                assert!(
                    allowed.contains(&err.code()),
                    "{name}: cert {ci} byte {pos}: {} ({err})",
                    err.code()
                );
                *seen.entry(err.code()).or_default() += 1;
            }
        }
    }
    assert!(seen["bad_signature"] > 3_000, "{seen:?}");
    assert!(seen["malformed_certificate"] > 100, "{seen:?}");
}

#[test]
fn a_listed_serial_is_refused_as_revoked() {
    let name = "caiman_sdk36_SB_EC_RKP";
    let d = ders(name);
    let at = inside(&d);
    // The RKP intermediate's serial, upper case with a leading zero: normalised on load.
    let list = StatusList::from_json(
        r#"{"entries": {"065D2949536924DA695F5AE1EB290CD4D": {"status": "REVOKED", "reason": "KEY_COMPROMISE"},
                        "deadbeef": {"status": "SUSPENDED"}}}"#,
    )
    .expect("list parses");
    assert_eq!(list.len(), 2);
    let v = AndroidVerifier::default().with_status_list(list);
    let err = v
        .verify(&d, &own_expectations(name), at)
        .expect_err("revoked");
    assert_eq!(err.code(), "revoked");
    let msg = err.to_string();
    assert!(
        msg.contains("65d2949536924da695f5ae1eb290cd4d") && msg.contains("KEY_COMPROMISE"),
        "{msg}"
    );
    // Other chains are untouched by the list.
    let other = "caiman_sdk36_TEE_EC_RKP";
    let od = ders(other);
    assert!(v.verify(&od, &own_expectations(other), inside(&od)).is_ok());
    assert!(StatusList::from_json("{}").is_err());
    assert!(StatusList::from_json(r#"{"entries": {"1": {}}}"#).is_err());
}

#[test]
fn patch_level_policy() {
    let name = "caiman_sdk36_TEE_EC_RKP";
    let d = ders(name);
    let mut e = own_expectations(name);
    e.min_os_patch_level = Some(202511);
    assert!(verify(name, &e, inside(&d)).is_ok());
    e.min_os_patch_level = Some(202512);
    let err = verify(name, &e, inside(&d)).expect_err("old");
    assert_eq!(err.code(), "outdated_patch_level");
    assert_eq!(err.category().as_str(), "device_policy");
}

#[test]
fn strongbox_minimum_refuses_a_tee_key() {
    let name = "caiman_sdk36_TEE_EC_RKP";
    let d = ders(name);
    let mut e = own_expectations(name);
    e.min_security_level = SecurityLevel::StrongBox;
    let err = verify(name, &e, inside(&d)).expect_err("tee");
    assert_eq!(err.code(), "software_only_key");
    assert!(err.to_string().contains("STRONG_BOX"));
}

#[test]
fn roots_load_from_both_formats() {
    assert_eq!(TrustedRoots::google().len(), 2);
    assert_eq!(TrustedRoots::apple_app_attest().len(), 1);
    let json = read("android/roots.json");
    assert_eq!(
        TrustedRoots::from_file_contents(&json).expect("json"),
        TrustedRoots::google()
    );
    let pems: Vec<String> = serde_json::from_str(&json).expect("array");
    let joined = pems.join("\n");
    assert_eq!(
        TrustedRoots::from_file_contents(&joined).expect("pem"),
        TrustedRoots::google()
    );
    assert!(TrustedRoots::from_file_contents("[]").is_err());
    assert!(TrustedRoots::from_file_contents("no pem here").is_err());
    assert!(
        TrustedRoots::from_roots_json(
            r#"["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"]"#
        )
        .is_err()
    );
    // Only the EC root: RSA-rooted chains are then untrusted.
    let ec_only = TrustedRoots::from_pem(&pems[1]).expect("ec root");
    let name = "caiman_sdk36_TEE_EC_RKP";
    let d = ders(name);
    let err = AndroidVerifier::new(ec_only)
        .verify(&d, &own_expectations(name), inside(&d))
        .expect_err("untrusted");
    assert_eq!(err.code(), "untrusted_root");
}

#[test]
fn app_ids_parse_from_hex_and_base64() {
    let hex = "10:39:38:EE:45:37:E5:9E:8E:E7:92:F6:54:50:4F:B8:34:6F:C6:B3:46:D0:BB:C4:41:5F:C3:39:FC:FC:8E:C1";
    let a = AndroidApp::parse(&format!("com.example:{}", hex.replace(':', ""))).expect("hex");
    let c =
        AndroidApp::parse("com.example:EDk47kU35Z6O55L2VFBPuDRvxrNG0LvEQV/DOfz8jsE=").expect("b64");
    assert_eq!(a, c);
    assert_eq!(a.signature_digests.len(), 1);
    let two = AndroidApp::parse(&format!(
        "com.example:{},{}",
        hex.replace(':', ""),
        "EDk47kU35Z6O55L2VFBPuDRvxrNG0LvEQV/DOfz8jsE="
    ))
    .expect("two");
    assert_eq!(two.signature_digests.len(), 2);
    assert!(AndroidApp::parse("com.example:zz").is_err());
    assert!(AndroidApp::parse("com.example:abcd").is_err());
    assert!(AndroidApp::parse(":abcd").is_err());
    assert!(AndroidApp::parse("com example").is_err());
}

#[test]
fn key_description_fields_are_typed() {
    let name = "caiman_sdk36_SB_EC_RKP";
    let d = ders(name);
    let a = AndroidVerifier::default()
        .verify(&d, &own_expectations(name), inside(&d))
        .expect("verifies");
    let kd = &a.key_description;
    assert_eq!(kd.attestation_version, 300);
    assert_eq!(kd.attestation_security_level, SecurityLevel::StrongBox);
    let hw = &kd.hardware_enforced;
    assert_eq!(hw.purposes(), Some(&[2u64, 3][..]));
    assert_eq!(hw.algorithm(), Some(3));
    assert_eq!(hw.key_size(), Some(256));
    assert_eq!(hw.ec_curve(), Some(1));
    assert_eq!(hw.origin(), Some(0));
    assert_eq!(hw.os_version(), Some(160000));
    assert_eq!(hw.os_patch_level(), Some(202511));
    assert_eq!(hw.vendor_patch_level(), Some(20251105));
    assert_eq!(hw.boot_patch_level(), Some(20251105));
    let rot = hw.root_of_trust().expect("root of trust");
    assert!(rot.device_locked);
    assert_eq!(rot.verified_boot_hash.as_ref().map(Vec::len), Some(32));
    assert_eq!(
        kd.software_enforced.creation_date_time(),
        Some(1758900646327)
    );
    let app = kd
        .software_enforced
        .attestation_application_id()
        .expect("app id");
    assert_eq!(app.packages[0].name, "com.google.android.attestation");
}
