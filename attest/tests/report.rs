//! The JSON report the CLI prints: field names and values as in the shared JSON files.

use crate::common;

use common::*;
use punch_attest::android::SecurityLevel;
use punch_attest::{AssuranceLevel, CheckOptions, verify_android_report, verify_apple_report};
use serde_json::Value;

/// Every field of `expected` is in `actual` with the same value (recursively; arrays
/// element by element).
fn assert_contains(actual: &Value, expected: &Value, path: &str) {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            for (k, ev) in e {
                let av = a
                    .get(k)
                    .unwrap_or_else(|| panic!("{path}.{k} missing from the report"));
                assert_contains(av, ev, &format!("{path}.{k}"));
            }
        }
        (Value::Array(a), Value::Array(e)) => {
            assert_eq!(a.len(), e.len(), "{path}: array length");
            for (i, (av, ev)) in a.iter().zip(e).enumerate() {
                assert_contains(av, ev, &format!("{path}[{i}]"));
            }
        }
        _ => assert_eq!(actual, expected, "{path}"),
    }
}

fn count_leaves(v: &Value) -> usize {
    match v {
        Value::Object(o) => o.values().map(count_leaves).sum(),
        Value::Array(a) => a.iter().map(count_leaves).sum(),
        _ => 1,
    }
}

#[test]
fn every_extracted_field_matches_the_shared_json() {
    let mut compared = 0;
    for name in ANDROID_CHAINS {
        let expected: Value =
            serde_json::from_str(&read(&format!("android/{name}.json"))).expect("json");
        let opts = CheckOptions {
            at: Some(inside(&ders(name))),
            ..Default::default()
        };
        let (ok, report) = verify_android_report(&pem(name), &opts);
        let kd = report
            .get("keyDescription")
            .unwrap_or_else(|| panic!("{name}: no keyDescription in {report}"));
        assert_contains(kd, &expected, name);
        compared += count_leaves(&expected);
        if *name == "marlin_sdk29_TEE_EC_NONE" {
            assert!(!ok);
            assert_eq!(report["verdict"], "refused");
            assert_eq!(report["refusal"]["code"], "untrusted_root");
            assert_eq!(report["refusal"]["category"], "untrusted");
        } else {
            assert!(ok, "{name}: {report}");
            assert_eq!(report["verdict"], "ok");
            assert!(report.get("refusal").is_none());
        }
        assert_eq!(
            report["chain"].as_array().map(Vec::len),
            Some(ders(name).len())
        );
    }
    assert!(compared > 120, "only {compared} fields compared");
}

#[test]
fn android_report_checks_what_it_is_given() {
    let name = "caiman_sdk36_SB_EC_RKP";
    let at = inside(&ders(name));
    let base = CheckOptions {
        at: Some(at),
        challenge: Some(b"7ccac1ea-4845-482e-858d-f6fa9aa8c295".to_vec()),
        app_ids: vec![
            "com.google.android.attestation:EDk47kU35Z6O55L2VFBPuDRvxrNG0LvEQV/DOfz8jsE=".into(),
        ],
        require_locked_bootloader: true,
        require_verified_boot: true,
        min_security_level: SecurityLevel::StrongBox,
        ..Default::default()
    };
    let (ok, r) = verify_android_report(&pem(name), &base);
    assert!(ok, "{r}");
    assert_eq!(
        r["assurance"]["level"],
        AssuranceLevel::HardwareStrongbox.as_str()
    );
    assert_eq!(r["assurance"]["platform"], "android");
    assert_eq!(r["skippedChecks"], serde_json::json!(["attested_key"]));
    assert_eq!(r["verifiedAt"], punch_attest::x509::rfc3339(at).as_str());

    let mut o = base.clone();
    o.challenge = Some(b"other".to_vec());
    let (ok, r) = verify_android_report(&pem(name), &o);
    assert!(!ok);
    assert_eq!(r["refusal"]["code"], "challenge_mismatch");
    assert_eq!(r["refusal"]["category"], "forgery");
    // Fields are still extracted when refused.
    assert_eq!(
        r["keyDescription"]["attestationSecurityLevel"],
        "STRONG_BOX"
    );

    let mut o = base.clone();
    o.app_ids = vec!["com.example.punch".into()];
    assert_eq!(
        verify_android_report(&pem(name), &o).1["refusal"]["code"],
        "unknown_app"
    );
    let mut o = base.clone();
    o.app_ids = vec!["com.example.punch:nothex".into()];
    assert_eq!(
        verify_android_report(&pem(name), &o).1["refusal"]["code"],
        "bad_configuration"
    );
    let mut o = base.clone();
    o.at = Some(at + 86_400 * 365);
    assert_eq!(
        verify_android_report(&pem(name), &o).1["refusal"]["code"],
        "expired_certificate"
    );
    let (ok, r) = verify_android_report("not a pem", &base);
    assert!(!ok);
    assert_eq!(r["refusal"]["code"], "truncated_chain");
    let (_, r) = verify_android_report(&pem("invalid_tags_not_in_ascending_order"), &base);
    assert_eq!(r["refusal"]["code"], "malformed_extension");
    assert_eq!(r["keyDescriptionError"]["code"], "malformed_extension");
}

