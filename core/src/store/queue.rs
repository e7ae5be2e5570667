//! The upload queue inside the chain table: which records to send next, and
//! the server's per-record answers committed together with the fresh anchor.

use std::collections::HashSet;

use rusqlite::{OptionalExtension, params};

use punch_model::ledger::record::TimeAnchor;
use punch_model::text::serde_name;
use punch_model::wire::{RecordStatus, RejectReason, UploadRecord, UploadResponse};

use super::Db;
use super::punches::UploadState;
use super::{Store, db_seq, meta};
use crate::error::Result;

/// A record the server refused, as the answer named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub seq: u64,
    pub reason: Option<RejectReason>,
    pub detail: Option<String>,
}

/// What committing one upload answer changed.
#[derive(Debug, Default)]
pub(crate) struct Settlement {
    pub uploaded: u64,
    pub duplicates: u64,
    /// Records held as uploaded that the server lost; pending again.
    pub resent: u64,
    pub rejected: Vec<Refusal>,
    /// True if any record changed state (progress was made).
    pub settled: bool,
}

/// What comparing the server's head with the local chain found.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct HeadCheck {
    /// Records flagged uploaded above the server's head, made pending again.
    pub resent: u64,
    /// The server's head is not a record this device holds (another chain).
    pub foreign: bool,
}

impl Store {
    /// Trusts the server's head over the local upload flags: whatever lies
    /// above it is sent again (a flag edited to "uploaded" hides nothing),
    /// and a head hash this device never produced is reported.
    pub(crate) fn reconcile_head(
        &mut self,
        server_seq: u64,
        server_hash: &str,
    ) -> Result<HeadCheck> {
        let tx = self.conn.transaction()?;
        let local: Option<Vec<u8>> = if server_seq == 0 {
            None
        } else {
            tx.prepare_cached(
                "SELECT hash FROM punches WHERE seq = ?1
                 UNION ALL SELECT hash FROM purged_punches WHERE seq = ?1",
            )?
            .query_row(params![db_seq(server_seq)], |r| r.get(0))
            .optional()?
        };
        let foreign = match local {
            Some(hash) => hex::encode(hash) != server_hash,
            None => server_seq != 0,
        };
        let resent = tx.execute(
            "UPDATE punches SET upload_state = 'pending', upload_detail = 'resent: above the server head'
             WHERE seq > ?1 AND upload_state = 'uploaded'",
            params![db_seq(server_seq)],
        )? as u64;
        if !foreign {
            // The server holds our chain up to here: it is the least head to expect.
            Store::persist_recorded_head_in(&tx, self.written_head.max(server_seq))?;
        }
        tx.commit()?;
        Ok(HeadCheck { resent, foreign })
    }

