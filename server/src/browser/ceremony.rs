//! The two ceremonies, in store transactions: registering a passkey with
//! an enrollment code (it becomes a device of terminal `browser`), and a
//! punch judged like a phone's and appended to that device's chain.

use std::net::IpAddr;
use std::time::Duration;

use punch_model::ledger::minimise::{Minimised, minimise};
use punch_model::ledger::record::{PunchRecord, RECORD_FORMAT, RecordedEvidence, new_punch_id};
use punch_model::ledger::review;
use punch_model::ledger::signing;
use punch_model::rules::assurance::{AssuranceLevel, BelowMinimum};
use punch_model::rules::evaluate::{Decision, Evaluation, evaluate};
use punch_model::rules::evidence::Evidence;
use punch_model::rules::policy::PreparedPolicy;
use punch_model::rules::shift::{self, Attendance};
use punch_model::rules::terminal::Terminal;
use punch_model::rules::terminal_verdict;
use punch_model::text::serde_name;
use webauthn_rs::prelude::{
    CreationChallengeResponse, Passkey, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse, Webauthn,
};

use super::passkey::{self, PunchContent, Refused};
use super::refusal;
use crate::api::AppState;
use crate::enroll;
use crate::error::{Result, ServerError};
use crate::policy_publish;
use crate::store::browser::{CeremonyRow, PasskeyRow};
use crate::store::{DeviceInfo, NewPunch, StoreTx, StoredPunchInfo};

/// How long the browser has to answer a ceremony.
const CEREMONY_TTL: Duration = Duration::from_secs(120);
const REGISTER: &str = "register";
const PUNCH: &str = "punch";
/// What a passkey without attestation proves about where its key lives:
/// nothing a phone's software key does not (synced passkeys leave the
/// device by design), so the weakest level.
pub const PASSKEY_ASSURANCE: AssuranceLevel = AssuranceLevel::Software;

/// Stores a new ceremony (expired ones are forgotten first: they are only
/// ever looked up by id); returns the id handed to the browser.
fn begin(tx: &dyn StoreTx, mut row: CeremonyRow, now_ms: i64) -> Result<String> {
    tx.browser().prune_ceremonies(now_ms)?;
    let id = hex::encode(crate::attestation::new_challenge()?);
    row.ceremony_id = ceremony_hash(&id);
    row.created_at_ms = now_ms;
    row.expires_at_ms = crate::clock::after_ms(now_ms, CEREMONY_TTL);
    tx.browser().insert_ceremony(&row)?;
    Ok(id)
}

fn ceremony_hash(id: &str) -> String {
    hex::encode(signing::sha256(id.as_bytes()))
}

fn passkeys(tx: &dyn StoreTx, employee_id: &str) -> Result<Vec<(PasskeyRow, Passkey)>> {
    tx.browser()
        .passkeys_of(employee_id)?
        .into_iter()
        .map(|row| {
            let key = passkey::from_json(&row.passkey)?;
            Ok((row, key))
        })
        .collect()
}

/// Registration options for the holder of a valid enrollment code (the
/// code is spent when the registration finishes).
pub fn start_registration(
    tx: &dyn StoreTx,
    rp: &Webauthn,
    code: &str,
    now_ms: i64,
) -> Result<std::result::Result<(String, String, CreationChallengeResponse), Refused>> {
    let hash = enroll::code_hash(tx, code)?;
    let Some(row) = tx
        .enrollment()
        .code(&hash)?
        .filter(|c| c.used_at_ms.is_none() && now_ms < c.expires_at_ms)
    else {
        return Ok(Err(Refused(
            "unknown, expired or used enrollment code".into(),
        )));
    };
    let settings = policy_publish::current_settings(tx)?;
    if settings.below_min_assurance == BelowMinimum::Refuse
        && settings.min_assurance > PASSKEY_ASSURANCE
    {
        return Ok(Err(Refused(format!(
            "the employer requires keys proven {} or better; a passkey proves {}",
            settings.min_assurance, PASSKEY_ASSURANCE
        ))));
    }
    let name = tx
        .enrollment()
        .employee(&row.employee_id)?
        .map(|e| e.name)
        .unwrap_or_default();
    let existing = passkeys(tx, &row.employee_id)?
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    let (options, state) = passkey::start_registration(rp, &row.employee_id, &name, existing)?;
    let id = begin(
        tx,
        CeremonyRow {
            ceremony_id: String::new(),
            kind: REGISTER.into(),
            employee_id: row.employee_id.clone(),
            code_hash: Some(hash),
            content: None,
            state,
            created_at_ms: 0,
            expires_at_ms: 0,
        },
        now_ms,
    )?;
    Ok(Ok((id, row.employee_id, options)))
}

