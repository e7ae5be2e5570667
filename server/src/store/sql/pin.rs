//! PIN resets (each employee's profile, the codes sent) and kiosk members.

use super::SqlTx;
use crate::error::Result;
use crate::store::{PinCodeRow, PinProfile};

/// Locked in a write transaction: resets for one employee take turns.
pub(super) fn pin_profile(tx: &SqlTx<'_>, employee_id: &str) -> Result<Option<PinProfile>> {
    let lock = tx.db.dialect().for_update(tx.db.write());
    tx.first(
        &format!(
            "SELECT employee_id, channel, address, identity_verifier, admin_reset_at_ms
             FROM pin_profiles WHERE employee_id = ?1{lock}"
        ),
        &[employee_id.into()],
        |mut r| {
            Ok(PinProfile {
                employee_id: r.text()?,
                channel: r.opt_text()?,
                address: r.opt_text()?,
                identity_verifier: r.opt_text()?,
                admin_reset_at_ms: r.opt_int()?,
            })
        },
    )
}

pub(super) fn upsert_pin_profile(tx: &SqlTx<'_>, p: &PinProfile) -> Result<()> {
    tx.exec(
        "INSERT INTO pin_profiles
           (employee_id, channel, address, identity_verifier, admin_reset_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (employee_id) DO UPDATE SET channel = excluded.channel,
           address = excluded.address, identity_verifier = excluded.identity_verifier,
           admin_reset_at_ms = excluded.admin_reset_at_ms",
        &[
            (&p.employee_id).into(),
            p.channel.as_deref().into(),
            p.address.as_deref().into(),
            p.identity_verifier.as_deref().into(),
            p.admin_reset_at_ms.into(),
        ],
    )?;
    Ok(())
}

pub(super) fn insert_pin_code(tx: &SqlTx<'_>, c: &PinCodeRow) -> Result<()> {
    tx.exec(
        "INSERT INTO pin_codes
           (code_hash, employee_id, device_id, created_at_ms, expires_at_ms, used_at_ms,
            superseded_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        &[
            (&c.code_hash).into(),
            (&c.employee_id).into(),
            (&c.device_id).into(),
            c.created_at_ms.into(),
            c.expires_at_ms.into(),
            c.used_at_ms.into(),
            c.superseded_at_ms.into(),
        ],
    )?;
    Ok(())
}

pub(super) fn prune_pin_codes(tx: &SqlTx<'_>, before_ms: i64) -> Result<u64> {
    tx.exec(
        "DELETE FROM pin_codes WHERE expires_at_ms < ?1",
        &[before_ms.into()],
    )
}

pub(super) fn supersede_pin_codes(tx: &SqlTx<'_>, employee_id: &str, now_ms: i64) -> Result<u64> {
    tx.exec(
        "UPDATE pin_codes SET superseded_at_ms = ?2
         WHERE employee_id = ?1 AND used_at_ms IS NULL AND superseded_at_ms IS NULL",
        &[employee_id.into(), now_ms.into()],
    )
}

/// Locked in a write transaction: a code is redeemed once.
pub(super) fn pin_code(tx: &SqlTx<'_>, code_hash: &str) -> Result<Option<PinCodeRow>> {
    let lock = tx.db.dialect().for_update(tx.db.write());
    tx.first(
        &format!(
            "SELECT code_hash, employee_id, device_id, created_at_ms, expires_at_ms, used_at_ms,
                    superseded_at_ms
             FROM pin_codes WHERE code_hash = ?1{lock}"
        ),
        &[code_hash.into()],
        |mut r| {
            Ok(PinCodeRow {
                code_hash: r.text()?,
                employee_id: r.text()?,
                device_id: r.text()?,
                created_at_ms: r.int()?,
                expires_at_ms: r.int()?,
                used_at_ms: r.opt_int()?,
                superseded_at_ms: r.opt_int()?,
            })
        },
    )
}

pub(super) fn mark_pin_code_used(tx: &SqlTx<'_>, code_hash: &str, now_ms: i64) -> Result<bool> {
    Ok(tx.exec(
        "UPDATE pin_codes SET used_at_ms = ?2 WHERE code_hash = ?1 AND used_at_ms IS NULL",
        &[code_hash.into(), now_ms.into()],
    )? == 1)
}

pub(super) fn upsert_kiosk_member(
    tx: &SqlTx<'_>,
    site_id: &str,
    employee_id: &str,
    verifier: &str,
) -> Result<()> {
    tx.exec(
        "INSERT INTO kiosk_members (employee_id, site_id, verifier) VALUES (?1, ?2, ?3)
         ON CONFLICT (employee_id) DO UPDATE SET site_id = excluded.site_id,
           verifier = excluded.verifier",
        &[employee_id.into(), site_id.into(), verifier.into()],
    )?;
    Ok(())
}

/// Every kiosk member: for the policy a kiosk fetches (its site's are
/// filtered by the caller) and CLI commands.
pub(super) fn kiosk_members(tx: &SqlTx<'_>) -> Result<Vec<(String, String, String)>> {
    tx.all(
        "SELECT site_id, employee_id, verifier FROM kiosk_members ORDER BY site_id, employee_id",
        &[],
        |mut r| Ok((r.text()?, r.text()?, r.text()?)),
    )
}

pub(super) fn kiosk_site_of(tx: &SqlTx<'_>, employee_id: &str) -> Result<Option<String>> {
    tx.first(
        "SELECT site_id FROM kiosk_members WHERE employee_id = ?1",
        &[employee_id.into()],
        |mut r| r.text(),
    )
}
