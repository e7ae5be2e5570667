//! Sites and the signed policy versions.

use super::SqlTx;
use crate::error::Result;
use crate::store::PolicyRow;
use crate::store::db::{self, Row};

const POLICY_COLUMNS: &str = "version, body, signature, issued_at_ms, expires_at_ms";

fn policy_row(mut r: Row) -> Result<PolicyRow> {
    Ok(PolicyRow {
        version: r.u64()?,
        body: r.blob()?,
        signature: r.blob()?,
        issued_at_ms: r.int()?,
        expires_at_ms: r.opt_int()?,
    })
}

pub(super) fn upsert_site(tx: &SqlTx<'_>, site_id: &str, json: &str, now_ms: i64) -> Result<()> {
    tx.exec(
        "INSERT INTO sites (site_id, body, updated_at_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT (site_id) DO UPDATE SET body = excluded.body,
                                             updated_at_ms = excluded.updated_at_ms",
        &[site_id.into(), json.into(), now_ms.into()],
    )?;
    Ok(())
}

pub(super) fn remove_site(tx: &SqlTx<'_>, site_id: &str) -> Result<bool> {
    Ok(tx.exec("DELETE FROM sites WHERE site_id = ?1", &[site_id.into()])? > 0)
}

/// Every site: the policy publishes them all (a handful per employer).
pub(super) fn sites(tx: &SqlTx<'_>) -> Result<Vec<String>> {
    tx.all("SELECT body FROM sites ORDER BY site_id", &[], |mut r| {
        r.text()
    })
}

pub(super) fn latest_policy(tx: &SqlTx<'_>) -> Result<Option<PolicyRow>> {
    tx.first(
        &format!("SELECT {POLICY_COLUMNS} FROM policies ORDER BY version DESC LIMIT 1"),
        &[],
        policy_row,
    )
}

pub(super) fn latest_policy_version(tx: &SqlTx<'_>) -> Result<u64> {
    Ok(tx
        .first(
            "SELECT COALESCE(MAX(version), 0) FROM policies",
            &[],
            |mut r| r.u64(),
        )?
        .unwrap_or(0))
}

pub(super) fn policy(tx: &SqlTx<'_>, version: u64) -> Result<Option<PolicyRow>> {
    let Some(version) = db::lookup(version) else {
        return Ok(None);
    };
    tx.first(
        &format!("SELECT {POLICY_COLUMNS} FROM policies WHERE version = ?1"),
        &[version],
        policy_row,
    )
}

pub(super) fn insert_policy(tx: &SqlTx<'_>, row: &PolicyRow) -> Result<()> {
    tx.exec(
        "INSERT INTO policies (version, body, signature, issued_at_ms, expires_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        &[
            db::int(row.version)?,
            (&row.body).into(),
            (&row.signature).into(),
            row.issued_at_ms.into(),
            row.expires_at_ms.into(),
        ],
    )?;
    Ok(())
}
