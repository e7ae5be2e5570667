//! An employee's device approvals, and their clock-ins and -outs across
//! devices in the server's time order.

use super::SqlTx;
use crate::error::{Result, ServerError};
use crate::store::db::{self, Lock, Row};
use crate::store::employee_devices::{ClockPunch, DeviceApprovalRow, NewDeviceApproval};

const APPROVAL_COLUMNS: &str =
    "id, employee_id, approved_by, reason, approved_at_ms, used_at_ms, used_by_device";

fn approval_row(mut r: Row) -> Result<DeviceApprovalRow> {
    Ok(DeviceApprovalRow {
        id: r.int()?,
        employee_id: r.text()?,
        approved_by: r.text()?,
        reason: r.text()?,
        approved_at_ms: r.int()?,
        used_at_ms: r.opt_int()?,
        used_by_device: r.opt_text()?,
    })
}

pub(super) fn lock_employee(tx: &SqlTx<'_>, employee_id: &str) -> Result<()> {
    tx.lock(Lock::Employee(employee_id))
}

pub(super) fn insert_device_approval(tx: &SqlTx<'_>, a: &NewDeviceApproval<'_>) -> Result<i64> {
    tx.first(
        "INSERT INTO device_approvals (employee_id, approved_by, reason, approved_at_ms)
         VALUES (?1, ?2, ?3, ?4) RETURNING id",
        &[
            a.employee_id.into(),
            a.approved_by.into(),
            a.reason.into(),
            a.approved_at_ms.into(),
        ],
        |mut r| r.int(),
    )?
    .ok_or_else(|| ServerError::Corrupt("insert returned no id".into()))
}

pub(super) fn unused_device_approval(
    tx: &SqlTx<'_>,
    employee_id: &str,
) -> Result<Option<DeviceApprovalRow>> {
    tx.first(
        &format!(
            "SELECT {APPROVAL_COLUMNS} FROM device_approvals
             WHERE employee_id = ?1 AND used_at_ms IS NULL ORDER BY id LIMIT 1{}",
            tx.db.dialect().for_update(tx.db.write())
        ),
        &[employee_id.into()],
        approval_row,
    )
}

pub(super) fn use_device_approval(
    tx: &SqlTx<'_>,
    id: i64,
    device_id: &str,
    now_ms: i64,
) -> Result<bool> {
    Ok(tx.exec(
        "UPDATE device_approvals SET used_at_ms = ?2, used_by_device = ?3
         WHERE id = ?1 AND used_at_ms IS NULL",
        &[id.into(), now_ms.into(), device_id.into()],
    )? == 1)
}

pub(super) fn device_approvals(
    tx: &SqlTx<'_>,
    employee_id: &str,
) -> Result<Vec<DeviceApprovalRow>> {
    tx.all(
        &format!(
            "SELECT {APPROVAL_COLUMNS} FROM device_approvals
             WHERE employee_id = ?1 ORDER BY id DESC"
        ),
        &[employee_id.into()],
        approval_row,
    )
}

pub(super) fn latest_clock_punch(
    tx: &SqlTx<'_>,
    employee_id: &str,
    at_ms: i64,
    device_id: &str,
    seq: u64,
) -> Result<Option<ClockPunch>> {
    // The row comparison spelled out (both dialects, and the
    // punches_by_employee_time index, follow it).
    let c = bytewise(tx);
    tx.first(
        &format!(
            "SELECT {CLOCK_PUNCH_COLUMNS} FROM punches
             WHERE employee_id = ?1 AND kind IN ('clock_in', 'clock_out')
               AND (COALESCE(trusted_time_ms, wall_time_ms) < ?2
                    OR (COALESCE(trusted_time_ms, wall_time_ms) = ?2
                        AND (device_id{c} < ?3 OR (device_id = ?3 AND seq < ?4))))
             ORDER BY COALESCE(trusted_time_ms, wall_time_ms) DESC, device_id{c} DESC, seq DESC
             LIMIT 1"
        ),
        &[
            employee_id.into(),
            at_ms.into(),
            device_id.into(),
            db::int(seq)?,
        ],
        clock_punch_row,
    )
}

pub(super) fn clock_punches_since(
    tx: &SqlTx<'_>,
    employee_id: &str,
    from_ms: i64,
) -> Result<Vec<ClockPunch>> {
    let rows = tx.all(
        &format!(
            "SELECT {CLOCK_PUNCH_COLUMNS} FROM punches
             WHERE employee_id = ?1 AND kind IN ('clock_in', 'clock_out')
               AND COALESCE(trusted_time_ms, wall_time_ms) >= ?2
             ORDER BY COALESCE(trusted_time_ms, wall_time_ms), device_id{}, seq",
            bytewise(tx)
        ),
        &[employee_id.into(), from_ms.into()],
        clock_punch_row,
    )?;
    Ok(tx.counted(rows))
}

const CLOCK_PUNCH_COLUMNS: &str =
    "COALESCE(trusted_time_ms, wall_time_ms), device_id, seq, kind, attendance";

fn clock_punch_row(mut r: Row) -> Result<ClockPunch> {
    Ok(ClockPunch {
        at_ms: r.int()?,
        device_id: r.text()?,
        seq: r.u64()?,
        kind: r.text()?,
        // An unreadable reading is none, never guessed (as punches.rs).
        attendance: r.opt_text()?.and_then(|t| serde_json::from_str(&t).ok()),
    })
}

/// Device ids compare bytewise, as Rust does, whatever PostgreSQL's collation.
fn bytewise(tx: &SqlTx<'_>) -> &'static str {
    match tx.db.dialect() {
        db::Dialect::Postgres => " COLLATE \"C\"",
        db::Dialect::Sqlite => "",
    }
}

pub(super) fn erase_approval_reasons(tx: &SqlTx<'_>, employee_id: &str) -> Result<u64> {
    tx.exec(
        "UPDATE device_approvals SET reason = 'erased' WHERE employee_id = ?1 AND reason <> 'erased'",
        &[employee_id.into()],
    )
}
