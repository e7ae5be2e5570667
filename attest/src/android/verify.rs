//! Android Key Attestation: the chain checks, then the server's policy on the KeyDescription.

use base64::Engine as _;

use crate::android::chain::{check_extension_placement, leaf_key_description, parse_chain};
use crate::android::key_description::{KeyDescription, SecurityLevel, VerifiedBootState};
use crate::android::lapsed::LapsedHierarchy;
use crate::android::status_list::StatusList;
use crate::chain::verify_chain;
use crate::error::{ConfigError, Refusal};
use crate::roots::{TrustAnchor, TrustedRoots};
use crate::x509::{p256_point, parse_spki, serial_hex};

/// An app allowed to enroll keys: package name and the SHA-256 digests of its signing
/// certificates (what `apksigner verify --print-certs` calls "SHA-256 digest").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AndroidApp {
    /// Package name, e.g. `com.example.punch`.
    pub package_name: String,
    /// Allowed signing-certificate digests. Empty means "any signer": only for checking a chain
    /// by hand, never for a production allowlist (anyone can sign an app with that name).
    pub signature_digests: Vec<[u8; 32]>,
}

impl AndroidApp {
    /// An app with its signer digests.
    pub fn new(package_name: impl Into<String>, signature_digests: Vec<[u8; 32]>) -> Self {
        AndroidApp {
            package_name: package_name.into(),
            signature_digests,
        }
    }

    /// Parse `package` or `package:DIGEST[,DIGEST...]`, each digest SHA-256 as hex (colons
    /// allowed, as apksigner prints them) or base64 (as Google's JSON writes them).
    pub fn parse(spec: &str) -> Result<Self, ConfigError> {
        let (name, digests) = match spec.split_once(':') {
            Some((n, d)) => (n, Some(d)),
            None => (spec, None),
        };
        if name.is_empty() || name.len() > 256 || name.chars().any(|c| c.is_whitespace()) {
            return Err(ConfigError::AppId(format!("bad package name in {spec:?}")));
        }
        let mut out = Vec::new();
        for d in digests.into_iter().flat_map(|d| d.split(',')) {
            let hexed: String = d.chars().filter(|c| *c != ':').collect();
            let bytes = hex::decode(&hexed)
                .ok()
                .or_else(|| base64::engine::general_purpose::STANDARD.decode(d).ok())
                .ok_or_else(|| {
                    ConfigError::AppId(format!("digest {d:?} is neither hex nor base64"))
                })?;
            let arr: [u8; 32] = bytes
                .try_into()
                .map_err(|_| ConfigError::AppId(format!("digest {d:?} is not 32 bytes")))?;
            out.push(arr);
        }
        Ok(AndroidApp::new(name, out))
    }
}

/// What the server expects of an Android attestation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AndroidExpectations {
    /// The challenge the server issued for this enrollment. `None` skips the check (hand checks
    /// only: without it an old attestation can be replayed).
    pub challenge: Option<Vec<u8>>,
    /// The key being enrolled, as P-256 SubjectPublicKeyInfo DER. `None` skips the check.
    pub attested_key_spki: Option<Vec<u8>>,
    /// Allowed apps. `None` skips the check.
    pub allowed_apps: Option<Vec<AndroidApp>>,
    /// Lowest acceptable security level, for both the key and the attestation.
    pub min_security_level: SecurityLevel,
    /// Refuse unlocked bootloaders.
    pub require_locked_bootloader: bool,
    /// Refuse any verified boot state but VERIFIED.
    pub require_verified_boot: bool,
    /// Lowest acceptable OS patch level, YYYYMM (e.g. 202401).
    pub min_os_patch_level: Option<u32>,
    /// Accept a chain whose only fault is certificates that ended with Google's 2016 RSA
    /// hierarchy (factory-provisioned phones, see [`crate::android::lapsed`]), recording the
    /// fact; false refuses it as `expired_certificate`.
    pub accept_expired_google_2016_root: bool,
}

impl AndroidExpectations {
    /// The production policy: challenge, key and app all checked; a TEE or better; locked,
    /// verified boot.
    pub fn strict(challenge: Vec<u8>, attested_key_spki: Vec<u8>, apps: Vec<AndroidApp>) -> Self {
        AndroidExpectations {
            challenge: Some(challenge),
            attested_key_spki: Some(attested_key_spki),
            allowed_apps: Some(apps),
            min_security_level: SecurityLevel::TrustedEnvironment,
            require_locked_bootloader: true,
            require_verified_boot: true,
            min_os_patch_level: None,
            accept_expired_google_2016_root: true,
        }
    }

    /// Check the chain and the hardware only (CLI hand checks): nothing server-issued compared,
    /// no device policy.
    pub fn inspect_only() -> Self {
        AndroidExpectations {
            challenge: None,
            attested_key_spki: None,
            allowed_apps: None,
            min_security_level: SecurityLevel::Software,
            require_locked_bootloader: false,
            require_verified_boot: false,
            min_os_patch_level: None,
            accept_expired_google_2016_root: true,
        }
    }