    /// The oldest pending records, as their exact stored bytes.
    pub(crate) fn pending_batch(&self, limit: u32) -> Result<Vec<UploadRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, record, signature FROM punches WHERE upload_state = 'pending'
             ORDER BY seq LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![i64::from(limit)], |r| {
            Ok(UploadRecord {
                seq: r.get::<_, i64>(0)? as u64,
                record: r.get(1)?,
                signature: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Commits the server's answers about the records in `sent`, and `anchor`,
    /// in one transaction (one fsync). With `may_rewind`, gaps right after
    /// records we hold as uploaded mean the server lost them (restored from
    /// a backup): those are made pending again.
    pub(crate) fn settle_upload(
        &mut self,
        sent: &HashSet<u64>,
        answer: &UploadResponse,
        may_rewind: bool,
        anchor: &TimeAnchor,
        wall_ms: i64,
    ) -> Result<(Settlement, bool)> {
        let tx = self.conn.transaction()?;
        let rewind = may_rewind && server_lost_records(&tx, answer)?;
        let mut out = Settlement::default();
        if rewind {
            let resent = tx.execute(
                "UPDATE punches SET upload_state = 'pending', upload_detail = 'resent: server lost it'
                 WHERE seq > ?1 AND upload_state = 'uploaded'",
                params![db_seq(answer.head_seq)],
            )?;
            out.resent = resent as u64;
            out.settled = true;
        }
        for result in &answer.results {
            // Only answers about records we actually sent count.
            if !sent.contains(&result.seq) {
                continue;
            }
            if rewind && result.reason == Some(RejectReason::Gap) {
                continue;
            }
            let (state, detail) = match result.status {
                RecordStatus::Accepted => {
                    out.uploaded += 1;
                    (UploadState::Uploaded, None)
                }
                RecordStatus::Duplicate => {
                    out.duplicates += 1;
                    (UploadState::Uploaded, Some("duplicate".to_string()))
                }
                RecordStatus::Rejected => {
                    out.rejected.push(Refusal {
                        seq: result.seq,
                        reason: result.reason,
                        detail: result.detail.clone(),
                    });
                    let reason = result
                        .reason
                        .map(|r| serde_name(&r))
                        .unwrap_or_else(|| "unspecified".into());
                    let detail = match &result.detail {
                        Some(d) => format!("{reason}: {d}"),
                        None => reason,
                    };
                    (UploadState::Rejected, Some(detail))
                }
            };
            let changed = tx
                .prepare_cached(
                    "UPDATE punches SET upload_state = ?1, upload_detail = ?2
                     WHERE seq = ?3 AND upload_state = 'pending'",
                )?
                .execute(params![state.as_str(), detail, db_seq(result.seq)])?;
            out.settled |= changed > 0;
        }
        meta::save_anchor_in(&tx, anchor, wall_ms)?;
        // The meta page is written anyway: record the head for free. The
        // chain's own top counts too: a process that only syncs appended
        // nothing itself, yet the records it just uploaded must stay missed
        // if someone deletes them later (the punching process may have died
        // before it could record them).
        let top = local_top_seq(&tx)?;
        Store::persist_recorded_head_in(&tx, self.written_head.max(top))?;
        tx.commit()?;
        Ok((out, rewind))
    }
}

/// The highest seq the file holds (kept or purged).
fn local_top_seq(tx: &rusqlite::Transaction<'_>) -> Result<u64> {
    let top: Option<i64> = tx
        .prepare_cached(
            "SELECT MAX(seq) FROM (SELECT seq FROM punches UNION ALL SELECT seq FROM purged_punches)",
        )?
        .query_row([], |r| r.get(0))?;
    Ok(top.map_or(0, |s| s.max(0) as u64))
}

/// A gap whose missing records we hold as uploaded means the server lost them.
fn server_lost_records(tx: &rusqlite::Transaction<'_>, answer: &UploadResponse) -> Result<bool> {
    let head = answer.head_seq;
    let Some(first_gap) = answer
        .results
        .iter()
        .filter(|r| r.status == RecordStatus::Rejected && r.reason == Some(RejectReason::Gap))
        .map(|r| r.seq)
        .filter(|&seq| seq > head.saturating_add(1))
        .min()
    else {
        return Ok(false);
    };
    let missing = first_gap - head - 1;
    let uploaded: i64 = tx.query_row(
        "SELECT COUNT(*) FROM punches WHERE seq > ?1 AND seq < ?2 AND upload_state = 'uploaded'",
        params![db_seq(head), db_seq(first_gap)],
        |r| r.get(0),
    )?;
    Ok(u64::try_from(uploaded).unwrap_or(0) == missing)
}

/// The statements above for the rest of the crate, each under the shared lock.
impl Db {
    pub(crate) fn pending_batch(&self, limit: u32) -> Result<Vec<UploadRecord>> {
        self.lock().pending_batch(limit)
    }

    pub(crate) fn settle_upload(
        &self,
        sent: &HashSet<u64>,
        answer: &UploadResponse,
        may_rewind: bool,
        anchor: &TimeAnchor,
        wall_ms: i64,
    ) -> Result<(Settlement, bool)> {
        self.lock()
            .settle_upload(sent, answer, may_rewind, anchor, wall_ms)
    }

    pub(crate) fn reconcile_head(&self, server_seq: u64, server_hash: &str) -> Result<HeadCheck> {
        self.lock().reconcile_head(server_seq, server_hash)
    }
}
