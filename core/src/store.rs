//! The SQLite file: schema, migrations and the statements the engine uses.
//! WAL with synchronous=FULL so a committed punch survives power loss.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{PunchError, Result};

/// Bump with a new step in [`migrate`].
pub const SCHEMA_VERSION: i64 = 1;

const MIGRATION_1: &str = "
CREATE TABLE device (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    device_id    TEXT NOT NULL,
    public_key   BLOB NOT NULL,
    key_pkcs8    BLOB,            -- NULL when a platform signer holds the key
    employee_id  TEXT,
    created_ms   INTEGER NOT NULL
);
CREATE TABLE policy (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    version      INTEGER NOT NULL,
    body         BLOB NOT NULL,
    signature    BLOB,
    installed_ms INTEGER NOT NULL
);
CREATE TABLE punches (
    seq          INTEGER PRIMARY KEY,
    punch_id     TEXT NOT NULL,   -- random UUID; the server enforces uniqueness
    record       BLOB NOT NULL,   -- the exact signed bytes
    signature    BLOB NOT NULL,
    hash         BLOB NOT NULL,   -- SHA-256(record)
    kind         TEXT NOT NULL,
    wall_time_ms INTEGER NOT NULL,
    decision     TEXT NOT NULL,
    upload_state TEXT NOT NULL DEFAULT 'pending',
    upload_detail TEXT,
    created_ms   INTEGER NOT NULL
);
CREATE INDEX punches_upload_state ON punches (upload_state, seq);
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

/// Opens (creating if needed) and migrates the database at `path`.
pub fn open(path: &std::path::Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    migrate(&conn)?;
    Ok(conn)
}

fn migrate(conn: &Connection) -> Result<()> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(PunchError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found < 1 {
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {MIGRATION_1} PRAGMA user_version = 1; COMMIT;"
        ))?;
    }
    Ok(())
}

pub struct DeviceRow {
    pub device_id: String,
    pub public_key: Vec<u8>,
    pub key_pkcs8: Option<Vec<u8>>,
    pub employee_id: Option<String>,
}

pub fn load_device(conn: &Connection) -> Result<Option<DeviceRow>> {
    Ok(conn
        .prepare_cached(
            "SELECT device_id, public_key, key_pkcs8, employee_id FROM device WHERE id = 1",
        )?
        .query_row([], |r| {
            Ok(DeviceRow {
                device_id: r.get(0)?,
                public_key: r.get(1)?,
                key_pkcs8: r.get(2)?,
                employee_id: r.get(3)?,
            })
        })
        .optional()?)
}

pub fn insert_device(conn: &Connection, row: &DeviceRow, now_ms: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO device (id, device_id, public_key, key_pkcs8, employee_id, created_ms)
         VALUES (1, ?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        row.device_id,
        row.public_key,
        row.key_pkcs8,
        row.employee_id,
        now_ms
    ])?;
    Ok(())
}

pub fn set_employee(conn: &Connection, employee_id: &str) -> Result<()> {
    conn.prepare_cached("UPDATE device SET employee_id = ?1 WHERE id = 1")?
        .execute(params![employee_id])?;
    Ok(())
}

pub struct PolicyRow {
    pub version: u64,
    pub body: Vec<u8>,
    pub signature: Option<Vec<u8>>,
}

pub fn load_policy(conn: &Connection) -> Result<Option<PolicyRow>> {
    Ok(conn
        .prepare_cached("SELECT version, body, signature FROM policy WHERE id = 1")?
        .query_row([], |r| {
            Ok(PolicyRow {
                version: r.get::<_, i64>(0)? as u64,
                body: r.get(1)?,
                signature: r.get(2)?,
            })
        })
        .optional()?)
}

pub fn save_policy(conn: &Connection, row: &PolicyRow, now_ms: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO policy (id, version, body, signature, installed_ms) VALUES (1, ?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET version = excluded.version, body = excluded.body,
             signature = excluded.signature, installed_ms = excluded.installed_ms",
    )?
    .execute(params![row.version as i64, row.body, row.signature, now_ms])?;
    Ok(())
}

pub fn get_meta(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row(params![key], |r| r.get(0))
        .optional()?)
}

pub fn set_meta(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

/// The last stored record's (seq, hash), read inside the writer's transaction.
pub fn head(conn: &Connection) -> Result<Option<(u64, Vec<u8>)>> {
    Ok(conn
        .prepare_cached("SELECT seq, hash FROM punches ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))
        .optional()?)
}

pub struct NewPunchRow<'a> {
    pub seq: u64,
    pub punch_id: &'a str,
    pub record: &'a [u8],
    pub signature: &'a [u8],
    pub hash: &'a [u8],
    pub kind: &'a str,
    pub wall_time_ms: i64,
    pub decision: &'a str,
}

pub fn insert_punch(conn: &Connection, row: &NewPunchRow<'_>, now_ms: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO punches (seq, punch_id, record, signature, hash, kind, wall_time_ms,
                              decision, created_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        row.seq as i64,
        row.punch_id,
        row.record,
        row.signature,
        row.hash,
        row.kind,
        row.wall_time_ms,
        row.decision,
        now_ms
    ])?;
    Ok(())
}

/// A stored punch as the queue lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPunch {
    pub seq: u64,
    pub punch_id: String,
    pub record: Vec<u8>,
    pub signature: Vec<u8>,
    pub hash: Vec<u8>,
    pub kind: String,
    pub wall_time_ms: i64,
    pub decision: String,
    pub upload_state: String,
    pub upload_detail: Option<String>,
}

const PUNCH_COLUMNS: &str = "seq, punch_id, record, signature, hash, kind, wall_time_ms, \
                             decision, upload_state, upload_detail";

fn punch_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredPunch> {
    Ok(StoredPunch {
        seq: r.get::<_, i64>(0)? as u64,
        punch_id: r.get(1)?,
        record: r.get(2)?,
        signature: r.get(3)?,
        hash: r.get(4)?,
        kind: r.get(5)?,
        wall_time_ms: r.get(6)?,
        decision: r.get(7)?,
        upload_state: r.get(8)?,
        upload_detail: r.get(9)?,
    })
}

/// Punches with seq > `after`, in order, at most `limit`.
pub fn punches_after(conn: &Connection, after: u64, limit: usize) -> Result<Vec<StoredPunch>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PUNCH_COLUMNS} FROM punches WHERE seq > ?1 ORDER BY seq LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![after as i64, limit as i64], punch_from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Calls `f` for every punch in seq order without loading them all.
pub fn for_each_punch(
    conn: &Connection,
    mut f: impl FnMut(StoredPunch) -> Result<()>,
) -> Result<()> {
    let mut stmt = conn.prepare(&format!("SELECT {PUNCH_COLUMNS} FROM punches ORDER BY seq"))?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        f(punch_from_row(row)?)?;
    }
    Ok(())
}

pub fn count_by_state(conn: &Connection, state: &str) -> Result<u64> {
    let n: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM punches WHERE upload_state = ?1")?
        .query_row(params![state], |r| r.get(0))?;
    Ok(n as u64)
}
