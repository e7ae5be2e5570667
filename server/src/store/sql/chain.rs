//! A device's chain as stored: the records' bytes and kept hashes, new
//! accepted punches, the heads the device stated, its evidence counters.

use std::collections::HashMap;

use super::{SqlTx, json, marks};
use crate::at_rest::value::Slot;
use crate::error::Result;
use crate::store::db::{self, Dialect, Value};
use crate::store::{ChainRow, NewPunch};

fn slot(device_id: &str, seq: u64) -> Slot<'_> {
    Slot::ChainRecord { device_id, seq }
}

/// Seqs per statement where a batch asks about several.
const CHUNK: usize = 100;

pub(super) fn punch_bytes(tx: &SqlTx<'_>, device_id: &str, seq: u64) -> Result<Option<Vec<u8>>> {
    let Some(at) = db::lookup(seq) else {
        return Ok(None);
    };
    tx.first(
        "SELECT record FROM punches WHERE device_id = ?1 AND seq = ?2
         UNION ALL SELECT record FROM events WHERE device_id = ?1 AND seq = ?2",
        &[device_id.into(), at],
        |mut r| r.blob(),
    )?
    .map(|b| tx.open(&slot(device_id, seq), b))
    .transpose()
}

pub(super) fn punch_bytes_many(
    tx: &SqlTx<'_>,
    device_id: &str,
    seqs: &[u64],
) -> Result<HashMap<u64, Vec<u8>>> {
    let mut out = HashMap::new();
    let known: Vec<Value> = seqs.iter().filter_map(|&s| db::lookup(s)).collect();
    for chunk in known.chunks(CHUNK) {
        let list = marks(2, chunk.len());
        let mut params = vec![device_id.into()];
        params.extend_from_slice(chunk);
        for mut r in tx.query(
            &format!(
                "SELECT seq, record FROM punches WHERE device_id = ?1 AND seq IN ({list})
                 UNION ALL SELECT seq, record FROM events WHERE device_id = ?1 AND seq IN ({list})"
            ),
            &params,
        )? {
            let seq = r.u64()?;
            let bytes = tx.open(&slot(device_id, seq), r.blob()?)?;
            out.insert(seq, bytes);
        }
    }
    Ok(out)
}

/// The hash kept for (device, seq), even once its bytes were purged.
pub(super) fn kept_hash(tx: &SqlTx<'_>, device_id: &str, seq: u64) -> Result<Option<String>> {
    let Some(seq) = db::lookup(seq) else {
        return Ok(None);
    };
    tx.first(
        "SELECT hash FROM punches WHERE device_id = ?1 AND seq = ?2
         UNION ALL SELECT hash FROM events WHERE device_id = ?1 AND seq = ?2
         UNION ALL SELECT hash FROM punch_hashes WHERE device_id = ?1 AND seq = ?2
         LIMIT 1",
        &[device_id.into(), seq],
        |mut r| r.text(),
    )
}

pub(super) fn punch_location(tx: &SqlTx<'_>, punch_id: &str) -> Result<Option<(String, u64)>> {
    tx.first(
        "SELECT device_id, seq FROM punches WHERE punch_id = ?1",
        &[punch_id.into()],
        |mut r| Ok((r.text()?, r.u64()?)),
    )
}

pub(super) fn punch_locations(
    tx: &SqlTx<'_>,
    punch_ids: &[String],
) -> Result<HashMap<String, (String, u64)>> {
    let mut out = HashMap::new();
    for chunk in punch_ids.chunks(CHUNK) {
        let params: Vec<Value> = chunk.iter().map(Into::into).collect();
        for mut r in tx.query(
            &format!(
                "SELECT punch_id, device_id, seq FROM punches WHERE punch_id IN ({})",
                marks(1, chunk.len())
            ),
            &params,
        )? {
            out.insert(r.text()?, (r.text()?, r.u64()?));
        }
    }
    Ok(out)
}

/// Columns of a new punch, in [`punch_values`] order.
const INSERT_COLUMNS: &str = "device_id, seq, punch_id, employee_id, kind, wall_time_ms, \
     utc_offset_min, trusted_time_ms, skew_ms, time_status, policy_version, decision, site_id, \
     record, signature, hash, received_at_ms, review_flags, assurance, attendance";
const INSERT_WIDTH: usize = 20;
/// Rows per INSERT: well inside both databases' parameter limits.
const INSERT_ROWS: usize = 50;

fn punch_values(tx: &SqlTx<'_>, p: &NewPunch<'_>, out: &mut Vec<Value>) -> Result<()> {
    let i = p.info;
    out.extend([
        (&i.device_id).into(),
        db::int(i.seq)?,
        (&i.punch_id).into(),
        (&i.employee_id).into(),
        (&i.kind).into(),
        i.wall_time_ms.into(),
        i.utc_offset_min.into(),
        i.trusted_time_ms.into(),
        i.skew_ms.into(),
        (&i.time_status).into(),
        db::int(i.policy_version)?,
        (&i.decision).into(),
        i.site_id.as_deref().into(),
        tx.seal(&slot(&i.device_id, i.seq), p.record)?,
        p.signature.into(),
        (&i.hash).into(),
        i.received_at_ms.into(),
        json("review flags", &i.review_flags)?.into(),
        (&i.assurance).into(),
        i.attendance
            .as_ref()
            .map(|a| json("attendance", a))
            .transpose()?
            .into(),
    ]);
    Ok(())
}

