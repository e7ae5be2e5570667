//! Accepted punches as the server judged them: one punch, one employee's,
//! one page of the ledger, and what a device's latest clock-in left open.

use super::SqlTx;
use crate::error::{Result, ServerError};
use crate::store::StoredPunchInfo;
use crate::store::db::{self, Row, Value};
use crate::store::punch_page::{self, Param, PunchListRow, PunchQuery};

pub(super) const PUNCH_INFO_COLUMNS: &str = "device_id, seq, punch_id, employee_id, kind, \
    wall_time_ms, utc_offset_min, trusted_time_ms, skew_ms, time_status, policy_version, \
    decision, site_id, hash, received_at_ms, review_flags, assurance, attendance";

/// A `punches` row read with [`PUNCH_INFO_COLUMNS`].
pub(super) fn punch_info_row(r: &mut Row) -> Result<StoredPunchInfo> {
    Ok(StoredPunchInfo {
        device_id: r.text()?,
        seq: r.u64()?,
        punch_id: r.text()?,
        employee_id: r.text()?,
        kind: r.text()?,
        wall_time_ms: r.int()?,
        utc_offset_min: r.i32()?,
        trusted_time_ms: r.opt_int()?,
        skew_ms: r.opt_int()?,
        time_status: r.text()?,
        policy_version: r.u64()?,
        decision: r.text()?,
        site_id: r.opt_text()?,
        hash: r.text()?,
        received_at_ms: r.int()?,
        // Unreadable flags are an error, never silently "nothing to review".
        review_flags: serde_json::from_str(&r.text()?)
            .map_err(|e| ServerError::Corrupt(format!("review flags: {e}")))?,
        assurance: r.text()?,
        // An unreadable reading is shown as none, never guessed.
        attendance: r.opt_text()?.and_then(|t| serde_json::from_str(&t).ok()),
    })
}

/// A page builder's parameters as values.
pub(super) fn values(params: Vec<Param>) -> Vec<Value> {
    params
        .into_iter()
        .map(|p| match p {
            Param::Text(t) => Value::Text(t),
            Param::Int(n) => Value::Int(n),
        })
        .collect()
}

fn punches_where(
    tx: &SqlTx<'_>,
    condition: &str,
    params: &[Value],
) -> Result<Vec<StoredPunchInfo>> {
    let rows = tx.all(
        &format!("SELECT {PUNCH_INFO_COLUMNS} FROM punches WHERE {condition}"),
        params,
        |mut r| punch_info_row(&mut r),
    )?;
    Ok(tx.counted(rows))
}

pub(super) fn punch_info(
    tx: &SqlTx<'_>,
    device_id: &str,
    seq: u64,
) -> Result<Option<StoredPunchInfo>> {
    let Some(seq) = db::lookup(seq) else {
        return Ok(None);
    };
    Ok(
        punches_where(tx, "device_id = ?1 AND seq = ?2", &[device_id.into(), seq])?
            .into_iter()
            .next(),
    )
}

pub(super) fn punches_of(tx: &SqlTx<'_>, employee_id: &str) -> Result<Vec<StoredPunchInfo>> {
    punches_where(
        tx,
        "employee_id = ?1 ORDER BY device_id, seq",
        &[employee_id.into()],
    )
}

/// Every punch: for CLI commands, never a request path.
pub(super) fn all_punches(tx: &SqlTx<'_>) -> Result<Vec<StoredPunchInfo>> {
    punches_where(tx, "1 = 1 ORDER BY device_id, seq", &[])
}

pub(super) fn punch_page(tx: &SqlTx<'_>, query: &PunchQuery) -> Result<Vec<PunchListRow>> {
    let (sql, params) = query.sql(PUNCH_INFO_COLUMNS, |i| format!("?{i}"));
    let rows = tx.all(&sql, &values(params), |mut r| {
        let punch = punch_info_row(&mut r)?;
        let team = r.opt_text()?;
        let review = punch_page::review_of(
            &punch,
            r.opt_text()?,
            r.opt_text()?,
            r.opt_text()?,
            r.opt_int()?,
        );
        Ok(PunchListRow {
            punch,
            team,
            review,
        })
    })?;
    Ok(tx.counted(rows))
}

/// The shift occurrence `employee_id`'s latest clock-in on the device (per
/// the server's own attendance) left open, if their latest clock-in/out
/// there is a clock-in. Per employee: a kiosk's punches name many.
pub(super) fn open_shift(
    tx: &SqlTx<'_>,
    device_id: &str,
    employee_id: &str,
) -> Result<Option<punch_model::rules::shift::OpenShift>> {
    let last = tx.first(
        "SELECT kind, attendance FROM punches
         WHERE device_id = ?1 AND employee_id = ?2 AND kind IN ('clock_in', 'clock_out')
         ORDER BY seq DESC LIMIT 1",
        &[device_id.into(), employee_id.into()],
        |mut r| Ok((r.text()?, r.opt_text()?)),
    )?;
    Ok(match last {
        Some((kind, Some(json))) if kind == "clock_in" => {
            serde_json::from_str::<punch_model::rules::shift::Attendance>(&json)
                .ok()
                .and_then(|a| a.occurrence())
        }
        _ => None,
    })
}
