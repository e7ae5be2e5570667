//! Punch-key rotations (`punch_model::ledger::key_rotation`): a device's
//! `key_rotation` event, signed by its channel key, names a new punch key.
//! The server takes it at once when the new key's attestation proves at
//! least what the employer requires (the policy's `min_assurance`, and
//! never less than the key it replaces); otherwise the rotation waits for
//! HR (`Admin::decide_key_rotation`) and the device's later records wait
//! with it. Approved, the new key signs every record after the rotation.

use punch_model::ledger::event::{ChainEvent, EventRecord};
use punch_model::ledger::key_rotation::{KeyRotation, key_fingerprint, rotation_challenge};
use punch_model::rules::assurance::AssuranceLevel;
use punch_model::rules::policy::Settings;

use crate::attestation::{self, AttestationConfig, Proven};
use crate::error::{Result, ServerError};
use crate::requests::{self, RequestRef};
use crate::store::{DeviceInfo, EventDecision, StoreTx, StoredEvent};

/// `events.event_type` of a rotation.
pub const EVENT_TYPE: &str = punch_model::ledger::event::types::KEY_ROTATION;
pub const PENDING: &str = "pending";
pub const APPROVED: &str = "approved";
pub const DENIED: &str = "denied";

/// How a rotation was judged on arrival.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    /// `approved` (by policy) or `pending` (for HR).
    pub status: &'static str,
    pub detail: String,
    pub proven: Proven,
}

/// What the rotation's attestation proves about its new key; software
/// (with the reason) when it has none or it does not verify.
pub fn prove(
    tx: &dyn StoreTx,
    device_id: &str,
    event: &EventRecord,
    rotation: &KeyRotation,
    now_ms: i64,
) -> Result<(Proven, Option<String>)> {
    let Some(att) = &rotation.attestation else {
        return Ok((Proven::software(), Some("no attestation".into())));
    };
    // Bound to this place in this device's chain: fresh without a round trip.
    if att.challenge() != rotation_challenge(device_id, event.seq, &event.prev_hash) {
        return Ok((
            Proven::software(),
            Some("the attestation answers another challenge".into()),
        ));
    }
    let config = AttestationConfig::load(tx)?;
    Ok(
        match attestation::verify(&config, att, &rotation.punch_key, now_ms.div_euclid(1000)) {
            Ok(proven) => (proven, None),
            Err(failure) => (
                Proven::software(),
                Some(format!("attestation refused ({})", failure.code)),
            ),
        },
    )
}

/// Judges a rotation arriving from `device` (authentic, continuous). Err
/// with words when it does not name the key in force.
pub fn judge(
    tx: &dyn StoreTx,
    device: &DeviceInfo,
    current_punch_key: &[u8],
    settings: &Settings,
    event: &EventRecord,
    rotation: &KeyRotation,
    now_ms: i64,
) -> Result<std::result::Result<Judged, String>> {
    if rotation.replaces != key_fingerprint(current_punch_key) {
        return Ok(Err(format!(
            "the rotation replaces key {}, but the key in force is {}",
            rotation.replaces,
            key_fingerprint(current_punch_key)
        )));
    }
    let (proven, why_not) = prove(tx, &device.device_id, event, rotation, now_ms)?;
    // A rotation never lowers what the device proved: a stolen channel
    // key cannot swap an attested punch key for a software one unseen.
    let held = AssuranceLevel::parse(&device.assurance).unwrap_or_default();
    let required = settings.min_assurance.max(held);
    Ok(Ok(if proven.level >= required {
        Judged {
            status: APPROVED,
            detail: format!("new key proves {}; taken by policy", proven.level.as_str()),
            proven,
        }
    } else {
        Judged {
            status: PENDING,
            detail: format!(
                "new key proves {} ({}), {} is required: HR must approve",
                proven.level.as_str(),
                why_not.unwrap_or_else(|| "attested lower".into()),
                required.as_str()
            ),
            proven,
        }
    }))
}

/// HR's decision on a pending rotation. Approved, the new key is put in
/// force (at what its attestation proves now); denied, the device's
/// later records stay refused until it re-enrolls.
pub fn decide(
    tx: &dyn StoreTx,
    event_id: &str,
    approve: bool,
    decided_by: &str,
    comment: &str,
    now_ms: i64,
) -> Result<StoredEvent> {
    let stored = find(tx, event_id)?;
    if stored.event_type != EVENT_TYPE {
        return Err(ServerError::Invalid(format!(
            "{event_id} is a {}, not a key rotation",
            stored.event_type
        )));
    }
    let decided = tx.events().decide_event(
        &stored.device_id,
        stored.seq,
        &EventDecision {
            status: if approve { APPROVED } else { DENIED },
            decided_by,
            comment,
            at_ms: now_ms,
        },
    )?;
    if !decided {
        return Err(ServerError::Invalid(format!(
            "key rotation {event_id} was already decided"
        )));
    }
    if approve {
        let event: EventRecord = serde_json::from_slice(&stored.record)
            .map_err(|e| ServerError::Corrupt(format!("stored rotation: {e}")))?;
        let ChainEvent::KeyRotation(rotation) = &event.event else {
            return Err(ServerError::Corrupt(format!(
                "event {event_id} is stored as a key rotation but is not one"
            )));
        };
        let (proven, _) = prove(tx, &stored.device_id, &event, rotation, now_ms)?;
        tx.devices().set_punch_key(
            &stored.device_id,
            &rotation.punch_key,
            proven.level.as_str(),
        )?;
    }
    tx.events()
        .events_by_id(event_id)?
        .into_iter()
        .find(|e| e.device_id == stored.device_id && e.seq == stored.seq)
        .ok_or_else(|| ServerError::Corrupt(format!("event {event_id} vanished")))
}

/// The one stored event `event_id` names (ingest refuses a second holder;
/// an older database holding it twice is a conflict, never a guess).
pub fn find(tx: &dyn StoreTx, event_id: &str) -> Result<StoredEvent> {
    match requests::find(tx, RequestRef::id(event_id)) {
        Err(ServerError::NotFound(_)) => {
            Err(ServerError::NotFound(format!("no key rotation {event_id}")))
        }
        other => other,
    }
}