pub(super) fn insert_punch(tx: &SqlTx<'_>, punch: &NewPunch<'_>) -> Result<()> {
    insert_punches(tx, std::slice::from_ref(punch))
}

/// Several punches: on PostgreSQL in one statement per [`INSERT_ROWS`] (one
/// round trip); on SQLite one cached single-row statement each, since a
/// statement writing many rows under unique keys makes SQLite keep a
/// statement journal (a temporary file, every touched page copied to it).
pub(super) fn insert_punches(tx: &SqlTx<'_>, punches: &[NewPunch<'_>]) -> Result<()> {
    let rows_per_statement = match tx.db.dialect() {
        Dialect::Sqlite => 1,
        Dialect::Postgres => INSERT_ROWS,
    };
    let statement = |rows: usize| {
        let values: Vec<String> = (0..rows)
            .map(|n| format!("({})", marks(n * INSERT_WIDTH + 1, INSERT_WIDTH)))
            .collect();
        format!(
            "INSERT INTO punches ({INSERT_COLUMNS}) VALUES {}",
            values.join(", ")
        )
    };
    let full = statement(rows_per_statement);
    let mut params = Vec::with_capacity(rows_per_statement * INSERT_WIDTH);
    for chunk in punches.chunks(rows_per_statement) {
        params.clear();
        for p in chunk {
            punch_values(tx, p, &mut params)?;
        }
        if chunk.len() == rows_per_statement {
            tx.exec(&full, &params)?;
        } else {
            tx.exec(&statement(chunk.len()), &params)?;
        }
    }
    Ok(())
}

/// Punches, events and the hashes of punches retention removed, in seq order.
pub(super) fn chain_rows(tx: &SqlTx<'_>, device_id: &str) -> Result<Vec<ChainRow>> {
    tx.all(
        "SELECT seq, record, signature, hash FROM punches WHERE device_id = ?1
         UNION ALL
         SELECT seq, record, signature, hash FROM events WHERE device_id = ?1
         UNION ALL
         SELECT seq, X'', X'', hash FROM punch_hashes WHERE device_id = ?1
         ORDER BY seq",
        &[device_id.into()],
        |mut r| {
            let seq = r.u64()?;
            Ok(ChainRow {
                seq,
                record: tx.open(&slot(device_id, seq), r.blob()?)?,
                signature: r.blob()?,
                hash: r.text()?,
            })
        },
    )
}

pub(super) fn head_statement(tx: &SqlTx<'_>, device_id: &str, seq: u64) -> Result<Option<String>> {
    let Some(seq) = db::lookup(seq) else {
        return Ok(None);
    };
    tx.first(
        "SELECT hash FROM head_statements WHERE device_id = ?1 AND seq = ?2",
        &[device_id.into(), seq],
        |mut r| r.text(),
    )
}

pub(super) fn head_statements_many(
    tx: &SqlTx<'_>,
    device_id: &str,
    seqs: &[u64],
) -> Result<HashMap<u64, String>> {
    let mut out = HashMap::new();
    let known: Vec<Value> = seqs.iter().filter_map(|&s| db::lookup(s)).collect();
    for chunk in known.chunks(CHUNK) {
        let mut params = vec![device_id.into()];
        params.extend_from_slice(chunk);
        for mut r in tx.query(
            &format!(
                "SELECT seq, hash FROM head_statements WHERE device_id = ?1 AND seq IN ({})",
                marks(2, chunk.len())
            ),
            &params,
        )? {
            out.insert(r.u64()?, r.text()?);
        }
    }
    Ok(out)
}

pub(super) fn highest_head_statement(
    tx: &SqlTx<'_>,
    device_id: &str,
) -> Result<Option<(u64, String)>> {
    tx.first(
        "SELECT seq, hash FROM head_statements WHERE device_id = ?1 ORDER BY seq DESC LIMIT 1",
        &[device_id.into()],
        |mut r| Ok((r.u64()?, r.text()?)),
    )
}

pub(super) fn insert_head_statement(
    tx: &SqlTx<'_>,
    device_id: &str,
    seq: u64,
    hash: &str,
    now_ms: i64,
) -> Result<()> {
    tx.exec(
        "INSERT INTO head_statements (device_id, seq, hash, stated_at_ms)
         VALUES (?1, ?2, ?3, ?4) ON CONFLICT (device_id, seq) DO NOTHING",
        &[device_id.into(), db::int(seq)?, hash.into(), now_ms.into()],
    )?;
    Ok(())
}

pub(super) fn evidence_counter(tx: &SqlTx<'_>, device_id: &str, day: i64) -> Result<(u64, u64)> {
    Ok(tx
        .first(
            "SELECT stored, dropped FROM evidence_counters WHERE device_id = ?1 AND day = ?2",
            &[device_id.into(), day.into()],
            |mut r| Ok((r.u64()?, r.u64()?)),
        )?
        .unwrap_or((0, 0)))
}

pub(super) fn bump_evidence_counter(
    tx: &SqlTx<'_>,
    device_id: &str,
    day: i64,
    stored: u64,
    dropped: u64,
) -> Result<()> {
    tx.exec(
        "INSERT INTO evidence_counters (device_id, day, stored, dropped) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (device_id, day) DO UPDATE SET
            stored = evidence_counters.stored + excluded.stored,
            dropped = evidence_counters.dropped + excluded.dropped",
        &[
            device_id.into(),
            day.into(),
            db::int(stored)?,
            db::int(dropped)?,
        ],
    )?;
    Ok(())
}
