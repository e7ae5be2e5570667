//! How much a verified attestation proves, as one ordered level a policy can compare.

use serde::Serialize;

use crate::android::{AndroidAttestation, SecurityLevel};
use crate::apple::AppleAttestation;

/// Assurance of a device key, weakest first (one definition, shared with
/// policies: `punch_model::rules::assurance`).
pub use punch_model::rules::assurance::AssuranceLevel;

/// A level and the facts it rests on, for audit logs and the admin UI.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Assurance {
    /// The level.
    pub level: AssuranceLevel,
    /// `android` or `apple`.
    pub platform: &'static str,
    /// Each fact the level rests on, in words.
    pub rested_on: Vec<String>,
    /// Checks that were skipped (a hand check, not an enrollment).
    pub skipped_checks: Vec<&'static str>,
    /// Facts a reviewer should see (`expired_google_2016_root`); empty for most devices.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub facts: Vec<&'static str>,
}

/// The assurance of a verified Android attestation.
pub fn android_assurance(a: &AndroidAttestation) -> Assurance {
    let kd = &a.key_description;
    let level = match a.effective_security_level() {
        SecurityLevel::Software => AssuranceLevel::Software,
        SecurityLevel::TrustedEnvironment => AssuranceLevel::HardwareTee,
        SecurityLevel::StrongBox => AssuranceLevel::HardwareStrongbox,
    };
    let mut rested_on = vec![
        format!(
            "chain of {} certificates verified to trusted root {:?} (public key SHA-256 {})",
            a.chain_len,
            a.root.subject,
            a.root.spki_sha256_hex()
        ),
        format!(
            "key held at {}, attestation signed at {} (attestation version {})",
            kd.keymint_security_level.as_str(),
            kd.attestation_security_level.as_str(),
            kd.attestation_version
        ),
    ];
    if let Some(rot) = kd.hardware_enforced.root_of_trust() {
        rested_on.push(format!(
            "bootloader {}, verified boot {}",
            if rot.device_locked {
                "locked"
            } else {
                "unlocked"
            },
            rot.verified_boot_state.as_str()
        ));
    }
    if let Some(p) = kd.hardware_enforced.os_patch_level() {
        rested_on.push(format!("OS patch level {p}"));
    }
    if let Some(pkg) = &a.matched_package {
        rested_on.push(if a.signer_checked {
            format!("app {pkg} signed by an allowlisted certificate")
        } else {
            format!("app {pkg} (signer not checked)")
        });
    }
    if !a.skipped_checks.contains(&"challenge") {
        rested_on.push("challenge matched the server's".into());
    }
    if !a.skipped_checks.contains(&"attested_key") {
        rested_on.push("attested key is the enrolled key".into());
    }
    if a.facts.contains(&crate::android::lapsed::FACT) {
        rested_on.push(
            "certificates that ended with Google's 2016 RSA root (2026-05-24), accepted by policy"
                .into(),
        );
    }
    Assurance {
        level,
        platform: "android",
        rested_on,
        skipped_checks: a.skipped_checks.clone(),
        facts: a.facts.clone(),
    }
}

/// The assurance of a verified App Attest attestation.
pub fn apple_assurance(a: &AppleAttestation) -> Assurance {
    let mut rested_on = vec![
        format!(
            "credential certificate verified to Apple root {:?} (public key SHA-256 {})",
            a.root.subject,
            a.root.spki_sha256_hex()
        ),
        format!(
            "{} environment, counter {}",
            a.environment.as_str(),
            a.counter
        ),
        format!("key id {}", hex::encode(a.key_id)),
    ];
    if let Some(id) = &a.app_id {
        rested_on.push(format!("app id {id}"));
    }
    if !a.skipped_checks.contains(&"nonce") {
        rested_on.push("nonce binds the server's client data hash".into());
    }
    Assurance {
        level: AssuranceLevel::AttestedApp,
        platform: "apple",
        rested_on,
        skipped_checks: a.skipped_checks.clone(),
        facts: Vec::new(),
    }
}
