//! The reference backend: one SQLite file, WAL, `synchronous=FULL`, schema
//! migrations by `PRAGMA user_version`. One connection per `SqliteStore`
//! (the server holds one, each `Admin` another); SQLite serialises writers
//! across connections and `busy_timeout` makes the loser wait. Statements
//! are the shared ones (`store::sql`); this file only runs them.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Result, ServerError};
use crate::metrics;
use crate::store::db::{Db, Dialect, Row, Value};
use crate::store::migrations::{self, Versioned};
use crate::store::sql::{Sealer, SqlTx};
use crate::store::{SchemaStatus, ServerStore, Work};

/// The schema version this server writes.
pub const SCHEMA_VERSION: i64 = migrations::SCHEMA_VERSION;

impl From<rusqlite::Error> for ServerError {
    fn from(e: rusqlite::Error) -> Self {
        // SQLITE_BUSY after busy_timeout: another writer held the lock too long.
        let retryable = matches!(
            e.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        );
        ServerError::Storage {
            backend: "sqlite",
            message: e.to_string(),
            retryable,
        }
    }
}

/// How long a write waits for another connection's lock by default.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 512;

/// The SQLite backend.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    rows: AtomicU64,
}

/// Version bookkeeping in `PRAGMA user_version`, each step in its own
/// IMMEDIATE transaction.
struct UserVersion<'c>(&'c Connection);

impl Versioned for UserVersion<'_> {
    fn found(&mut self) -> Result<i64> {
        Ok(self
            .0
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    fn apply(&mut self, version: i64, step: &str) -> Result<()> {
        let sql = step.trim().trim_end_matches(';');
        self.0.execute_batch(&format!(
            "BEGIN IMMEDIATE; {sql}; PRAGMA user_version = {version}; COMMIT;"
        ))?;
        Ok(())
    }
}

/// Migrates `conn` through `steps` (tests start older files with a prefix).
pub fn migrate(conn: &Connection, steps: &[&str]) -> Result<()> {
    migrations::migrate(&mut UserVersion(conn), steps)
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        Self::open_waiting(path, DEFAULT_BUSY_TIMEOUT)
    }

    /// [`SqliteStore::open`], a write waiting at most `busy_timeout` for
    /// another connection's lock before it fails as retryable.
    pub fn open_waiting(path: &Path, busy_timeout: Duration) -> Result<SqliteStore> {
        let mut conn = punch_sqlite::open_durable(path, busy_timeout)?;
        migrate(&conn, migrations::SQLITE)?;
        // The server's one connection keeps the hot B-tree pages (ingest
        // touches several indexes per punch) instead of re-reading them from
        // the file on every upload: 32 MiB, not SQLite's 2 MiB.
        conn.pragma_update(None, "cache_size", -32_768)?;
        // Every statement is prepared once and cached: room for all of them
        // (rusqlite keeps 16), IN lists and batch inserts of each size too.
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // Time inside SQLite, for /metrics (the database's share of a request).
        conn.trace_v2(
            rusqlite::trace::TraceEventCodes::SQLITE_TRACE_PROFILE,
            Some(|event: rusqlite::trace::TraceEvent<'_>| {
                if let rusqlite::trace::TraceEvent::Profile(_, took) = event {
                    metrics::db_time("sqlite", took);
                }
            }),
        )?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            rows: AtomicU64::new(0),
        })
    }

    /// A poisoned lock only means another thread panicked mid-call; SQLite
    /// rolled that transaction back, so the connection is still sound.
    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A consistent copy of the live database at `dest` through SQLite's
    /// online backup API: writers go on meanwhile (pages they change are
    /// copied again), and the copy is a normal database file.
    pub fn backup_to(&self, dest: &Path) -> Result<()> {
        if dest.exists() {
            return Err(ServerError::Invalid(format!(
                "{} exists; a backup never overwrites",
                dest.display()
            )));
        }
        let conn = self.lock();
        conn.backup(
            rusqlite::MAIN_DB,
            dest,
            None::<fn(rusqlite::backup::Progress)>,
        )?;
        Ok(())
    }
}

/// Copies the database at `src` to `dest` (which must not exist) with the
/// online backup API, while servers keep writing to `src`.
pub fn backup(src: &Path, dest: &Path) -> Result<()> {
    SqliteStore::open(src)?.backup_to(dest)
}

