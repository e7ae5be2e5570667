//! Server-wide values (`meta`): settings and, sealed, the server's secrets.

use super::SqlTx;
use crate::at_rest::value::Slot;
use crate::error::{Result, ServerError};
use crate::store::sealable::SECRET_META;

/// The slot of a `meta` row that is a server secret (`SECRET_META`).
fn secret_slot(key: &str) -> Option<Slot<'_>> {
    SECRET_META
        .contains(&key)
        .then_some(Slot::Secret { name: key })
}

fn stored(tx: &SqlTx<'_>, key: &str) -> Result<Option<Vec<u8>>> {
    tx.first(
        "SELECT value FROM meta WHERE key = ?1",
        &[key.into()],
        |mut r| r.blob(),
    )
}

fn opened(tx: &SqlTx<'_>, key: &str, value: Vec<u8>) -> Result<Vec<u8>> {
    match secret_slot(key) {
        Some(slot) => tx.open(&slot, value),
        None => Ok(value),
    }
}

fn sealed(tx: &SqlTx<'_>, key: &str, value: &[u8]) -> Result<crate::store::db::Value> {
    match secret_slot(key) {
        Some(slot) => tx.seal(&slot, value),
        None => Ok(value.into()),
    }
}

pub(super) fn get(tx: &SqlTx<'_>, key: &str) -> Result<Option<Vec<u8>>> {
    stored(tx, key)?.map(|v| opened(tx, key, v)).transpose()
}

pub(super) fn set(tx: &SqlTx<'_>, key: &str, value: &[u8]) -> Result<()> {
    tx.exec(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[key.into(), sealed(tx, key, value)?],
    )?;
    Ok(())
}

pub(super) fn get_or_insert(tx: &SqlTx<'_>, key: &str, value: &[u8]) -> Result<Vec<u8>> {
    // PostgreSQL: a concurrent inserter makes us wait for its commit, then
    // DO NOTHING; the SELECT (a new snapshot under READ COMMITTED) sees it.
    tx.exec(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
        &[key.into(), sealed(tx, key, value)?],
    )?;
    let stored =
        stored(tx, key)?.ok_or_else(|| ServerError::Corrupt(format!("meta {key:?} vanished")))?;
    opened(tx, key, stored)
}
