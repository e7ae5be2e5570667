//! A phone with a platform key enrolls through the real server: the engine
//! fetches the server's single-use challenge, asks the platform for its
//! attestation (foreign code, no lock held), and the server records what it
//! proved — or refuses it with the precise reason.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use punch_core::{EngineOptions, PunchEngine, PunchError, Signer, SignerError, SoftwareSigner};
use punch_core::{ServerConfig, SyncError};
use punch_model::wire::{DeviceAttestation, ErrorCode};
use punch_server::ServerHandle;
use punch_tests::world::{EMPLOYEE, employer, start_server};

/// A platform key (Keystore / Secure Enclave stand-in) that answers the
/// attestation challenge with whatever the test gives it.
struct PlatformKey {
    key: SoftwareSigner,
    answer: Option<Vec<Vec<u8>>>,
    challenges: Mutex<Vec<Vec<u8>>>,
}

impl Signer for PlatformKey {
    fn public_key_spki(&self) -> Result<Vec<u8>, SignerError> {
        self.key.public_key_spki()
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError> {
        self.key.sign(message)
    }
    fn attestation(&self, challenge: &[u8]) -> Result<Option<DeviceAttestation>, SignerError> {
        self.challenges.lock().unwrap().push(challenge.to_vec());
        Ok(self.answer.clone().map(|chain| DeviceAttestation::Android {
            challenge: challenge.to_vec(),
            certificate_chain: chain,
        }))
    }
}

fn setup(
    answer: Option<Vec<Vec<u8>>>,
) -> (
    tempfile::TempDir,
    ServerHandle,
    punch_server::Admin,
    Arc<PlatformKey>,
    PunchEngine,
) {
    let dir = tempfile::tempdir().unwrap();
    let db = punch_tests::world::server_db(dir.path());
    let admin = employer(&db);
    let server = start_server(&db);
    let key = Arc::new(PlatformKey {
        key: SoftwareSigner::generate().unwrap().0,
        answer,
        challenges: Mutex::new(Vec::new()),
    });
    let engine = PunchEngine::open_with(
        dir.path().join("device.db"),
        EngineOptions {
            signer: Some(key.clone()),
            server: Some(ServerConfig::new(
                &server.base_url(),
                admin.policy_public_key().unwrap(),
            )),
            ..Default::default()
        },
    )
    .unwrap();
    (dir, server, admin, key, engine)
}

#[test]
fn a_platform_key_without_attestation_enrolls_as_software() {
    let (_dir, server, admin, key, engine) = setup(None);
    let code = admin
        .create_enrollment_code(EMPLOYEE, Duration::from_secs(600))
        .unwrap();
    assert_eq!(engine.enroll(&code).unwrap(), EMPLOYEE);
    // The engine asked the platform with the server's fresh 32-byte challenge.
    let asked = key.challenges.lock().unwrap().clone();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].len(), 32);
    let devices = admin.devices().unwrap();
    assert_eq!(devices[0].assurance, "software");
    server.stop();
}

#[test]
fn a_forged_attestation_is_refused_with_its_reason_and_binds_nothing() {
    let pem = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../attest/tests/data/android/caiman_sdk36_SB_EC_RKP.pem"
    ))
    .unwrap();
    // A genuine Pixel chain, for another key and another challenge.
    let chain = der_chain(&pem);
    let (_dir, server, admin, _key, engine) = setup(Some(chain));
    admin
        .set_attestation_config(punch_server::AttestationConfig {
            android_apps: vec!["com.google.android.attestation".into()],
            ..Default::default()
        })
        .unwrap();
    let code = admin
        .create_enrollment_code(EMPLOYEE, Duration::from_secs(600))
        .unwrap();
    let refused = engine.enroll(&code);
    match &refused {
        Err(PunchError::Sync(SyncError::Refused {
            code: Some(ErrorCode::AttestationRefused),
            message,
        })) => assert!(message.contains("attestation refused"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert!(admin.devices().unwrap().is_empty());
    assert_eq!(engine.device().unwrap().employee_id, None);
    server.stop();
}

/// DER certificates from a PEM chain.
fn der_chain(pem: &str) -> Vec<Vec<u8>> {
    use base64::Engine as _;
    pem.split("-----BEGIN CERTIFICATE-----")
        .skip(1)
        .filter_map(|block| block.split("-----END CERTIFICATE-----").next())
        .map(|b64| {
            let clean: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
            base64::engine::general_purpose::STANDARD
                .decode(clean)
                .unwrap()
        })
        .collect()
}