impl ServerStore for SqliteStore {
    fn run_tx(&self, write: bool, sealer: Option<&dyn Sealer>, work: &mut Work<'_>) -> Result<()> {
        let mut conn = self.lock();
        // IMMEDIATE takes the write lock up front: no deadlock on upgrade.
        let behavior = if write {
            TransactionBehavior::Immediate
        } else {
            TransactionBehavior::Deferred
        };
        let tx = conn.transaction_with_behavior(behavior)?;
        let db = SqliteDb {
            conn: &tx,
            write,
            rows: &self.rows,
        };
        work(&SqlTx::new(&db, sealer))?;
        tx.commit()?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn schema_status(&self) -> Result<SchemaStatus> {
        let found: i64 = self
            .lock()
            .query_row("PRAGMA user_version", [], |r| r.get(0))?;
        Ok(SchemaStatus {
            found,
            supported: SCHEMA_VERSION,
        })
    }

    fn rows_read(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }

    fn scrub(&self) -> Result<()> {
        // Answers (busy, log frames, checkpointed): busy only means another
        // process still reads; the next checkpoint finishes the job.
        self.lock()
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}

/// An open SQLite transaction as the shared statements see it.
struct SqliteDb<'c> {
    conn: &'c Connection,
    write: bool,
    rows: &'c AtomicU64,
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(n) => ValueRef::Integer(*n),
            Value::Text(t) => ValueRef::Text(t.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

fn value(v: ValueRef<'_>) -> Result<Value> {
    Ok(match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(n) => Value::Int(n),
        ValueRef::Text(t) => Value::Text(
            String::from_utf8(t.to_vec())
                .map_err(|_| ServerError::Corrupt("stored text is not UTF-8".into()))?,
        ),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        ValueRef::Real(_) => return Err(ServerError::Corrupt("unexpected REAL column".into())),
    })
}

impl Db for SqliteDb<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn write(&self) -> bool {
        self.write
    }

    fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let width = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let values = (0..width)
                .map(|i| value(r.get_ref(i)?))
                .collect::<Result<Vec<_>>>()?;
            out.push(Row::new(values));
        }
        Ok(out)
    }

    fn execute(&self, sql: &str, params: &[Value]) -> Result<u64> {
        let n = self
            .conn
            .prepare_cached(sql)?
            .execute(rusqlite::params_from_iter(params))?;
        Ok(n as u64)
    }

    fn rows_read(&self) -> &AtomicU64 {
        self.rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{AttachmentRow, StoreExt};

    #[test]
    fn a_file_stored_before_step_13_stays_its_employees() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let conn = Connection::open(&path).unwrap();
        migrate(&conn, &migrations::SQLITE[..12]).unwrap();
        conn.execute(
            "INSERT INTO attachments (sha256, employee_id, size_bytes, body, received_at_ms)
             VALUES ('ab', 'e-1', 3, x'010203', 5)",
            [],
        )
        .unwrap();
        drop(conn);
        let store = SqliteStore::open(&path).unwrap();
        let read = |e: &str| store.read(|tx| tx.events().attachment(e, "ab")).unwrap();
        assert_eq!(read("e-1").map(|a| a.body), Some(vec![1, 2, 3]));
        assert_eq!(read("e-2"), None);
        store
            .write(|tx| {
                tx.events().insert_attachment(&AttachmentRow {
                    sha256: "ab".into(),
                    employee_id: "e-2".into(),
                    body: vec![1, 2, 3],
                    received_at_ms: 6,
                })
            })
            .unwrap();
        assert_eq!(read("e-2").map(|a| a.received_at_ms), Some(6));
    }

    #[test]
    fn migrates_once_and_refuses_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        {
            let store = SqliteStore::open(&path).unwrap();
            store.write(|tx| tx.meta().set("k", b"v")).unwrap();
        }
        // Reopening keeps data and does not re-run the migration.
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(
            store.read(|tx| tx.meta().get("k")).unwrap(),
            Some(b"v".to_vec())
        );
        assert_eq!(
            store
                .write(|tx| tx.meta().get_or_insert("k", b"other"))
                .unwrap(),
            b"v".to_vec()
        );
        drop(store);
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        assert!(matches!(
            SqliteStore::open(&path),
            Err(ServerError::SchemaTooNew { found: 99, .. })
        ));
    }

    /// The files say exactly what the inline steps said before they moved:
    /// SQLite keeps each CREATE's text, so older files must stay equal.
    #[test]
    fn the_schema_is_the_one_older_servers_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("s.db")).unwrap();
        // The steps that moved to files; later ones are new text.
        migrations::migrate(&mut UserVersion(&conn), &migrations::SQLITE[..15]).unwrap();
        let schema: Vec<String> = conn
            .prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let text = schema.join(";\n");
        let digest = hex::encode(ring::digest::digest(&ring::digest::SHA256, text.as_bytes()));
        assert_eq!(digest, SCHEMA_DIGEST, "{text}");
    }

    /// SHA-256 of `sqlite_master` as the inline steps (before the files)
    /// left it, computed apart from this code from that commit's steps.
    const SCHEMA_DIGEST: &str = "0c39963971d41105e2572b5bbedcb76a6e6edc696cb1567db8be03e78540bc13";

    /// The refusals about one employee are found by index (step 21), not by
    /// reading every refusal: the statement `RefusalsTx::rejected_about` runs.
    #[test]
    fn refusals_about_an_employee_are_read_by_index() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        drop(SqliteStore::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        let plan: Vec<String> = conn
            .prepare("EXPLAIN QUERY PLAN SELECT * FROM rejected WHERE employee_id = ?1 ORDER BY id")
            .unwrap()
            .query_map(["e-1"], |r| r.get(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(
            plan.iter()
                .any(|step| step.contains("rejected_by_employee")),
            "{plan:?}"
        );
    }

    #[test]
    fn failed_work_rolls_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("s.db")).unwrap();
        let out: Result<()> = store.write(|tx| {
            tx.meta().set("k", b"v")?;
            Err(ServerError::Invalid("boom".into()))
        });
        assert!(out.is_err());
        assert_eq!(store.read(|tx| tx.meta().get("k")).unwrap(), None);
    }
}
