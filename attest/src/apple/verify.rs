//! Apple App Attest: the steps of Apple's "Validating apps that connect to your server" guide,
//! offline (the receipt is kept, not exchanged).

use asn1_rs::{Oid, oid};
use der::Decode;
use der::asn1::OctetStringRef;
use serde::Serialize;

use crate::apple::auth_data::{AuthData, parse_auth_data};
use crate::apple::object::{AttestationObject, parse_attestation_object};
use crate::chain::verify_chain;
use crate::error::Refusal;
use crate::roots::{TrustAnchor, TrustedRoots};
use crate::x509::{p256_point, parse_cert, sha256};

const OID_APPLE_NONCE: Oid<'static> = oid!(1.2.840.113635.100.8.2);
const AAGUID_PRODUCTION: &[u8; 16] = b"appattest\0\0\0\0\0\0\0";
const AAGUID_DEVELOPMENT: &[u8; 16] = b"appattestdevelop";

/// Which App Attest environment a key was created in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum AppAttestEnvironment {
    /// Apps from the App Store, TestFlight, or enterprise distribution.
    Production,
    /// Development builds (the `com.apple.developer.devicecheck.appattest-environment`
    /// entitlement set to development).
    Development,
}

impl AppAttestEnvironment {
    /// `production` or `development`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    fn from_aaguid(aaguid: &[u8; 16]) -> Option<Self> {
        if aaguid == AAGUID_PRODUCTION {
            Some(AppAttestEnvironment::Production)
        } else if aaguid == AAGUID_DEVELOPMENT {
            Some(AppAttestEnvironment::Development)
        } else {
            None
        }
    }
}

/// What the server expects of an App Attest attestation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppleExpectations {
    /// The bytes the app passed to `attestKey` as clientDataHash (appended to authData as-is).
    /// Normally SHA-256 of the server's challenge (and whatever else the app binds). `None`
    /// skips the nonce check (hand checks only).
    pub client_data_hash: Option<Vec<u8>>,
    /// Allowed app ids, `TEAMID.bundle.id`. `None` skips the RP id check.
    pub app_ids: Option<Vec<String>>,
    /// The environment the server accepts.
    pub environment: AppAttestEnvironment,
    /// The key id the app reported (from `generateKey`), if the server has it.
    pub expected_key_id: Option<[u8; 32]>,
}

impl AppleExpectations {
    /// The production policy: nonce and app id checked, production environment.
    pub fn strict(client_data_hash: Vec<u8>, app_ids: Vec<String>) -> Self {
        AppleExpectations {
            client_data_hash: Some(client_data_hash),
            app_ids: Some(app_ids),
            environment: AppAttestEnvironment::Production,
            expected_key_id: None,
        }
    }

    /// Names of the checks these expectations skip.
    pub fn skipped_checks(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.client_data_hash.is_none() {
            v.push("nonce");
        }
        if self.app_ids.is_none() {
            v.push("app");
        }
        if self.expected_key_id.is_none() {
            v.push("expected_key_id");
        }
        v
    }
}

/// A verified App Attest attestation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppleAttestation {
    /// The app id whose hash matched, if the app was checked.
    pub app_id: Option<String>,
    /// The environment.
    pub environment: AppAttestEnvironment,
    /// Key id: SHA-256 of the credential public key.
    pub key_id: [u8; 32],
    /// The credential public key, uncompressed P-256 point: it verifies later assertions.
    pub credential_public_key: [u8; 65],
    /// The nonce from the credential certificate.
    pub nonce: [u8; 32],
    /// Sign counter (0).
    pub counter: u32,
    /// Apple's receipt, for a later fraud-metric exchange with Apple.
    pub receipt: Vec<u8>,
    /// The root the chain rests on.
    pub root: TrustAnchor,
    /// Checks the expectations skipped.
    pub skipped_checks: Vec<&'static str>,
}

/// Verifies App Attest attestation objects against Apple's root.
#[derive(Clone, Debug)]
pub struct AppleVerifier {
    roots: TrustedRoots,
}

