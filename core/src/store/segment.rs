//! Chain segments after an acknowledged break (`wire::ChainReset`): the
//! employer's HR acknowledged that this device's chain broke; the records
//! the server refused above the acknowledged head are kept here as
//! evidence (state `rejected`, never sent again), and the next record
//! links to the acknowledged head, continuing the device's own numbering.

use rusqlite::{OptionalExtension, params};

use punch_model::wire::ChainReset;

use super::Db;
use super::{Store, db_seq};
use crate::error::{PunchError, Result};

/// A segment start the local chain check accepts: the record at
/// `start_seq` links to `anchored_hash`, the record at `anchored_seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SegmentStart {
    pub ack_id: i64,
    pub start_seq: u64,
    pub anchored_seq: u64,
    pub anchored_hash: Vec<u8>,
}

/// The acknowledged head the next record must link to, if a reset arrived
/// and no record started its segment yet.
pub(super) fn pending_anchor_in(conn: &rusqlite::Connection) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .prepare_cached(
            "SELECT anchored_hash FROM chain_resets WHERE start_seq IS NULL
             ORDER BY ack_id DESC LIMIT 1",
        )?
        .query_row([], |r| r.get(0))
        .optional()?)
}

/// Marks the pending reset as started by the record at `seq`.
pub(super) fn start_in(conn: &rusqlite::Connection, seq: u64) -> Result<()> {
    conn.prepare_cached("UPDATE chain_resets SET start_seq = ?1 WHERE start_seq IS NULL")?
        .execute(params![db_seq(seq)])?;
    Ok(())
}

impl Store {
    /// Applies a reset once (by its ack id): records above the acknowledged
    /// head that the server does not hold are kept as refused evidence, and
    /// the next punch links to the acknowledged head. Returns how many
    /// records were set aside, or None if this reset was applied before.
    pub(crate) fn apply_chain_reset(
        &mut self,
        reset: &ChainReset,
        now_ms: i64,
    ) -> Result<Option<u64>> {
        let anchored_hash = hex::decode(&reset.head_hash).map_err(|_| {
            PunchError::CorruptState(format!("chain reset head hash {:?}", reset.head_hash))
        })?;
        let tx = self.conn.transaction()?;
        let known: bool = tx
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM chain_resets WHERE ack_id = ?1)")?
            .query_row(params![reset.ack_id], |r| r.get(0))?;
        if known {
            return Ok(None);
        }
        // The acknowledged head must be a record this device holds, or held
        // before retention purged it (its hash kept), or the chain's start:
        // otherwise the reset is not about this chain.
        let holds = reset.head_seq == 0
            || tx
                .prepare_cached(
                    "SELECT hash FROM punches WHERE seq = ?1
                     UNION ALL SELECT hash FROM purged_punches WHERE seq = ?1 LIMIT 1",
                )?
                .query_row(params![db_seq(reset.head_seq)], |r| r.get::<_, Vec<u8>>(0))
                .optional()?
                .is_some_and(|h| h == anchored_hash);
        if !holds {
            return Err(PunchError::CorruptState(format!(
                "the server acknowledged a head (seq {}) this device does not hold",
                reset.head_seq
            )));
        }
        tx.prepare_cached(
            "INSERT INTO chain_resets (ack_id, anchored_seq, anchored_hash, received_ms)
             VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![
            reset.ack_id,
            db_seq(reset.head_seq),
            anchored_hash,
            now_ms
        ])?;
        let set_aside = tx
            .prepare_cached(
                "UPDATE punches SET upload_state = 'rejected',
                    upload_detail = 'kept as evidence: the employer acknowledged the chain break'
                 WHERE seq > ?1",
            )?
            .execute(params![db_seq(reset.head_seq)])? as u64;
        tx.commit()?;
        Ok(Some(set_aside))
    }

    /// Every segment start, oldest first (for the local chain check).
    pub(crate) fn segment_starts(&self) -> Result<Vec<SegmentStart>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT start_seq, anchored_seq, anchored_hash, ack_id FROM chain_resets
             WHERE start_seq IS NOT NULL ORDER BY start_seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(SegmentStart {
                start_seq: r.get::<_, i64>(0)? as u64,
                anchored_seq: r.get::<_, i64>(1)? as u64,
                anchored_hash: r.get(2)?,
                ack_id: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

/// The statements above for the rest of the crate, each under the shared lock.
impl Db {
    pub(crate) fn apply_chain_reset(&self, reset: &ChainReset, now_ms: i64) -> Result<Option<u64>> {
        self.lock().apply_chain_reset(reset, now_ms)
    }
}
