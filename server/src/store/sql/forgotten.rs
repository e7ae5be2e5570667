//! Forgotten clock-outs ([`crate::store::forgotten::ForgottenTx`]).

use punch_model::rules::forgotten::{ForgottenClockOut, ForgottenState};

use super::SqlTx;
use crate::error::Result;
use crate::store::StoredPunchInfo;
use crate::store::db::{self, Row};
use crate::store::forgotten::{ForgottenFilter, ForgottenRow, SweepQuery};

const COLUMNS: &str = "employee_id, shift_id, start_ms, end_ms, closes_ms, clock_in_punch_id, \
    clock_in_at_ms, policy_version, detected_at_ms, closed_at_ms, superseded_by, \
    superseded_at_ms, updated_at_ms";

fn row(mut r: Row) -> Result<ForgottenRow> {
    let employee_id = r.text()?;
    let mut notice = ForgottenClockOut {
        shift_id: r.text()?,
        start_ms: r.int()?,
        end_ms: r.int()?,
        closes_ms: r.int()?,
        clock_in_punch_id: r.text()?,
        clock_in_at_ms: r.int()?,
        state: ForgottenState::Flagged,
        server_clock_out_ms: None,
        superseded_by: None,
        detected_at_ms: 0,
    };
    let policy_version = r.u64()?;
    notice.detected_at_ms = r.int()?;
    notice.server_clock_out_ms = r.opt_int()?;
    notice.superseded_by = r.opt_text()?;
    notice.state = ForgottenState::of(
        notice.server_clock_out_ms.is_some(),
        notice.superseded_by.is_some(),
    );
    Ok(ForgottenRow {
        employee_id,
        notice,
        policy_version,
        superseded_at_ms: r.opt_int()?,
        updated_at_ms: r.int()?,
    })
}

/// `ON CONFLICT DO NOTHING`: the key, not a read before the write, keeps
/// two processes detecting at once from storing it twice.
pub(super) fn insert_forgotten(tx: &SqlTx<'_>, f: &ForgottenRow) -> Result<bool> {
    let n = &f.notice;
    let stored = tx.exec(
        &format!(
            "INSERT INTO forgotten_clock_outs ({COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT (employee_id, shift_id, start_ms) DO NOTHING"
        ),
        &[
            (&f.employee_id).into(),
            (&n.shift_id).into(),
            n.start_ms.into(),
            n.end_ms.into(),
            n.closes_ms.into(),
            (&n.clock_in_punch_id).into(),
            n.clock_in_at_ms.into(),
            db::int(f.policy_version)?,
            n.detected_at_ms.into(),
            n.server_clock_out_ms.into(),
            n.superseded_by.as_deref().into(),
            f.superseded_at_ms.into(),
            f.updated_at_ms.into(),
        ],
    )?;
    Ok(stored > 0)
}

pub(super) fn supersede_forgotten(
    tx: &SqlTx<'_>,
    employee_id: &str,
    shift_id: &str,
    start_ms: i64,
    punch_id: &str,
    now_ms: i64,
) -> Result<bool> {
    let n = tx.exec(
        "UPDATE forgotten_clock_outs
         SET superseded_by = ?4, superseded_at_ms = ?5, updated_at_ms = ?5
         WHERE employee_id = ?1 AND shift_id = ?2 AND start_ms = ?3 AND superseded_by IS NULL",
        &[
            employee_id.into(),
            shift_id.into(),
            start_ms.into(),
            punch_id.into(),
            now_ms.into(),
        ],
    )?;
    Ok(n > 0)
}

pub(super) fn forgotten_of(
    tx: &SqlTx<'_>,
    employee_id: &str,
    since_ms: i64,
) -> Result<Vec<ForgottenRow>> {
    tx.all(
        &format!(
            "SELECT {COLUMNS} FROM forgotten_clock_outs
             WHERE employee_id = ?1 AND updated_at_ms >= ?2 ORDER BY start_ms, shift_id"
        ),
        &[employee_id.into(), since_ms.into()],
        row,
    )
}

