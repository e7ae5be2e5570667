//! What the device keeps about PINs: per employee (one on a phone, each of
//! a site's on a kiosk) the salted verifier and the lock state; the reset
//! tokens already used (the PIN events are chain records). A lock state that does not parse is
//! an error, never "no lock": corruption must not unlock.

use rusqlite::{OptionalExtension, params};

use punch_model::pin::LockState;

use super::Db;
use super::Store;
use crate::error::{PunchError, Result};

/// One employee's PIN as stored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct PinRow {
    /// JSON of `crate::pin::hash::Verifier`.
    pub verifier: Option<String>,
    pub set_at_ms: Option<i64>,
    pub lock: LockState,
}

impl Store {
    pub(crate) fn pin_row(&self, employee_id: &str) -> Result<PinRow> {
        let row: Option<(Option<String>, Option<i64>, String)> = self
            .conn
            .prepare_cached(
                "SELECT verifier, set_at_ms, lock_state FROM pin_state WHERE employee_id = ?1",
            )?
            .query_row(params![employee_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        let Some((verifier, set_at_ms, lock)) = row else {
            return Ok(PinRow::default());
        };
        let lock = serde_json::from_str(&lock)
            .map_err(|e| PunchError::CorruptState(format!("PIN lock state: {e}")))?;
        Ok(PinRow {
            verifier,
            set_at_ms,
            lock,
        })
    }

    /// Writes the row (its events go into the chain, `crate::pin::guard`).
    pub(crate) fn save_pin_row(&self, employee_id: &str, row: &PinRow) -> Result<()> {
        let lock = serde_json::to_string(&row.lock)
            .map_err(|e| PunchError::CorruptState(e.to_string()))?;
        self.conn
            .prepare_cached(
                "INSERT INTO pin_state (employee_id, verifier, set_at_ms, lock_state)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (employee_id) DO UPDATE SET verifier = excluded.verifier,
               set_at_ms = excluded.set_at_ms, lock_state = excluded.lock_state",
            )?
            .execute(params![employee_id, row.verifier, row.set_at_ms, lock])?;
        Ok(())
    }

    /// Marks a reset token used; false when it already was (a replay).
    pub(crate) fn use_pin_token(&self, token_id: &str, now_ms: i64) -> Result<bool> {
        let n = self
            .conn
            .prepare_cached(
                "INSERT INTO pin_tokens_used (token_id, used_ms) VALUES (?1, ?2)
                 ON CONFLICT (token_id) DO NOTHING",
            )?
            .execute(params![token_id, now_ms])?;
        Ok(n == 1)
    }

    pub(crate) fn pin_token_used(&self, token_id: &str) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM pin_tokens_used WHERE token_id = ?1")?
            .query_row(params![token_id], |_| Ok(()))
            .optional()?
            .is_some())
    }
}

/// The statements above for the rest of the crate, each under the shared lock.
impl Db {
    pub(crate) fn pin_row(&self, employee_id: &str) -> Result<PinRow> {
        self.lock().pin_row(employee_id)
    }

    pub(crate) fn pin_token_used(&self, token_id: &str) -> Result<bool> {
        self.lock().pin_token_used(token_id)
    }

    pub(crate) fn save_pin_row(&self, employee_id: &str, row: &PinRow) -> Result<()> {
        self.lock().save_pin_row(employee_id, row)
    }

    pub(crate) fn use_pin_token(&self, token_id: &str, now_ms: i64) -> Result<bool> {
        self.lock().use_pin_token(token_id, now_ms)
    }
}
