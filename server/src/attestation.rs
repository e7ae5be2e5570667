//! Attestation at enrollment: the operator's configuration (which apps, which
//! roots), single-use challenges, and the verification of what a device
//! sends, ending in an assurance level and the facts it rested on. Parsing
//! and cryptography are `punch-attest`'s; this is the server's policy.

use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};

use punch_attest::android::{
    AndroidApp, AndroidExpectations, AndroidVerifier, SecurityLevel, StatusList,
};
use punch_attest::apple::{AppAttestEnvironment, AppleExpectations, AppleVerifier};
use punch_attest::{Refusal, TrustedRoots};
use punch_model::ledger::signing::sha256;
use punch_model::rules::assurance::AssuranceLevel;
use punch_model::wire::{DeviceAttestation, apple_client_data_hash};

use crate::error::{Result, ServerError};
use crate::store::StoreTx;

/// A challenge is answered within minutes (the app generates a key with it).
pub const CHALLENGE_TTL_MS: i64 = 10 * 60 * 1000;
/// Bytes of randomness in a challenge.
pub const CHALLENGE_LEN: usize = 32;
const META_CONFIG: &str = "attestation_config";

/// What the operator allows; kept in the database so every server process
/// reads the same (`punch-server admin attestation-config`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttestationConfig {
    /// Android apps: `package:SHA256,...` (signing-certificate digests, hex or base64).
    pub android_apps: Vec<String>,
    /// Apple apps: `TEAMID.bundle.id`.
    pub apple_app_ids: Vec<String>,
    /// `production` or `development` (App Attest environment accepted).
    pub apple_environment: String,
    pub require_locked_bootloader: bool,
    pub require_verified_boot: bool,
    /// Lowest Android OS patch level accepted, YYYYMM.
    pub min_os_patch_level: Option<u32>,
    /// Google's roots to trust instead of the shipped ones (roots.json or PEM text).
    pub android_roots: Option<String>,
    /// Google's attestation status list (JSON) to refuse revoked certificates.
    pub android_status_list: Option<String>,
    /// Chains from factory-provisioned phones whose certificates ended with
    /// Google's 2016 RSA root (2026-05-24): `accept` (default) enrolls them with
    /// the fact `expired_google_2016_root` in the device's attestation detail,
    /// `refuse` answers `expired_certificate`. See attest/README.md.
    pub expired_google_2016_root: ExpiredRootPolicy,
}

/// What to do with a chain that ended with Google's 2016 RSA hierarchy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpiredRootPolicy {
    /// Enroll, with the fact recorded: the phone is genuine and cannot get
    /// new certificates, and refusing strands it.
    #[default]
    Accept,
    /// Refuse as `expired_certificate`.
    Refuse,
}

impl Default for AttestationConfig {
    fn default() -> Self {
        AttestationConfig {
            android_apps: Vec::new(),
            apple_app_ids: Vec::new(),
            apple_environment: "production".into(),
            require_locked_bootloader: true,
            require_verified_boot: true,
            min_os_patch_level: None,
            android_roots: None,
            android_status_list: None,
            expired_google_2016_root: ExpiredRootPolicy::Accept,
        }
    }
}

impl AttestationConfig {
    pub fn load(tx: &dyn StoreTx) -> Result<AttestationConfig> {
        match tx.meta().get(META_CONFIG)? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| ServerError::Corrupt(format!("attestation config: {e}"))),
            None => Ok(AttestationConfig::default()),
        }
    }

    /// Checks every entry parses before storing: a typo must not surface
    /// only when the first phone enrolls.
    pub fn save(&self, tx: &dyn StoreTx) -> Result<()> {
        self.android_apps()?;
        self.apple_environment()?;
        self.android_verifier()?;
        let bytes = serde_json::to_vec(self).map_err(|e| ServerError::Invalid(e.to_string()))?;
        tx.meta().set(META_CONFIG, &bytes)
    }

    fn android_apps(&self) -> Result<Vec<AndroidApp>> {
        self.android_apps
            .iter()
            .map(|spec| AndroidApp::parse(spec).map_err(|e| ServerError::Invalid(e.to_string())))
            .collect()
    }

    fn apple_environment(&self) -> Result<AppAttestEnvironment> {
        match self.apple_environment.as_str() {
            "production" => Ok(AppAttestEnvironment::Production),
            "development" => Ok(AppAttestEnvironment::Development),
            other => Err(ServerError::Invalid(format!(
                "apple_environment {other:?}: production or development"
            ))),
        }
    }

    fn android_verifier(&self) -> Result<AndroidVerifier> {
        let roots = match &self.android_roots {
            Some(text) => TrustedRoots::from_file_contents(text)
                .map_err(|e| ServerError::Invalid(format!("android roots: {e}")))?,
            None => TrustedRoots::google(),
        };
        let verifier = AndroidVerifier::new(roots);
        Ok(match &self.android_status_list {
            Some(json) => verifier.with_status_list(
                StatusList::from_json(json)
                    .map_err(|e| ServerError::Invalid(format!("status list: {e}")))?,
            ),
            None => verifier,
        })
    }
}