impl Default for AppleVerifier {
    fn default() -> Self {
        AppleVerifier::new(TrustedRoots::apple_app_attest())
    }
}

/// The App Attest nonce extension's value, as Apple's guide gives it:
/// `SEQUENCE { nonce [1] EXPLICIT OCTET STRING }` (strict DER, nothing else inside).
#[derive(der::Sequence)]
struct NonceDer<'a> {
    #[asn1(context_specific = "1")]
    nonce: &'a OctetStringRef,
}

/// The nonce in the credential certificate.
pub(crate) fn certificate_nonce(
    cert: &x509_parser::certificate::X509Certificate<'_>,
) -> Result<[u8; 32], Refusal> {
    let malformed = |d: &str| Refusal::MalformedExtension {
        detail: format!("App Attest nonce: {d}"),
    };
    let ext = cert
        .get_extension_unique(&OID_APPLE_NONCE)
        .map_err(|e| malformed(&e.to_string()))?
        .ok_or(Refusal::MissingExtension {
            index: 0,
            what: "App Attest nonce (1.2.840.113635.100.8.2)",
        })?;
    nonce_of(ext.value).map_err(|d| malformed(&d))
}

/// The 32-byte nonce in the extension's DER value, or what is wrong with it.
fn nonce_of(value: &[u8]) -> Result<[u8; 32], String> {
    let value = NonceDer::from_der(value).map_err(|e| e.to_string())?;
    value
        .nonce
        .as_bytes()
        .try_into()
        .map_err(|_| "nonce is not 32 bytes".to_string())
}

impl AppleVerifier {
    /// A verifier trusting `roots` (use [`TrustedRoots::apple_app_attest`]).
    pub fn new(roots: TrustedRoots) -> Self {
        AppleVerifier { roots }
    }

    /// Verify an attestation object (raw CBOR bytes) as of `at_unix` (seconds).
    pub fn verify(
        &self,
        object: &[u8],
        expect: &AppleExpectations,
        at_unix: i64,
    ) -> Result<AppleAttestation, Refusal> {
        let obj = parse_attestation_object(object)?;
        self.verify_object(&obj, expect, at_unix)
    }

    /// Verify an already decoded attestation object.
    pub fn verify_object(
        &self,
        obj: &AttestationObject,
        expect: &AppleExpectations,
        at_unix: i64,
    ) -> Result<AppleAttestation, Refusal> {
        if obj.fmt != "apple-appattest" {
            return Err(Refusal::WrongFormat {
                found: obj.fmt.clone(),
            });
        }
        // Step 1: the chain, credential certificate first, up to Apple's App Attest root.
        let certs = obj
            .x5c
            .iter()
            .enumerate()
            .map(|(i, d)| parse_cert(d, i))
            .collect::<Result<Vec<_>, _>>()?;
        let Some(cred) = certs.first() else {
            return Err(Refusal::TruncatedChain {
                detail: "x5c is empty".into(),
            });
        };
        // Structure before cryptography, as for Android.
        let auth = parse_auth_data(&obj.auth_data)?;
        let nonce = certificate_nonce(cred)?;
        let anchored = verify_chain(&certs, &self.roots, at_unix, None)?;

        // Steps 2–4: nonce = SHA-256(authData ‖ clientDataHash) is the certificate's nonce.
        if let Some(cdh) = &expect.client_data_hash {
            let mut composite = Vec::with_capacity(obj.auth_data.len() + cdh.len());
            composite.extend_from_slice(&obj.auth_data);
            composite.extend_from_slice(cdh);
            if sha256(&composite) != nonce {
                return Err(Refusal::NonceMismatch);
            }
        }
        // Step 5: key id = SHA-256 of the credential certificate's public key.
        let Some(point) = p256_point(cred.public_key()) else {
            return Err(Refusal::KeyMismatch {
                detail: "credential certificate key is not EC P-256".into(),
            });
        };
        let key_id = sha256(point);
        check_app(&auth, expect)?;
        if auth.counter != 0 {
            return Err(Refusal::BadCounter {
                counter: auth.counter,
            });
        }
        let found = AppAttestEnvironment::from_aaguid(&auth.aaguid);
        if found != Some(expect.environment) {
            return Err(Refusal::WrongEnvironment {
                found: found.map_or_else(
                    || format!("unknown (aaguid {})", hex::encode(auth.aaguid)),
                    |e| e.as_str().to_string(),
                ),
                expected: expect.environment.as_str().into(),
            });
        }
        // Step 9: the credential id is the key id.
        if auth.credential_id != key_id {
            return Err(Refusal::KeyIdMismatch {
                detail: "credential id in authData is not SHA-256 of the certificate's key".into(),
            });
        }
        if let Some(expected) = &expect.expected_key_id
            && *expected != key_id
        {
            return Err(Refusal::KeyIdMismatch {
                detail: "key id differs from the one the app reported".into(),
            });
        }
        if auth.credential_public_key[..] != *point {
            return Err(Refusal::KeyMismatch {
                detail: "COSE credential key in authData differs from the certificate's key".into(),
            });
        }
        let app_id = expect.app_ids.as_ref().and_then(|ids| {
            ids.iter()
                .find(|id| sha256(id.as_bytes()) == auth.rp_id_hash)
                .cloned()
        });
        Ok(AppleAttestation {
            app_id,
            environment: expect.environment,
            key_id,
            credential_public_key: auth.credential_public_key,
            nonce,
            counter: auth.counter,
            receipt: obj.receipt.clone(),
            root: anchored.anchor,
            skipped_checks: expect.skipped_checks(),
        })
    }
}

