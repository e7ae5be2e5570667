//! JSON reports for `punch-server attestation verify`: the verdict and every extracted field,
//! named as in Google's reference verifier and the shared test data (`attestationVersion`,
//! `attestationSecurityLevel`, `softwareEnforced.rootOfTrust`, ...). Integers are strings and
//! bytes are standard base64, as in that JSON (protobuf's JSON mapping).
//!
//! The CLI only parses its arguments into [`CheckOptions`] and prints what these return.

use base64::Engine as _;
use serde_json::{Map, Value, json};
use x509_parser::certificate::X509Certificate;

use crate::android::chain::{key_description_raw, parse_chain};
use crate::android::{
    AndroidApp, AndroidExpectations, AndroidVerifier, AuthorizationList, KeyDescription,
    SecurityLevel, StatusList, TagKind, TagValue, key_description::tag_info, parse_key_description,
};
use crate::apple::verify::certificate_nonce;
use crate::apple::{
    AppAttestEnvironment, AppleExpectations, AppleVerifier, parse_attestation_object,
    parse_auth_data,
};
use crate::error::{ConfigError, Refusal};
use crate::level::{android_assurance, apple_assurance};
use crate::roots::TrustedRoots;
use crate::x509::{p256_point, parse_cert, parse_pem_chain, rfc3339, serial_hex, sha256};

fn b64(d: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(d)
}

/// What the CLI was asked to check. Unset fields are not checked, and the report says so.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// Android: the expected attestation challenge. Apple: the clientDataHash bytes, appended
    /// to authData as-is.
    pub challenge: Option<Vec<u8>>,
    /// Android: `package[:sha256,...]`; Apple: `TEAMID.bundle.id`. Empty: not checked.
    pub app_ids: Vec<String>,
    /// Verification time, unix seconds; `None` is now.
    pub at: Option<i64>,
    /// Roots to trust instead of the shipped ones.
    pub roots: Option<TrustedRoots>,
    /// Android attestation status list to honour.
    pub status_list: Option<StatusList>,
    /// Apple: the environment accepted.
    pub environment: AppAttestEnvironment,
    /// Android: lowest security level accepted.
    pub min_security_level: SecurityLevel,
    /// Android: refuse unlocked bootloaders.
    pub require_locked_bootloader: bool,
    /// Android: refuse boot states other than VERIFIED.
    pub require_verified_boot: bool,
    /// Android: lowest OS patch level accepted (YYYYMM).
    pub min_os_patch_level: Option<u32>,
    /// Android: expected attested key (SubjectPublicKeyInfo DER). Apple: expected key id (32
    /// bytes).
    pub expected_key: Option<Vec<u8>>,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            challenge: None,
            app_ids: Vec::new(),
            at: None,
            roots: None,
            status_list: None,
            environment: AppAttestEnvironment::Production,
            min_security_level: SecurityLevel::TrustedEnvironment,
            require_locked_bootloader: false,
            require_verified_boot: false,
            min_os_patch_level: None,
            expected_key: None,
        }
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn refusal_json(r: &Refusal) -> Value {
    json!({
        "code": r.code(),
        "category": r.category().as_str(),
        "message": r.to_string(),
    })
}

fn config_refusal(e: &ConfigError) -> Value {
    json!({"code": "bad_configuration", "category": "configuration", "message": e.to_string()})
}

fn cert_json(index: usize, cert: &X509Certificate<'_>) -> Value {
    let v = cert.validity();
    json!({
        "index": index,
        "subject": cert.subject().to_string(),
        "issuer": cert.issuer().to_string(),
        "serial": serial_hex(cert),
        "notBefore": rfc3339(v.not_before.timestamp()),
        "notAfter": rfc3339(v.not_after.timestamp()),
        "signatureAlgorithm": cert.signature_algorithm.algorithm.to_id_string(),
        "publicKeyAlgorithm": cert.public_key().algorithm.algorithm.to_id_string(),
        "publicKeySha256": hex::encode(sha256(cert.public_key().raw)),
        "sha256": hex::encode(sha256(cert.as_raw())),
    })
}

fn origin_name(v: u64) -> Value {
    match v {
        0 => "GENERATED".into(),
        1 => "DERIVED".into(),
        2 => "IMPORTED".into(),
        3 => "RESERVED".into(),
        4 => "SECURELY_IMPORTED".into(),
        other => other.to_string().into(),
    }
}

