//! Passkeys and ceremonies of the browser punch
//! ([`crate::store::browser::BrowserTx`]).

use super::SqlTx;
use crate::error::Result;
use crate::store::browser::{CeremonyRow, PasskeyRow};
use crate::store::db::Row;

const PASSKEY_COLUMNS: &str =
    "credential_id, device_id, employee_id, passkey, created_at_ms, revoked_at_ms";
const CEREMONY_COLUMNS: &str = "ceremony_id, kind, employee_id, code_hash, content, state, \
     created_at_ms, expires_at_ms";

fn passkey_row(mut r: Row) -> Result<PasskeyRow> {
    Ok(PasskeyRow {
        credential_id: r.text()?,
        device_id: r.text()?,
        employee_id: r.text()?,
        passkey: r.text()?,
        created_at_ms: r.int()?,
        revoked_at_ms: r.opt_int()?,
    })
}

pub(super) fn insert_ceremony(tx: &SqlTx<'_>, c: &CeremonyRow) -> Result<()> {
    tx.exec(
        &format!(
            "INSERT INTO browser_ceremonies ({CEREMONY_COLUMNS}) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        ),
        &[
            (&c.ceremony_id).into(),
            (&c.kind).into(),
            (&c.employee_id).into(),
            c.code_hash.as_deref().into(),
            c.content.as_deref().into(),
            (&c.state).into(),
            c.created_at_ms.into(),
            c.expires_at_ms.into(),
        ],
    )?;
    Ok(())
}

pub(super) fn take_ceremony(
    tx: &SqlTx<'_>,
    ceremony_id: &str,
    kind: &str,
    now_ms: i64,
) -> Result<Option<CeremonyRow>> {
    // The update decides: of two requests with one id, one uses it up.
    let taken = tx.exec(
        "UPDATE browser_ceremonies SET used_at_ms = ?3 \
         WHERE ceremony_id = ?1 AND kind = ?2 AND used_at_ms IS NULL AND expires_at_ms > ?3",
        &[ceremony_id.into(), kind.into(), now_ms.into()],
    )?;
    if taken != 1 {
        return Ok(None);
    }
    tx.first(
        &format!("SELECT {CEREMONY_COLUMNS} FROM browser_ceremonies WHERE ceremony_id = ?1"),
        &[ceremony_id.into()],
        |mut r| {
            Ok(CeremonyRow {
                ceremony_id: r.text()?,
                kind: r.text()?,
                employee_id: r.text()?,
                code_hash: r.opt_text()?,
                content: r.opt_text()?,
                state: r.text()?,
                created_at_ms: r.int()?,
                expires_at_ms: r.int()?,
            })
        },
    )
}

pub(super) fn prune_ceremonies(tx: &SqlTx<'_>, before_ms: i64) -> Result<u64> {
    tx.exec(
        "DELETE FROM browser_ceremonies WHERE expires_at_ms < ?1",
        &[before_ms.into()],
    )
}

pub(super) fn insert_passkey(tx: &SqlTx<'_>, p: &PasskeyRow, public_key: &[u8]) -> Result<()> {
    tx.exec(
        "INSERT INTO devices (device_id, employee_id, public_key, key_storage, platform, \
           enrolled_at_ms, unbound_at_ms, head_seq, head_hash, assurance) \
         VALUES (?1, ?2, ?3, 'passkey', 'browser', ?4, ?4, 0, ?5, 'software')",
        &[
            (&p.device_id).into(),
            (&p.employee_id).into(),
            public_key.to_vec().into(),
            p.created_at_ms.into(),
            punch_model::ledger::record::GENESIS_HASH.into(),
        ],
    )?;
    tx.exec(
        &format!(
            "INSERT INTO browser_passkeys ({PASSKEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
        ),
        &[
            (&p.credential_id).into(),
            (&p.device_id).into(),
            (&p.employee_id).into(),
            (&p.passkey).into(),
            p.created_at_ms.into(),
            p.revoked_at_ms.into(),
        ],
    )?;
    Ok(())
}

pub(super) fn passkeys_of(tx: &SqlTx<'_>, employee_id: &str) -> Result<Vec<PasskeyRow>> {
    tx.all(
        &format!(
            "SELECT {PASSKEY_COLUMNS} FROM browser_passkeys \
             WHERE employee_id = ?1 AND revoked_at_ms IS NULL ORDER BY created_at_ms"
        ),
        &[employee_id.into()],
        passkey_row,
    )
}

pub(super) fn passkey_of_device(tx: &SqlTx<'_>, device_id: &str) -> Result<Option<PasskeyRow>> {
    tx.first(
        &format!("SELECT {PASSKEY_COLUMNS} FROM browser_passkeys WHERE device_id = ?1"),
        &[device_id.into()],
        passkey_row,
    )
}

pub(super) fn update_passkey(tx: &SqlTx<'_>, credential_id: &str, passkey: &str) -> Result<()> {
    tx.exec(
        "UPDATE browser_passkeys SET passkey = ?2 WHERE credential_id = ?1",
        &[credential_id.into(), passkey.into()],
    )?;
    Ok(())
}

pub(super) fn passkeys_ever(tx: &SqlTx<'_>, employee_id: &str) -> Result<Vec<PasskeyRow>> {
    tx.all(
        &format!(
            "SELECT {PASSKEY_COLUMNS} FROM browser_passkeys \
             WHERE employee_id = ?1 ORDER BY created_at_ms, device_id"
        ),
        &[employee_id.into()],
        passkey_row,
    )
}

pub(super) fn revoke_passkey(tx: &SqlTx<'_>, device_id: &str, now_ms: i64) -> Result<bool> {
    Ok(tx.exec(
        "UPDATE browser_passkeys SET revoked_at_ms = ?2 \
         WHERE device_id = ?1 AND revoked_at_ms IS NULL",
        &[device_id.into(), now_ms.into()],
    )? == 1)
}