fn check_app(auth: &AuthData, expect: &AppleExpectations) -> Result<(), Refusal> {
    let Some(ids) = &expect.app_ids else {
        return Ok(());
    };
    if ids
        .iter()
        .any(|id| sha256(id.as_bytes()) == auth.rp_id_hash)
    {
        return Ok(());
    }
    Err(Refusal::RpIdMismatch {
        found: hex::encode(auth.rp_id_hash),
        allowed: ids.join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `SEQUENCE { [1] { OCTET STRING (32 bytes) } }` with `inner` as the [1]'s content.
    fn wrapped(tag: u8, inner: &[u8]) -> Vec<u8> {
        let mut tagged = vec![tag, inner.len() as u8];
        tagged.extend_from_slice(inner);
        let mut seq = vec![0x30, tagged.len() as u8];
        seq.extend_from_slice(&tagged);
        seq
    }

    fn octets(len: usize) -> Vec<u8> {
        let mut v = vec![0x04, len as u8];
        v.extend((0..len).map(|i| i as u8));
        v
    }

    #[test]
    fn the_nonce_is_read_from_its_one_schema_only() {
        let good = wrapped(0xa1, &octets(32));
        let nonce = nonce_of(&good).expect("the schema's encoding");
        assert_eq!(nonce[31], 31);

        let mut trailing = good.clone();
        trailing.push(0);
        let mut extra_inside = octets(32);
        extra_inside.extend_from_slice(&[0x05, 0x00]);
        let mut two_elements = wrapped(0xa1, &octets(32));
        two_elements[1] += 2;
        two_elements.extend_from_slice(&[0x05, 0x00]);
        for (what, bad) in [
            ("another tag number", wrapped(0xa0, &octets(32))),
            ("a primitive [1]", wrapped(0x81, &octets(32))),
            ("31 bytes", wrapped(0xa1, &octets(31))),
            ("an INTEGER inside", wrapped(0xa1, &[0x02, 0x01, 0x01])),
            ("bytes after the sequence", trailing),
            ("bytes after the octets", wrapped(0xa1, &extra_inside)),
            ("a second element", two_elements),
            ("a SET, not a SEQUENCE", {
                let mut v = good.clone();
                v[0] = 0x31;
                v
            }),
            ("nothing", Vec::new()),
        ] {
            assert!(nonce_of(&bad).is_err(), "{what} accepted: {bad:02x?}");
        }
    }
}
