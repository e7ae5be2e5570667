//! The reset rules, each run inside one store transaction (the profile and
//! the code rows are locked on PostgreSQL, so two servers never both accept
//! one code). Every path ends in [`issue_token`].

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

use punch_model::pin::wire::PinCodeSent;
use punch_model::pin::{ResetPath, ResetToken, SignedResetToken, Verifier};

use super::sender::{CodeMessage, mask};
use crate::error::{Result, ServerError};
use crate::policy_publish::policy_signer;
use crate::store::{DeviceInfo, PinCodeRow, StoreTx};

const META_CODE_KEY: &str = "pin_code_mac_key";
/// How long an expired code's row is kept (its redeem answers `expired`).
const CODE_KEPT_MS: i64 = 24 * 3600 * 1000;
/// A code is good for ten minutes.
pub const CODE_LIFETIME_MS: i64 = 10 * 60 * 1000;
/// An admin's order waits this long for the device to fetch it.
pub const ADMIN_RESET_LIFETIME_MS: i64 = 7 * 86_400_000;
const CODE_DIGITS: u32 = 6;
/// Identity secrets are hashed like PINs (they are as short).
pub const IDENTITY_ITERATIONS: u32 = punch_model::pin::settings::MIN_PBKDF2_ITERATIONS;

/// Why a reset was refused (each is a clear error for the device).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinRefusal {
    /// No contact (code path) or no identity secret (self-service) is configured.
    Unavailable(&'static str),
    /// Unknown, for another device, expired, used or replaced by a newer
    /// code; `reason` says which.
    CodeInvalid(&'static str),
    IdentityInvalid,
    NoAdminReset,
}

fn random_code() -> Result<String> {
    let mut bytes = [0u8; 8];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ServerError::Crypto("system random failed".into()))?;
    // 2^64 mod 10^6 makes the bias below 1e-13.
    let n = u64::from_le_bytes(bytes) % 10u64.pow(CODE_DIGITS);
    Ok(format!("{n:06}"))
}

/// The code's MAC under a server key (kept in the database): a stolen
/// table alone does not give the 10^6 codes away to a lookup.
fn code_mac(tx: &dyn StoreTx, employee_id: &str, code: &str) -> Result<String> {
    let key = match tx.meta().get(META_CODE_KEY)? {
        Some(k) => k,
        None => {
            let mut k = vec![0u8; 32];
            SystemRandom::new()
                .fill(&mut k)
                .map_err(|_| ServerError::Crypto("system random failed".into()))?;
            tx.meta().get_or_insert(META_CODE_KEY, &k)?
        }
    };
    let key = hmac::Key::new(hmac::HMAC_SHA256, &key);
    let msg = format!("{employee_id}\0{}", code.trim());
    Ok(hex::encode(hmac::sign(&key, msg.as_bytes())))
}

/// Creates a code for the device's employee and says where it goes. The
/// caller sends the message after the transaction commits.
pub fn request_code(
    tx: &dyn StoreTx,
    device: &DeviceInfo,
    now_ms: i64,
) -> Result<std::result::Result<(PinCodeSent, CodeMessage), PinRefusal>> {
    let profile = tx
        .pin()
        .pin_profile(&device.employee_id)?
        .unwrap_or_default();
    let (Some(channel), Some(to)) = (profile.channel, profile.address) else {
        return Ok(Err(PinRefusal::Unavailable(
            "no phone or e-mail is bound for this employee",
        )));
    };
    let expires_at_ms = now_ms.saturating_add(CODE_LIFETIME_MS);
    // Codes long expired go (a day on, so a late redeem still hears why):
    // the table stays small, and an employee's 10^6 possible MACs cannot
    // pile up into collisions with their own old rows.
    tx.pin()
        .prune_pin_codes(now_ms.saturating_sub(CODE_KEPT_MS))?;
    // A code whose MAC is still stored for this employee (drawn again
    // within a day) is drawn anew: the MAC is the row's key.
    let mut drawn = None;
    for _ in 0..8 {
        let code = random_code()?;
        let mac = code_mac(tx, &device.employee_id, &code)?;
        if tx.pin().pin_code(&mac)?.is_none() {
            drawn = Some((code, mac));
            break;
        }
    }
    let Some((code, mac)) = drawn else {
        return Err(ServerError::Crypto(
            "no fresh PIN code after 8 draws".into(),
        ));
    };
    // Only the newest code works: a code sent earlier (a message that came
    // late, or one someone else saw) stops working when a new one is sent.
    // The profile row read above is locked, so two requests take turns.
    tx.pin().supersede_pin_codes(&device.employee_id, now_ms)?;
    tx.pin().insert_pin_code(&PinCodeRow {
        code_hash: mac,
        employee_id: device.employee_id.clone(),
        device_id: device.device_id.clone(),
        created_at_ms: now_ms,
        expires_at_ms,
        used_at_ms: None,
        superseded_at_ms: None,
    })?;
    Ok(Ok((
        PinCodeSent {
            channel: channel.clone(),
            masked_to: mask(&channel, &to),
            expires_at_ms,
        },
        CodeMessage {
            employee_id: device.employee_id.clone(),
            channel,
            to,
            code,
            expires_at_ms,
        },
    )))
}