    /// Names of the checks these expectations skip, for honest reports.
    pub fn skipped_checks(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.challenge.is_none() {
            v.push("challenge");
        }
        if self.attested_key_spki.is_none() {
            v.push("attested_key");
        }
        if self.allowed_apps.is_none() {
            v.push("app");
        }
        if !self.require_locked_bootloader {
            v.push("locked_bootloader");
        }
        if !self.require_verified_boot {
            v.push("verified_boot");
        }
        v
    }
}

/// A verified Android attestation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AndroidAttestation {
    /// The leaf's KeyDescription.
    pub key_description: KeyDescription,
    /// The attested key (leaf SubjectPublicKeyInfo DER).
    pub attested_key_spki: Vec<u8>,
    /// The root the chain rests on.
    pub root: TrustAnchor,
    /// Number of certificates given (including any copy of the root).
    pub chain_len: usize,
    /// The allowlisted package that matched, if the app was checked.
    pub matched_package: Option<String>,
    /// Whether the matched app entry pinned signer digests.
    pub signer_checked: bool,
    /// Checks the expectations skipped.
    pub skipped_checks: Vec<&'static str>,
    /// Facts a reviewer should see beside the level (e.g. [`crate::android::lapsed::FACT`]).
    pub facts: Vec<&'static str>,
}

impl AndroidAttestation {
    /// The weaker of the two security levels: where the key lives and who vouched for it.
    pub fn effective_security_level(&self) -> SecurityLevel {
        self.key_description
            .attestation_security_level
            .min(self.key_description.keymint_security_level)
    }
}

/// Verifies Android Key Attestation chains against a root set and an optional status list.
#[derive(Clone, Debug)]
pub struct AndroidVerifier {
    roots: TrustedRoots,
    status_list: Option<StatusList>,
    lapsed: LapsedHierarchy,
}

impl Default for AndroidVerifier {
    fn default() -> Self {
        AndroidVerifier::new(TrustedRoots::google())
    }
}

impl AndroidVerifier {
    /// A verifier trusting `roots` (use [`TrustedRoots::google`] for Google's shipped roots).
    pub fn new(roots: TrustedRoots) -> Self {
        AndroidVerifier {
            roots,
            status_list: None,
            lapsed: LapsedHierarchy::google_2016(),
        }
    }

    /// Treat `lapsed` as the ended hierarchy instead of Google's 2016 one (tests, which cannot
    /// hold Google's key, and an operator's own roots).
    pub fn with_lapsed_hierarchy(mut self, lapsed: LapsedHierarchy) -> Self {
        self.lapsed = lapsed;
        self
    }

    /// Also refuse certificates listed on this attestation status list.
    pub fn with_status_list(mut self, list: StatusList) -> Self {
        self.status_list = Some(list);
        self
    }

    /// The trusted roots.
    pub fn roots(&self) -> &TrustedRoots {
        &self.roots
    }

    /// Verify a PEM chain (leaf first).
    pub fn verify_pem(
        &self,
        pem: &str,
        expect: &AndroidExpectations,
        at_unix: i64,
    ) -> Result<AndroidAttestation, Refusal> {
        let ders = crate::x509::parse_pem_chain(pem)?;
        self.verify(&ders, expect, at_unix)
    }

    /// Verify a DER chain (leaf first) as of `at_unix` (seconds).
    pub fn verify<D: AsRef<[u8]>>(
        &self,
        chain: &[D],
        expect: &AndroidExpectations,
        at_unix: i64,
    ) -> Result<AndroidAttestation, Refusal> {
        // Structure first: the certificates and the leaf's KeyDescription must parse.
        let certs = parse_chain(chain)?;
        let kd = leaf_key_description(&certs)?;
        let anchored = verify_chain(&certs, &self.roots, at_unix, Some(&self.lapsed))?;
        let mut facts = Vec::new();
        if let Some(expired) = anchored.lapsed {
            if !expect.accept_expired_google_2016_root {
                return Err(expired);
            }
            facts.push(crate::android::lapsed::FACT);
        }
        if let Some(list) = &self.status_list {
            for (i, cert) in certs.iter().enumerate() {
                let serial = serial_hex(cert);
                if let Some(entry) = list.lookup(&serial) {
                    return Err(Refusal::Revoked {
                        index: i,
                        serial,
                        status: entry.status.clone(),
                        reason: entry.reason.clone(),
                    });
                }
            }
        }
        check_extension_placement(&certs)?;
        let Some(leaf) = certs.first() else {
            return Err(Refusal::TruncatedChain {
                detail: "no certificate".into(),
            });
        };
        let leaf_spki = leaf.public_key();

        if let Some(challenge) = &expect.challenge
            && kd.attestation_challenge != *challenge
        {
            return Err(Refusal::ChallengeMismatch);
        }
        if let Some(expected) = &expect.attested_key_spki {
            check_key(leaf_spki, expected)?;
        }
        let level = kd.attestation_security_level.min(kd.keymint_security_level);
        if level < expect.min_security_level {
            return Err(Refusal::SoftwareOnlyKey {
                found: kd.keymint_security_level.as_str().into(),
                attestation: kd.attestation_security_level.as_str().into(),
                required: expect.min_security_level.as_str().into(),
            });
        }
        check_boot(&kd, expect)?;
        if let Some(min) = expect.min_os_patch_level {
            let found = kd.hardware_enforced.os_patch_level();
            if found.is_none_or(|f| f < u64::from(min)) {
                return Err(Refusal::OutdatedPatchLevel {
                    found: found.map_or_else(|| "absent".into(), |f| f.to_string()),
                    required: min,
                });
            }
        }
        let (matched_package, signer_checked) = match &expect.allowed_apps {
            Some(apps) => {
                let (name, pinned) = check_app(&kd, apps)?;
                (Some(name), pinned)
            }
            None => (None, false),
        };
        Ok(AndroidAttestation {
            attested_key_spki: leaf_spki.raw.to_vec(),
            key_description: kd,
            root: anchored.anchor,
            chain_len: certs.len(),
            matched_package,
            signer_checked,
            skipped_checks: expect.skipped_checks(),
            facts,
        })
    }
}

