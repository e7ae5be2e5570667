//! Enrollment: a one-time code binds a device's keys to an employee — the
//! punch key (records) and the channel key (requests), each with what its
//! attestation proved; a device from before the split binds one key for
//! both. An employee may have up to the published policy's `max_devices`
//! bound at once (default one), each with its own key and chain; one more
//! needs HR's single-use approval (`crate::device_approval`), and replacing
//! the one device an admin's `approve_rebind`.

use std::time::Duration;

use punch_model::ledger::key_rotation::punch_key_proof_message;
use punch_model::ledger::signing;
use punch_model::wire::EnrollRequest;
use ring::rand::{SecureRandom, SystemRandom};

use punch_model::rules::assurance::{AssuranceLevel, BelowMinimum};
use punch_model::rules::device_limit::MaxDevices;

use crate::attestation::{self, AttestationFailure, CHALLENGE_TTL_MS, Proven};
use crate::error::{Result, ServerError};
use crate::policy_publish;
use crate::store::employee_devices::DeviceApprovalRow;
use crate::store::{BindDevice, ChallengeRow, CodeRow, DeviceInfo, StoreTx};

/// Length of an enrollment code (50 bits from a 32-letter alphabet).
pub const CODE_LEN: usize = 10;
/// No 0/O or 1/I: codes are read aloud and typed on phones.
const CODE_ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// Identifiers travel in headers and in the time-token MAC input.
const MAX_ID_LEN: usize = 128;
const MAX_LABEL_LEN: usize = 128;

/// Why an enrollment was refused (a wire error, not a server fault).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrollRefusal {
    /// The request itself is malformed (ids, key).
    BadRequest(String),
    /// Unknown, expired or already used code.
    CodeInvalid,
    /// The employee has `max_devices` bound devices and no approval for one
    /// more (or this device id holds another employee's records).
    AlreadyBound(String),
    /// The attestation's challenge was not issued for this code, expired or was used.
    ChallengeInvalid,
    /// The attestation does not verify (the reason says why).
    AttestationRefused(AttestationFailure),
    /// The device proves less than the published policy's minimum.
    AssuranceTooLow {
        device: AssuranceLevel,
        required: AssuranceLevel,
    },
}

/// A challenge handed out, and the least assurance the policy accepts
/// (None when it accepts any, or only flags a lower one for review).
pub struct Offer {
    pub challenge: Vec<u8>,
    pub expires_at_ms: i64,
    pub min_assurance: Option<AssuranceLevel>,
}

/// Issues a single-use attestation challenge for a valid, unused code.
pub fn issue_challenge(
    tx: &dyn StoreTx,
    code: &str,
    now_ms: i64,
) -> Result<Result<Offer, EnrollRefusal>> {
    let found = find_code(tx, code)?;
    let Some((hash, _)) = found.filter(|(_, c)| c.used_at_ms.is_none() && now_ms < c.expires_at_ms)
    else {
        return Ok(Err(EnrollRefusal::CodeInvalid));
    };
    let challenge = attestation::new_challenge()?;
    let expires_at_ms = now_ms.saturating_add(CHALLENGE_TTL_MS);
    tx.enrollment().insert_challenge(&ChallengeRow {
        challenge_hash: attestation::challenge_hash(&challenge),
        code_hash: hash,
        created_at_ms: now_ms,
        expires_at_ms,
        used_at_ms: None,
    })?;
    let settings = policy_publish::current_settings(tx)?;
    let min_assurance = (settings.below_min_assurance == BelowMinimum::Refuse
        && settings.min_assurance > AssuranceLevel::Software)
        .then_some(settings.min_assurance);
    Ok(Ok(Offer {
        challenge,
        expires_at_ms,
        min_assurance,
    }))
}

/// A random, human-typeable one-time code.
pub fn generate_code() -> Result<String> {
    let mut bytes = [0u8; CODE_LEN];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ServerError::Crypto("system random failed".into()))?;
    // 256 is a multiple of 32, so `b % 32` is unbiased.
    Ok(bytes
        .iter()
        .map(|b| char::from(CODE_ALPHABET[usize::from(b % 32)]))
        .collect())
}

