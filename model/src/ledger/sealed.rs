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

use crate::ledger::event::{ChainEvent, EventRecord};
use crate::ledger::record::{PunchRecord, RecordedEvidence, SealedPayload};
use crate::ledger::refused::RefusedPunch;
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

/// What binds a refused attempt's payload to its event: distinct from a
/// punch's, so a payload cannot pass for the other kind either.
fn refused_context(record: &EventRecord) -> Vec<u8> {
    format!(
        "refused-sealed-v1|{}|{}|{}",
        record.device_id, record.seq, record.event_id
    )
    .into_bytes()
}

/// Encrypts the evidence and the evaluation's details under `context`,
/// leaving the verdict (decision, site, policy version, attendance) in clear.
fn seal_judged(
    key: &DataKey,
    context: &[u8],
    evidence: &mut RecordedEvidence,
    evaluation: &mut Evaluation,
) -> Result<SealedPayload, SealError> {
    let payload = serde_json::to_vec(&Payload {
        evidence: std::mem::take(evidence),
        evaluation: evaluation.clone(),
    })
    .map_err(|e| SealError::Malformed(e.to_string()))?;
    let sealed = key.seal_bytes(context, &payload)?;
    let (nonce, ciphertext) = sealed.split_at(12);
    evaluation.sites.clear();
    evaluation.flags.clear();
    evaluation.nearest_site = None;
    evaluation.reasons.clear();
    Ok(SealedPayload {
        key_id: key.id(),
        nonce: b64.encode(nonce),
        ciphertext: b64.encode(ciphertext),
    })
}

/// The evidence and evaluation a payload holds, checked against the clear
/// verdict it was sealed with.
fn open_judged(
    key: &DataKey,
    context: &[u8],
    sealed: &SealedPayload,
    clear: &Evaluation,
) -> Result<(RecordedEvidence, Evaluation), SealError> {
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
    let plain = key.open_bytes(context, &bytes)?;
    let payload: Payload = serde_json::from_slice(&plain).map_err(|e| bad(e.to_string()))?;
    // The clear decision, site and attendance are the signed ones; the
    // payload's copy must agree, or it was sealed for another verdict.
    let inner = &payload.evaluation;
    if inner.decision != clear.decision
        || inner.site_id != clear.site_id
        || inner.policy_version != clear.policy_version
    {
        return Err(SealError::Malformed(
            "the sealed verdict is not the clear one".into(),
        ));
    }
    Ok((payload.evidence, payload.evaluation))
}

/// Moves the evidence and the evaluation's details into a sealed payload,
/// leaving what the chain and the lists need in clear.
pub fn seal(key: &DataKey, record: &mut PunchRecord) -> Result<(), SealError> {
    let context = record_context(record);
    let sealed = seal_judged(key, &context, &mut record.evidence, &mut record.evaluation)?;
    record.sealed = Some(sealed);
    Ok(())
}

/// The record with its payload decrypted back in place (as it was judged).
/// A record that is not sealed is returned as it is.
pub fn unseal(key: &DataKey, record: &PunchRecord) -> Result<PunchRecord, SealError> {
    let Some(sealed) = &record.sealed else {
        return Ok(record.clone());
    };
    let (evidence, evaluation) =
        open_judged(key, &record_context(record), sealed, &record.evaluation)?;
    let mut out = record.clone();
    out.evidence = evidence;
    out.evaluation = evaluation;
    out.sealed = None;
    Ok(out)
}

/// Seals a refused attempt's evidence and evaluation details as a punch's
/// are (kind and verdict stay in clear, for lists). Call it once the
/// event's header is final: the payload is bound to its device, seq and
/// event id. Other events carry no evidence and are left as they are.
pub fn seal_event(key: &DataKey, record: &mut EventRecord) -> Result<(), SealError> {
    let context = refused_context(record);
    if let ChainEvent::RefusedPunch(refused) = &mut record.event {
        let refused = &mut **refused;
        let sealed = seal_judged(
            key,
            &context,
            &mut refused.evidence,
            &mut refused.evaluation,
        )?;
        refused.sealed = Some(sealed);
    }
    Ok(())
}

