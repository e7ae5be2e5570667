//! A record's personal payload (its evidence and the details of its
//! evaluation) encrypted with AES-256-GCM under a device data key. The rest
//! stays in clear — device, seq, links, kind, times, the decision, the site
//! and attendance — so the signature, the hash chain and every copied column
//! are checked over the exact stored bytes with no key. The server reads the
//! payload with the data key the device escrowed with it at enrollment.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as b64;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};

use crate::ledger::record::{PunchRecord, RecordedEvidence, SealedPayload};
use crate::ledger::signing::sha256;
use crate::rules::evaluate::Evaluation;

#[derive(Serialize, Deserialize)]
struct Payload {
    evidence: RecordedEvidence,
    evaluation: Evaluation,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    #[error("a data key is 32 bytes")]
    KeyLength,
    #[error("no randomness for a nonce or key")]
    Random,
    #[error("sealed under data key {found}, not {expected}")]
    WrongKey { expected: String, found: String },
    #[error("the payload does not decrypt (edited, or another key)")]
    Decrypt,
    #[error("the payload is not base64 or JSON: {0}")]
    Malformed(String),
}

/// A 256-bit data key.
#[derive(Clone)]
pub struct DataKey {
    bytes: [u8; 32],
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DataKey({})", self.id())
    }
}

impl DataKey {
    pub fn generate() -> Result<DataKey, SealError> {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| SealError::Random)?;
        Ok(DataKey { bytes })
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<DataKey, SealError> {
        Ok(DataKey {
            bytes: bytes.try_into().map_err(|_| SealError::KeyLength)?,
        })
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn id(&self) -> String {
        key_id(&self.bytes)
    }

    fn aead(&self) -> Result<LessSafeKey, SealError> {
        Ok(LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &self.bytes).map_err(|_| SealError::KeyLength)?,
        ))
    }

    /// Encrypts `plain` bound to `context` (which record, which use).
    pub fn seal_bytes(&self, context: &[u8], plain: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; 12];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| SealError::Random)?;
        let mut out = plain.to_vec();
        self.aead()?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context),
                &mut out,
            )
            .map_err(|_| SealError::Decrypt)?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&out);
        Ok(sealed)
    }

    pub fn open_bytes(&self, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        if sealed.len() < 12 {
            return Err(SealError::Decrypt);
        }
        let (nonce, body) = sealed.split_at(12);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Decrypt)?;
        let mut buf = body.to_vec();
        let plain = self
            .aead()?
            .open_in_place(nonce, Aad::from(context), &mut buf)
            .map_err(|_| SealError::Decrypt)?;
        Ok(plain.to_vec())
    }
}

/// The id of a raw key (the first 16 hex digits of its SHA-256).
pub fn key_id(bytes: &[u8]) -> String {
    hex::encode(&sha256(bytes)[..8])
}

/// What binds a payload to its record: it cannot be moved to another.
fn record_context(record: &PunchRecord) -> Vec<u8> {
    format!(
        "punch-sealed-v1|{}|{}|{}",
        record.device_id, record.seq, record.punch_id
    )
    .into_bytes()
}

/// Moves the evidence and the evaluation's details into a sealed payload,
/// leaving what the chain and the lists need in clear.
pub fn seal(key: &DataKey, record: &mut PunchRecord) -> Result<(), SealError> {
    let payload = serde_json::to_vec(&Payload {
        evidence: std::mem::take(&mut record.evidence),
        evaluation: record.evaluation.clone(),
    })
    .map_err(|e| SealError::Malformed(e.to_string()))?;
    let sealed = key.seal_bytes(&record_context(record), &payload)?;
    let (nonce, ciphertext) = sealed.split_at(12);
    let e = &mut record.evaluation;
    e.sites.clear();
    e.flags.clear();
    e.nearest_site = None;
    e.reasons.clear();
    record.sealed = Some(SealedPayload {
        key_id: key.id(),
        nonce: b64.encode(nonce),
        ciphertext: b64.encode(ciphertext),
    });
    Ok(())
}

/// The record with its payload decrypted back in place (as it was judged).
/// A record that is not sealed is returned as it is.
pub fn unseal(key: &DataKey, record: &PunchRecord) -> Result<PunchRecord, SealError> {
    let Some(sealed) = &record.sealed else {
        return Ok(record.clone());
    };
    if sealed.key_id != key.id() {
        return Err(SealError::WrongKey {
            expected: key.id(),
            found: sealed.key_id.clone(),
        });
    }
    let bad = |e: String| SealError::Malformed(e);
    let mut bytes = b64.decode(&sealed.nonce).map_err(|e| bad(e.to_string()))?;
    bytes.extend(
        b64.decode(&sealed.ciphertext)
            .map_err(|e| bad(e.to_string()))?,
    );
    let plain = key.open_bytes(&record_context(record), &bytes)?;
    let payload: Payload = serde_json::from_slice(&plain).map_err(|e| bad(e.to_string()))?;
    let mut out = record.clone();
    out.evidence = payload.evidence;
    // The clear decision, site and attendance are the signed ones; the
    // payload's copy must agree, or it was sealed for another verdict.
    let clear = &record.evaluation;
    let inner = &payload.evaluation;
    if inner.decision != clear.decision
        || inner.site_id != clear.site_id
        || inner.policy_version != clear.policy_version
    {
        return Err(SealError::Malformed(
            "the sealed verdict is not the clear one".into(),
        ));
    }
    out.evaluation = payload.evaluation;
    out.sealed = None;
    Ok(out)
}
