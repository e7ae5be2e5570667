//! Chain events (requests and their decisions) and requests' attachments.

use super::SqlTx;
use super::punches::values;
use crate::at_rest::value::Slot;
use crate::error::Result;
use crate::store::db::{self, Lock, Row};
use crate::store::request_page::{RequestQuery, RequestRow};
use crate::store::{AttachmentRow, EventDecision, EventFilter, StoredEvent};

pub(super) const EVENT_COLUMNS: &str = "device_id, seq, event_id, employee_id, event_type, body, \
    wall_time_ms, trusted_time_ms, record, signature, hash, received_at_ms, status, \
    status_detail, decided_by, decided_at_ms, comment";

fn record_slot(device_id: &str, seq: u64) -> Slot<'_> {
    Slot::ChainRecord { device_id, seq }
}

fn body_slot(device_id: &str, seq: u64) -> Slot<'_> {
    Slot::EventBody { device_id, seq }
}

/// An `events` row read with [`EVENT_COLUMNS`], its sealed columns opened.
pub(super) fn event_row(tx: &SqlTx<'_>, r: &mut Row) -> Result<StoredEvent> {
    let mut e = StoredEvent {
        device_id: r.text()?,
        seq: r.u64()?,
        event_id: r.text()?,
        employee_id: r.text()?,
        event_type: r.text()?,
        body: r.text()?,
        wall_time_ms: r.int()?,
        trusted_time_ms: r.opt_int()?,
        record: r.blob()?,
        signature: r.blob()?,
        hash: r.text()?,
        received_at_ms: r.int()?,
        status: r.opt_text()?,
        status_detail: r.opt_text()?,
        decided_by: r.opt_text()?,
        decided_at_ms: r.opt_int()?,
        comment: r.opt_text()?,
    };
    e.record = tx.open(
        &record_slot(&e.device_id, e.seq),
        std::mem::take(&mut e.record),
    )?;
    e.body = tx.open_text(&body_slot(&e.device_id, e.seq), std::mem::take(&mut e.body))?;
    Ok(e)
}

pub(super) fn insert_event(tx: &SqlTx<'_>, e: &StoredEvent) -> Result<()> {
    tx.exec(
        &format!(
            "INSERT INTO events ({EVENT_COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
        ),
        &[
            (&e.device_id).into(),
            db::int(e.seq)?,
            (&e.event_id).into(),
            (&e.employee_id).into(),
            (&e.event_type).into(),
            tx.seal_text(&body_slot(&e.device_id, e.seq), &e.body)?,
            e.wall_time_ms.into(),
            e.trusted_time_ms.into(),
            tx.seal(&record_slot(&e.device_id, e.seq), &e.record)?,
            (&e.signature).into(),
            (&e.hash).into(),
            e.received_at_ms.into(),
            e.status.as_deref().into(),
            e.status_detail.as_deref().into(),
            e.decided_by.as_deref().into(),
            e.decided_at_ms.into(),
            e.comment.as_deref().into(),
        ],
    )?;
    Ok(())
}

/// Events matching `filter`, oldest first.
pub(super) fn events(tx: &SqlTx<'_>, f: &EventFilter<'_>) -> Result<Vec<StoredEvent>> {
    let rows = tx.all(
        &format!(
            "SELECT {EVENT_COLUMNS} FROM events
             WHERE (CAST(?1 AS TEXT) IS NULL OR employee_id = ?1)
               AND (CAST(?2 AS TEXT) IS NULL OR device_id = ?2)
               AND (CAST(?3 AS TEXT) IS NULL OR event_type = ?3)
               AND (CAST(?4 AS TEXT) IS NULL OR status = ?4)
             ORDER BY received_at_ms, device_id, seq"
        ),
        &[
            f.employee_id.into(),
            f.device_id.into(),
            f.event_type.into(),
            f.status.into(),
        ],
        |mut r| event_row(tx, &mut r),
    )?;
    Ok(tx.counted(rows))
}

