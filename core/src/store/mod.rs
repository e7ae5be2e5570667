//! The device's SQLite file: one writer connection behind one mutex, WAL
//! with `synchronous=FULL` so a committed punch survives power loss.
//!
//! - `schema`: the versioned migrations;
//! - `device`: identity and the installed policy;
//! - `punches`: the signed chain's rows;
//! - `queue`: upload state and the server's answers;
//! - `meta`: typed values beside the chain (anchor, offsets, sync state);
//! - `privacy`: evidence openings, the acknowledged notice, retention;
//! - `pin`: PIN verifiers, lock states, used reset tokens, PIN events;
//! - `requests`: requests' decisions, their files, the personal addendum;
//! - `segment`: new chain segments after an acknowledged break;
//! - `faults`: the engine's open fault episodes;
//! - `photos`: photos taken at punches, until the server has them.
//!
//! Nothing here calls foreign code: the lock is only ever held for SQL.

mod device;
mod faults;
mod forgotten;
mod meta;
mod photos;
mod pin;
mod privacy;
mod punches;
mod queue;
mod requests;
mod schema;
mod segment;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::Connection;

pub(crate) use device::{DeviceRow, PolicyRow};
pub(crate) use photos::PhotoRow;
pub(crate) use pin::PinRow;
pub(crate) use privacy::Sealing;
pub(crate) use punches::{Append, NewPunch, PunchContext, ShiftChange};
pub use punches::{StoredPunch, UploadState};
pub(crate) use requests::{AttachmentRow, StatusRow};

use crate::error::Result;

/// An open, migrated device database.
pub(crate) struct Store {
    conn: Connection,
    /// The next punch's context and the file state it was read at.
    context_cache: Option<(punches::CacheKey, PunchContext)>,
    /// The highest seq this connection appended (persisted lazily).
    written_head: u64,
    /// Whether payloads are sealed at rest, and the data key (`data_key`).
    sealing: privacy::Sealing,
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub(crate) fn open(path: &Path) -> Result<Store> {
        let conn = punch_sqlite::open_durable(path, Duration::from_secs(5))?;
        punch_sqlite::migrate(&conn, schema::MIGRATIONS)?;
        Ok(Store {
            conn,
            context_cache: None,
            written_head: 0,
            sealing: privacy::Sealing::Off,
        })
    }
}

impl Drop for Store {
    /// Best effort: a killed process skips this, and the next sync records
    /// the head instead (the README says what that leaves undetected).
    fn drop(&mut self) {
        let _ = Store::persist_recorded_head_in(&self.conn, self.written_head);
    }
}

/// The store shared by the engine and the sync loop. The rest of the crate
/// reaches it only through functions: one per statement (beside each in
/// its file) or [`Db::with_store`] for several under one lock.
pub(crate) struct Db(Mutex<Store>);

impl Db {
    pub(crate) fn new(store: Store) -> Db {
        Db(Mutex::new(store))
    }

    /// A poisoned lock only means another thread panicked mid-call; SQLite's
    /// transaction already rolled back, so the connection is still sound.
    fn lock(&self) -> MutexGuard<'_, Store> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Several statements under one lock: a consistent view (a chain walk,
    /// an export) or steps that must not interleave with another thread's.
    /// `f` runs SQL only: never foreign code, never another `Db` call.
    pub(crate) fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        f(&mut self.lock())
    }
}

/// Seqs are stored in SQLite's i64; ours never come near 2^63.
fn db_seq(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}