/// The registered passkey's device id, with its employee.
pub fn finish_registration(
    tx: &dyn StoreTx,
    rp: &Webauthn,
    ceremony_id: &str,
    credential: &RegisterPublicKeyCredential,
    now_ms: i64,
) -> Result<std::result::Result<(String, String), Refused>> {
    let Some(ceremony) =
        tx.browser()
            .take_ceremony(&ceremony_hash(ceremony_id), REGISTER, now_ms)?
    else {
        return Ok(Err(Refused("unknown, expired or used ceremony".into())));
    };
    let code_hash = ceremony.code_hash.unwrap_or_default();
    // The code may have been used meanwhile (by a phone, or another tab).
    let code_fresh = tx
        .enrollment()
        .code(&code_hash)?
        .is_some_and(|c| c.used_at_ms.is_none() && now_ms < c.expires_at_ms);
    if !code_fresh {
        return Ok(Err(Refused(
            "unknown, expired or used enrollment code".into(),
        )));
    }
    let (key, spki) = match passkey::finish_registration(rp, &ceremony.state, credential)? {
        Ok(done) => done,
        Err(refused) => return Ok(Err(refused)),
    };
    let credential_id = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        key.cred_id().as_slice(),
    );
    // One device per passkey: its id is derived from the credential id.
    let device_id = format!(
        "browser-{}",
        &hex::encode(signing::sha256(credential_id.as_bytes()))[..24]
    );
    if tx.devices().device(&device_id)?.is_some() {
        return Ok(Err(Refused("this passkey is already registered".into())));
    }
    tx.browser().insert_passkey(
        &PasskeyRow {
            credential_id,
            device_id: device_id.clone(),
            employee_id: ceremony.employee_id.clone(),
            passkey: passkey::to_json(&key)?,
            created_at_ms: now_ms,
            revoked_at_ms: None,
        },
        &spki,
    )?;
    tx.enrollment()
        .mark_code_used(&code_hash, &device_id, now_ms)?;
    Ok(Ok((ceremony.employee_id, device_id)))
}

/// Assertion options whose challenge commits to `content`.
pub fn start_punch(
    tx: &dyn StoreTx,
    rp: &Webauthn,
    content: &PunchContent,
    now_ms: i64,
) -> Result<std::result::Result<(String, RequestChallengeResponse), Refused>> {
    let Some((_, key)) = passkeys(tx, &content.employee_id)?
        .into_iter()
        .find(|(row, _)| row.device_id == content.device_id)
    else {
        return Ok(Err(Refused(
            "no passkey of this employee is registered as this device".into(),
        )));
    };
    let bytes = content.to_bytes()?;
    let (options, state) = passkey::start_punch(rp, &key, &content.committed()?)?;
    let id = begin(
        tx,
        CeremonyRow {
            ceremony_id: String::new(),
            kind: PUNCH.into(),
            employee_id: content.employee_id.clone(),
            code_hash: None,
            content: Some(String::from_utf8_lossy(&bytes).into_owned()),
            state,
            created_at_ms: 0,
            expires_at_ms: 0,
        },
        now_ms,
    )?;
    Ok(Ok((id, options)))
}

/// A judged browser punch: stored (accepted or review) or refused.
pub struct Judged {
    pub evaluation: Evaluation,
    /// Where it is stored (None: refused, nothing stored).
    pub stored: Option<(String, u64, String)>,
}

