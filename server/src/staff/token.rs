//! API tokens for integrations (payroll, HR systems): `pt_<id>_<secret>`,
//! shown once, stored as SHA-256, acting for a staff member with at most
//! that member's rights, narrowed to the token's scopes, until it expires.

use serde::Serialize;

use crate::error::{Result, ServerError};
use crate::staff::role::{self, Permission, Role};
use crate::staff::secret;
use crate::store::StoreTx;
use crate::store::people::{ApiTokenRow, StaffRow};

pub const PREFIX: &str = "pt_";
/// A leaked integration token stops working within a quarter at most.
pub const MAX_TTL_DAYS: u32 = 90;

/// What the creator sees, once.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedToken {
    pub token_id: String,
    /// The bearer credential: shown now and never again.
    pub token: String,
    pub scopes: Vec<Permission>,
    pub expires_at_ms: i64,
}

pub fn create(
    tx: &dyn StoreTx,
    owner: &StaffRow,
    name: &str,
    scopes: &[Permission],
    ttl_days: u32,
    now_ms: i64,
) -> Result<CreatedToken> {
    let role = Role::parse(&owner.role)
        .ok_or_else(|| ServerError::Corrupt(format!("staff role {:?}", owner.role)))?;
    if scopes.is_empty() {
        return Err(ServerError::Invalid(
            "a token needs at least one scope".into(),
        ));
    }
    if let Some(p) = scopes.iter().find(|p| !role::allows(role, **p)) {
        return Err(ServerError::Invalid(format!(
            "a {} cannot grant {}",
            role.as_str(),
            p.as_str()
        )));
    }
    if ttl_days == 0 || ttl_days > MAX_TTL_DAYS {
        return Err(ServerError::Invalid(format!(
            "ttl_days is 1 to {MAX_TTL_DAYS}"
        )));
    }
    let token_id = hex::encode(secret::random_bytes(6)?);
    let token = format!("{PREFIX}{token_id}_{}", secret::random_token()?);
    let expires_at_ms = now_ms + i64::from(ttl_days) * 86_400_000;
    tx.people().insert_api_token(&ApiTokenRow {
        token_hash: secret::hash(&token),
        token_id: token_id.clone(),
        username: owner.username.clone(),
        name: name.chars().take(100).collect(),
        scopes: scopes.iter().map(|p| p.as_str().to_string()).collect(),
        created_at_ms: now_ms,
        expires_at_ms,
        revoked_at_ms: None,
    })?;
    Ok(CreatedToken {
        token_id,
        token,
        scopes: scopes.to_vec(),
        expires_at_ms,
    })
}

/// Revokes one token by its id: `owner` Some limits it to that member's own
/// tokens (None: HR or the operator, anyone's). The token as it now is, or
/// None if no such token (of that owner) exists; revoking twice keeps the
/// first time.
pub fn revoke(
    tx: &dyn StoreTx,
    token_id: &str,
    owner: Option<&str>,
    now_ms: i64,
) -> Result<Option<ApiTokenRow>> {
    let Some(row) = tx
        .people()
        .api_tokens(owner)?
        .into_iter()
        .find(|t| t.token_id == token_id)
    else {
        return Ok(None);
    };
    tx.people()
        .revoke_api_tokens(&row.username, Some(token_id), now_ms)?;
    Ok(Some(ApiTokenRow {
        revoked_at_ms: row.revoked_at_ms.or(Some(now_ms)),
        ..row
    }))
}

/// The live token a bearer value names, with its scopes parsed.
pub fn lookup(
    tx: &dyn StoreTx,
    bearer: &str,
    now_ms: i64,
) -> Result<Option<(ApiTokenRow, Vec<Permission>)>> {
    if !bearer.starts_with(PREFIX) || bearer.len() > 128 {
        return Ok(None);
    }
    let Some(row) = tx.people().api_token(&secret::hash(bearer))? else {
        return Ok(None);
    };
    if row.revoked_at_ms.is_some() || row.expires_at_ms <= now_ms {
        return Ok(None);
    }
    let scopes = row
        .scopes
        .iter()
        .filter_map(|s| Permission::parse(s))
        .collect();
    Ok(Some((row, scopes)))
}