/// A verified attestation: the level and what it rested on (for the admin).
#[derive(Debug, Clone, PartialEq)]
pub struct Proven {
    pub level: AssuranceLevel,
    /// JSON: platform, the facts, the checks skipped.
    pub detail: String,
}

impl Proven {
    /// A device that proved nothing.
    pub fn software() -> Proven {
        Proven {
            level: AssuranceLevel::Software,
            detail: String::new(),
        }
    }
}

/// Why an attestation was refused: a stable code (`untrusted_root`,
/// `challenge_mismatch`, ...), its category (attack or misconfiguration) and words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationFailure {
    pub code: String,
    pub category: String,
    pub message: String,
}

impl From<Refusal> for AttestationFailure {
    fn from(r: Refusal) -> Self {
        AttestationFailure {
            code: r.code().to_string(),
            category: r.category().as_str().to_string(),
            message: r.to_string(),
        }
    }
}

fn config_failure(message: String) -> AttestationFailure {
    AttestationFailure {
        code: "server_misconfigured".into(),
        category: "configuration".into(),
        message,
    }
}

/// Verifies `attestation` for the key `device_spki` as of `at_unix` (seconds):
/// the challenge it answers must be the one the caller checked in the store.
pub fn verify(
    config: &AttestationConfig,
    attestation: &DeviceAttestation,
    device_spki: &[u8],
    at_unix: i64,
) -> std::result::Result<Proven, AttestationFailure> {
    let assurance = match attestation {
        DeviceAttestation::Android {
            challenge,
            certificate_chain,
        } => {
            let apps = config
                .android_apps()
                .map_err(|e| config_failure(e.to_string()))?;
            if apps.is_empty() {
                return Err(config_failure(
                    "no Android app is allowed: set android_apps in the attestation config".into(),
                ));
            }
            let mut expect =
                AndroidExpectations::strict(challenge.clone(), device_spki.to_vec(), apps);
            expect.min_security_level = SecurityLevel::Software;
            expect.require_locked_bootloader = config.require_locked_bootloader;
            expect.require_verified_boot = config.require_verified_boot;
            expect.min_os_patch_level = config.min_os_patch_level;
            expect.accept_expired_google_2016_root =
                config.expired_google_2016_root == ExpiredRootPolicy::Accept;
            let verifier = config
                .android_verifier()
                .map_err(|e| config_failure(e.to_string()))?;
            let verified = verifier.verify(certificate_chain, &expect, at_unix)?;
            if !verified.facts.is_empty() {
                tracing::warn!(facts = ?verified.facts, "android attestation accepted with facts");
            }
            punch_attest::android_assurance(&verified)
        }
        DeviceAttestation::Apple {
            challenge,
            key_id,
            attestation_object,
        } => {
            if config.apple_app_ids.is_empty() {
                return Err(config_failure(
                    "no Apple app is allowed: set apple_app_ids in the attestation config".into(),
                ));
            }
            let key_id: [u8; 32] =
                key_id
                    .as_slice()
                    .try_into()
                    .map_err(|_| AttestationFailure {
                        code: "key_id_mismatch".into(),
                        category: "malformed".into(),
                        message: format!("key_id is {} bytes, not 32", key_id.len()),
                    })?;
            let mut expect = AppleExpectations::strict(
                apple_client_data_hash(challenge, device_spki).to_vec(),
                config.apple_app_ids.clone(),
            );
            expect.environment = config
                .apple_environment()
                .map_err(|e| config_failure(e.to_string()))?;
            expect.expected_key_id = Some(key_id);
            let verified = AppleVerifier::new(TrustedRoots::apple_app_attest()).verify(
                attestation_object,
                &expect,
                at_unix,
            )?;
            punch_attest::apple_assurance(&verified)
        }
    };
    let detail = serde_json::to_string(&assurance).map_err(|e| config_failure(e.to_string()))?;
    Ok(Proven {
        level: assurance.level,
        detail,
    })
}

/// A fresh random challenge.
pub fn new_challenge() -> Result<Vec<u8>> {
    let mut bytes = vec![0u8; CHALLENGE_LEN];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ServerError::Crypto("system random failed".into()))?;
    Ok(bytes)
}

/// How challenges are kept: only their hash (they are not secret, but the
/// table needs no more).
pub fn challenge_hash(challenge: &[u8]) -> String {
    hex::encode(sha256(challenge))
}
