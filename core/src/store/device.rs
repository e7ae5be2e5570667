//! The device's identity row and the installed policy row.

use rusqlite::{OptionalExtension, params};

use super::Db;
use super::Store;
use crate::error::Result;

pub(crate) struct DeviceRow {
    pub device_id: String,
    /// The punch key the device enrolled with (and, without a channel key, its only key).
    pub public_key: Vec<u8>,
    /// None when a platform signer holds the key.
    pub key_pkcs8: Option<Vec<u8>>,
    pub employee_id: Option<String>,
    /// None on a device created before the two keys.
    pub channel_key: Option<Vec<u8>>,
    pub channel_pkcs8: Option<Vec<u8>>,
}

/// A punch key a rotation brought in.
pub(crate) struct RotatedKey {
    /// The rotation record's seq.
    pub seq: u64,
    pub public_key: Vec<u8>,
    pub key_pkcs8: Option<Vec<u8>>,
}

pub(crate) struct PolicyRow {
    pub version: u64,
    pub body: Vec<u8>,
    pub signature: Option<Vec<u8>>,
}

/// The installed policy as prepared (`PreparedPolicy::snapshot`).
pub(crate) struct PreparedRow {
    pub version: u64,
    pub snapshot: Vec<u8>,
}

impl Store {
    pub(crate) fn device(&self) -> Result<Option<DeviceRow>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT device_id, public_key, key_pkcs8, employee_id, channel_key, channel_pkcs8
                 FROM device WHERE id = 1",
            )?
            .query_row([], |r| {
                Ok(DeviceRow {
                    device_id: r.get(0)?,
                    public_key: r.get(1)?,
                    key_pkcs8: r.get(2)?,
                    employee_id: r.get(3)?,
                    channel_key: r.get(4)?,
                    channel_pkcs8: r.get(5)?,
                })
            })
            .optional()?)
    }

    /// Punch keys brought in by rotations, oldest first.
    pub(crate) fn rotated_keys(&self) -> Result<Vec<RotatedKey>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT seq, public_key, key_pkcs8 FROM punch_keys ORDER BY seq")?;
        let rows = stmt.query_map([], |r| {
            Ok(RotatedKey {
                seq: r.get::<_, i64>(0)? as u64,
                public_key: r.get(1)?,
                key_pkcs8: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Replaces both keys of a device that has signed nothing yet (keys
    /// created at enrollment by the platform replace the placeholders).
    pub(crate) fn replace_keys(
        &self,
        punch: (&[u8], Option<&[u8]>),
        channel: (&[u8], Option<&[u8]>),
    ) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        let signed: i64 = tx.query_row("SELECT COUNT(*) FROM punches", [], |r| r.get(0))?;
        if signed > 0 {
            return Err(crate::error::PunchError::KeysInUse);
        }
        tx.execute(
            "UPDATE device SET public_key = ?1, key_pkcs8 = ?2, channel_key = ?3, channel_pkcs8 = ?4
             WHERE id = 1",
            params![punch.0, punch.1, channel.0, channel.1],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub(crate) fn insert_device(&self, row: &DeviceRow, now_ms: i64) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO device (id, device_id, public_key, key_pkcs8, employee_id, created_ms,
                                     channel_key, channel_pkcs8)
                 VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                row.device_id,
                row.public_key,
                row.key_pkcs8,
                row.employee_id,
                now_ms,
                row.channel_key,
                row.channel_pkcs8
            ])?;
        Ok(())
    }

    pub(crate) fn set_employee(&self, employee_id: &str) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE device SET employee_id = ?1 WHERE id = 1")?
            .execute(params![employee_id])?;
        Ok(())
    }

    pub(crate) fn policy(&self) -> Result<Option<PolicyRow>> {
        Ok(self
            .conn
            .prepare_cached("SELECT version, body, signature FROM policy WHERE id = 1")?
            .query_row([], |r| {
                Ok(PolicyRow {
                    version: r.get::<_, i64>(0)? as u64,
                    body: r.get(1)?,
                    signature: r.get(2)?,
                })
            })
            .optional()?)
    }

    /// The installed policy's version alone: what opening the engine needs.
    pub(crate) fn policy_version(&self) -> Result<Option<u64>> {
        Ok(self
            .conn
            .prepare_cached("SELECT version FROM policy WHERE id = 1")?
            .query_row([], |r| r.get::<_, i64>(0))
            .optional()?
            .map(|v| v as u64))
    }

    /// Installs the policy and, in the same transaction, its prepared form
    /// (or none: then the old prepared form is deleted, never left stale).
    pub(crate) fn save_policy(
        &self,
        row: &PolicyRow,
        prepared: Option<&[u8]>,
        now_ms: i64,
    ) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        tx.prepare_cached(
            "INSERT INTO policy (id, version, body, signature, installed_ms)
             VALUES (1, ?1, ?2, ?3, ?4)
             ON CONFLICT (id) DO UPDATE SET version = excluded.version, body = excluded.body,
                 signature = excluded.signature, installed_ms = excluded.installed_ms",
        )?
        .execute(params![row.version as i64, row.body, row.signature, now_ms])?;
        match prepared {
            Some(snapshot) => Self::put_prepared(&tx, row.version, snapshot)?,
            None => {
                tx.execute("DELETE FROM policy_prepared", [])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The prepared form of the installed policy, if one is kept.
    pub(crate) fn prepared_policy(&self) -> Result<Option<PreparedRow>> {
        Ok(self
            .conn
            .prepare_cached("SELECT version, snapshot FROM policy_prepared WHERE id = 1")?
            .query_row([], |r| {
                Ok(PreparedRow {
                    version: r.get::<_, i64>(0)? as u64,
                    snapshot: r.get(1)?,
                })
            })
            .optional()?)
    }

    /// Keeps the prepared form of policy `version` (prepared after the fact,
    /// for a policy installed before prepared forms were kept).
    pub(crate) fn save_prepared_policy(&self, version: u64, snapshot: &[u8]) -> Result<()> {
        Self::put_prepared(&self.conn, version, snapshot)
    }

    fn put_prepared(conn: &rusqlite::Connection, version: u64, snapshot: &[u8]) -> Result<()> {
        conn.prepare_cached(
            "INSERT INTO policy_prepared (id, version, snapshot) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET version = excluded.version, snapshot = excluded.snapshot",
        )?
        .execute(params![version as i64, snapshot])?;
        Ok(())
    }
}

/// The statements above for the rest of the crate, each under the shared lock.
impl Db {
    pub(crate) fn policy(&self) -> Result<Option<PolicyRow>> {
        self.lock().policy()
    }

    pub(crate) fn prepared_policy(&self) -> Result<Option<PreparedRow>> {
        self.lock().prepared_policy()
    }

    pub(crate) fn replace_keys(
        &self,
        punch: (&[u8], Option<&[u8]>),
        channel: (&[u8], Option<&[u8]>),
    ) -> Result<()> {
        self.lock().replace_keys(punch, channel)
    }

    pub(crate) fn device(&self) -> Result<Option<DeviceRow>> {
        self.lock().device()
    }

    pub(crate) fn save_prepared_policy(&self, version: u64, snapshot: &[u8]) -> Result<()> {
        self.lock().save_prepared_policy(version, snapshot)
    }

    pub(crate) fn save_policy(
        &self,
        row: &PolicyRow,
        prepared: Option<&[u8]>,
        now_ms: i64,
    ) -> Result<()> {
        self.lock().save_policy(row, prepared, now_ms)
    }
}
