//! The WebAuthn side of the browser punch, on webauthn-rs: registering a
//! passkey (with an enrollment code) and the assertion a punch is bound to.
//!
//! The punch's challenge is `nonce || SHA-256(committed content)`:
//! webauthn-rs draws the 32-byte nonce, and the content (employee, device,
//! kind, client time, location) is the punch the employee confirms; its
//! location is committed to as a salted hash ([`PunchContent::committed`]),
//! so a record that keeps less than the exact location (the policy's
//! minimisation, `ledger::minimise`, as for phones) still verifies. The same
//! bytes go into the options the browser signs and the ceremony state the
//! server keeps, so webauthn-rs's own check of the challenge checks the
//! content too. The state, the assertion and the location's hash are stored
//! with the record (no content: it is rebuilt from the record, so erasing or
//! purging the record's bytes leaves no location behind; the salt is kept
//! only while the record keeps the exact location): [`verify_record`] runs
//! the same verification again.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use punch_model::ledger::signing;
use punch_model::rules::evidence::GpsFix;
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    COSEAlgorithm, COSEKeyType, CreationChallengeResponse, ECDSACurve, Passkey,
    PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse, Url, Uuid, Webauthn, WebauthnBuilder,
};

use crate::error::{Result, ServerError};

/// What a browser punch asserts: the employee confirms exactly this.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PunchContent {
    pub employee_id: String,
    pub device_id: String,
    pub kind: punch_model::rules::punch_kind::PunchKind,
    /// The browser's clock (UTC ms) and its UTC offset.
    pub client_time_ms: i64,
    pub utc_offset_min: i32,
    /// The browser's geolocation, where the employee allowed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<BrowserFix>,
    /// Random (hex, drawn by the server with the location): without it the
    /// location's hash could be tested against guessed places.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_salt: Option<String>,
}

/// What the challenge hashes: the content with its location as
/// [`location_hash`] (fields in this order; no location, no field).
#[derive(Serialize)]
struct Committed<'a> {
    employee_id: &'a str,
    device_id: &'a str,
    kind: punch_model::rules::punch_kind::PunchKind,
    client_time_ms: i64,
    utc_offset_min: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<&'a str>,
}

impl Committed<'_> {
    fn bytes(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(self).map_err(|e| ServerError::Corrupt(format!("punch content: {e}")))
    }
}

/// Hex SHA-256 of the salted fix's JSON.
pub fn location_hash(salt: &str, fix: &BrowserFix) -> Result<String> {
    #[derive(Serialize)]
    struct Salted<'a> {
        salt: &'a str,
        fix: &'a BrowserFix,
    }
    let bytes = serde_json::to_vec(&Salted { salt, fix })
        .map_err(|e| ServerError::Corrupt(format!("location: {e}")))?;
    Ok(hex::encode(signing::sha256(&bytes)))
}

/// A fix from the Geolocation API.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BrowserFix {
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: f64,
    /// When the browser took it (UTC ms); the client time when absent
    /// (the server fills it in before the content is committed to).
    #[serde(default)]
    pub fix_time_ms: Option<i64>,
}

impl BrowserFix {
    /// As the phones' rules take a fix (taken at `client_time_ms` unless
    /// the browser stamped it).
    pub fn gps(&self, client_time_ms: i64) -> GpsFix {
        GpsFix {
            lat: self.lat,
            lon: self.lon,
            accuracy_m: self.accuracy_m,
            fix_time_ms: self.fix_time_ms.unwrap_or(client_time_ms),
            provider: "browser".into(),
            is_mock: false,
            speed_mps: None,
            elapsed_realtime_ms: None,
            reduced_accuracy: false,
            external_receiver: false,
        }
    }
}

impl PunchContent {
    /// The content as the ceremony keeps it (exact, with its salt).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(self).map_err(|e| ServerError::Corrupt(format!("punch content: {e}")))
    }

    /// The hash of its salted location, if it has one.
    pub fn location_hash(&self) -> Result<Option<String>> {
        self.location
            .as_ref()
            .map(|fix| location_hash(self.location_salt.as_deref().unwrap_or_default(), fix))
            .transpose()
    }

    /// The bytes the challenge commits to.
    pub fn committed(&self) -> Result<Vec<u8>> {
        let location = self.location_hash()?;
        Committed {
            employee_id: &self.employee_id,
            device_id: &self.device_id,
            kind: self.kind,
            client_time_ms: self.client_time_ms,
            utc_offset_min: self.utc_offset_min,
            location: location.as_deref(),
        }
        .bytes()
    }
}

