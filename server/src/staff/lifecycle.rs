//! A staff account's life after creation, the same from the CLI and the
//! admin API (each caller audits): disable and enable, revoke every
//! session and API token, unlock, reset the password (HR sets a one-time
//! one; sessions and tokens end) and reset TOTP (the holder enrols a new
//! authenticator at their next sign-in; HR never sees the secret).
//!
//! Changes read the row under the write lock (locked on PostgreSQL) and
//! write it whole.

use serde::{Deserialize, Serialize};

use crate::error::{Result, ServerError};
use crate::limits::rate::Bucket;
use crate::staff::signin;
use crate::store::StoreTx;
use crate::store::people::StaffRow;

/// What can be done to an account.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Change {
    /// No sign-in, no session, no token works; sessions and tokens end.
    Disable,
    Enable,
    /// Ends every session and revokes every API token.
    Revoke,
    /// Clears the account lock and the per-address sign-in throttles.
    Unlock,
    /// A new password (one-time, from HR); sessions and tokens end, the
    /// lock clears.
    ResetPassword,
    /// The authenticator is forgotten: the holder enrols a new one at the
    /// next sign-in; sessions and tokens end.
    ResetTotp,
}

impl Change {
    pub const ALL: &'static [Change] = <Change as strum::VariantArray>::VARIANTS;

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(text: &str) -> Option<Change> {
        text.parse().ok()
    }
}

/// What a change did, for the answer and the audit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub sessions_ended: u64,
    pub tokens_revoked: u64,
}

/// Applies `change` to `username`. `password_hash` is the new PHC string
/// for [`Change::ResetPassword`] (hashed by the caller, outside the lock).
pub fn apply(
    tx: &dyn StoreTx,
    username: &str,
    change: Change,
    password_hash: Option<&str>,
    now_ms: i64,
) -> Result<Outcome> {
    let Some(mut row) = tx.people().staff(username)? else {
        return Err(ServerError::NotFound(format!(
            "no staff account {username:?}"
        )));
    };
    let mut revoke = true;
    match change {
        Change::Disable => row.disabled = true,
        Change::Enable => {
            row.disabled = false;
            revoke = false;
        }
        Change::Revoke => {}
        Change::Unlock => {
            unlock(tx, &mut row)?;
            revoke = false;
        }
        Change::ResetPassword => {
            let Some(phc) = password_hash else {
                return Err(ServerError::Invalid("a new password is needed".into()));
            };
            row.password_hash = phc.to_string();
            unlock(tx, &mut row)?;
        }
        Change::ResetTotp => {
            row.totp_secret = Vec::new();
            row.totp_last_step = 0;
        }
    }
    tx.people().upsert_staff(&row)?;
    if !revoke {
        return Ok(Outcome::default());
    }
    Ok(Outcome {
        sessions_ended: tx.people().delete_sessions_of(username)?,
        tokens_revoked: tx.people().revoke_api_tokens(username, None, now_ms)?,
    })
}

fn unlock(tx: &dyn StoreTx, row: &mut StaffRow) -> Result<()> {
    row.failed_signins = 0;
    row.locked_until_ms = None;
    tx.limits().rate_clear_prefix(&signin::throttle_prefix(
        Bucket::StaffSignInAccountIp,
        &row.username,
    ))
}

/// Whether the account still has to enrol its authenticator.
pub fn needs_totp_enrolment(row: &StaffRow) -> bool {
    row.totp_secret.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_spelt_as_the_api_routes_name_them() {
        let names: Vec<&str> = Change::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            names,
            [
                "disable",
                "enable",
                "revoke",
                "unlock",
                "reset-password",
                "reset-totp"
            ]
        );
        for &c in Change::ALL {
            assert_eq!(Change::parse(c.as_str()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        assert_eq!(Change::parse("reset_password"), None);
    }
}
