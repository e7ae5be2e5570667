//! The chain's rows: appending a signed record, listing and counting them.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use punch_model::ledger::event::EVENT_KIND_PREFIX;
use punch_model::ledger::record::{GENESIS_HASH, PunchRecord, TimeAnchor};
use punch_model::ledger::sealed::unseal;
use punch_model::rules::evaluate::PreviousFix;
use punch_model::rules::shift::OpenShift;
use punch_model::wire::HeadStatement;

use super::Db;
use super::{Sealing, Store, db_seq, meta};
use crate::error::{PunchError, Result};

/// Where a record stands with the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UploadState {
    /// Not yet acknowledged by the server.
    Pending,
    /// Accepted (or recognised as a duplicate) by the server.
    Uploaded,
    /// Refused by the server; kept as evidence.
    Rejected,
}

impl UploadState {
    /// The state as stored and shown (`pending`, `uploaded`, `rejected`).
    pub fn as_str(self) -> &'static str {
        match self {
            UploadState::Pending => "pending",
            UploadState::Uploaded => "uploaded",
            UploadState::Rejected => "rejected",
        }
    }

    fn parse(text: &str) -> Option<UploadState> {
        match text {
            "pending" => Some(UploadState::Pending),
            "uploaded" => Some(UploadState::Uploaded),
            "rejected" => Some(UploadState::Rejected),
            _ => None,
        }
    }
}

impl std::fmt::Display for UploadState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for UploadState {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A stored punch as the queue lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPunch {
    /// Position in the chain.
    pub seq: u64,
    /// The record's id.
    pub punch_id: String,
    /// The signed bytes, exactly as stored and sent.
    pub record: Vec<u8>,
    /// The signature over `record`.
    pub signature: Vec<u8>,
    /// SHA-256 of `record`: the next record links to it.
    pub hash: Vec<u8>,
    /// The punch kind, as in the record.
    pub kind: String,
    /// The wall time, as in the record.
    pub wall_time_ms: i64,
    /// The decision, as in the record.
    pub decision: String,
    /// Where its upload stands.
    pub upload_state: UploadState,
    /// Why the server rejected it, when it did.
    pub upload_detail: Option<String>,
    /// True once the engine checked the row: hash and signature over the
    /// stored bytes, and `punch_id`, `kind`, `wall_time_ms` and `decision`
    /// read from those signed bytes (never from columns anyone could edit).
    pub verified: bool,
}

const PUNCH_COLUMNS: &str = "seq, punch_id, record, signature, hash, kind, wall_time_ms, \
                             decision, upload_state, upload_detail";

fn punch_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredPunch> {
    let state: String = r.get(8)?;
    Ok(StoredPunch {
        seq: r.get::<_, i64>(0)? as u64,
        punch_id: r.get(1)?,
        record: r.get(2)?,
        signature: r.get(3)?,
        hash: r.get(4)?,
        kind: r.get(5)?,
        wall_time_ms: r.get(6)?,
        decision: r.get(7)?,
        // An unknown state is treated as not yet uploaded: sending a record
        // twice is harmless (the server answers duplicate), losing it is not.
        upload_state: UploadState::parse(&state).unwrap_or(UploadState::Pending),
        upload_detail: r.get(9)?,
        verified: false,
    })
}

/// Everything a new punch is judged and linked against, read in one lock.
#[derive(Debug, Clone)]
pub(crate) struct PunchContext {
    pub employee_id: Option<String>,
    pub anchor: Option<TimeAnchor>,
    pub previous_fix: Option<PreviousFix>,
    /// The shift occurrence each employee is clocked in to on this device
    /// (a kiosk's punches name many employees).
    pub open_shifts: HashMap<String, OpenShift>,
    /// (seq, hash) of the newest stored record.
    pub head: Option<(u64, Vec<u8>)>,
    /// The head recorded beside the chain: a deleted newest record leaves it higher.
    pub recorded_head: u64,
    /// After an acknowledged chain break: the hash the next record links to
    /// instead of the head's (see `store::segment`).
    pub segment_anchor: Option<Vec<u8>>,
}

impl PunchContext {
    /// The shift occurrence `employee_id` is clocked in to on this device.
    pub fn open_shift(&self, employee_id: &str) -> Option<&OpenShift> {
        self.open_shifts.get(employee_id)
    }

    /// The bound employee's open occurrence (on a kiosk, the kiosk
    /// account's: none).
    pub fn own_open_shift(&self) -> Option<&OpenShift> {
        self.employee_id.as_deref().and_then(|e| self.open_shift(e))
    }