/// What is stored in a browser record's `signature` column: everything
/// needed to verify the assertion again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredAssertion {
    /// Always `webauthn`: tells this apart from a phone's DER signature.
    pub scheme: String,
    /// The origin the assertion was verified for (the relying party).
    pub origin: Url,
    /// The ceremony state (challenge, allowed credential with its key).
    pub state: PasskeyAuthentication,
    /// The browser's answer: credential id, authenticatorData,
    /// clientDataJSON, signature.
    pub credential: PublicKeyCredential,
    /// [`location_hash`] of the exact location the passkey signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Its salt: kept only while the record keeps that exact location (a
    /// minimised record's location is never tested against the hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_salt: Option<String>,
}

pub const SCHEME: &str = "webauthn";

/// The relying party for `origin` (its host is the passkeys' RP id).
pub fn relying_party(origin: &Url) -> Result<Webauthn> {
    let rp_id = origin
        .host_str()
        .ok_or_else(|| ServerError::Config(format!("public origin {origin} has no host")))?;
    WebauthnBuilder::new(rp_id, origin)
        .and_then(|b| b.rp_name("punch core").build())
        .map_err(|e| ServerError::Config(format!("public origin {origin}: {e}")))
}

/// A stable WebAuthn user handle for an employee (not their id in clear).
fn user_handle(employee_id: &str) -> Uuid {
    let digest = signing::sha256(employee_id.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(bytes)
}

/// Registration options (ES256 only: the key must be a P-256 key like a
/// phone's, so the record's device row holds an SPKI), and the state kept.
pub fn start_registration(
    rp: &Webauthn,
    employee_id: &str,
    display_name: &str,
    existing: Vec<Passkey>,
) -> Result<(CreationChallengeResponse, String)> {
    let exclude = Some(existing.iter().map(|p| p.cred_id().clone()).collect());
    let (mut options, state) = rp
        .start_passkey_registration(user_handle(employee_id), employee_id, display_name, exclude)
        .map_err(|e| ServerError::Crypto(format!("passkey registration: {e}")))?;
    options
        .public_key
        .pub_key_cred_params
        .retain(|p| p.alg == COSEAlgorithm::ES256 as i64);
    Ok((options, to_json(&state)?))
}

/// A refused ceremony answer (the browser's, not a server fault).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// The registered passkey and its P-256 key as SPKI DER.
pub fn finish_registration(
    rp: &Webauthn,
    state: &str,
    credential: &RegisterPublicKeyCredential,
) -> Result<std::result::Result<(Passkey, Vec<u8>), Refused>> {
    let state: PasskeyRegistration = from_json(state)?;
    let passkey = match rp.finish_passkey_registration(credential, &state) {
        Ok(p) => p,
        Err(e) => return Ok(Err(Refused(format!("registration does not verify: {e}")))),
    };
    match spki(&passkey) {
        Some(spki) => Ok(Ok((passkey, spki))),
        None => Ok(Err(Refused(
            "the passkey is not a P-256 (ES256) key".into(),
        ))),
    }
}

/// A P-256 key's SubjectPublicKeyInfo DER (91 bytes), as phones' keys are kept.
fn spki(passkey: &Passkey) -> Option<Vec<u8>> {
    const P256_SPKI_PREFIX: [u8; 26] = [
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
        0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];
    let COSEKeyType::EC_EC2(key) = &passkey.get_public_key().key else {
        return None;
    };
    if key.curve != ECDSACurve::SECP256R1 || key.x.len() != 32 || key.y.len() != 32 {
        return None;
    }
    let mut out = P256_SPKI_PREFIX.to_vec();
    out.push(0x04);
    out.extend_from_slice(&key.x);
    out.extend_from_slice(&key.y);
    let valid = signing::point_from_public_key(&out).is_ok();
    valid.then_some(out)
}

/// Assertion options for `passkey` whose challenge commits to `content`,
/// and the state kept (with that challenge).
pub fn start_punch(
    rp: &Webauthn,
    passkey: &Passkey,
    content: &[u8],
) -> Result<(RequestChallengeResponse, String)> {
    let (mut options, state) = rp
        .start_passkey_authentication(std::slice::from_ref(passkey))
        .map_err(|e| ServerError::Crypto(format!("passkey authentication: {e}")))?;
    let mut challenge = options.public_key.challenge.to_vec();
    challenge.extend_from_slice(&signing::sha256(content));
    let mut state = serde_json::to_value(&state)
        .map_err(|e| ServerError::Corrupt(format!("passkey state: {e}")))?;
    let slot = state
        .get_mut("ast")
        .and_then(|ast| ast.get_mut("challenge"))
        .ok_or_else(|| ServerError::Corrupt("passkey state has no challenge".into()))?;
    *slot = serde_json::Value::String(URL_SAFE_NO_PAD.encode(&challenge));
    options.public_key.challenge = challenge;
    Ok((options, state.to_string()))
}

/// Verifies the browser's assertion against the kept state; on success
/// the passkey's counter moves. Returns what to store with the record.
pub fn finish_punch(
    rp: &Webauthn,
    state: &str,
    passkey: &mut Passkey,
    credential: PublicKeyCredential,
) -> Result<std::result::Result<StoredAssertion, Refused>> {
    let state: PasskeyAuthentication = from_json(state)?;
    let result = match rp.finish_passkey_authentication(&credential, &state) {
        Ok(result) => result,
        Err(e) => return Ok(Err(Refused(format!("the assertion does not verify: {e}")))),
    };
    if result.cred_id() != passkey.cred_id() {
        return Ok(Err(Refused("the assertion is from another passkey".into())));
    }
    passkey.update_credential(&result);
    Ok(Ok(StoredAssertion {
        scheme: SCHEME.into(),
        origin: rp
            .get_allowed_origins()
            .first()
            .cloned()
            .ok_or_else(|| ServerError::Config("the relying party has no origin".into()))?,
        state,
        credential,
        location: None,
        location_salt: None,
    }))
}

/// Checks a stored browser record against its assertion: the record's
/// content (who, which passkey, what, when, where) hashes into the
/// challenge, and webauthn-rs verifies the signature, origin and challenge
/// as it did at the punch.
pub fn verify_record(record: &[u8], signature: &[u8]) -> std::result::Result<(), Refused> {
    let stored: StoredAssertion = serde_json::from_slice(signature)
        .map_err(|e| Refused(format!("not a stored assertion: {e}")))?;
    if stored.scheme != SCHEME {
        return Err(Refused(format!("unknown scheme {:?}", stored.scheme)));
    }
    let record = punch_model::ledger::record::PunchRecord::from_bytes(record)
        .map_err(|e| Refused(format!("record: {e}")))?;
    let failed = |e: ServerError| Refused(e.to_string());
    // An exact location must be the one signed; a minimised one was
    // derived by the server from it and counts by the hash kept.
    let location = match (&record.evidence.gps, &record.evidence.precision) {
        (Some(fix), None) => {
            let fix = BrowserFix {
                lat: fix.point.lat,
                lon: fix.point.lon,
                accuracy_m: fix.accuracy_m,
                fix_time_ms: Some(fix.fix_time_ms),
            };
            let salt = stored.location_salt.as_deref().unwrap_or_default();
            let hash = location_hash(salt, &fix).map_err(failed)?;
            if stored.location.as_deref() != Some(hash.as_str()) {
                return Err(Refused(
                    "the record's location is not the one the passkey signed".into(),
                ));
            }
            Some(hash)
        }
        (None, None) => None,
        (_, Some(_)) => stored.location.clone(),
    };
    let content = Committed {
        employee_id: &record.employee_id,
        device_id: &record.device_id,
        kind: record.kind,
        client_time_ms: record.wall_time_ms,
        utc_offset_min: record.utc_offset_min,
        location: location.as_deref(),
    }
    .bytes()
    .map_err(failed)?;
    let state = serde_json::to_value(&stored.state).map_err(|e| Refused(e.to_string()))?;
    let challenge = state["ast"]["challenge"]
        .as_str()
        .and_then(|c| URL_SAFE_NO_PAD.decode(c).ok())
        .ok_or_else(|| Refused("the state holds no challenge".into()))?;
    if challenge.len() != 64 || challenge[32..] != signing::sha256(&content)[..] {
        return Err(Refused(
            "the record is not the content the passkey signed".into(),
        ));
    }
    let rp = relying_party(&stored.origin).map_err(|e| Refused(e.to_string()))?;
    rp.finish_passkey_authentication(&stored.credential, &stored.state)
        .map_err(|e| Refused(format!("the assertion does not verify: {e}")))?;
    Ok(())
}

pub fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| ServerError::Corrupt(format!("passkey JSON: {e}")))
}

pub fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| ServerError::Corrupt(format!("passkey JSON: {e}")))
}
