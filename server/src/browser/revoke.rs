//! HR's view of an employee's passkeys, and revoking one (a lost laptop, a
//! passkey synced somewhere it should not be): a revoked passkey starts no
//! punch and finishes none, even one started before (`ceremony`); its
//! device's chain stays as it was. The admin API, the reviewer page and the
//! CLI all come here; each revocation is audited in the same transaction.

use serde::Serialize;

use crate::admin::Admin;
use crate::clock::now_ms;
use crate::error::{Result, ServerError};
use crate::store::browser::PasskeyRow;
use crate::store::{StoreExt, StoreTx};

/// The audit action of a revocation.
pub const AUDIT_ACTION: &str = "passkey.revoke";

/// A passkey as HR sees it (no key material).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PasskeyView {
    /// Its device (terminal `browser`) and chain.
    pub device_id: String,
    pub employee_id: String,
    /// WebAuthn's id for it (base64url).
    pub credential_id: String,
    pub registered_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
    /// Punches stored from it (its chain's head).
    pub head_seq: u64,
}

fn view(tx: &dyn StoreTx, row: PasskeyRow) -> Result<PasskeyView> {
    let head_seq = tx
        .devices()
        .device(&row.device_id)?
        .map_or(0, |d| d.head_seq);
    Ok(PasskeyView {
        device_id: row.device_id,
        employee_id: row.employee_id,
        credential_id: row.credential_id,
        registered_at_ms: row.created_at_ms,
        revoked_at_ms: row.revoked_at_ms,
        head_seq,
    })
}

/// Every passkey the employee registered, revoked ones too, oldest first.
pub fn list(tx: &dyn StoreTx, employee_id: &str) -> Result<Vec<PasskeyView>> {
    tx.browser()
        .passkeys_ever(employee_id)?
        .into_iter()
        .map(|row| view(tx, row))
        .collect()
}

/// Revokes the employee's passkey `device_id` (revoking it again changes
/// nothing): the passkey as it stands now, and whether this call revoked
/// it. None: the employee has no such passkey.
pub fn revoke(
    tx: &dyn StoreTx,
    employee_id: &str,
    device_id: &str,
    now_ms: i64,
) -> Result<Option<(PasskeyView, bool)>> {
    let theirs = tx
        .browser()
        .passkey_of_device(device_id)?
        .is_some_and(|p| p.employee_id == employee_id);
    if !theirs {
        return Ok(None);
    }
    let revoked = tx.browser().revoke_passkey(device_id, now_ms)?;
    let row = tx
        .browser()
        .passkey_of_device(device_id)?
        .ok_or_else(|| ServerError::UnknownDevice(device_id.to_string()))?;
    Ok(Some((view(tx, row)?, revoked)))
}

/// The audit detail of a revocation.
pub fn audit_detail(view: &PasskeyView, revoked_now: bool) -> serde_json::Value {
    serde_json::json!({
        "employee_id": view.employee_id,
        "credential_id": view.credential_id,
        "already_revoked": !revoked_now,
    })
}

impl Admin {
    /// The employee's passkeys (the CLI's `passkeys`).
    pub fn passkeys(&self, employee_id: &str) -> Result<Vec<PasskeyView>> {
        self.store().read(|tx| {
            if tx.enrollment().employee(employee_id)?.is_none() {
                return Err(ServerError::UnknownEmployee(employee_id.to_string()));
            }
            list(tx, employee_id)
        })
    }

    /// Revokes the employee's passkey `device_id`, audited with `reason`.
    pub fn revoke_passkey(
        &self,
        employee_id: &str,
        device_id: &str,
        reason: &str,
    ) -> Result<PasskeyView> {
        let now = now_ms();
        self.store().write(|tx| {
            let (view, revoked) = revoke(tx, employee_id, device_id, now)?
                .ok_or_else(|| ServerError::UnknownDevice(device_id.to_string()))?;
            let mut detail = audit_detail(&view, revoked);
            detail["via"] = "admin".into();
            crate::admin::operator_audit_with(
                tx,
                AUDIT_ACTION,
                format!("device:{device_id}"),
                reason,
                detail,
                now,
            )?;
            Ok(view)
        })
    }
}
