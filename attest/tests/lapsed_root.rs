//! Google's 2016 RSA attestation hierarchy ended on 2026-05-24; factory-provisioned phones keep
//! sending chains under it. No such chain from after that day is public, so these tests build
//! one shaped like the real ones (an RSA root named `serialNumber=f92009e853b6b045`, a TEE batch
//! certificate whose life was capped at the root's end, a leaf carrying a genuine
//! KeyDescription) under a test-only root key, and point the verifier's lapsed hierarchy at that
//! key: Google's own key is the only thing the real rule adds.

use crate::common;

use base64::Engine as _;

use common::*;
use punch_attest::android::lapsed::{FACT, GOOGLE_2016_ROOT_ENDED};
use punch_attest::android::{AndroidExpectations, AndroidVerifier, LapsedHierarchy};
use punch_attest::{AssuranceLevel, TrustedRoots, android_assurance};
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, CustomExtension, DistinguishedName, DnType,
    IsCa, KeyPair, PKCS_ECDSA_P256_SHA256,
};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

/// 2026-12-07T12:00:00Z: after the hierarchy ended.
const AFTER_THE_END: i64 = 1_796_644_800;
/// 2026-05-01T00:00:00Z: before it ended.
const BEFORE_THE_END: i64 = 1_777_593_600;
const KEY_DESCRIPTION_OID: &[u64] = &[1, 3, 6, 1, 4, 1, 11129, 2, 1, 17];
const SERIAL_NUMBER_OID: &[u64] = &[2, 5, 4, 5];
/// A genuine factory-provisioned chain: its leaf's KeyDescription is reused.
const DONOR: &str = "blueline_sdk28_TEE_EC_NONE";

fn at(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).expect("time")
}

fn named(serial: &str, title: Option<&str>) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CustomDnType(SERIAL_NUMBER_OID.to_vec()), serial);
    if let Some(t) = title {
        dn.push(DnType::CustomDnType(vec![2, 5, 4, 12]), t);
    }
    dn
}

fn ca(dn: DistinguishedName, from: i64, until: i64) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.not_before = at(from);
    p.not_after = at(until);
    p
}

struct Built {
    chain: Vec<Vec<u8>>,
    root_spki: Vec<u8>,
    leaf_spki: Vec<u8>,
}

/// Root → TEE batch certificate ending at `batch_until` → leaf, leaf first.
fn chain(batch_until: i64) -> Built {
    let root_key = KeyPair::from_pem(&read("lapsed/test_only_root_key.pem")).expect("RSA key");
    // 2016-05-26T16:28:52Z, as Google's root.
    let root: Certificate = ca(
        named("f92009e853b6b045", None),
        1_464_280_132,
        GOOGLE_2016_ROOT_ENDED,
    )
    .self_signed(&root_key)
    .expect("root");
    let batch_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("batch key");
    let batch = ca(
        named("87f4514475ba0a2b", Some("TEE")),
        1_464_280_132,
        batch_until,
    )
    .signed_by(&batch_key, &root, &root_key)
    .expect("batch");

    let donor = ders(DONOR);
    let (_, donor_leaf) = X509Certificate::from_der(&donor[0]).expect("donor leaf");
    let kd = donor_leaf
        .extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == "1.3.6.1.4.1.11129.2.1.17")
        .expect("donor KeyDescription")
        .value
        .to_vec();
    let leaf_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("leaf key");
    let mut leaf = CertificateParams::default();
    leaf.distinguished_name = DistinguishedName::new();
    leaf.distinguished_name
        .push(DnType::CommonName, "Android Keystore Key");
    leaf.not_before = at(0);
    leaf.not_after = at(2_461_449_600); // 2048-01-01, as factory leaves
    leaf.custom_extensions = vec![CustomExtension::from_oid_content(KEY_DESCRIPTION_OID, kd)];
    let leaf = leaf.signed_by(&leaf_key, &batch, &batch_key).expect("leaf");
    let spki = |der: &[u8]| {
        let (_, c) = X509Certificate::from_der(der).expect("parses");
        c.public_key().raw.to_vec()
    };
    let chain = vec![
        leaf.der().to_vec(),
        batch.der().to_vec(),
        root.der().to_vec(),
    ];
    Built {
        root_spki: spki(&chain[2]),
        leaf_spki: spki(&chain[0]),
        chain,
    }
}