/// Verifies the assertion, judges the punch by the same rules as a phone's
/// (`evaluate`, then `terminal::restrict` for a passkey), keeps what the
/// policy's minimisation keeps (`ledger::minimise`, as a phone does) and,
/// unless it is refused, appends it to the passkey device's chain. A
/// refusal is kept as evidence (`refusal`).
pub fn finish_punch(
    tx: &dyn StoreTx,
    state: &AppState,
    rp: &Webauthn,
    ceremony_id: &str,
    credential: PublicKeyCredential,
    client_ip: IpAddr,
    now_ms: i64,
) -> Result<std::result::Result<Judged, Refused>> {
    let Some(ceremony) = tx
        .browser()
        .take_ceremony(&ceremony_hash(ceremony_id), PUNCH, now_ms)?
    else {
        return Ok(Err(Refused("unknown, expired or used challenge".into())));
    };
    let content_text = ceremony.content.unwrap_or_default();
    let content: PunchContent = passkey::from_json(&content_text)?;
    let Some(row) = tx
        .browser()
        .passkey_of_device(&content.device_id)?
        .filter(|r| r.employee_id == ceremony.employee_id)
    else {
        return Ok(Err(Refused("the passkey is not registered".into())));
    };
    let mut key: Passkey = passkey::from_json(&row.passkey)?;
    let attempt = refusal::Attempt {
        passkey: &row,
        content: &content,
        credential: &credential,
        now_ms,
    };
    let mut assertion =
        match passkey::finish_punch(rp, &ceremony.state, &mut key, credential.clone())? {
            Ok(assertion) => assertion,
            Err(refused) => {
                refusal::keep_attempt(tx, &attempt, refusal::BAD_ASSERTION, &refused.0, false)?;
                return Ok(Err(refused));
            }
        };
    if row.revoked_at_ms.is_some() {
        let refused = Refused("the passkey was revoked".into());
        refusal::keep_attempt(tx, &attempt, refusal::PASSKEY_REVOKED, &refused.0, true)?;
        return Ok(Err(refused));
    }
    tx.browser()
        .update_passkey(&row.credential_id, &passkey::to_json(&key)?)?;
    let version = tx.policies().latest_policy_version()?;
    let Some(policy) = state.policies.get(tx, version)? else {
        return Ok(Err(Refused("no policy has been published".into())));
    };
    let (mut evaluation, kept) = judge(&policy, &content, client_ip)?;
    // The location's hash, and its salt only while the record keeps the
    // exact location (`passkey::verify_record`).
    assertion.location = content.location_hash()?;
    assertion.location_salt = kept
        .evidence
        .precision
        .is_none()
        .then(|| content.location_salt.clone())
        .flatten();
    let signature = serde_json::to_vec(&assertion)
        .map_err(|e| ServerError::Corrupt(format!("assertion: {e}")))?;
    let device = tx
        .devices()
        .lock_device(&content.device_id)?
        .ok_or_else(|| ServerError::UnknownDevice(content.device_id.clone()))?;
    if evaluation.decision == Decision::Rejected {
        let record = record_of(&device, &policy, &content, kept.evidence, kept.evaluation);
        refusal::keep_judged(tx, &row, &record, &signature, now_ms)?;
        return Ok(Ok(Judged {
            evaluation,
            stored: None,
        }));
    }
    let (stored, attendance) = append(tx, &device, &policy, &content, kept, &signature, now_ms)?;
    evaluation.attendance = attendance;
    Ok(Ok(Judged {
        evaluation,
        stored: Some(stored),
    }))
}

/// The evidence a browser gives (its address as the server sees it, its
/// geolocation if allowed), judged by the phone's rules; with what the
/// record keeps of it under the policy's privacy settings.
fn judge(
    policy: &PreparedPolicy,
    content: &PunchContent,
    client_ip: IpAddr,
) -> Result<(Evaluation, Minimised)> {
    let evidence = Evidence {
        gps: content.location.map(|fix| fix.gps(content.client_time_ms)),
        wifi: Vec::new(),
        ip_addresses: vec![client_ip.to_string()],
    };
    // The location was checked for sanity when the punch was started.
    let valid = evidence
        .validate()
        .map_err(|e| ServerError::Corrupt(format!("browser evidence: {e}")))?;
    let evaluation = terminal_verdict::restrict(
        policy,
        evaluate(policy, &valid, content.client_time_ms, None),
        Terminal::Browser,
        Some(PASSKEY_ASSURANCE),
    );
    // The phone keeps the opening for its employee to reveal; the server
    // keeps none (the exact location would be kept after all).
    let kept = minimise(&valid, policy, &evaluation)
        .map_err(|e| ServerError::Crypto(format!("minimising browser evidence: {e}")))?;
    Ok((evaluation, kept))
}

