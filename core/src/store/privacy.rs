//! What the privacy settings keep beside the chain: the openings of evidence
//! commitments (the employee's to reveal) and the notice the employee
//! acknowledged (and under which policy version a record last carried it).

use rusqlite::{Connection, OptionalExtension, params};

use punch_model::ledger::record::NoticeAck;

use super::meta::{get, get_json, set, set_json};
use super::{Store, db_seq};
use crate::error::Result;

use super::Db;
use punch_model::ledger::sealed::DataKey;

/// Whether records are sealed, and with what.
#[derive(Debug, Clone, Default)]
pub(crate) enum Sealing {
    /// No wrapper configured: records are stored in clear.
    #[default]
    Off,
    Ready(DataKey),
    /// The wrapped key is there but the platform cannot unwrap it.
    Unavailable {
        key_id: String,
        reason: String,
    },
}

const NOTICE_ACK: &str = "notice_ack";
const NOTICE_CARRIED: &str = "notice_carried_policy";
const DATA_KEY: &str = "data_key";
const DATA_KEY_ESCROWED: &str = "data_key_escrowed";

#[derive(serde::Serialize, serde::Deserialize)]
struct WrappedKey {
    key_id: String,
    wrapped: String,
}

/// The privacy rows of a punch, in its append transaction.
pub(super) fn append_in(
    conn: &Connection,
    seq: u64,
    opening: Option<&[u8]>,
    notice_for_policy: Option<u64>,
) -> Result<()> {
    if let Some(opening) = opening {
        conn.prepare_cached("INSERT INTO evidence_openings (seq, opening) VALUES (?1, ?2)")?
            .execute(params![db_seq(seq), opening])?;
    }
    if let Some(version) = notice_for_policy {
        set(conn, NOTICE_CARRIED, &version.to_string())?;
    }
    Ok(())
}

impl Store {
    /// The opening of the commitment in the record at `seq`, if it has one.
    pub(crate) fn evidence_opening(&self, seq: u64) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .prepare_cached("SELECT opening FROM evidence_openings WHERE seq = ?1")?
            .query_row(params![db_seq(seq)], |r| r.get(0))
            .optional()?)
    }

    pub(crate) fn notice_ack(&self) -> Result<Option<NoticeAck>> {
        get_json(&self.conn, NOTICE_ACK)
    }

    pub(crate) fn acknowledge_notice(&self, ack: &NoticeAck) -> Result<()> {
        set_json(&self.conn, NOTICE_ACK, ack)
    }

    /// The policy version under which a record last carried the notice.
    pub(crate) fn notice_carried_for(&self) -> Result<Option<u64>> {
        Ok(get(&self.conn, NOTICE_CARRIED)?.and_then(|t| t.parse().ok()))
    }

    pub(crate) fn sealing(&self) -> Sealing {
        self.sealing.clone()
    }

    pub(crate) fn set_sealing(&mut self, sealing: Sealing) {
        self.sealing = sealing;
        // The travel check may now read (or no longer read) sealed fixes.
        self.context_cache = None;
    }

    /// The wrapped data key and its id, as the platform wrapped it.
    pub(crate) fn wrapped_data_key(&self) -> Result<Option<(String, Vec<u8>)>> {
        let Some(k) = get_json::<WrappedKey>(&self.conn, DATA_KEY)? else {
            return Ok(None);
        };
        let wrapped = punch_model::wire::b64::decode(&k.wrapped).map_err(|e| {
            crate::error::PunchError::CorruptState(format!("wrapped data key: {e}"))
        })?;
        Ok(Some((k.key_id, wrapped)))
    }

    pub(crate) fn save_wrapped_data_key(&self, key_id: &str, wrapped: &[u8]) -> Result<()> {
        set_json(
            &self.conn,
            DATA_KEY,
            &WrappedKey {
                key_id: key_id.to_string(),
                wrapped: punch_model::wire::b64::encode(wrapped),
            },
        )
    }

    /// The id of the data key the server last confirmed it holds.
    pub(crate) fn escrowed_data_key(&self) -> Result<Option<String>> {
        get(&self.conn, DATA_KEY_ESCROWED)
    }

    pub(crate) fn set_escrowed_data_key(&self, key_id: &str) -> Result<()> {
        set(&self.conn, DATA_KEY_ESCROWED, key_id)
    }

    /// Purges records the server acknowledged (uploaded, or refused and kept
    /// there as evidence) whose punch time is before `before_ms`, keeping
    /// their hashes; never the newest record (the chain's head) and never
    /// one still pending. Returns (records, openings) removed.
    pub(crate) fn purge_acknowledged(&mut self, before_ms: i64) -> Result<(u64, u64)> {
        let tx = self.conn.transaction()?;
        let head: Option<i64> = tx
            .prepare_cached("SELECT MAX(seq) FROM punches")?
            .query_row([], |r| r.get(0))?;
        let Some(head) = head else {
            return Ok((0, 0));
        };
        let chosen = "SELECT seq FROM punches WHERE upload_state IN ('uploaded', 'rejected')
                      AND wall_time_ms < ?1 AND seq < ?2";
        tx.execute(
            "INSERT INTO purged_punches (seq, hash, wall_time_ms)
             SELECT seq, hash, wall_time_ms FROM punches
             WHERE upload_state IN ('uploaded', 'rejected') AND wall_time_ms < ?1 AND seq < ?2",
            params![before_ms, head],
        )?;
        let openings = tx.execute(
            &format!("DELETE FROM evidence_openings WHERE seq IN ({chosen})"),
            params![before_ms, head],
        )? as u64;
        // Photos go with their punch (their bytes usually left at upload).
        tx.execute(
            &format!("DELETE FROM punch_photos WHERE punch_seq IN ({chosen})"),
            params![before_ms, head],
        )?;
        let records = tx.execute(
            "DELETE FROM punches WHERE upload_state IN ('uploaded', 'rejected')
             AND wall_time_ms < ?1 AND seq < ?2",
            params![before_ms, head],
        )? as u64;
        tx.commit()?;
        self.context_cache = None;
        Ok((records, openings))
    }

    /// Calls `f` with (seq, hash) of every purged record, in seq order.
    pub(crate) fn for_each_purged(&self, mut f: impl FnMut(u64, &[u8])) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare("SELECT seq, hash FROM purged_punches ORDER BY seq")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let seq: i64 = row.get(0)?;
            let hash: Vec<u8> = row.get(1)?;
            f(u64::try_from(seq).unwrap_or(0), &hash);
        }
        Ok(())
    }
}

/// The statements above for the rest of the crate, each under the shared lock.
impl Db {
    pub(crate) fn acknowledge_notice(&self, ack: &NoticeAck) -> Result<()> {
        self.lock().acknowledge_notice(ack)
    }

    pub(crate) fn escrowed_data_key(&self) -> Result<Option<String>> {
        self.lock().escrowed_data_key()
    }

    pub(crate) fn notice_ack(&self) -> Result<Option<NoticeAck>> {
        self.lock().notice_ack()
    }

    pub(crate) fn purge_acknowledged(&self, before_ms: i64) -> Result<(u64, u64)> {
        self.lock().purge_acknowledged(before_ms)
    }

    pub(crate) fn sealing(&self) -> Sealing {
        self.lock().sealing()
    }

    pub(crate) fn set_escrowed_data_key(&self, key_id: &str) -> Result<()> {
        self.lock().set_escrowed_data_key(key_id)
    }
}
