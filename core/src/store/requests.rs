//! Rows beside the chain for requests: the server's decisions, the files
//! waiting to go up, and the signed personal addendum.

use rusqlite::{OptionalExtension, params};

use super::Db;
use super::Store;
use crate::error::Result;

/// A request's status as the server last said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StatusRow {
    pub event_id: String,
    pub status: String,
    pub detail: Option<String>,
    pub comment: Option<String>,
    pub decided_at_ms: Option<i64>,
}

/// A file waiting for (or past) upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttachmentRow {
    pub sha256: String,
    pub media_type: String,
    pub body: Vec<u8>,
}

impl Store {
    pub(crate) fn save_request_statuses(&mut self, rows: &[StatusRow]) -> Result<()> {
        let tx = self.conn.transaction()?;
        for r in rows {
            tx.prepare_cached(
                "INSERT INTO request_status (event_id, status, detail, comment, decided_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (event_id) DO UPDATE SET status = excluded.status,
                     detail = excluded.detail, comment = excluded.comment,
                     decided_at_ms = excluded.decided_at_ms",
            )?
            .execute(params![
                r.event_id,
                r.status,
                r.detail,
                r.comment,
                r.decided_at_ms
            ])?;
        }
        tx.commit()?;
        Ok(())
    }

    pub(crate) fn request_status(&self, event_id: &str) -> Result<Option<StatusRow>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT event_id, status, detail, comment, decided_at_ms FROM request_status
                 WHERE event_id = ?1",
            )?
            .query_row([event_id], |r| {
                Ok(StatusRow {
                    event_id: r.get(0)?,
                    status: r.get(1)?,
                    detail: r.get(2)?,
                    comment: r.get(3)?,
                    decided_at_ms: r.get(4)?,
                })
            })
            .optional()?)
    }

    pub(crate) fn save_attachment(&mut self, a: &AttachmentRow, now_ms: i64) -> Result<()> {
        self.conn.execute(
            "INSERT INTO attachments (sha256, media_type, body, created_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (sha256) DO NOTHING",
            params![a.sha256, a.media_type, a.body, now_ms],
        )?;
        Ok(())
    }

    pub(crate) fn has_attachment(&self, sha256: &str) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM attachments WHERE sha256 = ?1")?
            .query_row([sha256], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Attachments the server does not have yet.
    pub(crate) fn attachments_to_upload(&self) -> Result<Vec<AttachmentRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT sha256, media_type, body FROM attachments WHERE uploaded = 0 ORDER BY created_ms",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(AttachmentRow {
                sha256: r.get(0)?,
                media_type: r.get(1)?,
                body: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The server has it: the bytes are no longer needed here.
    pub(crate) fn mark_attachment_uploaded(&mut self, sha256: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE attachments SET uploaded = 1, body = x'' WHERE sha256 = ?1",
            [sha256],
        )?;
        Ok(())
    }

    pub(crate) fn addendum(&self) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        Ok(self
            .conn
            .prepare_cached("SELECT body, signature FROM addendum WHERE id = 1")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    /// Replaces the addendum (None: no field site is approved any more).
    pub(crate) fn save_addendum(
        &mut self,
        signed: Option<(&[u8], &[u8])>,
        now_ms: i64,
    ) -> Result<()> {
        match signed {
            Some((body, signature)) => self.conn.execute(
                "INSERT INTO addendum (id, body, signature, installed_ms) VALUES (1, ?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET body = excluded.body,
                     signature = excluded.signature, installed_ms = excluded.installed_ms",
                params![body, signature, now_ms],
            )?,
            None => self.conn.execute("DELETE FROM addendum", [])?,
        };
        Ok(())
    }
}

/// The statements above for the rest of the crate, each under the shared lock.
impl Db {
    pub(crate) fn attachments_to_upload(&self) -> Result<Vec<AttachmentRow>> {
        self.lock().attachments_to_upload()
    }

    pub(crate) fn has_attachment(&self, sha256: &str) -> Result<bool> {
        self.lock().has_attachment(sha256)
    }

    pub(crate) fn request_status(&self, event_id: &str) -> Result<Option<StatusRow>> {
        self.lock().request_status(event_id)
    }

    pub(crate) fn save_addendum(&self, signed: Option<(&[u8], &[u8])>, now_ms: i64) -> Result<()> {
        self.lock().save_addendum(signed, now_ms)
    }

    pub(crate) fn save_request_statuses(&self, rows: &[StatusRow]) -> Result<()> {
        self.lock().save_request_statuses(rows)
    }

    pub(crate) fn save_attachment(&self, a: &AttachmentRow, now_ms: i64) -> Result<()> {
        self.lock().save_attachment(a, now_ms)
    }

    pub(crate) fn mark_attachment_uploaded(&self, sha256: &str) -> Result<()> {
        self.lock().mark_attachment_uploaded(sha256)
    }
}
