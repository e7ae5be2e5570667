//! Photos taken at punches (`crate::photo`): kept sealed until the server
//! has the record that names them and then the bytes, dropped after.

use rusqlite::{OptionalExtension, params};

use super::{Db, Store, db_seq};
use crate::error::Result;

/// A photo waiting for upload; `body` as stored (sealed when `sealed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PhotoRow {
    pub sha256: String,
    pub media_type: String,
    pub body: Vec<u8>,
    pub sealed: bool,
}

impl Store {
    /// Keeps a photo before the punch that names it is signed.
    pub(crate) fn save_photo(&mut self, p: &PhotoRow, now_ms: i64) -> Result<()> {
        self.conn.execute(
            "INSERT INTO punch_photos (sha256, media_type, body, sealed, created_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (sha256) DO UPDATE SET body = excluded.body, sealed = excluded.sealed,
                 media_type = excluded.media_type, uploaded = 0",
            params![p.sha256, p.media_type, p.body, p.sealed, now_ms],
        )?;
        Ok(())
    }

    /// The punch at `seq` names the photo.
    pub(crate) fn link_photo(&mut self, sha256: &str, seq: u64) -> Result<()> {
        self.conn.execute(
            "UPDATE punch_photos SET punch_seq = ?2 WHERE sha256 = ?1",
            params![sha256, db_seq(seq)],
        )?;
        Ok(())
    }

    /// A photo no punch will name (the punch was refused or failed).
    pub(crate) fn discard_photo(&mut self, sha256: &str) -> Result<()> {
        self.conn.execute(
            "DELETE FROM punch_photos WHERE sha256 = ?1 AND punch_seq IS NULL",
            [sha256],
        )?;
        Ok(())
    }

    /// Whether this device has stored a punch (events do not count; a
    /// purged record counts: the device has been in use).
    pub(crate) fn has_punched(&self) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT 1 FROM punches WHERE decision != 'recorded'
                 UNION ALL SELECT 1 FROM purged_punches LIMIT 1",
            )?
            .query_row([], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Photos whose punch the server acknowledged and which it does not
    /// have yet. First links photos a crash left unlinked to the punch
    /// naming them, and drops those older than `orphan_before_ms` no punch names.
    pub(crate) fn photos_to_upload(&mut self, orphan_before_ms: i64) -> Result<Vec<PhotoRow>> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE punch_photos SET punch_seq = (
                 SELECT seq FROM punches
                 WHERE json_valid(CAST(record AS TEXT))
                   AND json_extract(CAST(record AS TEXT), '$.photo.sha256') = punch_photos.sha256)
             WHERE punch_seq IS NULL",
            [],
        )?;
        tx.execute(
            "DELETE FROM punch_photos WHERE punch_seq IS NULL AND created_ms < ?1",
            [orphan_before_ms],
        )?;
        let rows = {
            let mut stmt = tx.prepare_cached(
                "SELECT f.sha256, f.media_type, f.body, f.sealed FROM punch_photos f
                 JOIN punches p ON p.seq = f.punch_seq
                 WHERE f.uploaded = 0 AND p.upload_state = 'uploaded' ORDER BY f.punch_seq",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(PhotoRow {
                    sha256: r.get(0)?,
                    media_type: r.get(1)?,
                    body: r.get(2)?,
                    sealed: r.get(3)?,
                })
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
        };
        tx.commit()?;
        Ok(rows)
    }

    /// The server has it: the bytes are no longer needed here.
    pub(crate) fn mark_photo_uploaded(&mut self, sha256: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE punch_photos SET uploaded = 1, body = x'' WHERE sha256 = ?1",
            [sha256],
        )?;
        Ok(())
    }
}

/// The statements above for the rest of the crate, each under the shared lock.
impl Db {
    pub(crate) fn save_photo(&self, p: &PhotoRow, now_ms: i64) -> Result<()> {
        self.lock().save_photo(p, now_ms)
    }

    pub(crate) fn link_photo(&self, sha256: &str, seq: u64) -> Result<()> {
        self.lock().link_photo(sha256, seq)
    }

    pub(crate) fn discard_photo(&self, sha256: &str) -> Result<()> {
        self.lock().discard_photo(sha256)
    }

    pub(crate) fn has_punched(&self) -> Result<bool> {
        self.lock().has_punched()
    }

    pub(crate) fn photos_to_upload(&self, orphan_before_ms: i64) -> Result<Vec<PhotoRow>> {
        self.lock().photos_to_upload(orphan_before_ms)
    }

    pub(crate) fn mark_photo_uploaded(&self, sha256: &str) -> Result<()> {
        self.lock().mark_photo_uploaded(sha256)
    }
}
