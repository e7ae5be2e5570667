//! An upload's reads about its device, one statement each.

use super::SqlTx;
use crate::error::Result;
use crate::store::db::{self, Value};
use crate::store::ingest_batch::HeadStanding;

pub(super) fn head_standing(tx: &SqlTx<'_>, device_id: &str, seq: u64) -> Result<HeadStanding> {
    // Beyond what the store keeps: nothing is held or stated there.
    let at = db::lookup(seq).unwrap_or(Value::Null);
    let standing = tx.first(
        "SELECT (SELECT MAX(seq) FROM head_statements WHERE device_id = ?1),
                (SELECT hash FROM head_statements WHERE device_id = ?1 AND seq = ?2),
                (SELECT hash FROM punches WHERE device_id = ?1 AND seq = ?2
                 UNION ALL SELECT hash FROM events WHERE device_id = ?1 AND seq = ?2
                 UNION ALL SELECT hash FROM punch_hashes WHERE device_id = ?1 AND seq = ?2
                 LIMIT 1)",
        &[device_id.into(), at],
        |mut r| {
            Ok(HeadStanding {
                highest_stated: r.opt_int()?.map(db::unsigned).transpose()?,
                stated_here: r.opt_text()?,
                held_here: r.opt_text()?,
            })
        },
    )?;
    Ok(standing.unwrap_or_default())
}

pub(super) fn pending_rotation_seq(tx: &SqlTx<'_>, device_id: &str) -> Result<Option<u64>> {
    tx.first(
        "SELECT seq FROM events WHERE device_id = ?1 AND event_type = ?2 AND status = ?3
         ORDER BY received_at_ms, seq LIMIT 1",
        &[
            device_id.into(),
            crate::key_rotation::EVENT_TYPE.into(),
            crate::key_rotation::PENDING.into(),
        ],
        |mut r| r.u64(),
    )
}