pub(super) fn forgotten_list(
    tx: &SqlTx<'_>,
    filter: &ForgottenFilter<'_>,
    limit: usize,
) -> Result<Vec<ForgottenRow>> {
    let columns = COLUMNS
        .split(", ")
        .map(|c| format!("f.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    tx.all(
        &format!(
            "SELECT {columns} FROM forgotten_clock_outs f
             LEFT JOIN employee_teams t ON t.employee_id = f.employee_id
             WHERE (CAST(?1 AS TEXT) IS NULL OR t.team = ?1)
               AND (CAST(?2 AS TEXT) IS NULL OR f.employee_id = ?2)
               AND f.start_ms >= ?3 AND f.start_ms < ?4
             ORDER BY f.start_ms, f.employee_id, f.shift_id LIMIT ?5"
        ),
        &[
            filter.team.into(),
            filter.employee.into(),
            filter.from_ms.unwrap_or(i64::MIN).into(),
            filter.to_ms.unwrap_or(i64::MAX).into(),
            db::limit(limit),
        ],
        row,
    )
}

const EFFECTIVE: &str = "COALESCE(trusted_time_ms, wall_time_ms)";
const CLOCK_KINDS: &str = "kind IN ('clock_in', 'clock_out')";

pub(super) fn sweep_targets(tx: &SqlTx<'_>, q: &SweepQuery) -> Result<Vec<(String, i64)>> {
    let rows: Vec<(String, i64)> = match q.changed_since_ms {
        None => tx.all(
            &format!(
                "SELECT employee_id, MIN({EFFECTIVE}) FROM punches
                 WHERE {CLOCK_KINDS} AND {EFFECTIVE} >= ?1 GROUP BY employee_id"
            ),
            &[q.floor_ms.into()],
            |mut r| Ok((r.text()?, r.int()?)),
        )?,
        // Changed (by the time received: `punches_by_received`), read from
        // `reach_ms` before; and recent clock-ins (`punches_by_time`).
        Some(since) => tx.all(
            &format!(
                "SELECT employee_id, MIN({EFFECTIVE}) - ?3 FROM punches
                 WHERE received_at_ms >= ?2 AND {CLOCK_KINDS} AND {EFFECTIVE} >= ?1
                 GROUP BY employee_id
                 UNION ALL
                 SELECT employee_id, MIN({EFFECTIVE}) FROM punches
                 WHERE {EFFECTIVE} >= ?4 AND {EFFECTIVE} >= ?1 AND kind = 'clock_in'
                 GROUP BY employee_id"
            ),
            &[
                q.floor_ms.into(),
                since.into(),
                q.reach_ms.into(),
                q.clock_ins_from_ms.into(),
            ],
            |mut r| Ok((r.text()?, r.int()?)),
        )?,
    };
    let mut from: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    for (employee, at) in rows {
        let at = at.max(q.floor_ms);
        from.entry(employee)
            .and_modify(|f| *f = (*f).min(at))
            .or_insert(at);
    }
    Ok(from.into_iter().collect())
}

pub(super) fn clock_punches_from(
    tx: &SqlTx<'_>,
    employee_id: &str,
    from_ms: i64,
) -> Result<Vec<StoredPunchInfo>> {
    // The order `punches_of` gave detection (device, seq) among equal times.
    let rows = tx.all(
        &format!(
            "SELECT {} FROM punches
             WHERE employee_id = ?1 AND {CLOCK_KINDS} AND {EFFECTIVE} >= ?2
             ORDER BY {EFFECTIVE}, device_id, seq",
            super::punches::PUNCH_INFO_COLUMNS
        ),
        &[employee_id.into(), from_ms.into()],
        |mut r| super::punches::punch_info_row(&mut r),
    )?;
    Ok(tx.counted(rows))
}
