//! What the privacy settings keep beside the chain: the openings of evidence
//! commitments (the employee's to reveal) and the notice the employee
//! acknowledged (and under which policy version a record last carried it).

use rusqlite::{Connection, OptionalExtension, params};

use punch_model::ledger::record::NoticeAck;

use super::meta::{get, get_json, set, set_json};
use super::punches::NewPunch;
use super::{Store, db_seq};
use crate::error::Result;

const NOTICE_ACK: &str = "notice_ack";
const NOTICE_CARRIED: &str = "notice_carried_policy";

/// The privacy rows of a punch, in its append transaction.
pub(super) fn append_in(conn: &Connection, row: &NewPunch<'_>) -> Result<()> {
    if let Some(opening) = row.opening {
        conn.prepare_cached("INSERT INTO evidence_openings (seq, opening) VALUES (?1, ?2)")?
            .execute(params![db_seq(row.seq), opening])?;
    }
    if let Some(version) = row.notice_for_policy {
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
}