#[test]
fn apple_report_has_the_documented_facts() {
    let opts = CheckOptions {
        at: Some(APPLE_AT),
        challenge: Some(APPLE_CHALLENGE.to_vec()),
        app_ids: vec![APPLE_APP_ID.into()],
        ..Default::default()
    };
    let b64 = read("apple/apple_sample_attestation.b64");
    let (ok, r) = verify_apple_report(&b64, &opts);
    assert!(ok, "{r}");
    assert_eq!(r["verdict"], "ok");
    assert_eq!(r["appId"], APPLE_APP_ID);
    assert_eq!(r["environment"], "production");
    assert_eq!(r["nonce"], "+20WKnF+yrF3iQBQb6lNZ+4MHcPUWxLN3oG+/Fblt+s=");
    assert_eq!(r["keyId"], "bSrEhF8TIzIvWSPwvZ0i2+UOBre4ASH84rK15m6emNY=");
    assert_eq!(r["authData"]["credentialId"], r["keyId"]);
    assert_eq!(r["authData"]["counter"], 0);
    assert_eq!(r["authData"]["environment"], "production");
    assert_eq!(r["fmt"], "apple-appattest");
    assert_eq!(r["assurance"]["level"], "attested_app");
    assert_eq!(r["verifiedAt"], "2024-04-18T12:00:00Z");

    let dev = CheckOptions {
        environment: punch_attest::apple::AppAttestEnvironment::Development,
        ..opts.clone()
    };
    let (ok, r) = verify_apple_report(&b64, &dev);
    assert!(!ok);
    assert_eq!(r["refusal"]["code"], "wrong_environment");
    assert_eq!(r["nonce"], "+20WKnF+yrF3iQBQb6lNZ+4MHcPUWxLN3oG+/Fblt+s=");

    let hand = CheckOptions {
        at: Some(APPLE_AT),
        ..Default::default()
    };
    let (ok, r) = verify_apple_report(&b64, &hand);
    assert!(ok);
    assert_eq!(
        r["skippedChecks"],
        serde_json::json!(["nonce", "app", "expected_key_id"])
    );
    let (ok, r) = verify_apple_report("%%%", &hand);
    assert!(!ok);
    assert_eq!(r["refusal"]["code"], "malformed_object");
    let bad_key = CheckOptions {
        expected_key: Some(vec![1, 2, 3]),
        ..hand
    };
    assert_eq!(
        verify_apple_report(&b64, &bad_key).1["refusal"]["code"],
        "bad_configuration"
    );
}

#[test]
fn assurance_levels_are_ordered_and_named() {
    use AssuranceLevel::*;
    let all = [Software, AttestedApp, HardwareTee, HardwareStrongbox];
    assert!(all.windows(2).all(|w| w[0] < w[1]));
    for l in all {
        assert_eq!(AssuranceLevel::parse(l.as_str()), Some(l));
        assert_eq!(serde_json::to_value(l).expect("serializes"), l.as_str());
    }
    assert_eq!(
        all.map(AssuranceLevel::as_str),
        [
            "software",
            "attested_app",
            "hardware_tee",
            "hardware_strongbox"
        ]
    );
    assert_eq!(AssuranceLevel::parse("hardware"), None);
    assert!(HardwareTee >= AttestedApp);
}

#[test]
fn rfc3339_round_trips() {
    let t = punch_attest::x509::parse_rfc3339("2024-04-18T12:00:00Z").expect("parses");
    assert_eq!(t, APPLE_AT);
    assert_eq!(punch_attest::x509::rfc3339(t), "2024-04-18T12:00:00Z");
    assert!(punch_attest::x509::parse_rfc3339("yesterday").is_err());
}