/// The record for the passkey device's next seq (chained to its head).
fn record_of(
    device: &DeviceInfo,
    policy: &PreparedPolicy,
    content: &PunchContent,
    evidence: RecordedEvidence,
    evaluation: Evaluation,
) -> PunchRecord {
    PunchRecord {
        format: RECORD_FORMAT,
        punch_id: new_punch_id(content.client_time_ms),
        device_id: device.device_id.clone(),
        employee_id: content.employee_id.clone(),
        seq: device.head_seq + 1,
        kind: content.kind,
        wall_time_ms: content.client_time_ms,
        utc_offset_min: content.utc_offset_min,
        monotonic_ms: 0,
        boot_id: "browser".into(),
        anchor: None,
        policy_version: policy.policy.version,
        evidence,
        evaluation,
        prev_hash: device.head_hash.clone(),
        notice: None,
        sealed: None,
        // The browser takes no photo; whether the authenticator verified
        // the user is in the stored assertion (its UV flag).
        photo: None,
        biometric_verified: None,
    }
}

/// Appends the record to the passkey device's chain (locked by the
/// caller); answers where, and the server's attendance reading.
fn append(
    tx: &dyn StoreTx,
    device: &DeviceInfo,
    policy: &PreparedPolicy,
    content: &PunchContent,
    kept: Minimised,
    signature: &[u8],
    now_ms: i64,
) -> Result<((String, u64, String), Option<Attendance>)> {
    let seq = device.head_seq + 1;
    let mut evaluation = kept.evaluation;
    // The employee's attendance across all their devices and terminals, as
    // ingest reads it: the latest clock-in or -out before this punch.
    tx.employee_devices().lock_employee(&content.employee_id)?;
    let open = tx
        .employee_devices()
        .latest_clock_punch(&content.employee_id, now_ms, &device.device_id, seq)?
        .and_then(|p| {
            let kind = p.kind.parse().ok()?;
            shift::open_after(kind, p.attendance.as_ref()).flatten()
        });
    // The server received it as it happened: its own clock is the trusted time.
    let attendance = shift::judge(
        &policy.shifts,
        evaluation.site_id.as_deref(),
        content.kind,
        now_ms,
        open.as_ref(),
    );
    evaluation.attendance = attendance.clone();
    let record = record_of(device, policy, content, kept.evidence, evaluation);
    let bytes = record
        .to_bytes()
        .map_err(|e| ServerError::Corrupt(format!("browser record: {e}")))?;
    let hash = hex::encode(signing::sha256(&bytes));
    let skew_ms = content.client_time_ms.saturating_sub(now_ms);
    let max_skew_ms = (policy.policy.settings.max_clock_skew_s * 1000.0) as i64;
    let info = StoredPunchInfo {
        device_id: device.device_id.clone(),
        seq,
        punch_id: record.punch_id.to_string(),
        employee_id: record.employee_id.clone(),
        kind: serde_name(&record.kind),
        wall_time_ms: record.wall_time_ms,
        utc_offset_min: record.utc_offset_min,
        trusted_time_ms: Some(now_ms),
        skew_ms: Some(skew_ms),
        // Received as it happened: the server's clock is its time (no anchor
        // to judge); the browser's clock is only compared with it.
        time_status: if skew_ms.abs() > max_skew_ms {
            "clock_moved"
        } else {
            "server_clock"
        }
        .into(),
        policy_version: record.policy_version,
        decision: serde_name(&record.evaluation.decision),
        site_id: record.evaluation.site_id.clone(),
        hash: hash.clone(),
        received_at_ms: now_ms,
        review_flags: review::review(policy, &record, now_ms),
        assurance: PASSKEY_ASSURANCE.as_str().into(),
        attendance: attendance.clone(),
    };
    tx.punches().insert_punch(&NewPunch {
        info: &info,
        record: &bytes,
        signature,
    })?;
    tx.devices().set_head(&device.device_id, seq, &hash)?;
    Ok((
        (device.device_id.clone(), seq, record.punch_id.to_string()),
        attendance,
    ))
}
