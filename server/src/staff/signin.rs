//! Sign-in: password and TOTP code together, one answer for every kind of
//! failure (nobody learns which factor or whether the username exists), and
//! a lockout like the PIN's: after 5 failures in a row the account is locked
//! for 30 minutes, doubling with each further failure up to 24 hours.

use crate::error::Result;
use crate::staff::{password, session, totp};
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

/// Checks the factors outside any transaction (Argon2 is slow), then
/// records the outcome; a refusal still commits the failure count.
pub fn sign_in(
    store: &dyn ServerStore,
    username: &str,
    password_text: &str,
    code: &str,
    now_ms: i64,
) -> Result<std::result::Result<SignedIn, Refusal>> {
    let Some(staff) = store.read(|tx| tx.people().staff(username))? else {
        password::verify_against_nothing(password_text);
        return Ok(Err(Refusal::BadCredentials));
    };
    if let Some(until_ms) = staff.locked_until_ms.filter(|u| *u > now_ms) {
        return Ok(Err(Refusal::Locked { until_ms }));
    }
    let password_ok = password::verify(password_text, &staff.password_hash);
    let step = totp::check(&staff.totp_secret, code, now_ms, staff.totp_last_step)?;
    store.write(|tx| {
        // Re-read under the write lock: another sign-in may have counted meanwhile.
        let Some(current) = tx.people().staff(username)? else {
            return Ok(Err(Refusal::BadCredentials));
        };
        match (password_ok && !current.disabled, step) {
            (true, Some(step)) if step > current.totp_last_step => {
                tx.people().set_signin_state(username, 0, None, step)?;
                let (session_id, session) = session::create(tx, username, now_ms)?;
                Ok(Ok(SignedIn {
                    session_id,
                    session,
                    staff: current,
                }))
            }
            _ => {
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
