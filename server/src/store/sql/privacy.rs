//! Privacy: revealed evidence's outcomes, devices' data keys, retention,
//! erasure, and the sealed columns exactly as stored (for `at_rest::reseal`).

use super::SqlTx;
use crate::at_rest::value::Slot;
use crate::error::{Result, ServerError};
use crate::store::db::{self, Value};
use crate::store::sealable::{KeyPart, KeyType, RowKey, SealableColumn, StoredValue};
use crate::store::{ErasureReport, PurgeKind, Revelation};

pub(super) fn record_revelation(tx: &SqlTx<'_>, r: &Revelation) -> Result<()> {
    tx.exec(
        "INSERT INTO revelations (device_id, seq, employee_id, review_flags, revealed_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (device_id, seq) DO UPDATE SET
            review_flags = excluded.review_flags, revealed_at_ms = excluded.revealed_at_ms",
        &[
            (&r.device_id).into(),
            db::int(r.seq)?,
            (&r.employee_id).into(),
            (&r.review_flags).into(),
            r.revealed_at_ms.into(),
        ],
    )?;
    Ok(())
}

pub(super) fn revelations_of(tx: &SqlTx<'_>, employee_id: &str) -> Result<Vec<Revelation>> {
    tx.all(
        "SELECT device_id, seq, employee_id, review_flags, revealed_at_ms
         FROM revelations WHERE employee_id = ?1 ORDER BY device_id, seq",
        &[employee_id.into()],
        |mut r| {
            Ok(Revelation {
                device_id: r.text()?,
                seq: r.u64()?,
                employee_id: r.text()?,
                review_flags: r.text()?,
                revealed_at_ms: r.int()?,
            })
        },
    )
}

pub(super) fn put_data_key(
    tx: &SqlTx<'_>,
    device_id: &str,
    key_id: &str,
    key: &[u8],
    now_ms: i64,
) -> Result<()> {
    tx.exec(
        "INSERT INTO device_data_keys (device_id, key_id, key, received_at_ms)
         VALUES (?1, ?2, ?3, ?4) ON CONFLICT (device_id, key_id) DO NOTHING",
        &[
            device_id.into(),
            key_id.into(),
            tx.seal(&Slot::DataKey { device_id, key_id }, key)?,
            now_ms.into(),
        ],
    )?;
    Ok(())
}

pub(super) fn data_key(tx: &SqlTx<'_>, device_id: &str, key_id: &str) -> Result<Option<Vec<u8>>> {
    tx.first(
        "SELECT key FROM device_data_keys WHERE device_id = ?1 AND key_id = ?2",
        &[device_id.into(), key_id.into()],
        |mut r| tx.open(&Slot::DataKey { device_id, key_id }, r.blob()?),
    )
}

/// Removes one kind of data older than `before_ms`, keeping every hash.
pub(super) fn purge(tx: &SqlTx<'_>, kind: PurgeKind, before_ms: i64) -> Result<u64> {
    let sql = match kind {
        PurgeKind::RecordBytes => {
            "UPDATE punches SET record = X'' WHERE received_at_ms < ?1 AND length(record) > 0"
        }
        PurgeKind::RejectedBytes => {
            "UPDATE rejected SET record = X''
             WHERE last_received_at_ms < ?1 AND length(record) > 0"
        }
        PurgeKind::Punches => {
            tx.exec(
                "INSERT INTO punch_hashes (device_id, seq, hash)
                 SELECT device_id, seq, hash FROM punches WHERE received_at_ms < ?1
                 ON CONFLICT (device_id, seq) DO NOTHING",
                &[before_ms.into()],
            )?;
            "DELETE FROM punches WHERE received_at_ms < ?1"
        }
        PurgeKind::HeadStatements => "DELETE FROM head_statements WHERE stated_at_ms < ?1",
        PurgeKind::Revelations => "DELETE FROM revelations WHERE revealed_at_ms < ?1",
    };
    tx.exec(sql, &[before_ms.into()])
}