/// Forgiving input: case, spaces and dashes do not matter.
pub fn normalize_code(input: &str) -> String {
    input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The server key enrollment codes are MACed with (kept in `meta`, sealed
/// at rest with the other server secrets).
const META_CODE_KEY: &str = "enroll_code_key";

/// Codes are stored only as their MAC under a server key: a database
/// reader cannot enroll, nor try the 2^50 codes against the table offline
/// without the key (an unkeyed hash of 50 bits would fall to that).
pub fn code_hash(tx: &dyn StoreTx, code: &str) -> Result<String> {
    let key = match tx.meta().get(META_CODE_KEY)? {
        Some(key) => key,
        None => {
            let mut key = vec![0u8; 32];
            SystemRandom::new()
                .fill(&mut key)
                .map_err(|_| ServerError::Crypto("system random failed".into()))?;
            tx.meta().get_or_insert(META_CODE_KEY, &key)?
        }
    };
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
    Ok(hex::encode(ring::hmac::sign(
        &key,
        normalize_code(code).as_bytes(),
    )))
}

/// The stored code `code` names, with the hash it is stored under: keyed,
/// or (a code issued before codes were keyed) the plain SHA-256.
fn find_code(tx: &dyn StoreTx, code: &str) -> Result<Option<(String, CodeRow)>> {
    for hash in [
        code_hash(tx, code)?,
        hex::encode(signing::sha256(normalize_code(code).as_bytes())),
    ] {
        if let Some(row) = tx.enrollment().code(&hash)? {
            return Ok(Some((hash, row)));
        }
    }
    Ok(None)
}

/// Text an operator's terminal or a web page can show as it is: no control
/// characters (ESC, BEL, newlines...) and no bidirectional overrides, which
/// could make one string look like another.
pub fn printable(text: &str) -> bool {
    text.chars()
        .all(|c| !c.is_control() && !matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
}

/// Device ids: 1..=128 of `[A-Za-z0-9._:-]` (UUIDs fit).
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// Creates a one-time code for an existing employee.
pub fn create_code(
    tx: &dyn StoreTx,
    employee_id: &str,
    ttl: Duration,
    now_ms: i64,
) -> Result<String> {
    if tx.enrollment().employee(employee_id)?.is_none() {
        return Err(ServerError::UnknownEmployee(employee_id.to_string()));
    }
    let code = generate_code()?;
    tx.enrollment().insert_code(&CodeRow {
        code_hash: code_hash(tx, &code)?,
        employee_id: employee_id.to_string(),
        created_at_ms: now_ms,
        expires_at_ms: crate::clock::after_ms(now_ms, ttl),
        used_at_ms: None,
        used_by_device: None,
    })?;
    Ok(code)
}

fn check_request(req: &EnrollRequest) -> Result<(), EnrollRefusal> {
    if !valid_id(&req.device_id) {
        return Err(EnrollRefusal::BadRequest(
            "device_id must be 1-128 characters of A-Z a-z 0-9 . _ : -".into(),
        ));
    }
    for (field, label) in [
        ("key_storage", &req.key_storage),
        ("platform", &req.platform),
    ] {
        if label.len() > MAX_LABEL_LEN || !printable(label) {
            return Err(EnrollRefusal::BadRequest(format!(
                "{field} must be at most {MAX_LABEL_LEN} bytes of printable text \
                 (no control or bidirectional-override characters)"
            )));
        }
    }
    // SPKI form only (91 bytes), as the protocol says; a bare point is refused.
    if !is_spki(&req.public_key) {
        return Err(EnrollRefusal::BadRequest(
            "public_key is not a P-256 SubjectPublicKeyInfo (DER, 91 bytes)".into(),
        ));
    }
    if let Some(channel) = &req.channel_key {
        if !is_spki(channel) || *channel == req.public_key {
            return Err(EnrollRefusal::BadRequest(
                "channel_key must be a P-256 SubjectPublicKeyInfo other than the punch key".into(),
            ));
        }
        // The punch key's holder asked for this pairing (the request itself
        // is signed by the channel key).
        let message = punch_key_proof_message(&req.device_id, channel);
        let proof = req.punch_key_proof.as_deref().unwrap_or_default();
        if signing::verify(&req.public_key, &message, proof).is_err() {
            return Err(EnrollRefusal::BadRequest(
                "punch_key_proof is missing or does not verify with public_key".into(),
            ));
        }
    } else if req.channel_attestation.is_some() {
        return Err(EnrollRefusal::BadRequest(
            "channel_attestation without a channel_key".into(),
        ));
    }
    Ok(())
}

fn is_spki(key: &[u8]) -> bool {
    key.len() == 91 && signing::point_from_public_key(key).is_ok()
}

/// The challenge the request's attestations answer: one for both keys.
fn answered_challenge(req: &EnrollRequest) -> Result<Option<&[u8]>, EnrollRefusal> {
    match (&req.attestation, &req.channel_attestation) {
        (Some(a), Some(b)) if a.challenge() != b.challenge() => {
            Err(EnrollRefusal::ChallengeInvalid)
        }
        (Some(a), _) | (None, Some(a)) => Ok(Some(a.challenge())),
        (None, None) => Ok(None),
    }
}

/// Binds the device; returns the employee id. Runs in one write transaction.
/// `proven` is what the request's attestation was verified to show (before
/// the transaction: it is slow); its challenge is checked and used up here.
pub fn enroll(
    tx: &dyn StoreTx,
    req: &EnrollRequest,
    proven: &Proven,
    proven_channel: &Proven,
    now_ms: i64,
) -> Result<Result<String, EnrollRefusal>> {
    if let Err(refusal) = check_request(req) {
        return Ok(Err(refusal));
    }
    let Some((hash, code)) = find_code(tx, &req.code)? else {
        return Ok(Err(EnrollRefusal::CodeInvalid));
    };
    let employee_id = code.employee_id.clone();
    let existing = tx.devices().device(&req.device_id)?;
    let same_binding = existing.as_ref().is_some_and(|d| {
        d.is_bound()
            && d.employee_id == employee_id
            && d.public_key == req.public_key
            && d.channel_key == req.channel_key
    });
    let code_usable = match &code.used_by_device {
        // A retry of the enrollment that used this code (its answer was lost).
        Some(user) => user == &req.device_id && same_binding,
        None => code.used_at_ms.is_none() && now_ms < code.expires_at_ms,
    };
    if !code_usable {
        return Ok(Err(EnrollRefusal::CodeInvalid));
    }
    if same_binding {
        // Idempotent: the same device with the same key is already bound.
        tx.enrollment()
            .mark_code_used(&hash, &req.device_id, now_ms)?;
        return Ok(Ok(employee_id));
    }
    let answered = match answered_challenge(req) {
        Ok(answered) => answered,
        Err(refusal) => return Ok(Err(refusal)),
    };
    if let Some(answered) = answered {
        let challenge = attestation::challenge_hash(answered);
        let fresh = tx.enrollment().challenge(&challenge)?.is_some_and(|c| {
            c.code_hash == hash && c.used_at_ms.is_none() && now_ms < c.expires_at_ms
        });
        if !fresh {
            return Ok(Err(EnrollRefusal::ChallengeInvalid));
        }
        tx.enrollment().mark_challenge_used(&challenge, now_ms)?;
    }
    let settings = policy_publish::current_settings(tx)?;
    if proven.level < settings.min_assurance && settings.below_min_assurance == BelowMinimum::Refuse
    {
        return Ok(Err(EnrollRefusal::AssuranceTooLow {
            device: proven.level,
            required: settings.min_assurance,
        }));
    }
    let employee = tx
        .enrollment()
        .employee(&employee_id)?
        .ok_or_else(|| ServerError::Corrupt(format!("code for missing employee {employee_id}")))?;
    // A device id carries one employee's chain for ever (even once unbound):
    // moving a phone to another employee means a fresh install, a new device.
    if let Some(d) = &existing
        && d.employee_id != employee_id
    {
        return Ok(Err(EnrollRefusal::AlreadyBound(format!(
            "device {} holds another employee's records; enroll a fresh install instead",
            d.device_id
        ))));
    }
    // Counted and bound with no other enrollment of the employee in between.
    tx.employee_devices().lock_employee(&employee_id)?;
    let bound: Vec<DeviceInfo> = tx
        .devices()
        .devices_of(&employee_id)?
        .into_iter()
        .filter(DeviceInfo::is_bound)
        .collect();
    let rebind = employee.rebind_approved_at_ms.is_some();
    let approval = tx.employee_devices().unused_device_approval(&employee_id)?;
    let slot = match slot(
        &req.device_id,
        &bound,
        settings.max_devices,
        rebind,
        approval.as_ref(),
    ) {
        Ok(slot) => slot,
        Err(why) => {
            return Ok(Err(EnrollRefusal::AlreadyBound(format!(
                "employee {employee_id} {why}"
            ))));
        }
    };
    match &slot {
        Slot::Free => {}
        Slot::Approved(id) => {
            if !tx
                .employee_devices()
                .use_device_approval(*id, &req.device_id, now_ms)?
            {
                return Err(ServerError::Corrupt(format!(
                    "device approval {id} was used under the employee's lock"
                )));
            }
        }
        Slot::Replaces(device_id) => {
            tx.devices().mark_unbound(device_id, now_ms)?;
        }
    }
    tx.devices().bind_device(&BindDevice {
        device_id: &req.device_id,
        employee_id: &employee_id,
        public_key: &req.public_key,
        key_storage: &req.key_storage,
        platform: &req.platform,
        assurance: proven.level.as_str(),
        attestation: (!proven.detail.is_empty()).then_some(proven.detail.as_str()),
        channel_key: req.channel_key.as_deref(),
        channel_assurance: req
            .channel_key
            .as_ref()
            .map(|_| proven_channel.level.as_str()),
        channel_attestation: (!proven_channel.detail.is_empty())
            .then_some(proven_channel.detail.as_str()),
        now_ms,
    })?;
    tx.enrollment()
        .mark_code_used(&hash, &req.device_id, now_ms)?;
    if rebind && !matches!(slot, Slot::Approved(_)) {
        // An approval allows one replacement, not a standing exception.
        tx.enrollment().set_rebind_approved(&employee_id, None)?;
    }
    Ok(Ok(employee_id))
}

/// Where a new device goes among the employee's bound ones.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Slot {
    /// Under `max_devices`: no approval needed.
    Free,
    /// HR's approval for one more (its id): used up by this enrollment.
    Approved(i64),
    /// A rebind: this bound device is unbound for the new one.
    Replaces(String),
}

/// The slot for `device_id` among the employee's `bound` devices, or why
/// there is none. A new key for a bound device id, and a replacement of
/// the one bound device, are rebinds (as before `max_devices`); a device
/// beyond the limit takes an approval for one more. With both approvals
/// open, the rebind is taken (it was the only kind there was).
fn slot(
    device_id: &str,
    bound: &[DeviceInfo],
    max: MaxDevices,
    rebind: bool,
    approval: Option<&DeviceApprovalRow>,
) -> Result<Slot, String> {
    let count = bound.len();
    if let Some(same) = bound.iter().find(|d| d.device_id == device_id) {
        return if rebind {
            Ok(Slot::Replaces(same.device_id.clone()))
        } else {
            Err(format!(
                "already has device {device_id} bound with another key; an admin must approve a rebind"
            ))
        };
    }
    if max.has_room(count) {
        return Ok(Slot::Free);
    }
    match (bound, rebind, approval) {
        ([one], true, _) => Ok(Slot::Replaces(one.device_id.clone())),
        (_, _, Some(approval)) => Ok(Slot::Approved(approval.id)),
        (_, true, None) => Err(format!(
            "has {count} bound devices: a rebind cannot tell which one it replaces; \
             unbind that one, or approve one more device"
        )),
        (_, false, None) if max == MaxDevices::ONE => Err(
            "already has a bound device; an admin must approve a rebind (or one more device)"
                .into(),
        ),
        (_, false, None) => Err(format!(
            "already has {count} bound devices (max_devices {}); HR must approve one more device",
            max.get()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_typeable_and_normalised() {
        let a = generate_code().unwrap();
        let b = generate_code().unwrap();
        assert_eq!(a.len(), CODE_LEN);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| CODE_ALPHABET.contains(&c)));
        let sloppy = format!(" {}-{} ", a[..5].to_lowercase(), &a[5..]);
        assert_eq!(normalize_code(&sloppy), a);
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::sqlite::SqliteStore::open(&dir.path().join("t.db")).unwrap();
        let hashes = crate::store::StoreExt::write(&store, |tx| {
            Ok((code_hash(tx, &sloppy)?, code_hash(tx, &a)?))
        })
        .unwrap();
        assert_eq!(hashes.0, hashes.1);
        // Keyed: not the plain SHA-256 of the code.
        assert_ne!(hashes.1, hex::encode(signing::sha256(a.as_bytes())));
    }

    fn bound(ids: &[&str]) -> Vec<DeviceInfo> {
        ids.iter()
            .map(|id| DeviceInfo {
                device_id: id.to_string(),
                employee_id: "e".into(),
                public_key: Vec::new(),
                key_storage: String::new(),
                platform: String::new(),
                enrolled_at_ms: 0,
                unbound_at_ms: None,
                head_seq: 0,
                head_hash: String::new(),
                assurance: String::new(),
                attestation: None,
                channel_key: None,
                channel_assurance: None,
                channel_attestation: None,
                punch_key: None,
            })
            .collect()
    }

    #[test]
    fn a_new_device_takes_a_free_slot_an_approval_or_a_rebind() {
        let two = MaxDevices::new(2).unwrap();
        let approval = DeviceApprovalRow {
            id: 7,
            employee_id: "e".into(),
            approved_by: "hr".into(),
            reason: "tablet".into(),
            approved_at_ms: 0,
            used_at_ms: None,
            used_by_device: None,
        };
        let one = MaxDevices::ONE;
        assert_eq!(slot("n", &bound(&[]), one, false, None), Ok(Slot::Free));
        assert!(slot("n", &bound(&["a"]), one, false, None).is_err());
        assert_eq!(
            slot("n", &bound(&["a"]), one, true, None),
            Ok(Slot::Replaces("a".into()))
        );
        assert_eq!(slot("n", &bound(&["a"]), two, false, None), Ok(Slot::Free));
        assert!(slot("n", &bound(&["a", "b"]), two, false, None).is_err());
        assert_eq!(
            slot("n", &bound(&["a", "b"]), two, false, Some(&approval)),
            Ok(Slot::Approved(7))
        );
        // A rebind cannot choose among several; an approval still adds one.
        assert!(slot("n", &bound(&["a", "b"]), two, true, None).is_err());
        assert_eq!(
            slot("n", &bound(&["a", "b"]), two, true, Some(&approval)),
            Ok(Slot::Approved(7))
        );
        // A new key for a bound device id is a rebind of it, whatever the room.
        assert!(slot("a", &bound(&["a"]), two, false, Some(&approval)).is_err());
        assert_eq!(
            slot("a", &bound(&["a", "b"]), two, true, None),
            Ok(Slot::Replaces("a".into()))
        );
    }

    #[test]
    fn ids_are_restricted() {
        assert!(valid_id("6f1c2a9e-1b7d-4c3e-9a51-0d2b7e8f9a10"));
        assert!(!valid_id(""));
        assert!(!valid_id("a|b"));
        assert!(!valid_id("a b"));
        assert!(!valid_id(&"x".repeat(129)));
    }
}
