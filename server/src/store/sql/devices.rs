//! Devices (keys, binding, chain head) and the request nonces they send.

use super::SqlTx;
use crate::error::Result;
use crate::store::db::{self, Row, Value};
use crate::store::{BindDevice, DeviceInfo};

const DEVICE_COLUMNS: &str = "device_id, employee_id, public_key, key_storage, platform, \
     enrolled_at_ms, unbound_at_ms, head_seq, head_hash, assurance, attestation, channel_key, \
     channel_assurance, channel_attestation, punch_key";

/// A `devices` row read with [`DEVICE_COLUMNS`].
fn device_row(r: &mut Row) -> Result<DeviceInfo> {
    Ok(DeviceInfo {
        device_id: r.text()?,
        employee_id: r.text()?,
        public_key: r.blob()?,
        key_storage: r.text()?,
        platform: r.text()?,
        enrolled_at_ms: r.int()?,
        unbound_at_ms: r.opt_int()?,
        head_seq: r.u64()?,
        head_hash: r.text()?,
        assurance: r.text()?,
        attestation: r.opt_text()?,
        channel_key: r.opt_blob()?,
        channel_assurance: r.opt_text()?,
        channel_attestation: r.opt_text()?,
        punch_key: r.opt_blob()?,
    })
}

fn device_where(
    tx: &SqlTx<'_>,
    condition: &str,
    lock: bool,
    key: &str,
) -> Result<Option<DeviceInfo>> {
    let lock = if lock {
        tx.db.dialect().for_update(tx.db.write())
    } else {
        ""
    };
    tx.first(
        &format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE {condition}{lock}"),
        &[key.into()],
        |mut r| device_row(&mut r),
    )
}

pub(super) fn device(tx: &SqlTx<'_>, device_id: &str) -> Result<Option<DeviceInfo>> {
    device_where(tx, "device_id = ?1", false, device_id)
}

/// Locked until the transaction ends: ingest holds this so two servers
/// taking the same device's batch run one after the other.
pub(super) fn lock_device(tx: &SqlTx<'_>, device_id: &str) -> Result<Option<DeviceInfo>> {
    device_where(tx, "device_id = ?1", true, device_id)
}

/// Every device: for CLI commands, never a request path.
pub(super) fn all_devices(tx: &SqlTx<'_>) -> Result<Vec<DeviceInfo>> {
    tx.all(
        &format!(
            "SELECT {DEVICE_COLUMNS} FROM devices ORDER BY employee_id, enrolled_at_ms, device_id"
        ),
        &[],
        |mut r| device_row(&mut r),
    )
}

pub(super) fn devices_of(tx: &SqlTx<'_>, employee_id: &str) -> Result<Vec<DeviceInfo>> {
    tx.all(
        &format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE employee_id = ?1
             ORDER BY enrolled_at_ms, device_id"
        ),
        &[employee_id.into()],
        |mut r| device_row(&mut r),
    )
}

pub(super) fn devices_page(
    tx: &SqlTx<'_>,
    after: Option<&str>,
    team: Option<&str>,
    employee: Option<&str>,
    limit: usize,
) -> Result<Vec<(DeviceInfo, Option<String>)>> {
    let own: Vec<String> = DEVICE_COLUMNS
        .split(',')
        .map(|c| format!("d.{}", c.trim()))
        .collect();
    tx.all(
        &format!(
            "SELECT {}, t.team FROM devices d
             LEFT JOIN employee_teams t ON t.employee_id = d.employee_id
             WHERE d.device_id > ?1 AND (CAST(?2 AS TEXT) IS NULL OR t.team = ?2)
               AND (CAST(?3 AS TEXT) IS NULL OR d.employee_id = ?3)
             ORDER BY d.device_id LIMIT ?4",
            own.join(", ")
        ),
        &[
            after.unwrap_or("").into(),
            team.into(),
            employee.into(),
            db::limit(limit),
        ],
        |mut r| Ok((device_row(&mut r)?, r.opt_text()?)),
    )
}

pub(super) fn bind_device(tx: &SqlTx<'_>, d: &BindDevice<'_>) -> Result<()> {
    tx.exec(
        "INSERT INTO devices (device_id, employee_id, public_key, key_storage, platform,
                              enrolled_at_ms, unbound_at_ms, head_seq, head_hash,
                              assurance, attestation, channel_key, channel_assurance,
                              channel_attestation, punch_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, 0, ?7, ?8, ?9, ?10, ?11, ?12, NULL)
         ON CONFLICT (device_id) DO UPDATE SET
            employee_id = excluded.employee_id,
            public_key = excluded.public_key,
            key_storage = excluded.key_storage,
            platform = excluded.platform,
            enrolled_at_ms = excluded.enrolled_at_ms,
            unbound_at_ms = NULL,
            assurance = excluded.assurance,
            attestation = excluded.attestation,
            channel_key = excluded.channel_key,
            channel_assurance = excluded.channel_assurance,
            channel_attestation = excluded.channel_attestation,
            punch_key = NULL",
        &[
            d.device_id.into(),
            d.employee_id.into(),
            d.public_key.into(),
            d.key_storage.into(),
            d.platform.into(),
            d.now_ms.into(),
            punch_model::ledger::record::GENESIS_HASH.into(),
            d.assurance.into(),
            d.attestation.into(),
            d.channel_key.into(),
            d.channel_assurance.into(),
            d.channel_attestation.into(),
        ],
    )?;
    Ok(())
}

pub(super) fn set_punch_key(
    tx: &SqlTx<'_>,
    device_id: &str,
    punch_key: &[u8],
    assurance: &str,
) -> Result<()> {
    tx.exec(
        "UPDATE devices SET punch_key = ?2, assurance = ?3 WHERE device_id = ?1",
        &[device_id.into(), punch_key.into(), assurance.into()],
    )?;
    Ok(())
}

pub(super) fn mark_unbound(tx: &SqlTx<'_>, device_id: &str, now_ms: i64) -> Result<bool> {
    Ok(tx.exec(
        "UPDATE devices SET unbound_at_ms = ?2 WHERE device_id = ?1 AND unbound_at_ms IS NULL",
        &[device_id.into(), now_ms.into()],
    )? > 0)
}

pub(super) fn set_head(tx: &SqlTx<'_>, device_id: &str, seq: u64, hash_hex: &str) -> Result<()> {
    tx.exec(
        "UPDATE devices SET head_seq = ?2, head_hash = ?3 WHERE device_id = ?1",
        &[device_id.into(), db::int(seq)?, hash_hex.into()],
    )?;
    Ok(())
}

pub(super) fn insert_nonce(
    tx: &SqlTx<'_>,
    device_id: &str,
    nonce: &str,
    request_ts_ms: i64,
) -> Result<bool> {
    Ok(tx.exec(
        "INSERT INTO nonces (device_id, nonce, request_ts_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT DO NOTHING",
        &[device_id.into(), nonce.into(), request_ts_ms.into()],
    )? > 0)
}

/// By the database's clock, so every server prunes alike.
pub(super) fn prune_nonces(tx: &SqlTx<'_>, max_age_ms: i64) -> Result<u64> {
    let now = tx.db.dialect().now_ms();
    tx.exec(
        &format!("DELETE FROM nonces WHERE request_ts_ms < {now} - ?1"),
        &[Value::Int(max_age_ms)],
    )
}
