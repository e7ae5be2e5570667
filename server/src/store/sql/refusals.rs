//! Records the server refused, kept as evidence (never dropped).

use super::SqlTx;
use crate::at_rest::value::Slot;
use crate::error::Result;
use crate::store::db::{self, Row};
use crate::store::{RefusedRow, RejectedInfo};

fn slot<'a>(device_id: &'a str, hash: &'a str) -> Slot<'a> {
    Slot::RejectedRecord { device_id, hash }
}

pub(super) fn record_rejected(tx: &SqlTx<'_>, r: &RejectedInfo) -> Result<()> {
    tx.exec(
        "INSERT INTO rejected (device_id, seq, punch_id, employee_id, reason, detail, hash,
                               record, signature, attempts, first_received_at_ms,
                               last_received_at_ms, claimed_employee_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, ?10, ?10, ?11)
         ON CONFLICT (device_id, seq, reason, hash, signature) DO UPDATE SET
            attempts = rejected.attempts + 1,
            detail = excluded.detail,
            last_received_at_ms = excluded.last_received_at_ms",
        &[
            (&r.device_id).into(),
            db::int(r.seq)?,
            r.punch_id.as_deref().into(),
            r.employee_id.as_deref().into(),
            (&r.reason).into(),
            (&r.detail).into(),
            (&r.hash).into(),
            tx.seal(&slot(&r.device_id, &r.hash), &r.record)?,
            (&r.signature).into(),
            r.last_received_at_ms.into(),
            r.claimed_employee_id.as_deref().into(),
        ],
    )?;
    Ok(())
}

/// (reason, detail) of every refusal kept with this hash at (device, seq),
/// newest first: the caller decides which counts (`RejectReason::is_link`).
pub(super) fn refusals_with_hash(
    tx: &SqlTx<'_>,
    device_id: &str,
    seq: u64,
    hash_hex: &str,
) -> Result<Vec<(String, String)>> {
    let Some(seq) = db::lookup(seq) else {
        return Ok(Vec::new());
    };
    tx.all(
        "SELECT reason, detail FROM rejected
         WHERE device_id = ?1 AND seq = ?2 AND hash = ?3 ORDER BY id DESC",
        &[device_id.into(), seq, hash_hex.into()],
        |mut r| Ok((r.text()?, r.text()?)),
    )
}

const REJECTED_COLUMNS: &str = "id, device_id, seq, punch_id, employee_id, reason, detail, hash, \
     record, signature, attempts, first_received_at_ms, last_received_at_ms, claimed_employee_id";

fn rejected_row(tx: &SqlTx<'_>, mut r: Row) -> Result<RejectedInfo> {
    let mut row = RejectedInfo {
        id: r.int()?,
        device_id: r.text()?,
        seq: r.u64()?,
        punch_id: r.opt_text()?,
        employee_id: r.opt_text()?,
        reason: r.text()?,
        detail: r.text()?,
        hash: r.text()?,
        record: r.blob()?,
        signature: r.blob()?,
        attempts: r.u64()?,
        first_received_at_ms: r.int()?,
        last_received_at_ms: r.int()?,
        claimed_employee_id: r.opt_text()?,
    };
    let stored = std::mem::take(&mut row.record);
    row.record = tx.open(&slot(&row.device_id, &row.hash), stored)?;
    Ok(row)
}

/// Every refused record with its bytes: for CLI commands, never a
/// request path.
pub(super) fn all_rejected(tx: &SqlTx<'_>) -> Result<Vec<RejectedInfo>> {
    let rows = tx.all(
        &format!("SELECT {REJECTED_COLUMNS} FROM rejected ORDER BY id"),
        &[],
        |r| rejected_row(tx, r),
    )?;
    Ok(tx.counted(rows))
}

/// The refused records about one employee (their device sent them).
pub(super) fn rejected_about(tx: &SqlTx<'_>, employee_id: &str) -> Result<Vec<RejectedInfo>> {
    let rows = tx.all(
        &format!("SELECT {REJECTED_COLUMNS} FROM rejected WHERE employee_id = ?1 ORDER BY id"),
        &[employee_id.into()],
        |r| rejected_row(tx, r),
    )?;
    Ok(tx.counted(rows))
}

pub(super) fn refused_count(tx: &SqlTx<'_>, device_id: &str) -> Result<u64> {
    Ok(tx
        .first(
            "SELECT COUNT(*) FROM rejected WHERE device_id = ?1",
            &[device_id.into()],
            |mut r| r.u64(),
        )?
        .unwrap_or(0))
}

pub(super) fn refused_devices(
    tx: &SqlTx<'_>,
    after: Option<&str>,
    team: Option<&str>,
    limit: usize,
) -> Result<Vec<String>> {
    tx.all(
        "SELECT DISTINCT r.device_id FROM rejected r
         LEFT JOIN devices d ON d.device_id = r.device_id
         LEFT JOIN employee_teams t ON t.employee_id = d.employee_id
         WHERE r.device_id > ?1 AND (CAST(?2 AS TEXT) IS NULL OR t.team = ?2)
         ORDER BY r.device_id LIMIT ?3",
        &[after.unwrap_or("").into(), team.into(), db::limit(limit)],
        |mut r| r.text(),
    )
}

pub(super) fn refused_of(tx: &SqlTx<'_>, device_id: &str, limit: usize) -> Result<Vec<RefusedRow>> {
    let rows = tx.all(
        "SELECT seq, reason, detail, hash, attempts, first_received_at_ms FROM rejected
         WHERE device_id = ?1 ORDER BY seq, id LIMIT ?2",
        &[device_id.into(), db::limit(limit)],
        |mut r| {
            Ok(RefusedRow {
                seq: r.u64()?,
                reason: r.text()?,
                detail: r.text()?,
                hash: r.text()?,
                attempts: r.u64()?,
                first_received_at_ms: r.int()?,
            })
        },
    )?;
    Ok(tx.counted(rows))
}