/// An AuthorizationList as Google's JSON writes it.
pub fn authorization_list_json(list: &AuthorizationList) -> Value {
    let mut m = Map::new();
    let mut unknown = Map::new();
    for (tag, value) in &list.entries {
        let Some((name, kind)) = tag_info(*tag) else {
            if let TagValue::Unknown(raw) = value {
                unknown.insert(tag.to_string(), b64(raw).into());
            }
            continue;
        };
        let v = match value {
            TagValue::Integer(i) if kind == TagKind::Origin => origin_name(*i),
            TagValue::Integer(i) => i.to_string().into(),
            TagValue::IntegerSet(s) => s.iter().map(|i| Value::from(i.to_string())).collect(),
            TagValue::Flag => true.into(),
            TagValue::Bytes(b) => b64(b).into(),
            TagValue::Text(t) => t.clone().into(),
            TagValue::RootOfTrust(r) => {
                let mut o = json!({
                    "verifiedBootKey": b64(&r.verified_boot_key),
                    "deviceLocked": r.device_locked,
                    "verifiedBootState": r.verified_boot_state.as_str(),
                });
                if let (Some(h), Some(obj)) = (&r.verified_boot_hash, o.as_object_mut()) {
                    obj.insert("verifiedBootHash".into(), b64(h).into());
                }
                o
            }
            TagValue::ApplicationId(a) => json!({
                "packages": a.packages.iter().map(|p| json!({
                    "name": p.name, "version": p.version.to_string(),
                })).collect::<Vec<_>>(),
                "signatures": a.signature_digests.iter().map(|d| b64(d)).collect::<Vec<_>>(),
            }),
            TagValue::Unknown(raw) => b64(raw).into(),
        };
        m.insert(name.into(), v);
    }
    if !unknown.is_empty() {
        m.insert("unknownTags".into(), unknown.into());
    }
    m.into()
}

/// A KeyDescription as Google's JSON writes it.
pub fn key_description_json(kd: &KeyDescription) -> Value {
    json!({
        "attestationVersion": kd.attestation_version.to_string(),
        "attestationSecurityLevel": kd.attestation_security_level.as_str(),
        "keyMintVersion": kd.keymint_version.to_string(),
        "keyMintSecurityLevel": kd.keymint_security_level.as_str(),
        "attestationChallenge": b64(&kd.attestation_challenge),
        "uniqueId": b64(&kd.unique_id),
        "softwareEnforced": authorization_list_json(&kd.software_enforced),
        "hardwareEnforced": authorization_list_json(&kd.hardware_enforced),
    })
}

/// Verify an Android PEM chain and report. Returns (accepted, report).
pub fn verify_android_report(pem: &str, opts: &CheckOptions) -> (bool, Value) {
    let at = opts.at.unwrap_or_else(now);
    let mut report = Map::new();
    report.insert("platform".into(), "android".into());
    report.insert("verifiedAt".into(), rfc3339(at).into());

    let apps = opts
        .app_ids
        .iter()
        .map(|s| AndroidApp::parse(s))
        .collect::<Result<Vec<_>, _>>();
    let apps = match apps {
        Ok(a) => a,
        Err(e) => return refuse_config(report, &e),
    };
    let expect = AndroidExpectations {
        challenge: opts.challenge.clone(),
        attested_key_spki: opts.expected_key.clone(),
        allowed_apps: (!apps.is_empty()).then_some(apps),
        min_security_level: opts.min_security_level,
        require_locked_bootloader: opts.require_locked_bootloader,
        require_verified_boot: opts.require_verified_boot,
        min_os_patch_level: opts.min_os_patch_level,
        // A hand check reports the fact rather than hiding the rest of the verdict.
        accept_expired_google_2016_root: true,
    };
    report.insert("skippedChecks".into(), json!(expect.skipped_checks()));

    // Extract what can be extracted, whatever the verdict: an admin needs the fields most when
    // the chain is refused.
    let ders = parse_pem_chain(pem);
    if let Ok(ders) = &ders {
        let mut chain = Vec::new();
        for (i, d) in ders.iter().enumerate() {
            match parse_cert(d, i) {
                Ok(c) => chain.push(cert_json(i, &c)),
                Err(e) => chain.push(json!({"index": i, "error": refusal_json(&e)})),
            }
        }
        report.insert("chain".into(), chain.into());
        if let Ok(certs) = parse_chain(ders)
            && let Some(leaf) = certs.first()
        {
            match key_description_raw(leaf)
                .and_then(|raw| raw.map(parse_key_description).transpose())
            {
                Ok(Some(kd)) => {
                    report.insert("keyDescription".into(), key_description_json(&kd));
                }
                Ok(None) => {}
                Err(e) => {
                    report.insert("keyDescriptionError".into(), refusal_json(&e));
                }
            }
        }
    }

    let mut verifier =
        AndroidVerifier::new(opts.roots.clone().unwrap_or_else(TrustedRoots::google));
    if let Some(list) = &opts.status_list {
        verifier = verifier.with_status_list(list.clone());
    }
    let verdict = ders.and_then(|d| verifier.verify(&d, &expect, at));
    match verdict {
        Ok(a) => {
            report.insert("verdict".into(), "ok".into());
            report.insert(
                "root".into(),
                json!({"subject": a.root.subject, "publicKeySha256": a.root.spki_sha256_hex()}),
            );
            report.insert("assurance".into(), json!(android_assurance(&a)));
            (true, report.into())
        }
        Err(e) => {
            report.insert("verdict".into(), "refused".into());
            report.insert("refusal".into(), refusal_json(&e));
            (false, report.into())
        }
    }
}

