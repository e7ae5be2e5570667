//! Sign-in: password and TOTP code together, one answer for every kind of
//! failure (nobody learns which factor or whether the username exists).
//!
//! Two throttles, both decided under the write lock before any password is
//! hashed, so parallel attempts cannot overtake them:
//! - per (account, client address), known and unknown usernames alike
//!   (`limits.staff_signin_per_account_ip`): bounds guessing from one
//!   address, and failures from elsewhere never lock the owner out;
//! - per account, only attempts with the right password and a wrong code:
//!   someone holds the password, so TOTP guessing locks the account for 30
//!   minutes, doubling up to 24 hours, until it expires or HR unlocks it
//!   (`punch-server admin staff unlock`). A stranger without the password
//!   cannot cause it.

use crate::error::Result;
use crate::limits::Limits;
use crate::limits::rate::{self, Bucket};
use crate::staff::{lifecycle, password, secret, session, totp};
use crate::store::people::{SessionRow, StaffRow};
use crate::store::{ServerStore, StoreExt};

pub const FREE_FAILURES: u32 = 5;
pub const FIRST_LOCK_MS: i64 = 30 * 60 * 1000;
pub const MAX_LOCK_MS: i64 = 24 * 3600 * 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Unknown user, wrong password or wrong code: the same to the caller.
    BadCredentials,
    Locked {
        until_ms: i64,
    },
    /// The right password on an account without an authenticator (new, or
    /// its TOTP reset): enrol this secret, then sign in again with it and a
    /// code from it. Only the holder of the password sees it.
    EnrolTotp {
        secret: Vec<u8>,
    },
}

#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The cookie value (never stored).
    pub session_id: String,
    pub session: SessionRow,
    pub staff: StaffRow,
}

/// How long the account locks after `failed` failures in a row.
pub fn lock_for(failed: u32) -> Option<i64> {
    let over = failed.checked_sub(FREE_FAILURES)?;
    let factor = 1i64.checked_shl(over.min(16)).unwrap_or(i64::MAX);
    Some(FIRST_LOCK_MS.saturating_mul(factor).min(MAX_LOCK_MS))
}

/// One sign-in attempt as it arrived.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// The client's address (`limits::client`).
    pub client: &'a str,
    pub username: &'a str,
    pub password: &'a str,
    /// The authenticator's code.
    pub code: &'a str,
    /// Enrolling: the secret the server offered (raw bytes).
    pub enrol_secret: Option<&'a [u8]>,
}

fn account_part(username: &str) -> String {
    let digest = punch_model::ledger::signing::sha256(username.as_bytes());
    format!("{}@", hex::encode(&digest[..16]))
}

/// The throttle's subject: the username hashed (unknown names typed by
/// strangers are not kept as written) with the client address.
fn subject(username: &str, client: &str) -> String {
    format!("{}{client}", account_part(username))
}

/// The start of every throttle key of one account (HR's unlock clears them).
pub fn throttle_prefix(bucket: Bucket, username: &str) -> String {
    rate::key(bucket, &account_part(username))
}

/// Counts the attempt and checks the account's lock under the write lock,
/// hashes outside any transaction (Argon2 is slow), then records the
/// outcome under the lock again.
pub fn sign_in(
    store: &dyn ServerStore,
    limits: &Limits,
    attempt: &Attempt<'_>,
    now_ms: i64,
) -> Result<std::result::Result<SignedIn, Refusal>> {
    let Attempt {
        client,
        username,
        password: password_text,
        code,
        enrol_secret,
    } = *attempt;
    let subject = subject(username, client);
    let admitted = store.write(|tx| {
        let hits = [(Bucket::StaffSignInAccountIp, subject.as_str())];
        if let Some(limited) = rate::hit(tx, limits, &hits, now_ms)? {
            let wait_ms = i64::try_from(limited.retry_after_s.saturating_mul(1000)).unwrap_or(0);
            return Ok(Err(Refusal::Locked {
                until_ms: now_ms.saturating_add(wait_ms),
            }));
        }
        let staff = tx.people().staff(username)?;
        match staff.as_ref().and_then(|s| s.locked_until_ms) {
            Some(until_ms) if until_ms > now_ms => Ok(Err(Refusal::Locked { until_ms })),
            _ => Ok(Ok(staff)),
        }
    })?;
    let staff = match admitted {
        Ok(staff) => staff,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let Some(staff) = staff else {
        password::verify_against_nothing(password_text);
        return Ok(Err(Refusal::BadCredentials));
    };
    let password_ok = password::verify(password_text, &staff.password_hash);
    // Not enrolled: the code is checked against the secret being enrolled.
    let enrolling = lifecycle::needs_totp_enrolment(&staff);
    let secret = match (enrolling, enrol_secret) {
        (false, _) => Some(staff.totp_secret.as_slice()),
        (true, Some(secret)) if secret.len() == totp::SECRET_LEN => Some(secret),
        (true, _) => None,
    };
    let step = match secret {
        Some(secret) => totp::check(secret, code, now_ms, staff.totp_last_step)?,
        None => None,
    };
    store.write(|tx| {
        // Re-read under the write lock (the row locked on PostgreSQL):
        // another sign-in may have counted, or HR changed the account.
        let Some(current) = tx.people().staff(username)? else {
            return Ok(Err(Refusal::BadCredentials));
        };
        if let Some(until_ms) = current.locked_until_ms.filter(|u| *u > now_ms) {
            return Ok(Err(Refusal::Locked { until_ms }));
        }
        if !password_ok || current.disabled || current.password_hash != staff.password_hash {
            // Counted per (account, address) above; nothing on the account.
            return Ok(Err(Refusal::BadCredentials));
        }
        if lifecycle::needs_totp_enrolment(&current) != enrolling {
            // TOTP was reset or enrolled meanwhile: try again.
            return Ok(Err(Refusal::BadCredentials));
        }
        if enrolling && step.is_none() {
            return Ok(Err(Refusal::EnrolTotp {
                secret: secret::random_bytes(totp::SECRET_LEN)?,
            }));
        }
        match step {
            Some(step) if step > current.totp_last_step => {
                if let (true, Some(secret)) = (enrolling, secret) {
                    let mut enrolled = current.clone();
                    enrolled.totp_secret = secret.to_vec();
                    tx.people().upsert_staff(&enrolled)?;
                }
                tx.people().set_signin_state(username, 0, None, step)?;
                rate::clear(tx, Bucket::StaffSignInAccountIp, &subject)?;
                let (session_id, session) = session::create(tx, username, now_ms)?;
                Ok(Ok(SignedIn {
                    session_id,
                    session,
                    staff: current,
                }))
            }
            _ => {
                // The right password with a wrong (or reused) code.
                let failed = current.failed_signins.saturating_add(1);
                let locked = lock_for(failed).map(|d| now_ms + d);
                tx.people()
                    .set_signin_state(username, failed, locked, current.totp_last_step)?;
                Ok(Err(match locked {
                    Some(until_ms) => Refusal::Locked { until_ms },
                    None => Refusal::BadCredentials,
                }))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockout_doubles_up_to_a_day() {
        assert_eq!(lock_for(4), None);
        assert_eq!(lock_for(5), Some(FIRST_LOCK_MS));
        assert_eq!(lock_for(6), Some(2 * FIRST_LOCK_MS));
        assert_eq!(lock_for(40), Some(MAX_LOCK_MS));
    }
}
