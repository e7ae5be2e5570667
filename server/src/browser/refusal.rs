//! Refused browser punches kept as evidence, in the store of refused
//! records ingest keeps a phone's in (`crate::evidence`, capped per device
//! and day; listed where refusals are: the chain-break list, `admin
//! rejected`, the employee's data export). Never a link of the passkey's
//! chain: its head stays where it was.
//!
//! What may be kept is bounded by who can cause it: a punch whose assertion
//! verified is kept as the record the server would have stored (judged and
//! minimised, signed by the assertion); an attempt whose assertion does not
//! verify (anyone who learns a passkey's device id can start one) is kept
//! without the location it claims, at most [`MAX_UNVERIFIED_PER_HOUR`] per
//! passkey.

use punch_model::ledger::record::PunchRecord;
use punch_model::ledger::signing;
use webauthn_rs::prelude::PublicKeyCredential;

use super::passkey::PunchContent;
use crate::error::{Result, ServerError};
use crate::evidence;
use crate::store::browser::PasskeyRow;
use crate::store::{RejectedInfo, StoreTx};

/// The rules refused the punch (outside every site, a site that takes no
/// browser punches...): its reasons are the refusal's detail.
pub const REFUSED_BY_RULES: &str = "refused_by_rules";
/// The assertion does not verify (`RejectReason::BadSignature`'s name).
pub const BAD_ASSERTION: &str = "bad_signature";
/// A revoked passkey's assertion (it verified).
pub const PASSKEY_REVOKED: &str = "passkey_revoked";
/// Unverified attempts kept per passkey and hour; further ones are not.
pub const MAX_UNVERIFIED_PER_HOUR: u64 = 10;
const HOUR_MS: i64 = 3_600_000;

/// A punch attempt on one passkey.
pub struct Attempt<'a> {
    pub passkey: &'a PasskeyRow,
    pub content: &'a PunchContent,
    pub credential: &'a PublicKeyCredential,
    pub now_ms: i64,
}

fn corrupt(e: serde_json::Error) -> ServerError {
    ServerError::Corrupt(format!("refused browser punch: {e}"))
}

/// Keeps an attempt that never became a record: the content claimed
/// (without its location) and the browser's answer. Whether it was kept.
pub fn keep_attempt(
    tx: &dyn StoreTx,
    attempt: &Attempt<'_>,
    reason: &str,
    detail: &str,
    verified: bool,
) -> Result<bool> {
    let device_id = &attempt.passkey.device_id;
    if !verified {
        let key = format!("browser_refusal:{device_id}");
        let (hits, _) = tx.limits().rate_hit(&key, HOUR_MS, attempt.now_ms)?;
        if hits > MAX_UNVERIFIED_PER_HOUR {
            return Ok(false);
        }
    }
    let claim = PunchContent {
        location: None,
        location_salt: None,
        ..attempt.content.clone()
    };
    let record = claim.to_bytes()?;
    let seq = tx
        .devices()
        .device(device_id)?
        .map_or(1, |d| d.head_seq + 1);
    let info = RejectedInfo {
        id: 0,
        device_id: device_id.clone(),
        seq,
        punch_id: None,
        employee_id: Some(attempt.passkey.employee_id.clone()),
        claimed_employee_id: Some(attempt.content.employee_id.clone()),
        reason: reason.into(),
        detail: detail.into(),
        hash: hex::encode(signing::sha256(&record)),
        record,
        signature: serde_json::to_vec(attempt.credential).map_err(corrupt)?,
        attempts: 1,
        first_received_at_ms: attempt.now_ms,
        last_received_at_ms: attempt.now_ms,
    };
    evidence::keep_authentic(tx, &info, attempt.now_ms)
}

/// Keeps a verified punch the rules refused: the record (judged, minimised)
/// with its stored assertion. Whether it was kept.
pub fn keep_judged(
    tx: &dyn StoreTx,
    passkey: &PasskeyRow,
    record: &PunchRecord,
    signature: &[u8],
    now_ms: i64,
) -> Result<bool> {
    let bytes = record
        .to_bytes()
        .map_err(|e| ServerError::Corrupt(format!("refused browser record: {e}")))?;
    let info = RejectedInfo {
        id: 0,
        device_id: passkey.device_id.clone(),
        seq: record.seq,
        punch_id: Some(record.punch_id.to_string()),
        employee_id: Some(passkey.employee_id.clone()),
        claimed_employee_id: Some(record.employee_id.clone()),
        reason: REFUSED_BY_RULES.into(),
        detail: record.evaluation.reasons.join("; "),
        hash: hex::encode(signing::sha256(&bytes)),
        record: bytes,
        signature: signature.to_vec(),
        attempts: 1,
        first_received_at_ms: now_ms,
        last_received_at_ms: now_ms,
    };
    evidence::keep_authentic(tx, &info, now_ms)
}
