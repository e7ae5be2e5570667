//! Fixed-window rate counters shared by every server on the database.

use super::SqlTx;
use crate::error::Result;

pub(super) fn rate_hit(
    tx: &SqlTx<'_>,
    key: &str,
    window_ms: i64,
    now_ms: i64,
) -> Result<(u64, i64)> {
    let row = tx.first(
        "INSERT INTO rate_limits (key, window_start_ms, hits) VALUES (?1, ?3, 1)
         ON CONFLICT (key) DO UPDATE SET
            hits = CASE WHEN rate_limits.window_start_ms <= CAST(?3 AS BIGINT) - CAST(?2 AS BIGINT)
                        THEN 1 ELSE rate_limits.hits + 1 END,
            window_start_ms = CASE
                WHEN rate_limits.window_start_ms <= CAST(?3 AS BIGINT) - CAST(?2 AS BIGINT)
                THEN CAST(?3 AS BIGINT) ELSE rate_limits.window_start_ms END
         RETURNING hits, window_start_ms",
        &[key.into(), window_ms.into(), now_ms.into()],
        |mut r| Ok((r.u64()?, r.int()?)),
    )?;
    row.ok_or_else(|| crate::error::ServerError::Corrupt("rate counter returned no row".into()))
}

pub(super) fn rate_clear(tx: &SqlTx<'_>, key: &str) -> Result<()> {
    tx.exec("DELETE FROM rate_limits WHERE key = ?1", &[key.into()])?;
    Ok(())
}

pub(super) fn rate_clear_prefix(tx: &SqlTx<'_>, prefix: &str) -> Result<()> {
    tx.exec(
        "DELETE FROM rate_limits WHERE substr(key, 1, length(?1)) = ?1",
        &[prefix.into()],
    )?;
    Ok(())
}

pub(super) fn prune_rate_limits(tx: &SqlTx<'_>, before_ms: i64) -> Result<u64> {
    tx.exec(
        "DELETE FROM rate_limits WHERE window_start_ms < ?1",
        &[before_ms.into()],
    )
}
