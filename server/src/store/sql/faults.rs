//! Last-seen times, silent terminals and the event at a chain position
//! (`crate::store::faults`).

use super::SqlTx;
use super::events::{EVENT_COLUMNS, event_row};
use crate::error::Result;
use crate::store::StoredEvent;
use crate::store::db;
use crate::store::faults::{SilentQuery, SilentTerminal};

/// Writes at most once a minute per device: every request is authenticated
/// in a write transaction already, this adds a row write only then.
const SEEN_GRANULARITY_MS: i64 = 60_000;

pub(super) fn touch_seen(tx: &SqlTx<'_>, device_id: &str, now_ms: i64) -> Result<()> {
    tx.exec(
        "INSERT INTO device_seen (device_id, last_seen_ms) VALUES (?1, ?2)
         ON CONFLICT (device_id) DO UPDATE SET last_seen_ms = excluded.last_seen_ms
         WHERE device_seen.last_seen_ms <= excluded.last_seen_ms - CAST(?3 AS BIGINT)",
        &[device_id.into(), now_ms.into(), SEEN_GRANULARITY_MS.into()],
    )?;
    Ok(())
}

pub(super) fn last_seen(tx: &SqlTx<'_>, device_id: &str) -> Result<Option<i64>> {
    tx.first(
        "SELECT last_seen_ms FROM device_seen WHERE device_id = ?1",
        &[device_id.into()],
        |mut r| r.int(),
    )
}

pub(super) fn silent_terminals(tx: &SqlTx<'_>, q: &SilentQuery) -> Result<Vec<SilentTerminal>> {
    tx.all(
        &format!(
            "SELECT d.device_id, d.employee_id, t.team,
                    COALESCE(s.last_seen_ms, d.enrolled_at_ms) AS seen
             FROM devices d
             LEFT JOIN employee_teams t ON t.employee_id = d.employee_id
             LEFT JOIN device_seen s ON s.device_id = d.device_id
             WHERE d.unbound_at_ms IS NULL
               AND d.device_id > ?1
               AND (CAST(?2 AS TEXT) IS NULL OR t.team = ?2)
               AND COALESCE(s.last_seen_ms, d.enrolled_at_ms) <
                   CASE WHEN d.employee_id LIKE '{kiosk}%' THEN CAST(?3 AS BIGINT)
                        ELSE CAST(?4 AS BIGINT) END
             ORDER BY d.device_id LIMIT ?5",
            // A constant of this server, never the caller's text.
            kiosk = punch_model::pin::kiosk::KIOSK_PREFIX,
        ),
        &[
            q.after.as_deref().unwrap_or("").into(),
            q.team.as_deref().into(),
            q.kiosk_before_ms.into(),
            q.phone_before_ms.into(),
            db::limit(q.limit),
        ],
        |mut r| {
            let device_id = r.text()?;
            let employee_id = r.text()?;
            let terminal = if punch_model::pin::kiosk::kiosk_site(&employee_id).is_some() {
                "kiosk"
            } else {
                "phone"
            };
            Ok(SilentTerminal {
                device_id,
                employee_id,
                team: r.opt_text()?,
                last_seen_ms: r.int()?,
                terminal: terminal.to_string(),
            })
        },
    )
}

pub(super) fn event_at(tx: &SqlTx<'_>, device_id: &str, seq: u64) -> Result<Option<StoredEvent>> {
    let Some(seq) = db::lookup(seq) else {
        return Ok(None);
    };
    tx.first(
        &format!("SELECT {EVENT_COLUMNS} FROM events WHERE device_id = ?1 AND seq = ?2"),
        &[device_id.into(), seq],
        |mut r| event_row(tx, &mut r),
    )
}