    /// The sequence number the next record takes.
    pub fn next_seq(&self) -> u64 {
        self.head
            .as_ref()
            .map_or(0, |(seq, _)| *seq)
            .max(self.recorded_head)
            .saturating_add(1)
    }
}

/// A signed record ready to be appended.
pub(crate) struct NewPunch<'a> {
    pub seq: u64,
    pub punch_id: &'a str,
    pub record: &'a [u8],
    pub signature: &'a [u8],
    pub hash: &'a [u8],
    pub kind: &'a str,
    pub wall_time_ms: i64,
    pub decision: &'a str,
    /// The record's fix: the previous fix for the next punch's travel check.
    pub fix: Option<PreviousFix>,
    /// The opening of the record's evidence commitment, if it has one.
    pub opening: Option<&'a [u8]>,
    /// Some(policy version) when this record carries the notice for it.
    pub notice_for_policy: Option<u64>,
    /// Set when this punch opens or closes a shift occurrence.
    pub open_after: Option<&'a ShiftChange>,
    /// A key rotation's new punch key (SPKI, and PKCS#8 for a software key).
    pub new_punch_key: Option<(&'a [u8], Option<&'a [u8]>)>,
}

/// A punch's employee and the occurrence they are clocked in to after it
/// (None: clocked out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ShiftChange {
    pub employee_id: String,
    pub open: Option<OpenShift>,
}

/// What [`Store::append_punch`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Append {
    Stored,
    /// Another punch was stored since the context was read: rebuild and re-sign.
    HeadMoved,
}

fn head_of(conn: &rusqlite::Connection) -> Result<Option<(u64, Vec<u8>)>> {
    Ok(conn
        .prepare_cached("SELECT seq, hash FROM punches ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))
        .optional()?)
}

/// Identifies a state of the file: SQLite's `data_version` moves when
/// another connection commits, `total_changes` when this one writes.
pub(super) type CacheKey = (i64, u64);

fn cache_key(conn: &rusqlite::Connection) -> Result<CacheKey> {
    let version: i64 = conn
        .prepare_cached("PRAGMA data_version")?
        .query_row([], |r| r.get(0))?;
    Ok((version, conn.total_changes()))
}

/// How far back to look for the previous GPS fix (older ones say nothing
/// useful about travel speed).
const FIX_LOOKBACK: u32 = 16;

/// From the newest signed records: the last GPS fix (travel check).
fn previous_fix_in(conn: &rusqlite::Connection, sealing: &Sealing) -> Result<Option<PreviousFix>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT record FROM punches WHERE kind NOT LIKE '{EVENT_KIND_PREFIX}%'
         ORDER BY seq DESC LIMIT ?1"
    ))?;
    let mut rows = stmt.query(params![FIX_LOOKBACK])?;
    while let Some(row) = rows.next()? {
        let bytes: Vec<u8> = row.get(0)?;
        // An unreadable record only disables these checks for this punch.
        let Ok(record) = PunchRecord::from_bytes(&bytes) else {
            continue;
        };
        // A sealed record's fix is readable only with its key.
        let evidence = match (&record.sealed, sealing) {
            (None, _) => Some(record.evidence),
            (Some(_), Sealing::Ready(key)) => unseal(key, &record).ok().map(|r| r.evidence),
            (Some(_), _) => None,
        };
        let fix = evidence.and_then(|e| punch_model::ledger::minimise::previous_fix(&e));
        if fix.is_some() {
            return Ok(fix);
        }
    }
    Ok(None)
}

