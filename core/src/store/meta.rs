//! Small typed values beside the chain (the `meta` table): the time anchor,
//! the learned server offset, the recorded head and the persisted sync
//! state. Each has one key and one type, named here only. (Databases from
//! before 0.1 may hold a `last_fix` key: it is no longer read; the previous
//! fix comes from the signed records.)

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use punch_model::ledger::record::TimeAnchor;

use super::Db;
use super::Store;
use crate::error::{PunchError, Result};

const ANCHOR: &str = "time_anchor";
const SERVER_OFFSET: &str = "server_offset_ms";
const HEAD_SEQ: &str = "head_seq";
const SYNC_STATE: &str = "sync_state";
const CLOCK_MASK_SECRET: &str = "clock_mask_secret";

pub(super) fn get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row(params![key], |r| r.get(0))
        .optional()?)
}

pub(super) fn set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

/// A value that does not parse reads as absent: a corrupt hint may disable a
/// check (travel speed, backoff) but never blocks a punch or a sync.
pub(super) fn get_json<T: DeserializeOwned>(conn: &Connection, key: &str) -> Result<Option<T>> {
    Ok(get(conn, key)?.and_then(|t| serde_json::from_str(&t).ok()))
}

pub(super) fn set_json<T: Serialize>(conn: &Connection, key: &str, value: &T) -> Result<()> {
    let text = serde_json::to_string(value).map_err(|e| PunchError::CorruptState(e.to_string()))?;
    set(conn, key, &text)
}

pub(super) fn anchor_in(conn: &Connection) -> Result<Option<TimeAnchor>> {
    get_json(conn, ANCHOR)
}

pub(super) fn recorded_head_in(conn: &Connection) -> Result<Option<u64>> {
    Ok(get(conn, HEAD_SEQ)?.and_then(|t| t.parse().ok()))
}

pub(super) fn set_recorded_head_in(conn: &Connection, seq: u64) -> Result<()> {
    set(conn, HEAD_SEQ, &seq.to_string())
}

/// Stores a fresh anchor and the wall-clock offset it implies (used to
/// timestamp requests when the anchor is from another boot).
pub(super) fn save_anchor_in(conn: &Connection, anchor: &TimeAnchor, wall_ms: i64) -> Result<()> {
    set_json(conn, ANCHOR, anchor)?;
    set(
        conn,
        SERVER_OFFSET,
        &anchor.server_time_ms.saturating_sub(wall_ms).to_string(),
    )
}

impl Store {
    pub(crate) fn anchor(&self) -> Result<Option<TimeAnchor>> {
        anchor_in(&self.conn)
    }

    pub(crate) fn save_anchor(&self, anchor: &TimeAnchor, wall_ms: i64) -> Result<()> {
        save_anchor_in(&self.conn, anchor, wall_ms)
    }

    /// Server time minus device wall time at the last exchange (0 if unknown).
    pub(crate) fn server_offset_ms(&self) -> Result<i64> {
        Ok(get(&self.conn, SERVER_OFFSET)?
            .and_then(|t| t.parse().ok())
            .unwrap_or(0))
    }

    pub(crate) fn set_server_offset_ms(&self, offset_ms: i64) -> Result<()> {
        set(&self.conn, SERVER_OFFSET, &offset_ms.to_string())
    }

    /// The highest sequence this device is known to have written: the one
    /// recorded beside the chain, or a later one written since (tail-deletion
    /// check). None on a device that never punched.
    pub(crate) fn recorded_head(&self) -> Result<Option<u64>> {
        let stored = recorded_head_in(&self.conn)?;
        Ok(match (stored, self.written_head) {
            (None, 0) => None,
            (s, w) => Some(s.unwrap_or(0).max(w)),
        })
    }

    /// Persists the in-memory head, inside a caller's transaction or alone.
    pub(super) fn persist_recorded_head_in(conn: &Connection, written_head: u64) -> Result<()> {
        if written_head > recorded_head_in(conn)?.unwrap_or(0) {
            set_recorded_head_in(conn, written_head)?;
        }
        Ok(())
    }

    /// The secret that masks the clock readings records carry
    /// (`clock_mask`); made on first use.
    pub(crate) fn clock_mask_secret(&self) -> Result<Vec<u8>> {
        if let Some(hex_text) = get(&self.conn, CLOCK_MASK_SECRET)?
            && let Ok(secret) = hex::decode(hex_text)
            && secret.len() == 32
        {
            return Ok(secret);
        }
        let secret = crate::clock_mask::ClockMask::new_secret()?;
        set(&self.conn, CLOCK_MASK_SECRET, &hex::encode(&secret))?;
        Ok(secret)
    }

    pub(crate) fn sync_state<T: DeserializeOwned + Default>(&self) -> Result<T> {
        Ok(get_json(&self.conn, SYNC_STATE)?.unwrap_or_default())
    }

    pub(crate) fn save_sync_state<T: Serialize>(&self, state: &T) -> Result<()> {
        set_json(&self.conn, SYNC_STATE, state)
    }
}

/// The statements above for the rest of the crate, each under the shared lock.
impl Db {
    pub(crate) fn anchor(&self) -> Result<Option<TimeAnchor>> {
        self.lock().anchor()
    }

    pub(crate) fn save_sync_state<T: Serialize>(&self, state: &T) -> Result<()> {
        self.lock().save_sync_state(state)
    }

    pub(crate) fn server_offset_ms(&self) -> Result<i64> {
        self.lock().server_offset_ms()
    }

    pub(crate) fn set_server_offset_ms(&self, offset_ms: i64) -> Result<()> {
        self.lock().set_server_offset_ms(offset_ms)
    }

    pub(crate) fn sync_state<T: DeserializeOwned + Default>(&self) -> Result<T> {
        self.lock().sync_state()
    }

    pub(crate) fn save_anchor(&self, anchor: &TimeAnchor, wall_ms: i64) -> Result<()> {
        self.lock().save_anchor(anchor, wall_ms)
    }
}