/// Trades a code for a token: it must be this employee's, asked for by
/// this device, unexpired, unused and the newest one sent.
pub fn redeem_code(
    tx: &dyn StoreTx,
    device: &DeviceInfo,
    code: &str,
    now_ms: i64,
) -> Result<std::result::Result<SignedResetToken, PinRefusal>> {
    let hash = code_mac(tx, &device.employee_id, code)?;
    let Some(row) = tx.pin().pin_code(&hash)? else {
        return Ok(Err(PinRefusal::CodeInvalid("unknown")));
    };
    if row.employee_id != device.employee_id || row.device_id != device.device_id {
        return Ok(Err(PinRefusal::CodeInvalid("unknown")));
    }
    if row.used_at_ms.is_some() {
        return Ok(Err(PinRefusal::CodeInvalid("used")));
    }
    if row.superseded_at_ms.is_some() {
        return Ok(Err(PinRefusal::CodeInvalid("replaced")));
    }
    if now_ms >= row.expires_at_ms {
        return Ok(Err(PinRefusal::CodeInvalid("expired")));
    }
    if !tx.pin().mark_pin_code_used(&hash, now_ms)? {
        return Ok(Err(PinRefusal::CodeInvalid("used")));
    }
    issue_token(tx, device, ResetPath::Code, now_ms).map(Ok)
}

/// Self-service: the employee number (the bound employee's) and the secret
/// the employer configured.
pub fn self_service(
    tx: &dyn StoreTx,
    device: &DeviceInfo,
    employee_number: &str,
    secret: &str,
    now_ms: i64,
) -> Result<std::result::Result<SignedResetToken, PinRefusal>> {
    let profile = tx
        .pin()
        .pin_profile(&device.employee_id)?
        .unwrap_or_default();
    let Some(json) = profile.identity_verifier else {
        return Ok(Err(PinRefusal::Unavailable(
            "the employer has set no identity data for self-service",
        )));
    };
    let verifier: Verifier = serde_json::from_str(&json)
        .map_err(|e| ServerError::Corrupt(format!("identity verifier: {e}")))?;
    // Always hash, so a wrong employee number costs as much as a wrong secret.
    let secret_ok = verifier
        .matches(secret.trim())
        .map_err(|e| ServerError::Corrupt(e.to_string()))?;
    if !secret_ok || employee_number.trim() != device.employee_id {
        return Ok(Err(PinRefusal::IdentityInvalid));
    }
    issue_token(tx, device, ResetPath::SelfService, now_ms).map(Ok)
}

/// The token for a reset an admin ordered (used up by this fetch).
pub fn fetch_admin_reset(
    tx: &dyn StoreTx,
    device: &DeviceInfo,
    now_ms: i64,
) -> Result<std::result::Result<SignedResetToken, PinRefusal>> {
    let Some(mut profile) = tx.pin().pin_profile(&device.employee_id)? else {
        return Ok(Err(PinRefusal::NoAdminReset));
    };
    match profile.admin_reset_at_ms {
        Some(at) if now_ms.saturating_sub(at) < ADMIN_RESET_LIFETIME_MS => {}
        _ => return Ok(Err(PinRefusal::NoAdminReset)),
    }
    profile.admin_reset_at_ms = None;
    tx.pin().upsert_pin_profile(&profile)?;
    issue_token(tx, device, ResetPath::Admin, now_ms).map(Ok)
}

/// Signs a single-use, expiring token for the device with the policy key.
pub fn issue_token(
    tx: &dyn StoreTx,
    device: &DeviceInfo,
    path: ResetPath,
    now_ms: i64,
) -> Result<SignedResetToken> {
    let signer = policy_signer(tx)?;
    let token = ResetToken::new(
        uuid::Uuid::new_v4().to_string(),
        &device.employee_id,
        &device.device_id,
        path,
        now_ms,
    );
    tracing::info!(employee_id = %device.employee_id, device_id = %device.device_id,
        token_id = %token.token_id, ?path, "PIN reset token issued");
    token
        .sign(&signer)
        .map_err(|e| ServerError::Crypto(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_contacts_are_masked() {
        let c = random_code().unwrap();
        assert_eq!(c.len(), 6);
        assert!(c.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(mask("email", "li.wei@example.com"), "l***@example.com");
        assert_eq!(mask("phone", "+8613800138000"), "***00");
    }
}
