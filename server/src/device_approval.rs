//! HR's approval for one device beyond the published policy's
//! `max_devices` (`crate::enroll` uses it up): single-use, audited, and
//! listed with the employee's bound devices for the admin API, the
//! reviewer page and the CLI. A rebind (`approve_rebind`) is the other
//! kind: it replaces the one bound device instead of adding one.

use serde::Serialize;

use crate::admin::Admin;
use crate::audit::{self, AuditEntry};
use crate::clock::now_ms;
use crate::error::{Result, ServerError};
use crate::policy_publish;
use crate::store::employee_devices::{DeviceApprovalRow, NewDeviceApproval};
use crate::store::{DeviceInfo, StoreExt, StoreTx};

/// The audit action of an approval.
pub const AUDIT_ACTION: &str = "device.extra_approve";

/// Where an employee stands: the limit in force, the devices that count
/// against it, and HR's approvals (newest first; used ones name the device).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceSlots {
    pub employee_id: String,
    /// From the currently published policy (1 before anything is published).
    pub max_devices: u32,
    pub bound_devices: Vec<String>,
    /// Whether a rebind is approved and not used yet.
    pub rebind_approved: bool,
    pub approvals: Vec<DeviceApprovalRow>,
}

/// The employee's slots as the store holds them now.
pub fn slots(tx: &dyn StoreTx, employee_id: &str) -> Result<DeviceSlots> {
    let employee = tx
        .enrollment()
        .employee(employee_id)?
        .ok_or_else(|| ServerError::UnknownEmployee(employee_id.to_string()))?;
    Ok(DeviceSlots {
        employee_id: employee.employee_id,
        max_devices: policy_publish::current_settings(tx)?.max_devices.get(),
        bound_devices: tx
            .devices()
            .devices_of(employee_id)?
            .into_iter()
            .filter(DeviceInfo::is_bound)
            .map(|d| d.device_id)
            .collect(),
        rebind_approved: employee.rebind_approved_at_ms.is_some(),
        approvals: tx.employee_devices().device_approvals(employee_id)?,
    })
}

/// Records `approved_by`'s approval for one more device for the employee,
/// in the caller's transaction (which also writes the audit record, with
/// [`AUDIT_ACTION`] and the id answered).
pub fn approve(
    tx: &dyn StoreTx,
    employee_id: &str,
    approved_by: &str,
    reason: &str,
    now_ms: i64,
) -> Result<i64> {
    if tx.enrollment().employee(employee_id)?.is_none() {
        return Err(ServerError::UnknownEmployee(employee_id.to_string()));
    }
    tx.employee_devices()
        .insert_device_approval(&NewDeviceApproval {
            employee_id,
            approved_by,
            reason,
            approved_at_ms: now_ms,
        })
}

impl Admin {
    /// Lets the employee enroll one device beyond `max_devices` (once).
    pub fn approve_extra_device(&self, employee_id: &str, reason: &str) -> Result<DeviceSlots> {
        let now = now_ms();
        let entry =
            crate::admin::operator_entry(AUDIT_ACTION, format!("employee:{employee_id}"), reason);
        self.store().write(|tx| {
            let id = approve(tx, employee_id, &entry.actor, reason, now)?;
            let detail = serde_json::json!({"via": "admin", "approval_id": id});
            audit::append(
                tx,
                &AuditEntry {
                    detail,
                    ..entry.clone()
                },
                now,
            )?;
            slots(tx, employee_id)
        })
    }

    /// The employee's device limit, bound devices and approvals.
    pub fn device_slots(&self, employee_id: &str) -> Result<DeviceSlots> {
        self.store().read(|tx| slots(tx, employee_id))
    }
}
