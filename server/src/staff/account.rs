//! Creating staff accounts: the first HR admin from the CLI (bootstrap:
//! the operator is the holder, shown the TOTP secret once), the rest by an
//! HR admin through the API: those enrol their own authenticator at their
//! first sign-in, so HR never sees their second factor.

use serde::Serialize;

use crate::error::{Result, ServerError};
use crate::staff::role::Role;
use crate::staff::{password, secret, totp};
use crate::store::StoreTx;
use crate::store::people::StaffRow;

/// Shown in authenticator apps beside the username.
pub const TOTP_ISSUER: &str = "punch";

/// What an account is made from.
#[derive(Debug, Clone)]
pub struct NewStaff {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// Required for a manager; ignored for the other roles.
    pub team: Option<String>,
    pub password: String,
}

/// When the account's authenticator is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enrolment {
    /// Now, shown to whoever creates it (the CLI bootstrap).
    Now,
    /// By the holder at their first sign-in (`staff::signin`).
    AtFirstSignIn,
}

/// The new account; with [`Enrolment::Now`], its secret, shown once.
#[derive(Debug, Clone, Serialize)]
pub struct Created {
    pub username: String,
    pub role: Role,
    pub team: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totp_secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otpauth_uri: Option<String>,
    /// True until the holder has enrolled an authenticator.
    pub totp_enrolment_pending: bool,
}

/// Lower-case letters, digits, `.`, `_`, `-`; 2 to 64 characters.
pub fn valid_username(name: &str) -> bool {
    (2..=64).contains(&name.len())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
}

/// Hashes the password before any lock is taken (Argon2 is slow on purpose).
pub fn prepare(new: &NewStaff, enrolment: Enrolment, now_ms: i64) -> Result<(StaffRow, Created)> {
    if !valid_username(&new.username) {
        return Err(ServerError::Invalid(
            "a username has 2-64 characters: a-z, 0-9, '.', '_', '-'".into(),
        ));
    }
    let team = match new.role {
        Role::Manager => match new.team.as_deref().map(str::trim) {
            Some(t) if !t.is_empty() && t.len() <= 128 => Some(t.to_string()),
            _ => return Err(ServerError::Invalid("a manager needs a team".into())),
        },
        _ => None,
    };
    let totp_secret = match enrolment {
        Enrolment::Now => secret::random_bytes(totp::SECRET_LEN)?,
        // Empty: not enrolled (`lifecycle::needs_totp_enrolment`).
        Enrolment::AtFirstSignIn => Vec::new(),
    };
    let row = StaffRow {
        username: new.username.clone(),
        display_name: new.display_name.trim().to_string(),
        role: new.role.as_str().to_string(),
        team: team.clone(),
        password_hash: password::hash(&new.password)?,
        totp_secret: totp_secret.clone(),
        totp_last_step: 0,
        failed_signins: 0,
        locked_until_ms: None,
        created_at_ms: now_ms,
        disabled: false,
    };
    let created = Created {
        username: new.username.clone(),
        role: new.role,
        team,
        totp_secret: match enrolment {
            Enrolment::Now => Some(totp::secret_base32(&totp_secret)?),
            Enrolment::AtFirstSignIn => None,
        },
        otpauth_uri: match enrolment {
            Enrolment::Now => Some(totp::otpauth_uri(&totp_secret, TOTP_ISSUER, &new.username)?),
            Enrolment::AtFirstSignIn => None,
        },
        totp_enrolment_pending: enrolment == Enrolment::AtFirstSignIn,
    };
    Ok((row, created))
}

/// Stores a prepared account; refuses a username already taken.
pub fn insert(tx: &dyn StoreTx, row: &StaffRow) -> Result<()> {
    if tx.people().staff(&row.username)?.is_some() {
        return Err(ServerError::Invalid(format!(
            "staff account {:?} exists",
            row.username
        )));
    }
    tx.people().upsert_staff(row)
}