/// The event with a refused attempt's payload decrypted back in place. An
/// event with nothing sealed is returned as it is.
pub fn unseal_event(key: &DataKey, record: &EventRecord) -> Result<EventRecord, SealError> {
    let ChainEvent::RefusedPunch(refused) = &record.event else {
        return Ok(record.clone());
    };
    let Some(sealed) = &refused.sealed else {
        return Ok(record.clone());
    };
    let (evidence, evaluation) =
        open_judged(key, &refused_context(record), sealed, &refused.evaluation)?;
    let mut out = record.clone();
    out.event = ChainEvent::RefusedPunch(Box::new(RefusedPunch {
        kind: refused.kind,
        evidence,
        evaluation,
        sealed: None,
    }));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geofence::LatLon;
    use crate::ledger::event::EntryTag;
    use crate::ledger::record::{RECORD_FORMAT, Uuid};
    use crate::rules::evaluate::{Decision, NearestSite};
    use crate::rules::evidence::ValidFix;
    use crate::rules::punch_kind::PunchKind;

    fn refused_event() -> EventRecord {
        EventRecord {
            format: RECORD_FORMAT,
            entry: EntryTag::Event,
            event_id: Uuid::new_v4(),
            device_id: "dev-1".into(),
            employee_id: "emp-1".into(),
            seq: 7,
            wall_time_ms: 1_800_000_000_000,
            utc_offset_min: 480,
            monotonic_ms: 5,
            boot_id: "boot".into(),
            anchor: None,
            policy_version: 3,
            event: ChainEvent::RefusedPunch(Box::new(RefusedPunch {
                kind: PunchKind::ClockIn,
                evidence: RecordedEvidence {
                    gps: Some(ValidFix {
                        point: LatLon {
                            lat: 31.230416,
                            lon: 121.473701,
                        },
                        accuracy_m: 9.0,
                        fix_time_ms: 1_800_000_000_000,
                        provider: "gps".into(),
                        is_mock: false,
                        speed_mps: None,
                        age_ms: None,
                        elapsed_realtime_ms: None,
                        reduced_accuracy: false,
                        external_receiver: false,
                    }),
                    wifi_matched: vec!["aa:bb:cc:dd:ee:ff".into()],
                    wifi_seen: 3,
                    ..RecordedEvidence::default()
                },
                evaluation: Evaluation {
                    decision: Decision::Rejected,
                    site_id: None,
                    policy_version: 3,
                    sites: Vec::new(),
                    flags: Vec::new(),
                    nearest_site: Some(NearestSite {
                        site_id: "hq".into(),
                        distance_m: 1480.0,
                    }),
                    reasons: vec!["outside every site: hq 1480 m away".into()],
                    attendance: None,
                },
                sealed: None,
            })),
            prev_hash: "0".repeat(64),
        }
    }

    fn refused(record: &EventRecord) -> &RefusedPunch {
        match &record.event {
            ChainEvent::RefusedPunch(r) => r,
            other => panic!("not a refused attempt: {other:?}"),
        }
    }

    #[test]
    fn a_refused_attempt_seals_its_evidence_and_opens_back_as_judged() {
        let key = DataKey::generate().expect("key");
        let judged = refused_event();
        let mut record = judged.clone();
        seal_event(&key, &mut record).expect("seal");
        let bytes = String::from_utf8(record.to_bytes().expect("bytes")).expect("utf8");
        for secret in ["31.23", "121.47", "aa:bb:cc", "1480", "outside"] {
            assert!(!bytes.contains(secret), "{secret} is in clear: {bytes}");
        }
        // The clear part is what lists need, and it still range-checks.
        let clear = refused(&record);
        assert_eq!(clear.kind, PunchKind::ClockIn);
        assert_eq!(clear.evaluation.decision, Decision::Rejected);
        assert!(record.check_ranges().is_ok());
        assert_eq!(record.sealed().map(|s| s.key_id.clone()), Some(key.id()));
        // Parsed back from its bytes, as a store or the server would.
        let parsed = match crate::ledger::event::ChainEntry::from_bytes(bytes.as_bytes()) {
            Ok(crate::ledger::event::ChainEntry::Event(e)) => *e,
            other => panic!("{other:?}"),
        };
        assert_eq!(unseal_event(&key, &parsed).expect("open"), judged);
    }

    #[test]
    fn a_sealed_attempt_does_not_open_with_another_key_elsewhere_or_edited() {
        let key = DataKey::generate().expect("key");
        let mut record = refused_event();
        seal_event(&key, &mut record).expect("seal");
        let other = DataKey::generate().expect("key");
        assert!(matches!(
            unseal_event(&other, &record),
            Err(SealError::WrongKey { .. })
        ));
        let mut moved = record.clone();
        moved.seq += 1;
        assert_eq!(unseal_event(&key, &moved), Err(SealError::Decrypt));
        // A punch's context is not an attempt's: the same payload moved into
        // a punch with the same device, seq and id does not open.
        let sealed = record.sealed().cloned().expect("sealed");
        let punch = PunchRecord {
            format: RECORD_FORMAT,
            punch_id: record.event_id,
            device_id: record.device_id.clone(),
            employee_id: record.employee_id.clone(),
            seq: record.seq,
            kind: PunchKind::ClockIn,
            wall_time_ms: record.wall_time_ms,
            utc_offset_min: 0,
            monotonic_ms: 0,
            boot_id: "boot".into(),
            anchor: None,
            policy_version: 3,
            evidence: RecordedEvidence::default(),
            evaluation: refused(&record).evaluation.clone(),
            prev_hash: "0".repeat(64),
            notice: None,
            sealed: Some(sealed),
            photo: None,
            biometric_verified: None,
        };
        assert_eq!(unseal(&key, &punch), Err(SealError::Decrypt));
    }

    #[test]
    fn an_attempt_stored_before_sealing_parses_and_opens_as_it_is() {
        let key = DataKey::generate().expect("key");
        let clear = refused_event();
        let mut json: serde_json::Value =
            serde_json::from_slice(&clear.to_bytes().expect("bytes")).expect("json");
        json["event"]
            .as_object_mut()
            .expect("body")
            .remove("sealed");
        let old: EventRecord = serde_json::from_value(json).expect("an older attempt parses");
        assert!(old.sealed().is_none());
        assert_eq!(unseal_event(&key, &old).expect("as it is"), clear);
    }
}
