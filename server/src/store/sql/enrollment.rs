//! Employees, their one-time enrollment codes and attestation challenges.

use super::SqlTx;
use crate::error::Result;
use crate::store::db::Row;
use crate::store::{ChallengeRow, CodeRow, EmployeeRow};

pub(super) fn upsert_employee(
    tx: &SqlTx<'_>,
    employee_id: &str,
    name: &str,
    now_ms: i64,
) -> Result<()> {
    tx.exec(
        "INSERT INTO employees (employee_id, name, created_at_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT (employee_id) DO UPDATE SET name = excluded.name",
        &[employee_id.into(), name.into(), now_ms.into()],
    )?;
    Ok(())
}

pub(super) fn employee(tx: &SqlTx<'_>, employee_id: &str) -> Result<Option<EmployeeRow>> {
    tx.first(
        "SELECT employee_id, name, rebind_approved_at_ms FROM employees WHERE employee_id = ?1",
        &[employee_id.into()],
        |mut r| {
            Ok(EmployeeRow {
                employee_id: r.text()?,
                name: r.text()?,
                rebind_approved_at_ms: r.opt_int()?,
            })
        },
    )
}

pub(super) fn set_rebind_approved(
    tx: &SqlTx<'_>,
    employee_id: &str,
    at_ms: Option<i64>,
) -> Result<()> {
    tx.exec(
        "UPDATE employees SET rebind_approved_at_ms = ?2 WHERE employee_id = ?1",
        &[employee_id.into(), at_ms.into()],
    )?;
    Ok(())
}

pub(super) fn insert_code(tx: &SqlTx<'_>, c: &CodeRow) -> Result<()> {
    tx.exec(
        "INSERT INTO enrollment_codes
           (code_hash, employee_id, created_at_ms, expires_at_ms, used_at_ms, used_by_device)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &[
            (&c.code_hash).into(),
            (&c.employee_id).into(),
            c.created_at_ms.into(),
            c.expires_at_ms.into(),
            c.used_at_ms.into(),
            c.used_by_device.as_deref().into(),
        ],
    )?;
    Ok(())
}

fn code_row(mut r: Row) -> Result<CodeRow> {
    Ok(CodeRow {
        code_hash: r.text()?,
        employee_id: r.text()?,
        created_at_ms: r.int()?,
        expires_at_ms: r.int()?,
        used_at_ms: r.opt_int()?,
        used_by_device: r.opt_text()?,
    })
}

/// Locked in a write transaction: enrollment uses the code up.
pub(super) fn code(tx: &SqlTx<'_>, code_hash: &str) -> Result<Option<CodeRow>> {
    let lock = tx.db.dialect().for_update(tx.db.write());
    tx.first(
        &format!(
            "SELECT code_hash, employee_id, created_at_ms, expires_at_ms, used_at_ms,
                    used_by_device
             FROM enrollment_codes WHERE code_hash = ?1{lock}"
        ),
        &[code_hash.into()],
        code_row,
    )
}

pub(super) fn mark_code_used(
    tx: &SqlTx<'_>,
    code_hash: &str,
    device_id: &str,
    now_ms: i64,
) -> Result<()> {
    tx.exec(
        "UPDATE enrollment_codes SET used_at_ms = ?3, used_by_device = ?2
         WHERE code_hash = ?1 AND used_at_ms IS NULL",
        &[code_hash.into(), device_id.into(), now_ms.into()],
    )?;
    Ok(())
}

pub(super) fn insert_challenge(tx: &SqlTx<'_>, c: &ChallengeRow) -> Result<()> {
    tx.exec(
        "INSERT INTO attestation_challenges
           (challenge_hash, code_hash, created_at_ms, expires_at_ms, used_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        &[
            (&c.challenge_hash).into(),
            (&c.code_hash).into(),
            c.created_at_ms.into(),
            c.expires_at_ms.into(),
            c.used_at_ms.into(),
        ],
    )?;
    // Expired challenges are useless: keep the table small.
    tx.exec(
        "DELETE FROM attestation_challenges WHERE expires_at_ms < ?1",
        &[c.created_at_ms.into()],
    )?;
    Ok(())
}

/// Locked in a write transaction: enrollment uses the challenge up.
pub(super) fn challenge(tx: &SqlTx<'_>, challenge_hash: &str) -> Result<Option<ChallengeRow>> {
    let lock = tx.db.dialect().for_update(tx.db.write());
    tx.first(
        &format!(
            "SELECT challenge_hash, code_hash, created_at_ms, expires_at_ms, used_at_ms
             FROM attestation_challenges WHERE challenge_hash = ?1{lock}"
        ),
        &[challenge_hash.into()],
        |mut r| {
            Ok(ChallengeRow {
                challenge_hash: r.text()?,
                code_hash: r.text()?,
                created_at_ms: r.int()?,
                expires_at_ms: r.int()?,
                used_at_ms: r.opt_int()?,
            })
        },
    )
}

pub(super) fn mark_challenge_used(tx: &SqlTx<'_>, challenge_hash: &str, now_ms: i64) -> Result<()> {
    tx.exec(
        "UPDATE attestation_challenges SET used_at_ms = ?2 WHERE challenge_hash = ?1",
        &[challenge_hash.into(), now_ms.into()],
    )?;
    Ok(())
}