pub(super) fn of_employee_and_kiosks(
    tx: &SqlTx<'_>,
    employee_id: &str,
    event_type: &str,
) -> Result<Vec<StoredEvent>> {
    // Each account one lookup in `events_by_employee`; the kiosk accounts
    // come from the (small) devices table.
    let rows = tx.all(
        &format!(
            "SELECT {EVENT_COLUMNS} FROM events
             WHERE event_type = ?2 AND employee_id IN (
                 SELECT CAST(?1 AS TEXT)
                 UNION SELECT employee_id FROM devices WHERE employee_id LIKE '{kiosk}%')
             ORDER BY received_at_ms, device_id, seq",
            kiosk = punch_model::pin::kiosk::KIOSK_PREFIX,
        ),
        &[employee_id.into(), event_type.into()],
        |mut r| event_row(tx, &mut r),
    )?;
    Ok(tx.counted(rows))
}

pub(super) fn request_page(tx: &SqlTx<'_>, query: &RequestQuery) -> Result<Vec<RequestRow>> {
    let (sql, params) = query.sql(EVENT_COLUMNS, |i| format!("?{i}"));
    let rows = tx.all(&sql, &values(params), |mut r| {
        Ok(RequestRow {
            event: event_row(tx, &mut r)?,
            team: r.opt_text()?,
        })
    })?;
    Ok(tx.counted(rows))
}

pub(super) fn events_by_id(tx: &SqlTx<'_>, event_id: &str) -> Result<Vec<StoredEvent>> {
    tx.all(
        &format!("SELECT {EVENT_COLUMNS} FROM events WHERE event_id = ?1 ORDER BY device_id, seq"),
        &[event_id.into()],
        |mut r| event_row(tx, &mut r),
    )
}

/// In a write transaction it also serialises ingests of the same id, so
/// two devices cannot both claim it.
pub(super) fn event_id_holder(tx: &SqlTx<'_>, event_id: &str) -> Result<Option<(String, u64)>> {
    tx.lock(Lock::EventId(event_id))?;
    tx.first(
        "SELECT device_id, seq FROM events WHERE event_id = ?1 LIMIT 1",
        &[event_id.into()],
        |mut r| Ok((r.text()?, r.u64()?)),
    )
}

pub(super) fn decide_event(
    tx: &SqlTx<'_>,
    device_id: &str,
    seq: u64,
    d: &EventDecision<'_>,
) -> Result<bool> {
    let Some(seq) = db::lookup(seq) else {
        return Ok(false);
    };
    Ok(tx.exec(
        "UPDATE events SET status = ?3, decided_by = ?4, comment = ?5, decided_at_ms = ?6
         WHERE device_id = ?1 AND seq = ?2 AND status = 'pending'",
        &[
            device_id.into(),
            seq,
            d.status.into(),
            d.decided_by.into(),
            d.comment.into(),
            d.at_ms.into(),
        ],
    )? > 0)
}

pub(super) fn insert_attachment(tx: &SqlTx<'_>, a: &AttachmentRow) -> Result<()> {
    tx.exec(
        "INSERT INTO attachments (sha256, employee_id, size_bytes, body, received_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (employee_id, sha256) DO NOTHING",
        &[
            (&a.sha256).into(),
            (&a.employee_id).into(),
            i64::try_from(a.body.len()).unwrap_or(i64::MAX).into(),
            tx.seal(&Slot::Attachment { sha256: &a.sha256 }, &a.body)?,
            a.received_at_ms.into(),
        ],
    )?;
    Ok(())
}

pub(super) fn attachment(
    tx: &SqlTx<'_>,
    employee_id: &str,
    sha256: &str,
) -> Result<Option<AttachmentRow>> {
    tx.first(
        "SELECT sha256, employee_id, body, received_at_ms FROM attachments
         WHERE employee_id = ?1 AND sha256 = ?2",
        &[employee_id.into(), sha256.into()],
        |mut r| {
            Ok(AttachmentRow {
                sha256: r.text()?,
                employee_id: r.text()?,
                body: tx.open(&Slot::Attachment { sha256 }, r.blob()?)?,
                received_at_ms: r.int()?,
            })
        },
    )
}
