//! Punch photos: the record's claim beside the attachment that holds the bytes.

use super::SqlTx;
use crate::error::Result;
use crate::store::db::{self, Row};
use crate::store::photos::PunchPhotoRow;

const COLUMNS: &str =
    "employee_id, sha256, device_id, seq, size_bytes, media_type, policy_version, noted_at_ms";

fn row(r: &mut Row) -> Result<PunchPhotoRow> {
    Ok(PunchPhotoRow {
        employee_id: r.text()?,
        sha256: r.text()?,
        device_id: r.text()?,
        seq: r.u64()?,
        size_bytes: r.u64()?,
        media_type: r.text()?,
        policy_version: r.u64()?,
        noted_at_ms: r.int()?,
    })
}

pub(super) fn note_punch_photo(tx: &SqlTx<'_>, p: &PunchPhotoRow) -> Result<()> {
    tx.exec(
        &format!(
            "INSERT INTO punch_photos ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (employee_id, sha256) DO NOTHING"
        ),
        &[
            (&p.employee_id).into(),
            (&p.sha256).into(),
            (&p.device_id).into(),
            db::int(p.seq)?,
            db::int(p.size_bytes)?,
            (&p.media_type).into(),
            db::int(p.policy_version)?,
            p.noted_at_ms.into(),
        ],
    )?;
    Ok(())
}

pub(super) fn punch_photo(
    tx: &SqlTx<'_>,
    employee_id: &str,
    sha256: &str,
) -> Result<Option<PunchPhotoRow>> {
    tx.first(
        &format!("SELECT {COLUMNS} FROM punch_photos WHERE employee_id = ?1 AND sha256 = ?2"),
        &[employee_id.into(), sha256.into()],
        |mut r| row(&mut r),
    )
}

pub(super) fn photo_of_punch(
    tx: &SqlTx<'_>,
    device_id: &str,
    seq: u64,
) -> Result<Option<(PunchPhotoRow, bool)>> {
    let Some(seq) = db::lookup(seq) else {
        return Ok(None);
    };
    tx.first(
        "SELECT f.employee_id, f.sha256, f.device_id, f.seq, f.size_bytes, f.media_type,
                f.policy_version, f.noted_at_ms,
                EXISTS (SELECT 1 FROM attachments a
                        WHERE a.employee_id = f.employee_id AND a.sha256 = f.sha256)
         FROM punch_photos f WHERE f.device_id = ?1 AND f.seq = ?2",
        &[device_id.into(), seq],
        |mut r| Ok((row(&mut r)?, r.bool()?)),
    )
}

pub(super) fn device_has_punch(tx: &SqlTx<'_>, device_id: &str) -> Result<bool> {
    Ok(tx
        .opt(
            "SELECT 1 FROM punches WHERE device_id = ?1
             UNION ALL SELECT 1 FROM punch_hashes WHERE device_id = ?1 LIMIT 1",
            &[device_id.into()],
        )?
        .is_some())
}

pub(super) fn purge_photos(tx: &SqlTx<'_>, before_ms: i64) -> Result<u64> {
    tx.exec(
        "DELETE FROM attachments WHERE received_at_ms < ?1 AND EXISTS (
             SELECT 1 FROM punch_photos f
             WHERE f.employee_id = attachments.employee_id AND f.sha256 = attachments.sha256)",
        &[before_ms.into()],
    )
}