fn refuse_config(mut report: Map<String, Value>, e: &ConfigError) -> (bool, Value) {
    report.insert("verdict".into(), "refused".into());
    report.insert("refusal".into(), config_refusal(e));
    (false, report.into())
}

/// Verify an Apple App Attest object given as base64 (whitespace ignored) and report.
pub fn verify_apple_report(object_b64: &str, opts: &CheckOptions) -> (bool, Value) {
    let at = opts.at.unwrap_or_else(now);
    let mut report = Map::new();
    report.insert("platform".into(), "apple".into());
    report.insert("verifiedAt".into(), rfc3339(at).into());

    let expected_key_id = match &opts.expected_key {
        None => None,
        Some(k) => match <[u8; 32]>::try_from(k.as_slice()) {
            Ok(k) => Some(k),
            Err(_) => {
                return refuse_config(
                    report,
                    &ConfigError::AppId("expected key id must be 32 bytes".into()),
                );
            }
        },
    };
    let expect = AppleExpectations {
        client_data_hash: opts.challenge.clone(),
        app_ids: (!opts.app_ids.is_empty()).then(|| opts.app_ids.clone()),
        environment: opts.environment,
        expected_key_id,
    };
    report.insert("skippedChecks".into(), json!(expect.skipped_checks()));

    let compact: String = object_b64
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let bytes = if compact.len() > crate::apple::object::MAX_OBJECT * 2 {
        Err(Refusal::InputTooLarge {
            what: "attestation object (base64)",
            len: compact.len(),
            max: crate::apple::object::MAX_OBJECT * 2,
        })
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .map_err(|e| Refusal::MalformedObject {
                detail: format!("base64: {e}"),
            })
    };

    if let Ok(obj) = bytes
        .as_deref()
        .map_err(Clone::clone)
        .and_then(parse_attestation_object)
    {
        report.insert("fmt".into(), obj.fmt.clone().into());
        report.insert("receiptLength".into(), obj.receipt.len().into());
        let mut chain = Vec::new();
        for (i, d) in obj.x5c.iter().enumerate() {
            match parse_cert(d, i) {
                Ok(c) => {
                    chain.push(cert_json(i, &c));
                    if i == 0 {
                        if let Ok(n) = certificate_nonce(&c) {
                            report.insert("nonce".into(), b64(&n).into());
                        }
                        if let Some(p) = p256_point(c.public_key()) {
                            report.insert("keyId".into(), b64(&sha256(p)).into());
                        }
                    }
                }
                Err(e) => chain.push(json!({"index": i, "error": refusal_json(&e)})),
            }
        }
        report.insert("chain".into(), chain.into());
        match parse_auth_data(&obj.auth_data) {
            Ok(a) => {
                let env = if &a.aaguid == b"appattestdevelop" {
                    "development".to_string()
                } else if &a.aaguid == b"appattest\0\0\0\0\0\0\0" {
                    "production".to_string()
                } else {
                    format!("unknown ({})", hex::encode(a.aaguid))
                };
                report.insert(
                    "authData".into(),
                    json!({
                        "rpIdHash": b64(&a.rp_id_hash),
                        "flags": a.flags,
                        "counter": a.counter,
                        "aaguid": b64(&a.aaguid),
                        "environment": env,
                        "credentialId": b64(&a.credential_id),
                    }),
                );
            }
            Err(e) => {
                report.insert("authDataError".into(), refusal_json(&e));
            }
        }
    }

    let verifier = AppleVerifier::new(
        opts.roots
            .clone()
            .unwrap_or_else(TrustedRoots::apple_app_attest),
    );
    match bytes.and_then(|b| verifier.verify(&b, &expect, at)) {
        Ok(a) => {
            report.insert("verdict".into(), "ok".into());
            if let Some(id) = &a.app_id {
                report.insert("appId".into(), id.clone().into());
            }
            report.insert("environment".into(), a.environment.as_str().into());
            report.insert(
                "root".into(),
                json!({"subject": a.root.subject, "publicKeySha256": a.root.spki_sha256_hex()}),
            );
            report.insert("assurance".into(), json!(apple_assurance(&a)));
            (true, report.into())
        }
        Err(e) => {
            report.insert("verdict".into(), "refused".into());
            report.insert("refusal".into(), refusal_json(&e));
            (false, report.into())
        }
    }
}
