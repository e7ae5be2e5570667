//! Two device keys and the event that replaces one. The **punch key** signs
//! records (it may need the user: a biometric prompt is "who punched"); the
//! **channel key** signs requests and head statements and never needs the
//! user, so background upload always works. When the OS invalidates the
//! punch key (a fingerprint added on Android, the passcode removed on iOS),
//! the app makes a new one and the chain records a [`KeyRotation`] signed by
//! the channel key: records after it verify with the new key, the chain
//! unbroken. A device enrolled before the split has one key in both roles.

use serde::{Deserialize, Serialize};

use crate::ledger::range_check::RecordCheck;
use crate::ledger::signing::{point_from_public_key, sha256};
use crate::wire::{DeviceAttestation, b64};

/// The event type a rotation is stored and sent under (`event::types`).
pub const EVENT_TYPE: &str = "key_rotation";

/// Which device key signs a thing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyRole {
    /// Signs chain records (punches and events) but not rotations.
    Punch,
    /// Signs requests, head statements and key rotations.
    Channel,
}

/// Why the punch key was replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RotationReason {
    /// The OS invalidated it (Android `KeyPermanentlyInvalidatedException`,
    /// an iOS key lost with the passcode).
    Invalidated,
    /// The key is gone for another reason (app data of the key store wiped).
    Lost,
    /// Replaced on purpose while still usable.
    Renewed,
}

/// A chain event, signed by the channel key: from the next record on,
/// records are signed by `punch_key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRotation {
    /// The new punch key, P-256 SubjectPublicKeyInfo DER.
    #[serde(with = "b64::bytes")]
    pub punch_key: Vec<u8>,
    /// Hex SHA-256 of the punch key's SPKI it replaces.
    pub replaces: String,
    pub reason: RotationReason,
    /// The platform's proof of the new key, answering
    /// [`rotation_challenge`] for this record's place in the chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<DeviceAttestation>,
}

impl KeyRotation {
    pub fn check_ranges(&self) -> Result<(), RecordCheck> {
        if self.punch_key.len() != 91 || point_from_public_key(&self.punch_key).is_err() {
            return Err(RecordCheck::OutOfRange {
                field: "punch_key",
                detail: "not a P-256 SubjectPublicKeyInfo (DER, 91 bytes)".into(),
            });
        }
        if self.replaces.len() != 64 || !self.replaces.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(RecordCheck::OutOfRange {
                field: "replaces",
                detail: "not a hex SHA-256".into(),
            });
        }
        Ok(())
    }
}

/// Hex SHA-256 of a key's SPKI: how a rotation names the key it replaces.
pub fn key_fingerprint(spki: &[u8]) -> String {
    hex::encode(sha256(spki))
}

/// The challenge a rotation's attestation answers: bound to the device and
/// to the rotation's place in the chain (its seq and the hash it follows),
/// so it is fresh without a round trip — a rotation works offline — and an
/// attestation cannot be replayed into another rotation.
pub fn rotation_challenge(device_id: &str, seq: u64, prev_hash: &str) -> Vec<u8> {
    sha256(format!("punch-key-rotation-v1|{device_id}|{seq}|{prev_hash}").as_bytes()).to_vec()
}

/// The message a punch key signs at enrollment to prove its holder asked
/// to bind it next to `channel_key` (the request itself is signed by the
/// channel key).
pub fn punch_key_proof_message(device_id: &str, channel_key: &[u8]) -> Vec<u8> {
    format!(
        "punch-key-proof-v1|{device_id}|{}",
        key_fingerprint(channel_key)
    )
    .into_bytes()
}

/// Which key signed `bytes`: the channel key for a key rotation and a
/// fault report (`ledger::fault`: recorded in the background and after the
/// punch key was invalidated, so never by a key that may need the user),
/// else the punch key. Garbage is the punch key's (its check then fails as usual).
/// A punch whose text mentions `"key_rotation"` (a make-up reason, say) is
/// parsed to tell: only an event of that type is the channel key's.
pub fn signing_role(bytes: &[u8]) -> KeyRole {
    // Nearly every record is not a rotation: a byte scan settles those
    // without a second parse (verification already parses each record once).
    const TAGS: [&[u8]; 2] = [b"\"key_rotation\"", b"\"fault\""];
    if !TAGS
        .iter()
        .any(|tag| bytes.windows(tag.len()).any(|w| w == *tag))
    {
        return KeyRole::Punch;
    }
    #[derive(Deserialize)]
    struct Probe {
        #[serde(default)]
        event: Option<TypeProbe>,
    }
    #[derive(Deserialize)]
    struct TypeProbe {
        #[serde(rename = "type")]
        kind: String,
    }
    match serde_json::from_slice::<Probe>(bytes) {
        Ok(Probe {
            event: Some(TypeProbe { kind }),
        }) if kind == EVENT_TYPE || kind == crate::ledger::fault::EVENT_TYPE => KeyRole::Channel,
        _ => KeyRole::Punch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_rotation_event_is_the_channel_keys() {
        let rotation = br#"{"entry":"event","event":{"type":"key_rotation","punch_key":"x"}}"#;
        assert_eq!(signing_role(rotation), KeyRole::Channel);
        let mention =
            br#"{"entry":"event","event":{"type":"make_up_request","reason":""key_rotation""}}"#;
        assert_eq!(signing_role(mention), KeyRole::Punch);
        assert_eq!(signing_role(br#"{"seq":1}"#), KeyRole::Punch);
        assert_eq!(signing_role(br#""key_rotation" garbage"#), KeyRole::Punch);
        let fault = br#"{"entry":"event","event":{"type":"fault","kind":"wifi_off"}}"#;
        assert_eq!(signing_role(fault), KeyRole::Channel);
        let citing = br#"{"entry":"event","event":{"type":"make_up_request","fault":{}}}"#;
        assert_eq!(signing_role(citing), KeyRole::Punch);
    }
}