/// Erasure on leaving: the employee's personal data goes, punch rows
/// (payroll) and every hash stay.
pub(super) fn erase_employee(
    tx: &SqlTx<'_>,
    employee_id: &str,
    now_ms: i64,
) -> Result<ErasureReport> {
    let run = |sql: &str| tx.exec(sql, &[employee_id.into()]);
    let mut report = ErasureReport {
        employee_id: employee_id.to_string(),
        record_bytes: run(
            "UPDATE punches SET record = X'' WHERE employee_id = ?1 AND length(record) > 0",
        )?,
        refused_records: run("UPDATE rejected SET record = X''
             WHERE (employee_id = ?1 OR claimed_employee_id = ?1) AND length(record) > 0")?,
        requests: run(
            "UPDATE events SET body = '{}', record = X'', comment = NULL WHERE employee_id = ?1",
        )?,
        attachments: run("DELETE FROM attachments WHERE employee_id = ?1")?,
        revelations: run("DELETE FROM revelations WHERE employee_id = ?1")?,
        head_statements: run("DELETE FROM head_statements
             WHERE device_id IN (SELECT device_id FROM devices WHERE employee_id = ?1)")?,
        data_keys: run("DELETE FROM device_data_keys
             WHERE device_id IN (SELECT device_id FROM devices WHERE employee_id = ?1)")?,
        devices: 0,
    };
    report.devices = tx.exec(
        "UPDATE devices SET platform = 'erased', attestation = NULL, channel_attestation = NULL,
            unbound_at_ms = COALESCE(unbound_at_ms, ?2) WHERE employee_id = ?1",
        &[employee_id.into(), now_ms.into()],
    )?;
    // A passkey punches no more for an erased employee (`crate::browser`).
    tx.exec(
        "UPDATE browser_passkeys SET revoked_at_ms = COALESCE(revoked_at_ms, ?2) \
         WHERE employee_id = ?1",
        &[employee_id.into(), now_ms.into()],
    )?;
    super::employee_devices::erase_approval_reasons(tx, employee_id)?;
    run("UPDATE employees SET name = 'erased' WHERE employee_id = ?1")?;
    Ok(report)
}

fn key_value(part: &KeyPart) -> Value {
    match part {
        KeyPart::Text(t) => Value::Text(t.clone()),
        KeyPart::Int(n) => Value::Int(*n),
    }
}

/// Up to `limit` values of `column` after `after`, in key order, as stored.
pub(super) fn stored_values(
    tx: &SqlTx<'_>,
    column: SealableColumn,
    after: Option<&RowKey>,
    limit: u32,
) -> Result<Vec<StoredValue>> {
    let sql = column.page_sql(after.is_some(), |i| format!("?{i}"));
    let mut params: Vec<Value> = after
        .map(|k| k.0.iter().map(key_value).collect())
        .unwrap_or_default();
    params.push(Value::Int(i64::from(limit)));
    let keys = column.key_columns();
    tx.all(&sql, &params, |mut r| {
        let mut row = Vec::with_capacity(keys.len());
        for (_, kind) in keys {
            row.push(match kind {
                KeyType::Text => KeyPart::Text(r.text()?),
                KeyType::Int => KeyPart::Int(r.int()?),
            });
        }
        let value = if column.is_text() {
            r.text()?.into_bytes()
        } else {
            r.blob()?
        };
        Ok(StoredValue {
            row: RowKey(row),
            value,
        })
    })
}

/// Replaces one stored value if it is still `old`.
pub(super) fn replace_value(
    tx: &SqlTx<'_>,
    column: SealableColumn,
    row: &RowKey,
    old: &[u8],
    new: &[u8],
) -> Result<bool> {
    let as_value = |bytes: &[u8]| -> Result<Value> {
        Ok(if column.is_text() {
            Value::Text(
                String::from_utf8(bytes.to_vec())
                    .map_err(|_| ServerError::Invalid(format!("{} is text", column.name())))?,
            )
        } else {
            Value::Blob(bytes.to_vec())
        })
    };
    let mut params = vec![as_value(new)?];
    params.extend(row.0.iter().map(key_value));
    params.push(as_value(old)?);
    Ok(tx.exec(&column.replace_sql(|i| format!("?{i}")), &params)? == 1)
}