fn expectations(b: &Built) -> AndroidExpectations {
    let exp: serde_json::Value =
        serde_json::from_str(&read(&format!("android/{DONOR}.json"))).expect("donor JSON");
    let challenge = base64_decode(exp["attestationChallenge"].as_str().expect("challenge"));
    let mut e = AndroidExpectations::strict(challenge, b.leaf_spki.clone(), Vec::new());
    e.allowed_apps = None;
    e.require_locked_bootloader = false;
    e.require_verified_boot = false;
    e
}

fn base64_decode(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .expect("base64")
}

fn pem_of(der: &[u8]) -> String {
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        base64::engine::general_purpose::STANDARD.encode(der)
    )
}

/// A verifier trusting the test root, with the test root's key as the lapsed hierarchy.
fn verifier(b: &Built) -> AndroidVerifier {
    let sha: [u8; 32] = ring::digest::digest(&ring::digest::SHA256, &b.root_spki)
        .as_ref()
        .try_into()
        .expect("32 bytes");
    AndroidVerifier::new(TrustedRoots::from_pem(&pem_of(&b.chain[2])).expect("test root"))
        .with_lapsed_hierarchy(LapsedHierarchy {
            root_spki_sha256: sha,
            ended_at: GOOGLE_2016_ROOT_ENDED,
        })
}

#[test]
fn a_chain_that_ended_with_the_2016_root_is_accepted_with_the_fact_recorded() {
    let b = chain(GOOGLE_2016_ROOT_ENDED);
    let e = expectations(&b);
    let a = verifier(&b)
        .verify(&b.chain, &e, AFTER_THE_END)
        .expect("accepted by default");
    assert_eq!(a.facts, vec![FACT]);
    let assurance = android_assurance(&a);
    assert_eq!(assurance.level, AssuranceLevel::HardwareTee);
    assert_eq!(assurance.facts, vec![FACT]);
    let json = serde_json::to_value(&assurance).expect("json");
    assert_eq!(json["facts"][0], FACT);
}

#[test]
fn the_policy_can_refuse_it() {
    let b = chain(GOOGLE_2016_ROOT_ENDED);
    let mut e = expectations(&b);
    e.accept_expired_google_2016_root = false;
    let refused = verifier(&b)
        .verify(&b.chain, &e, AFTER_THE_END)
        .expect_err("refused");
    assert_eq!(refused.code(), "expired_certificate", "{refused}");
}

#[test]
fn before_the_end_there_is_no_fact() {
    let b = chain(GOOGLE_2016_ROOT_ENDED);
    let a = verifier(&b)
        .verify(&b.chain, &expectations(&b), BEFORE_THE_END)
        .expect("accepted");
    assert!(a.facts.is_empty(), "{:?}", a.facts);
}

#[test]
fn a_certificate_that_ended_before_the_root_stays_expired() {
    // 2025-01-01: a stale certificate, not one the root's end took with it.
    let b = chain(1_735_689_600);
    let refused = verifier(&b)
        .verify(&b.chain, &expectations(&b), AFTER_THE_END)
        .expect_err("stale");
    assert_eq!(refused.code(), "expired_certificate", "{refused}");
}

#[test]
fn only_the_lapsed_roots_key_earns_the_leniency() {
    // The same chain under a verifier whose lapsed hierarchy is Google's (the default): the
    // test root is trusted but is not that root, so its expiry is an expiry.
    let b = chain(GOOGLE_2016_ROOT_ENDED);
    let plain = AndroidVerifier::new(TrustedRoots::from_pem(&pem_of(&b.chain[2])).expect("root"));
    let refused = plain
        .verify(&b.chain, &expectations(&b), AFTER_THE_END)
        .expect_err("refused");
    assert_eq!(refused.code(), "expired_certificate", "{refused}");
}