/// Every employee's open shift occurrence on this device.
fn open_shifts_in(conn: &rusqlite::Connection) -> Result<HashMap<String, OpenShift>> {
    let mut stmt =
        conn.prepare_cached("SELECT employee_id, shift_id, start_ms FROM open_shifts")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            OpenShift {
                shift_id: r.get(1)?,
                start_ms: r.get(2)?,
            },
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Records `change` in the commit of the punch that made it.
fn write_shift_change(tx: &rusqlite::Transaction<'_>, change: &ShiftChange) -> Result<()> {
    match &change.open {
        Some(open) => tx
            .prepare_cached(
                "INSERT INTO open_shifts (employee_id, shift_id, start_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (employee_id) DO UPDATE SET shift_id = ?2, start_ms = ?3",
            )?
            .execute(params![change.employee_id, open.shift_id, open.start_ms])?,
        None => tx
            .prepare_cached("DELETE FROM open_shifts WHERE employee_id = ?1")?
            .execute(params![change.employee_id])?,
    };
    Ok(())
}

fn read_context(
    conn: &rusqlite::Connection,
    written_head: u64,
    sealing: &Sealing,
) -> Result<PunchContext> {
    let previous_fix = previous_fix_in(conn, sealing)?;
    let employee_id = conn
        .prepare_cached("SELECT employee_id FROM device WHERE id = 1")?
        .query_row([], |r| r.get(0))
        .optional()?
        .flatten();
    Ok(PunchContext {
        employee_id,
        anchor: meta::anchor_in(conn)?,
        previous_fix,
        open_shifts: open_shifts_in(conn)?,
        head: head_of(conn)?,
        recorded_head: meta::recorded_head_in(conn)?.unwrap_or(0).max(written_head),
        segment_anchor: super::segment::pending_anchor_in(conn)?,
    })
}

impl Store {
    /// The context of the next punch, for a preview: checked against the
    /// file (one cheap `data_version` read instead of five queries), re-read
    /// whenever this connection or another one has written since.
    pub(crate) fn punch_context(&mut self) -> Result<PunchContext> {
        let key = cache_key(&self.conn)?;
        match &self.context_cache {
            Some((cached, ctx)) if *cached == key => Ok(ctx.clone()),
            _ => self.reload_context(key),
        }
    }

    /// The context a punch starts from: the cache as long as this
    /// connection wrote nothing else. Another connection's writes are caught
    /// under the write lock by [`append_punch`](Self::append_punch), which
    /// then answers `HeadMoved` and the punch is built again.
    pub(crate) fn punch_context_for_append(&mut self) -> Result<PunchContext> {
        match &self.context_cache {
            Some(((_, changes), ctx)) if *changes == self.conn.total_changes() => Ok(ctx.clone()),
            _ => {
                let key = cache_key(&self.conn)?;
                self.reload_context(key)
            }
        }
    }

    /// The chain's head as the device states it on every request: the newest
    /// stored record (seq, hex hash), or seq 0 and the genesis hash.
    pub(crate) fn head_statement(&mut self) -> Result<HeadStatement> {
        Ok(match self.punch_context()?.head {
            Some((seq, hash)) => HeadStatement {
                seq,
                hash: hex::encode(hash),
            },
            None => HeadStatement {
                seq: 0,
                hash: GENESIS_HASH.to_string(),
            },
        })
    }

    fn reload_context(&mut self, key: CacheKey) -> Result<PunchContext> {
        let ctx = read_context(&self.conn, self.written_head, &self.sealing)?;
        self.context_cache = Some((key, ctx.clone()));
        Ok(ctx)
    }

    /// Appends `row` if the chain still ends where the record links to, in
    /// one `BEGIN IMMEDIATE` transaction; durable (`synchronous=FULL`) when
    /// it returns `Stored`.
    pub(crate) fn append_punch(
        &mut self,
        expected_prev: &PunchContext,
        row: &NewPunch<'_>,
        now_ms: i64,
    ) -> Result<Append> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Under the write lock: if the file is as the cached context saw it,
        // its head is the head; otherwise read it again.
        let key = cache_key(&tx)?;
        let cached = self.context_cache.as_ref().is_some_and(|(k, c)| {
            *k == key
                && c.head == expected_prev.head
                && c.recorded_head == expected_prev.recorded_head
                && c.segment_anchor == expected_prev.segment_anchor
        });
        if !cached {
            let fresh = read_context(&tx, self.written_head, &self.sealing)?;
            let moved = fresh.head != expected_prev.head
                || fresh.recorded_head != expected_prev.recorded_head
                || fresh.segment_anchor != expected_prev.segment_anchor;
            if moved {
                drop(tx);
                self.context_cache = Some((cache_key(&self.conn)?, fresh));
                return Ok(Append::HeadMoved);
            }
        }
        if row.seq != expected_prev.next_seq() {
            return Err(PunchError::CorruptState(format!(
                "record seq {} does not follow the head",
                row.seq
            )));
        }
        tx.prepare_cached(
            "INSERT INTO punches (seq, punch_id, record, signature, hash, kind, wall_time_ms,
                                  decision, created_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            db_seq(row.seq),
            row.punch_id,
            row.record,
            row.signature,
            row.hash,
            row.kind,
            row.wall_time_ms,
            row.decision,
            now_ms
        ])?;
        super::privacy::append_in(&tx, row.seq, row.opening, row.notice_for_policy)?;
        if let Some(change) = row.open_after {
            write_shift_change(&tx, change)?;
        }
        if let Some((public_key, pkcs8)) = row.new_punch_key {
            // In the same commit as the rotation: the file never holds one without the other.
            tx.prepare_cached(
                "INSERT INTO punch_keys (seq, public_key, key_pkcs8) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![db_seq(row.seq), public_key, pkcs8])?;
        }
        if expected_prev.segment_anchor.is_some() {
            // This record links to the acknowledged head: it starts the segment.
            super::segment::start_in(&tx, row.seq)?;
        }
        // One page per punch beyond the row and its index entry costs about
        // a tenth of the commit: the recorded head is kept in memory and
        // written with the next sync's commit (and on close) instead.
        tx.commit()?;
        self.written_head = self.written_head.max(row.seq);
        // What this commit made the context, without reading it back.
        let mut ctx = expected_prev.clone();
        ctx.head = Some((row.seq, row.hash.to_vec()));
        ctx.recorded_head = row.seq;
        ctx.segment_anchor = None;
        if let Some(fix) = &row.fix {
            ctx.previous_fix = Some(*fix);
        }
        if let Some(change) = row.open_after {
            match &change.open {
                Some(open) => ctx
                    .open_shifts
                    .insert(change.employee_id.clone(), open.clone()),
                None => ctx.open_shifts.remove(&change.employee_id),
            };
        }
        self.context_cache = Some((cache_key(&self.conn)?, ctx));
        Ok(Append::Stored)
    }

    /// Punches with seq > `after`, in order, at most `limit`.
    /// Punches (not events) after `after`, oldest first.
    pub(crate) fn punches_after(&self, after: u64, limit: u32) -> Result<Vec<StoredPunch>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {PUNCH_COLUMNS} FROM punches WHERE seq > ?1 AND kind NOT LIKE '{EVENT_KIND_PREFIX}%'
             ORDER BY seq LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![db_seq(after), i64::from(limit)], punch_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Punches (not events) before `before` (all when None), newest first:
    /// the history screen's pages.
    pub(crate) fn punches_before(
        &self,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<StoredPunch>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {PUNCH_COLUMNS} FROM punches WHERE seq < ?1 AND kind NOT LIKE '{EVENT_KIND_PREFIX}%'
             ORDER BY seq DESC LIMIT ?2"
        ))?;
        let before = before.map_or(i64::MAX, db_seq);
        let rows = stmt.query_map(params![before, i64::from(limit)], punch_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Event rows whose kind column is `kind` (`event:<type>`), oldest first.
    pub(crate) fn events_of_kind(&self, kind: &str) -> Result<Vec<StoredPunch>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {PUNCH_COLUMNS} FROM punches WHERE kind = ?1 ORDER BY seq"
        ))?;
        let rows = stmt.query_map(params![kind], punch_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Calls `f` for every punch in seq order without loading them all.
    pub(crate) fn for_each_punch(&self, mut f: impl FnMut(StoredPunch)) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {PUNCH_COLUMNS} FROM punches ORDER BY seq"))?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            f(punch_from_row(row)?);
        }
        Ok(())
    }

    pub(crate) fn count_by_state(&self, state: UploadState) -> Result<u64> {
        let n: i64 = self
            .conn
            .prepare_cached("SELECT COUNT(*) FROM punches WHERE upload_state = ?1")?
            .query_row(params![state.as_str()], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

/// The statements above for the rest of the crate, each under the shared lock.
impl Db {
    pub(crate) fn count_by_state(&self, state: UploadState) -> Result<u64> {
        self.lock().count_by_state(state)
    }

    pub(crate) fn head_statement(&self) -> Result<HeadStatement> {
        self.lock().head_statement()
    }

    pub(crate) fn punch_context(&self) -> Result<PunchContext> {
        self.lock().punch_context()
    }

    pub(crate) fn punch_context_for_append(&self) -> Result<PunchContext> {
        self.lock().punch_context_for_append()
    }

    pub(crate) fn punches_after(&self, after: u64, limit: u32) -> Result<Vec<StoredPunch>> {
        self.lock().punches_after(after, limit)
    }

    pub(crate) fn punches_before(
        &self,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<StoredPunch>> {
        self.lock().punches_before(before, limit)
    }

    pub(crate) fn events_of_kind(&self, kind: &str) -> Result<Vec<StoredPunch>> {
        self.lock().events_of_kind(kind)
    }

    pub(crate) fn append_punch(
        &self,
        expected_prev: &PunchContext,
        row: &NewPunch<'_>,
        now_ms: i64,
    ) -> Result<Append> {
        self.lock().append_punch(expected_prev, row, now_ms)
    }
}