fn check_key(
    leaf: &x509_parser::x509::SubjectPublicKeyInfo<'_>,
    expected_der: &[u8],
) -> Result<(), Refusal> {
    let Some(expected) = parse_spki(expected_der) else {
        return Err(Refusal::KeyMismatch {
            detail: "expected key is not a SubjectPublicKeyInfo".into(),
        });
    };
    let Some(expected_point) = p256_point(&expected) else {
        return Err(Refusal::KeyMismatch {
            detail: "expected key is not an EC P-256 key".into(),
        });
    };
    match p256_point(leaf) {
        None => Err(Refusal::KeyMismatch {
            detail: "attested key is not an EC P-256 key".into(),
        }),
        Some(p) if p != expected_point => Err(Refusal::KeyMismatch {
            detail: "attested key is a different P-256 key".into(),
        }),
        Some(_) => Ok(()),
    }
}

fn check_boot(kd: &KeyDescription, expect: &AndroidExpectations) -> Result<(), Refusal> {
    if !expect.require_locked_bootloader && !expect.require_verified_boot {
        return Ok(());
    }
    // Only the secure hardware's word counts: a rootOfTrust in softwareEnforced is the OS
    // vouching for itself.
    let Some(rot) = kd.hardware_enforced.root_of_trust() else {
        return Err(if expect.require_locked_bootloader {
            Refusal::UnlockedBootloader {
                detail: "no hardware-enforced root of trust".into(),
            }
        } else {
            Refusal::UnverifiedBoot {
                state: "absent".into(),
            }
        });
    };
    if expect.require_locked_bootloader && !rot.device_locked {
        return Err(Refusal::UnlockedBootloader {
            detail: format!(
                "deviceLocked false, verified boot {}",
                rot.verified_boot_state.as_str()
            ),
        });
    }
    if expect.require_verified_boot && rot.verified_boot_state != VerifiedBootState::Verified {
        return Err(Refusal::UnverifiedBoot {
            state: rot.verified_boot_state.as_str().into(),
        });
    }
    Ok(())
}

fn check_app(kd: &KeyDescription, apps: &[AndroidApp]) -> Result<(String, bool), Refusal> {
    let b64 = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
    // attestationApplicationId is filled in by the Android framework: it is in softwareEnforced
    // on every device (hardware cannot know package names).
    let Some(app_id) = kd
        .software_enforced
        .attestation_application_id()
        .or_else(|| kd.hardware_enforced.attestation_application_id())
    else {
        return Err(Refusal::UnknownApp {
            detail: "the attestation names no application".into(),
        });
    };
    for app in apps {
        if !app_id.packages.iter().any(|p| p.name == app.package_name) {
            continue;
        }
        if app.signature_digests.is_empty() {
            return Ok((app.package_name.clone(), false));
        }
        // Every signer the device reports must be one we know (all packages of a shared UID
        // have the same signer, so one unknown digest means another signer).
        let all_known = !app_id.signature_digests.is_empty()
            && app_id.signature_digests.iter().all(|d| {
                app.signature_digests
                    .iter()
                    .any(|a| a.as_slice() == d.as_slice())
            });
        if all_known {
            return Ok((app.package_name.clone(), true));
        }
    }
    let packages: Vec<&str> = app_id.packages.iter().map(|p| p.name.as_str()).collect();
    let digests: Vec<String> = app_id.signature_digests.iter().map(|d| b64(d)).collect();
    Err(Refusal::UnknownApp {
        detail: format!(
            "attested packages {packages:?} signed by {digests:?} (SHA-256, base64) match no \
             allowlist entry"
        ),
    })
}
