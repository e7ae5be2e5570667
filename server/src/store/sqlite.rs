//! The reference backend: one SQLite file, WAL, `synchronous=FULL`, schema
//! migrations by `PRAGMA user_version`. One connection per `SqliteStore`
//! (the server holds one, each `Admin` another); SQLite serialises writers
//! across connections and `busy_timeout` makes the loser wait.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

mod people;

use crate::error::{Result, ServerError};
use crate::metrics;
use crate::store::punch_page::{self, Param, PunchListRow, PunchQuery};
use crate::store::request_page::{RequestQuery, RequestRow};
use crate::store::sealable::{KeyPart, KeyType, RowKey, SealableColumn, StoredValue};
use crate::store::{
    AttachmentRow, BindDevice, ChainRow, ChallengeRow, CodeRow, DeviceInfo, EmployeeRow,
    ErasureReport, EventDecision, EventFilter, NewPunch, PinCodeRow, PinProfile, PolicyRow,
    PurgeKind, RefusedRow, RejectedInfo, Revelation, SchemaStatus, ServerStore, StoreTx,
    StoredEvent, StoredPunchInfo, Work,
};

/// The schema, one SQL step per version; append, never edit.
const MIGRATIONS: &[&str] = &[
    MIGRATION_1,
    MIGRATION_2_ATTESTATION,
    MIGRATION_3_TAMPER_EVIDENCE,
    MIGRATION_4_ATTENDANCE,
    MIGRATION_5_RATE_LIMITS,
    MIGRATION_6_EVENTS,
    MIGRATION_7_PRIVACY,
    MIGRATION_8_PIN,
    people::MIGRATION_9_PEOPLE,
    MIGRATION_10_RATE_LIMITS_WINDOW,
    MIGRATION_11_PIN_CODES_SUPERSEDED,
    MIGRATION_12_DEVICE_KEYS,
    MIGRATION_13_ATTACHMENTS_PER_EMPLOYEE,
    MIGRATION_14_PUNCHES_BY_TIME,
    MIGRATION_15_REQUESTS_BY_TIME,
];

/// Requests by kind and status in the order a decider's queue pages them
/// (`store::request_page`).
const MIGRATION_15_REQUESTS_BY_TIME: &str = "
CREATE INDEX events_by_type_time ON events (event_type, status, received_at_ms, device_id, seq);
";

/// The ledger newest first by the server's time for a punch, for keyset
/// pages and time ranges (`store::punch_page`).
const MIGRATION_14_PUNCHES_BY_TIME: &str = "
CREATE INDEX punches_by_time ON punches ((COALESCE(trusted_time_ms, wall_time_ms)), device_id, seq);
";

/// Attachments keyed by (employee, hash), not the hash alone: the same bytes
/// from two employees are two pieces of evidence (issue 21 item 13).
const MIGRATION_13_ATTACHMENTS_PER_EMPLOYEE: &str = "
CREATE TABLE attachments_by_employee (
    employee_id     TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    size_bytes      INTEGER NOT NULL,
    body            BLOB NOT NULL,
    received_at_ms  INTEGER NOT NULL,
    PRIMARY KEY (employee_id, sha256)
);
INSERT INTO attachments_by_employee
    SELECT employee_id, sha256, size_bytes, body, received_at_ms FROM attachments;
DROP TABLE attachments;
ALTER TABLE attachments_by_employee RENAME TO attachments;
";

/// Two device keys: the channel key that signs requests (NULL: a device
/// enrolled with one key, which public_key is) and its assurance; the punch
/// key in force after a rotation (NULL: public_key, the one enrolled).
const MIGRATION_12_DEVICE_KEYS: &str = "
ALTER TABLE devices ADD COLUMN channel_key BLOB;
ALTER TABLE devices ADD COLUMN channel_assurance TEXT;
ALTER TABLE devices ADD COLUMN channel_attestation TEXT;
ALTER TABLE devices ADD COLUMN punch_key BLOB;
";

/// Chain events beside punches, requests' decisions, their attachments.
const MIGRATION_6_EVENTS: &str = "
CREATE TABLE events (
    device_id       TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    event_id        TEXT NOT NULL,
    employee_id     TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    body            TEXT NOT NULL,
    wall_time_ms    INTEGER NOT NULL,
    trusted_time_ms INTEGER,
    record          BLOB NOT NULL,
    signature       BLOB NOT NULL,
    hash            TEXT NOT NULL,
    received_at_ms  INTEGER NOT NULL,
    status          TEXT,
    status_detail   TEXT,
    decided_by      TEXT,
    decided_at_ms   INTEGER,
    comment         TEXT,
    PRIMARY KEY (device_id, seq)
);
CREATE INDEX events_by_employee ON events (employee_id, event_type);
CREATE INDEX events_by_id ON events (event_id);
CREATE TABLE attachments (
    sha256          TEXT PRIMARY KEY,
    employee_id     TEXT NOT NULL,
    size_bytes      INTEGER NOT NULL,
    body            BLOB NOT NULL,
    received_at_ms  INTEGER NOT NULL
);
";

/// Privacy: revealed evidence's outcomes, hashes of punches retention
/// removed, devices' data keys for sealed payloads.
const MIGRATION_7_PRIVACY: &str = "
CREATE TABLE revelations (
    device_id       TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    employee_id     TEXT NOT NULL,
    review_flags    TEXT NOT NULL,
    revealed_at_ms  INTEGER NOT NULL,
    PRIMARY KEY (device_id, seq)
);
CREATE INDEX revelations_employee ON revelations (employee_id);
CREATE TABLE punch_hashes (
    device_id  TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    hash       TEXT NOT NULL,
    PRIMARY KEY (device_id, seq)
);
CREATE TABLE device_data_keys (
    device_id       TEXT NOT NULL,
    key_id          TEXT NOT NULL,
    key             BLOB NOT NULL,
    received_at_ms  INTEGER NOT NULL,
    PRIMARY KEY (device_id, key_id)
);
";

/// PIN resets: each employee's contact and identity secret, and the codes
/// sent; kiosk members with their PIN verifiers.
const MIGRATION_8_PIN: &str = "
CREATE TABLE pin_profiles (
    employee_id        TEXT PRIMARY KEY,
    channel            TEXT,
    address            TEXT,
    identity_verifier  TEXT,
    admin_reset_at_ms  INTEGER
) WITHOUT ROWID;
CREATE TABLE pin_codes (
    code_hash      TEXT PRIMARY KEY,
    employee_id    TEXT NOT NULL,
    device_id      TEXT NOT NULL,
    created_at_ms  INTEGER NOT NULL,
    expires_at_ms  INTEGER NOT NULL,
    used_at_ms     INTEGER
) WITHOUT ROWID;
CREATE TABLE kiosk_members (
    employee_id  TEXT PRIMARY KEY,
    site_id      TEXT NOT NULL,
    verifier     TEXT NOT NULL
) WITHOUT ROWID;
";

/// Shared rate-limit counters (enrollment, later PIN-reset codes): in the
/// database, so every server process on it counts the same hits.
const MIGRATION_5_RATE_LIMITS: &str = "
CREATE TABLE rate_limits (
    key              TEXT PRIMARY KEY,
    window_start_ms  INTEGER NOT NULL,
    hits             INTEGER NOT NULL
) WITHOUT ROWID;
";

/// Pruning ended rate windows (`rate::hit`) is a range scan, not a full one.
const MIGRATION_10_RATE_LIMITS_WINDOW: &str = "
CREATE INDEX rate_limits_window ON rate_limits (window_start_ms);
";

/// A new PIN reset code replaces the employee's older ones (`pin::reset`).
const MIGRATION_11_PIN_CODES_SUPERSEDED: &str = "
ALTER TABLE pin_codes ADD COLUMN superseded_at_ms INTEGER;
CREATE INDEX pin_codes_employee ON pin_codes (employee_id);
";

const PUNCH_INFO_COLUMNS: &str = "device_id, seq, punch_id, employee_id, kind, wall_time_ms, \
    utc_offset_min, trusted_time_ms, skew_ms, time_status, policy_version, decision, site_id, \
    hash, received_at_ms, review_flags, assurance, attendance";

/// A `punches` row read with [`PUNCH_INFO_COLUMNS`].
fn punch_info_row(r: &Row<'_>) -> rusqlite::Result<StoredPunchInfo> {
    Ok(StoredPunchInfo {
        device_id: r.get(0)?,
        seq: int(r.get(1)?),
        punch_id: r.get(2)?,
        employee_id: r.get(3)?,
        kind: r.get(4)?,
        wall_time_ms: r.get(5)?,
        utc_offset_min: r.get(6)?,
        trusted_time_ms: r.get(7)?,
        skew_ms: r.get(8)?,
        time_status: r.get(9)?,
        policy_version: int(r.get(10)?),
        decision: r.get(11)?,
        site_id: r.get(12)?,
        hash: r.get(13)?,
        received_at_ms: r.get(14)?,
        // Unreadable flags are an error, never silently "nothing to review".
        review_flags: serde_json::from_str(&r.get::<_, String>(15)?).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(15, rusqlite::types::Type::Text, Box::new(e))
        })?,
        assurance: r.get(16)?,
        // An unreadable reading is shown as none, never guessed.
        attendance: r
            .get::<_, Option<String>>(17)?
            .and_then(|t| serde_json::from_str(&t).ok()),
    })
}

const EVENT_COLUMNS: &str = "device_id, seq, event_id, employee_id, event_type, body, \
    wall_time_ms, trusted_time_ms, record, signature, hash, received_at_ms, status, \
    status_detail, decided_by, decided_at_ms, comment";

fn event_from_row(r: &Row<'_>) -> rusqlite::Result<StoredEvent> {
    Ok(StoredEvent {
        device_id: r.get(0)?,
        seq: int(r.get(1)?),
        event_id: r.get(2)?,
        employee_id: r.get(3)?,
        event_type: r.get(4)?,
        body: r.get(5)?,
        wall_time_ms: r.get(6)?,
        trusted_time_ms: r.get(7)?,
        record: r.get(8)?,
        signature: r.get(9)?,
        hash: r.get(10)?,
        received_at_ms: r.get(11)?,
        status: r.get(12)?,
        status_detail: r.get(13)?,
        decided_by: r.get(14)?,
        decided_at_ms: r.get(15)?,
        comment: r.get(16)?,
    })
}

/// The schema version this server writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

const MIGRATION_1: &str = "
CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE employees (
    employee_id            TEXT PRIMARY KEY,
    name                   TEXT NOT NULL,
    rebind_approved_at_ms  INTEGER,
    created_at_ms          INTEGER NOT NULL
);
CREATE TABLE enrollment_codes (
    code_hash       TEXT PRIMARY KEY,          -- hex SHA-256 of the code: the code itself is a credential
    employee_id     TEXT NOT NULL REFERENCES employees (employee_id),
    created_at_ms   INTEGER NOT NULL,
    expires_at_ms   INTEGER NOT NULL,
    used_at_ms      INTEGER,
    used_by_device  TEXT
);
CREATE TABLE devices (
    device_id       TEXT PRIMARY KEY,
    employee_id     TEXT NOT NULL REFERENCES employees (employee_id),
    public_key      BLOB NOT NULL,             -- P-256 SPKI DER
    key_storage     TEXT NOT NULL,
    platform        TEXT NOT NULL,
    enrolled_at_ms  INTEGER NOT NULL,
    unbound_at_ms   INTEGER,
    head_seq        INTEGER NOT NULL DEFAULT 0,
    head_hash       TEXT NOT NULL
);
-- One bound device per employee, enforced by the database too.
CREATE UNIQUE INDEX devices_one_bound ON devices (employee_id) WHERE unbound_at_ms IS NULL;
CREATE TABLE nonces (
    device_id      TEXT NOT NULL,
    nonce          TEXT NOT NULL,
    request_ts_ms  INTEGER NOT NULL,
    PRIMARY KEY (device_id, nonce)
) WITHOUT ROWID;
CREATE INDEX nonces_ts ON nonces (request_ts_ms);
CREATE TABLE sites (
    site_id        TEXT PRIMARY KEY,
    body           TEXT NOT NULL,              -- punch_model::rules::policy::Site JSON
    updated_at_ms  INTEGER NOT NULL
);
CREATE TABLE policies (
    version        INTEGER PRIMARY KEY,
    body           BLOB NOT NULL,              -- the exact signed bytes
    signature      BLOB NOT NULL,
    issued_at_ms   INTEGER NOT NULL,
    expires_at_ms  INTEGER
);
CREATE TABLE punches (
    device_id        TEXT NOT NULL REFERENCES devices (device_id),
    seq              INTEGER NOT NULL,
    punch_id         TEXT NOT NULL UNIQUE,
    employee_id      TEXT NOT NULL,
    kind             TEXT NOT NULL,
    wall_time_ms     INTEGER NOT NULL,
    utc_offset_min   INTEGER NOT NULL,
    trusted_time_ms  INTEGER,
    skew_ms          INTEGER,
    time_status      TEXT NOT NULL,
    policy_version   INTEGER NOT NULL,
    decision         TEXT NOT NULL,
    site_id          TEXT,
    record           BLOB NOT NULL,            -- the exact signed bytes
    signature        BLOB NOT NULL,
    hash             TEXT NOT NULL,            -- hex SHA-256(record)
    received_at_ms   INTEGER NOT NULL,
    review_flags     TEXT NOT NULL DEFAULT '[]',   -- JSON list of punch_model::ledger::review::ReviewFlag
    PRIMARY KEY (device_id, seq)
);
CREATE INDEX punches_employee_time ON punches (employee_id, wall_time_ms);
CREATE TABLE rejected (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id             TEXT NOT NULL,
    seq                   INTEGER NOT NULL,
    punch_id              TEXT,
    employee_id           TEXT,
    reason                TEXT NOT NULL,
    detail                TEXT NOT NULL,
    hash                  TEXT NOT NULL,
    record                BLOB NOT NULL,
    signature             BLOB NOT NULL,
    attempts              INTEGER NOT NULL DEFAULT 1,
    first_received_at_ms  INTEGER NOT NULL,
    last_received_at_ms   INTEGER NOT NULL,
    -- A retried refusal is counted, not stored twice.
    UNIQUE (device_id, seq, reason, hash, signature)
);
";

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

impl From<punch_sqlite::MigrateError> for ServerError {
    fn from(e: punch_sqlite::MigrateError) -> Self {
        match e {
            punch_sqlite::MigrateError::SchemaTooNew { found, supported } => {
                ServerError::SchemaTooNew { found, supported }
            }
            punch_sqlite::MigrateError::Sqlite(e) => e.into(),
            other => ServerError::Corrupt(other.to_string()),
        }
    }
}

/// How long a write waits for another connection's lock by default.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The SQLite backend.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    rows: AtomicU64,
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
        punch_sqlite::migrate(&conn, MIGRATIONS)?;
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

    fn run(&self, behavior: TransactionBehavior, work: &mut Work<'_>) -> Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(behavior)?;
        work(&Sql(&tx, &self.rows))?;
        tx.commit()?;
        Ok(())
    }
}

/// Copies the database at `src` to `dest` (which must not exist) with the
/// online backup API, while servers keep writing to `src`.
pub fn backup(src: &Path, dest: &Path) -> Result<()> {
    SqliteStore::open(src)?.backup_to(dest)
}

impl SqliteStore {
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

impl ServerStore for SqliteStore {
    fn read_tx(&self, work: &mut Work<'_>) -> Result<()> {
        self.run(TransactionBehavior::Deferred, work)
    }

    fn write_tx(&self, work: &mut Work<'_>) -> Result<()> {
        // IMMEDIATE takes the write lock up front: no deadlock on upgrade.
        self.run(TransactionBehavior::Immediate, work)
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

/// Attestation at enrollment: each device's assurance level and what it
/// rested on, the level stamped on each stored punch, single-use challenges.
const MIGRATION_2_ATTESTATION: &str = "
ALTER TABLE devices ADD COLUMN assurance TEXT NOT NULL DEFAULT 'software';
ALTER TABLE devices ADD COLUMN attestation TEXT;
ALTER TABLE punches ADD COLUMN assurance TEXT NOT NULL DEFAULT 'software';
CREATE TABLE attestation_challenges (
    challenge_hash  TEXT PRIMARY KEY,
    code_hash       TEXT NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    expires_at_ms   INTEGER NOT NULL,
    used_at_ms      INTEGER
) WITHOUT ROWID;
CREATE INDEX attestation_challenges_expiry ON attestation_challenges (expires_at_ms);
";

/// Tamper evidence: every head a device stated, evidence labelled by the
/// bound employee (the claimed one beside it), evidence counted per day.
const MIGRATION_3_TAMPER_EVIDENCE: &str = "
CREATE TABLE head_statements (
    device_id     TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    hash          TEXT NOT NULL,
    stated_at_ms  INTEGER NOT NULL,
    PRIMARY KEY (device_id, seq)
) WITHOUT ROWID;
ALTER TABLE rejected ADD COLUMN claimed_employee_id TEXT;
CREATE TABLE evidence_counters (
    device_id  TEXT NOT NULL,
    day        INTEGER NOT NULL,
    stored     INTEGER NOT NULL DEFAULT 0,
    dropped    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (device_id, day)
) WITHOUT ROWID;
";

/// Shift rules: the server's own attendance reading of each punch (JSON).
const MIGRATION_4_ATTENDANCE: &str = "
ALTER TABLE punches ADD COLUMN attendance TEXT;
";

/// SQLite integers are i64: u64 values (seq, versions) are stored bit for
/// bit, lossless both ways, so hostile input (seq = u64::MAX) cannot fail a
/// statement; real values stay far below 2^63 and keep their order.
fn sql(v: u64) -> i64 {
    v as i64
}

fn int(v: i64) -> u64 {
    v as u64
}

fn key_value(part: &KeyPart) -> rusqlite::types::Value {
    match part {
        KeyPart::Text(t) => rusqlite::types::Value::Text(t.clone()),
        KeyPart::Int(n) => rusqlite::types::Value::Integer(*n),
    }
}

/// [`StoreTx`] over an open SQLite transaction.
/// A transaction, and the store's count of punch and event rows read.
struct Sql<'c>(&'c Connection, &'c AtomicU64);

impl Sql<'_> {
    /// Counts punch and event rows read (`ServerStore::rows_read`).
    fn counted<T>(&self, rows: Vec<T>) -> Result<Vec<T>> {
        self.1.fetch_add(rows.len() as u64, Ordering::Relaxed);
        Ok(rows)
    }
}

const DEVICE_COLUMNS: &str = "device_id, employee_id, public_key, key_storage, platform, \
     enrolled_at_ms, unbound_at_ms, head_seq, head_hash, assurance, attestation, channel_key, \
     channel_assurance, channel_attestation, punch_key";

fn device_row(r: &Row<'_>) -> rusqlite::Result<DeviceInfo> {
    Ok(DeviceInfo {
        device_id: r.get(0)?,
        employee_id: r.get(1)?,
        public_key: r.get(2)?,
        key_storage: r.get(3)?,
        platform: r.get(4)?,
        enrolled_at_ms: r.get(5)?,
        unbound_at_ms: r.get(6)?,
        head_seq: int(r.get(7)?),
        head_hash: r.get(8)?,
        assurance: r.get(9)?,
        attestation: r.get(10)?,
        channel_key: r.get(11)?,
        channel_assurance: r.get(12)?,
        channel_attestation: r.get(13)?,
        punch_key: r.get(14)?,
    })
}

fn policy_row(r: &Row<'_>) -> rusqlite::Result<PolicyRow> {
    Ok(PolicyRow {
        version: int(r.get(0)?),
        body: r.get(1)?,
        signature: r.get(2)?,
        issued_at_ms: r.get(3)?,
        expires_at_ms: r.get(4)?,
    })
}

const POLICY_COLUMNS: &str = "version, body, signature, issued_at_ms, expires_at_ms";

impl StoreTx for Sql<'_> {
    fn people(&self) -> &dyn crate::store::people::PeopleTx {
        self
    }

    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .0
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    fn set_meta(&self, key: &str, value: &[u8]) -> Result<()> {
        self.0.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    fn meta_or_insert(&self, key: &str, value: &[u8]) -> Result<Vec<u8>> {
        self.0.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)",
            params![key, value],
        )?;
        self.meta(key)?
            .ok_or_else(|| ServerError::Corrupt(format!("meta {key:?} vanished")))
    }

    fn upsert_employee(&self, employee_id: &str, name: &str, now_ms: i64) -> Result<()> {
        self.0.execute(
            "INSERT INTO employees (employee_id, name, created_at_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT (employee_id) DO UPDATE SET name = excluded.name",
            params![employee_id, name, now_ms],
        )?;
        Ok(())
    }

    fn employee(&self, employee_id: &str) -> Result<Option<EmployeeRow>> {
        Ok(self
            .0
            .query_row(
                "SELECT employee_id, name, rebind_approved_at_ms FROM employees
                 WHERE employee_id = ?1",
                [employee_id],
                |r| {
                    Ok(EmployeeRow {
                        employee_id: r.get(0)?,
                        name: r.get(1)?,
                        rebind_approved_at_ms: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    fn set_rebind_approved(&self, employee_id: &str, at_ms: Option<i64>) -> Result<()> {
        self.0.execute(
            "UPDATE employees SET rebind_approved_at_ms = ?2 WHERE employee_id = ?1",
            params![employee_id, at_ms],
        )?;
        Ok(())
    }

    fn head_statement(&self, device_id: &str, seq: u64) -> Result<Option<String>> {
        Ok(self
            .0
            .prepare_cached("SELECT hash FROM head_statements WHERE device_id = ?1 AND seq = ?2")?
            .query_row(params![device_id, sql(seq)], |r| r.get(0))
            .optional()?)
    }

    fn highest_head_statement(&self, device_id: &str) -> Result<Option<(u64, String)>> {
        Ok(self
            .0
            .prepare_cached(
                "SELECT seq, hash FROM head_statements WHERE device_id = ?1
                 ORDER BY seq DESC LIMIT 1",
            )?
            .query_row(params![device_id], |r| Ok((int(r.get(0)?), r.get(1)?)))
            .optional()?)
    }

    fn insert_head_statement(
        &self,
        device_id: &str,
        seq: u64,
        hash: &str,
        now_ms: i64,
    ) -> Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO head_statements (device_id, seq, hash, stated_at_ms)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (device_id, seq) DO NOTHING",
            )?
            .execute(params![device_id, sql(seq), hash, now_ms])?;
        Ok(())
    }

    fn open_shift(
        &self,
        device_id: &str,
        employee_id: &str,
    ) -> Result<Option<punch_model::rules::shift::OpenShift>> {
        let last: Option<(String, Option<String>)> = self
            .0
            .prepare_cached(
                "SELECT kind, attendance FROM punches
                 WHERE device_id = ?1 AND employee_id = ?2 AND kind IN ('clock_in', 'clock_out')
                 ORDER BY seq DESC LIMIT 1",
            )?
            .query_row(params![device_id, employee_id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        Ok(match last {
            Some((kind, Some(json))) if kind == "clock_in" => {
                serde_json::from_str::<punch_model::rules::shift::Attendance>(&json)
                    .ok()
                    .and_then(|a| a.occurrence())
            }
            _ => None,
        })
    }

    fn evidence_counter(&self, device_id: &str, day: i64) -> Result<(u64, u64)> {
        Ok(self
            .0
            .prepare_cached(
                "SELECT stored, dropped FROM evidence_counters WHERE device_id = ?1 AND day = ?2",
            )?
            .query_row(params![device_id, day], |r| {
                Ok((int(r.get(0)?), int(r.get(1)?)))
            })
            .optional()?
            .unwrap_or((0, 0)))
    }

    fn bump_evidence_counter(
        &self,
        device_id: &str,
        day: i64,
        stored: u64,
        dropped: u64,
    ) -> Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO evidence_counters (device_id, day, stored, dropped) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (device_id, day) DO UPDATE SET
                    stored = stored + excluded.stored, dropped = dropped + excluded.dropped",
            )?
            .execute(params![device_id, day, sql(stored), sql(dropped)])?;
        Ok(())
    }

    fn insert_challenge(&self, c: &ChallengeRow) -> Result<()> {
        self.0.execute(
            "INSERT INTO attestation_challenges
               (challenge_hash, code_hash, created_at_ms, expires_at_ms, used_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                c.challenge_hash,
                c.code_hash,
                c.created_at_ms,
                c.expires_at_ms,
                c.used_at_ms
            ],
        )?;
        // Expired challenges are useless: keep the table small.
        self.0.execute(
            "DELETE FROM attestation_challenges WHERE expires_at_ms < ?1",
            params![c.created_at_ms],
        )?;
        Ok(())
    }

    fn challenge(&self, challenge_hash: &str) -> Result<Option<ChallengeRow>> {
        Ok(self
            .0
            .query_row(
                "SELECT challenge_hash, code_hash, created_at_ms, expires_at_ms, used_at_ms
                 FROM attestation_challenges WHERE challenge_hash = ?1",
                params![challenge_hash],
                |r| {
                    Ok(ChallengeRow {
                        challenge_hash: r.get(0)?,
                        code_hash: r.get(1)?,
                        created_at_ms: r.get(2)?,
                        expires_at_ms: r.get(3)?,
                        used_at_ms: r.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    fn mark_challenge_used(&self, challenge_hash: &str, now_ms: i64) -> Result<()> {
        self.0.execute(
            "UPDATE attestation_challenges SET used_at_ms = ?2 WHERE challenge_hash = ?1",
            params![challenge_hash, now_ms],
        )?;
        Ok(())
    }

    fn pin_profile(&self, employee_id: &str) -> Result<Option<PinProfile>> {
        Ok(self
            .0
            .query_row(
                "SELECT employee_id, channel, address, identity_verifier, admin_reset_at_ms
                 FROM pin_profiles WHERE employee_id = ?1",
                [employee_id],
                |r| {
                    Ok(PinProfile {
                        employee_id: r.get(0)?,
                        channel: r.get(1)?,
                        address: r.get(2)?,
                        identity_verifier: r.get(3)?,
                        admin_reset_at_ms: r.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    fn upsert_pin_profile(&self, p: &PinProfile) -> Result<()> {
        self.0.execute(
            "INSERT INTO pin_profiles
               (employee_id, channel, address, identity_verifier, admin_reset_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (employee_id) DO UPDATE SET channel = excluded.channel,
               address = excluded.address, identity_verifier = excluded.identity_verifier,
               admin_reset_at_ms = excluded.admin_reset_at_ms",
            params![
                p.employee_id,
                p.channel,
                p.address,
                p.identity_verifier,
                p.admin_reset_at_ms
            ],
        )?;
        Ok(())
    }

    fn insert_pin_code(&self, c: &PinCodeRow) -> Result<()> {
        self.0.execute(
            "INSERT INTO pin_codes
               (code_hash, employee_id, device_id, created_at_ms, expires_at_ms, used_at_ms,
                superseded_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                c.code_hash,
                c.employee_id,
                c.device_id,
                c.created_at_ms,
                c.expires_at_ms,
                c.used_at_ms,
                c.superseded_at_ms
            ],
        )?;
        Ok(())
    }

    fn prune_pin_codes(&self, before_ms: i64) -> Result<u64> {
        let n = self.0.execute(
            "DELETE FROM pin_codes WHERE expires_at_ms < ?1",
            [before_ms],
        )?;
        Ok(n as u64)
    }

    fn supersede_pin_codes(&self, employee_id: &str, now_ms: i64) -> Result<u64> {
        let n = self.0.execute(
            "UPDATE pin_codes SET superseded_at_ms = ?2
             WHERE employee_id = ?1 AND used_at_ms IS NULL AND superseded_at_ms IS NULL",
            params![employee_id, now_ms],
        )?;
        Ok(n as u64)
    }

    fn pin_code(&self, code_hash: &str) -> Result<Option<PinCodeRow>> {
        Ok(self
            .0
            .query_row(
                "SELECT code_hash, employee_id, device_id, created_at_ms, expires_at_ms, used_at_ms,
                        superseded_at_ms
                 FROM pin_codes WHERE code_hash = ?1",
                [code_hash],
                |r| {
                    Ok(PinCodeRow {
                        code_hash: r.get(0)?,
                        employee_id: r.get(1)?,
                        device_id: r.get(2)?,
                        created_at_ms: r.get(3)?,
                        expires_at_ms: r.get(4)?,
                        used_at_ms: r.get(5)?,
                        superseded_at_ms: r.get(6)?,
                    })
                },
            )
            .optional()?)
    }

    fn mark_pin_code_used(&self, code_hash: &str, now_ms: i64) -> Result<bool> {
        Ok(self.0.execute(
            "UPDATE pin_codes SET used_at_ms = ?2 WHERE code_hash = ?1 AND used_at_ms IS NULL",
            params![code_hash, now_ms],
        )? == 1)
    }

    fn upsert_kiosk_member(&self, site_id: &str, employee_id: &str, verifier: &str) -> Result<()> {
        self.0.execute(
            "INSERT INTO kiosk_members (employee_id, site_id, verifier) VALUES (?1, ?2, ?3)
             ON CONFLICT (employee_id) DO UPDATE SET site_id = excluded.site_id,
               verifier = excluded.verifier",
            params![employee_id, site_id, verifier],
        )?;
        Ok(())
    }

    fn kiosk_members(&self) -> Result<Vec<(String, String, String)>> {
        let mut stmt = self.0.prepare(
            "SELECT site_id, employee_id, verifier FROM kiosk_members ORDER BY site_id, employee_id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn kiosk_site_of(&self, employee_id: &str) -> Result<Option<String>> {
        Ok(self
            .0
            .query_row(
                "SELECT site_id FROM kiosk_members WHERE employee_id = ?1",
                [employee_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn insert_code(&self, code: &CodeRow) -> Result<()> {
        self.0.execute(
            "INSERT INTO enrollment_codes
               (code_hash, employee_id, created_at_ms, expires_at_ms, used_at_ms, used_by_device)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                code.code_hash,
                code.employee_id,
                code.created_at_ms,
                code.expires_at_ms,
                code.used_at_ms,
                code.used_by_device
            ],
        )?;
        Ok(())
    }

    fn code(&self, code_hash: &str) -> Result<Option<CodeRow>> {
        Ok(self
            .0
            .query_row(
                "SELECT code_hash, employee_id, created_at_ms, expires_at_ms, used_at_ms,
                        used_by_device
                 FROM enrollment_codes WHERE code_hash = ?1",
                [code_hash],
                |r| {
                    Ok(CodeRow {
                        code_hash: r.get(0)?,
                        employee_id: r.get(1)?,
                        created_at_ms: r.get(2)?,
                        expires_at_ms: r.get(3)?,
                        used_at_ms: r.get(4)?,
                        used_by_device: r.get(5)?,
                    })
                },
            )
            .optional()?)
    }

    fn mark_code_used(&self, code_hash: &str, device_id: &str, now_ms: i64) -> Result<()> {
        self.0.execute(
            "UPDATE enrollment_codes SET used_at_ms = ?3, used_by_device = ?2
             WHERE code_hash = ?1 AND used_at_ms IS NULL",
            params![code_hash, device_id, now_ms],
        )?;
        Ok(())
    }

    fn device(&self, device_id: &str) -> Result<Option<DeviceInfo>> {
        // Cached: on the hot ingest path.
        Ok(self
            .0
            .prepare_cached(&format!(
                "SELECT {DEVICE_COLUMNS} FROM devices WHERE device_id = ?1"
            ))?
            .query_row([device_id], device_row)
            .optional()?)
    }

    fn bound_device_of(&self, employee_id: &str) -> Result<Option<DeviceInfo>> {
        Ok(self
            .0
            .query_row(
                &format!(
                    "SELECT {DEVICE_COLUMNS} FROM devices
                     WHERE employee_id = ?1 AND unbound_at_ms IS NULL"
                ),
                [employee_id],
                device_row,
            )
            .optional()?)
    }

    fn devices_page(
        &self,
        after: Option<&str>,
        team: Option<&str>,
        employee: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(DeviceInfo, Option<String>)>> {
        let own: Vec<String> = DEVICE_COLUMNS
            .split(',')
            .map(|c| format!("d.{}", c.trim()))
            .collect();
        let mut stmt = self.0.prepare_cached(&format!(
            "SELECT {}, t.team FROM devices d
             LEFT JOIN employee_teams t ON t.employee_id = d.employee_id
             WHERE d.device_id > ?1 AND (?2 IS NULL OR t.team = ?2)
               AND (?3 IS NULL OR d.employee_id = ?3)
             ORDER BY d.device_id LIMIT ?4",
            own.join(", ")
        ))?;
        let team_at = own.len();
        let rows = stmt.query_map(
            params![after.unwrap_or(""), team, employee, limit as i64],
            |r| Ok((device_row(r)?, r.get(team_at)?)),
        )?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn devices(&self) -> Result<Vec<DeviceInfo>> {
        let mut stmt = self.0.prepare(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices ORDER BY employee_id, enrolled_at_ms, device_id"
        ))?;
        let rows = stmt.query_map([], device_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn bind_device(&self, d: &BindDevice<'_>) -> Result<()> {
        self.0.execute(
            "INSERT INTO devices (device_id, employee_id, public_key, key_storage, platform,
                                  enrolled_at_ms, unbound_at_ms, head_seq, head_hash,
                                  assurance, attestation, channel_key, channel_assurance,
                                  channel_attestation, punch_key)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, 0, ?7, ?8, ?9, ?10, ?11, ?12, NULL)
             ON CONFLICT (device_id) DO UPDATE SET
                employee_id = excluded.employee_id,
                public_key = excluded.public_key,
                key_storage = excluded.key_storage,
                platform = excluded.platform,
                enrolled_at_ms = excluded.enrolled_at_ms,
                unbound_at_ms = NULL,
                assurance = excluded.assurance,
                attestation = excluded.attestation,
                channel_key = excluded.channel_key,
                channel_assurance = excluded.channel_assurance,
                channel_attestation = excluded.channel_attestation,
                punch_key = NULL",
            params![
                d.device_id,
                d.employee_id,
                d.public_key,
                d.key_storage,
                d.platform,
                d.now_ms,
                punch_model::ledger::record::GENESIS_HASH,
                d.assurance,
                d.attestation,
                d.channel_key,
                d.channel_assurance,
                d.channel_attestation
            ],
        )?;
        Ok(())
    }

    fn set_punch_key(&self, device_id: &str, punch_key: &[u8], assurance: &str) -> Result<()> {
        self.0.execute(
            "UPDATE devices SET punch_key = ?2, assurance = ?3 WHERE device_id = ?1",
            params![device_id, punch_key, assurance],
        )?;
        Ok(())
    }

    fn mark_unbound(&self, device_id: &str, now_ms: i64) -> Result<bool> {
        let n = self.0.execute(
            "UPDATE devices SET unbound_at_ms = ?2
             WHERE device_id = ?1 AND unbound_at_ms IS NULL",
            params![device_id, now_ms],
        )?;
        Ok(n > 0)
    }

    fn set_head(&self, device_id: &str, seq: u64, hash_hex: &str) -> Result<()> {
        self.0
            .prepare_cached(
                "UPDATE devices SET head_seq = ?2, head_hash = ?3 WHERE device_id = ?1",
            )?
            .execute(params![device_id, sql(seq), hash_hex])?;
        Ok(())
    }

    fn lock_device(&self, device_id: &str) -> Result<Option<DeviceInfo>> {
        // The IMMEDIATE transaction already holds SQLite's one write lock.
        self.device(device_id)
    }

    fn insert_nonce(&self, device_id: &str, nonce: &str, request_ts_ms: i64) -> Result<bool> {
        let n = self.0.execute(
            "INSERT OR IGNORE INTO nonces (device_id, nonce, request_ts_ms) VALUES (?1, ?2, ?3)",
            params![device_id, nonce, request_ts_ms],
        )?;
        Ok(n > 0)
    }

    fn prune_nonces(&self, max_age_ms: i64) -> Result<u64> {
        let n = self.0.execute(
            "DELETE FROM nonces
             WHERE request_ts_ms < CAST(unixepoch('subsec') * 1000 AS INTEGER) - ?1",
            [max_age_ms],
        )?;
        Ok(n as u64)
    }

    fn upsert_site(&self, site_id: &str, json: &str, now_ms: i64) -> Result<()> {
        self.0.execute(
            "INSERT INTO sites (site_id, body, updated_at_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT (site_id) DO UPDATE SET body = excluded.body,
                                                 updated_at_ms = excluded.updated_at_ms",
            params![site_id, json, now_ms],
        )?;
        Ok(())
    }

    fn remove_site(&self, site_id: &str) -> Result<bool> {
        Ok(self
            .0
            .execute("DELETE FROM sites WHERE site_id = ?1", [site_id])?
            > 0)
    }

    fn sites(&self) -> Result<Vec<String>> {
        let mut stmt = self.0.prepare("SELECT body FROM sites ORDER BY site_id")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
    }

    fn latest_policy(&self) -> Result<Option<PolicyRow>> {
        Ok(self
            .0
            .query_row(
                &format!("SELECT {POLICY_COLUMNS} FROM policies ORDER BY version DESC LIMIT 1"),
                [],
                policy_row,
            )
            .optional()?)
    }

    fn latest_policy_version(&self) -> Result<u64> {
        Ok(self
            .0
            .query_row("SELECT COALESCE(MAX(version), 0) FROM policies", [], |r| {
                r.get(0).map(int)
            })?)
    }

    fn policy(&self, version: u64) -> Result<Option<PolicyRow>> {
        Ok(self
            .0
            .query_row(
                &format!("SELECT {POLICY_COLUMNS} FROM policies WHERE version = ?1"),
                [sql(version)],
                policy_row,
            )
            .optional()?)
    }

    fn insert_policy(&self, row: &PolicyRow) -> Result<()> {
        self.0.execute(
            "INSERT INTO policies (version, body, signature, issued_at_ms, expires_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                sql(row.version),
                row.body,
                row.signature,
                row.issued_at_ms,
                row.expires_at_ms
            ],
        )?;
        Ok(())
    }

    fn punch_bytes(&self, device_id: &str, seq: u64) -> Result<Option<Vec<u8>>> {
        // Cached: on the hot ingest path.
        Ok(self
            .0
            .prepare_cached(
                "SELECT record FROM punches WHERE device_id = ?1 AND seq = ?2
                 UNION ALL SELECT record FROM events WHERE device_id = ?1 AND seq = ?2",
            )?
            .query_row(params![device_id, sql(seq)], |r| r.get(0))
            .optional()?)
    }

    fn kept_hash(&self, device_id: &str, seq: u64) -> Result<Option<String>> {
        Ok(self
            .0
            .prepare_cached(
                "SELECT hash FROM punches WHERE device_id = ?1 AND seq = ?2
                 UNION ALL SELECT hash FROM events WHERE device_id = ?1 AND seq = ?2
                 UNION ALL SELECT hash FROM punch_hashes WHERE device_id = ?1 AND seq = ?2
                 LIMIT 1",
            )?
            .query_row(params![device_id, sql(seq)], |r| r.get(0))
            .optional()?)
    }

    fn punch_location(&self, punch_id: &str) -> Result<Option<(String, u64)>> {
        // Cached: on the hot ingest path.
        Ok(self
            .0
            .prepare_cached("SELECT device_id, seq FROM punches WHERE punch_id = ?1")?
            .query_row([punch_id], |r| Ok((r.get(0)?, int(r.get(1)?))))
            .optional()?)
    }

    fn insert_punch(&self, p: &NewPunch<'_>) -> Result<()> {
        let i = p.info;
        let mut stmt = self.0.prepare_cached(
            "INSERT INTO punches (device_id, seq, punch_id, employee_id, kind, wall_time_ms,
                 utc_offset_min, trusted_time_ms, skew_ms, time_status, policy_version, decision,
                 site_id, record, signature, hash, received_at_ms, review_flags, assurance,
                 attendance)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                     ?18, ?19, ?20)",
        )?;
        stmt.execute(params![
            i.device_id,
            sql(i.seq),
            i.punch_id,
            i.employee_id,
            i.kind,
            i.wall_time_ms,
            i.utc_offset_min,
            i.trusted_time_ms,
            i.skew_ms,
            i.time_status,
            sql(i.policy_version),
            i.decision,
            i.site_id,
            p.record,
            p.signature,
            i.hash,
            i.received_at_ms,
            serde_json::to_string(&i.review_flags)
                .map_err(|e| ServerError::Corrupt(format!("review flags: {e}")))?,
            i.assurance,
            match &i.attendance {
                Some(a) => Some(
                    serde_json::to_string(a)
                        .map_err(|e| ServerError::Corrupt(format!("attendance: {e}")))?,
                ),
                None => None,
            }
        ])?;
        Ok(())
    }

    fn record_rejected(&self, r: &RejectedInfo) -> Result<()> {
        self.0.execute(
            "INSERT INTO rejected (device_id, seq, punch_id, employee_id, reason, detail, hash,
                                   record, signature, attempts, first_received_at_ms,
                                   last_received_at_ms, claimed_employee_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, ?10, ?10, ?11)
             ON CONFLICT (device_id, seq, reason, hash, signature) DO UPDATE SET
                attempts = attempts + 1,
                detail = excluded.detail,
                last_received_at_ms = excluded.last_received_at_ms",
            params![
                r.device_id,
                sql(r.seq),
                r.punch_id,
                r.employee_id,
                r.reason,
                r.detail,
                r.hash,
                r.record,
                r.signature,
                r.last_received_at_ms,
                r.claimed_employee_id
            ],
        )?;
        Ok(())
    }

    fn refusals_with_hash(
        &self,
        device_id: &str,
        seq: u64,
        hash_hex: &str,
    ) -> Result<Vec<(String, String)>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT reason, detail FROM rejected
             WHERE device_id = ?1 AND seq = ?2 AND hash = ?3 ORDER BY id DESC",
        )?;
        let rows = stmt.query_map(params![device_id, sql(seq), hash_hex], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn rate_hit(&self, key: &str, window_ms: i64, now_ms: i64) -> Result<(u64, i64)> {
        let (hits, start): (i64, i64) = self
            .0
            .prepare_cached(
                "INSERT INTO rate_limits (key, window_start_ms, hits) VALUES (?1, ?3, 1)
                 ON CONFLICT (key) DO UPDATE SET
                    hits = CASE WHEN window_start_ms <= ?3 - ?2 THEN 1 ELSE hits + 1 END,
                    window_start_ms = CASE WHEN window_start_ms <= ?3 - ?2 THEN ?3
                                           ELSE window_start_ms END
                 RETURNING hits, window_start_ms",
            )?
            .query_row(params![key, window_ms, now_ms], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        Ok((int(hits), start))
    }

    fn rate_clear(&self, key: &str) -> Result<()> {
        self.0
            .prepare_cached("DELETE FROM rate_limits WHERE key = ?1")?
            .execute([key])?;
        Ok(())
    }

    fn rate_clear_prefix(&self, prefix: &str) -> Result<()> {
        self.0
            .prepare_cached("DELETE FROM rate_limits WHERE substr(key, 1, length(?1)) = ?1")?
            .execute([prefix])?;
        Ok(())
    }

    fn prune_rate_limits(&self, before_ms: i64) -> Result<u64> {
        let n = self
            .0
            .prepare_cached("DELETE FROM rate_limits WHERE window_start_ms < ?1")?
            .execute([before_ms])?;
        Ok(n as u64)
    }

    fn insert_event(&self, e: &StoredEvent) -> Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO events (device_id, seq, event_id, employee_id, event_type, body,
                     wall_time_ms, trusted_time_ms, record, signature, hash, received_at_ms,
                     status, status_detail, decided_by, decided_at_ms, comment)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                         ?17)",
            )?
            .execute(params![
                e.device_id,
                sql(e.seq),
                e.event_id,
                e.employee_id,
                e.event_type,
                e.body,
                e.wall_time_ms,
                e.trusted_time_ms,
                e.record,
                e.signature,
                e.hash,
                e.received_at_ms,
                e.status,
                e.status_detail,
                e.decided_by,
                e.decided_at_ms,
                e.comment
            ])?;
        Ok(())
    }

    fn events(&self, f: &EventFilter<'_>) -> Result<Vec<StoredEvent>> {
        let mut stmt = self.0.prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM events
             WHERE (?1 IS NULL OR employee_id = ?1) AND (?2 IS NULL OR device_id = ?2)
               AND (?3 IS NULL OR event_type = ?3) AND (?4 IS NULL OR status = ?4)
             ORDER BY received_at_ms, device_id, seq"
        ))?;
        let rows = stmt.query_map(
            params![f.employee_id, f.device_id, f.event_type, f.status],
            event_from_row,
        )?;
        self.counted(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn request_page(&self, query: &RequestQuery) -> Result<Vec<RequestRow>> {
        let (text, params) = query.sql(EVENT_COLUMNS, |i| format!("?{i}"));
        let values: Vec<rusqlite::types::Value> = params
            .into_iter()
            .map(|p| match p {
                Param::Text(t) => rusqlite::types::Value::Text(t),
                Param::Int(n) => rusqlite::types::Value::Integer(n),
            })
            .collect();
        let mut stmt = self.0.prepare_cached(&text)?;
        let team = stmt.column_count() - 1;
        let rows = stmt.query_map(rusqlite::params_from_iter(values), |r| {
            Ok(RequestRow {
                event: event_from_row(r)?,
                team: r.get(team)?,
            })
        })?;
        self.counted(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn events_by_id(&self, event_id: &str) -> Result<Vec<StoredEvent>> {
        let mut stmt = self.0.prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE event_id = ?1 ORDER BY device_id, seq"
        ))?;
        let rows = stmt.query_map([event_id], event_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn event_id_holder(&self, event_id: &str) -> Result<Option<(String, u64)>> {
        // SQLite has one writer at a time: the read is the claim.
        Ok(self
            .0
            .prepare_cached("SELECT device_id, seq FROM events WHERE event_id = ?1 LIMIT 1")?
            .query_row([event_id], |r| Ok((r.get(0)?, int(r.get(1)?))))
            .optional()?)
    }

    fn decide_event(&self, device_id: &str, seq: u64, d: &EventDecision<'_>) -> Result<bool> {
        let n = self.0.execute(
            "UPDATE events SET status = ?3, decided_by = ?4, comment = ?5, decided_at_ms = ?6
             WHERE device_id = ?1 AND seq = ?2 AND status = 'pending'",
            params![
                device_id,
                sql(seq),
                d.status,
                d.decided_by,
                d.comment,
                d.at_ms
            ],
        )?;
        Ok(n > 0)
    }

    fn insert_attachment(&self, a: &AttachmentRow) -> Result<()> {
        self.0.execute(
            "INSERT INTO attachments (sha256, employee_id, size_bytes, body, received_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (employee_id, sha256) DO NOTHING",
            params![
                a.sha256,
                a.employee_id,
                a.body.len() as i64,
                a.body,
                a.received_at_ms
            ],
        )?;
        Ok(())
    }

    fn attachment(&self, employee_id: &str, sha256: &str) -> Result<Option<AttachmentRow>> {
        Ok(self
            .0
            .query_row(
                "SELECT sha256, employee_id, body, received_at_ms FROM attachments
                 WHERE employee_id = ?1 AND sha256 = ?2",
                [employee_id, sha256],
                |r| {
                    Ok(AttachmentRow {
                        sha256: r.get(0)?,
                        employee_id: r.get(1)?,
                        body: r.get(2)?,
                        received_at_ms: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    fn stored_values(
        &self,
        column: SealableColumn,
        after: Option<&RowKey>,
        limit: u32,
    ) -> Result<Vec<StoredValue>> {
        use rusqlite::types::Value;
        let sql = column.page_sql(after.is_some(), |i| format!("?{i}"));
        let mut args: Vec<Value> = after
            .map(|k| k.0.iter().map(key_value).collect())
            .unwrap_or_default();
        args.push(Value::Integer(i64::from(limit)));
        let keys = column.key_columns();
        let mut stmt = self.0.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| {
            let mut row = Vec::with_capacity(keys.len());
            for (i, (_, kind)) in keys.iter().enumerate() {
                row.push(match kind {
                    KeyType::Text => KeyPart::Text(r.get(i)?),
                    KeyType::Int => KeyPart::Int(r.get(i)?),
                });
            }
            let value = if column.is_text() {
                r.get::<_, String>(keys.len())?.into_bytes()
            } else {
                r.get::<_, Vec<u8>>(keys.len())?
            };
            Ok(StoredValue {
                row: RowKey(row),
                value,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn replace_value(
        &self,
        column: SealableColumn,
        row: &RowKey,
        old: &[u8],
        new: &[u8],
    ) -> Result<bool> {
        use rusqlite::types::Value;
        let as_value = |bytes: &[u8]| -> Result<Value> {
            Ok(if column.is_text() {
                Value::Text(
                    String::from_utf8(bytes.to_vec())
                        .map_err(|_| ServerError::Invalid(format!("{} is text", column.name())))?,
                )
            } else {
                Value::Blob(bytes.to_vec())
            })
        };
        let mut args = vec![as_value(new)?];
        args.extend(row.0.iter().map(key_value));
        args.push(as_value(old)?);
        let sql = column.replace_sql(|i| format!("?{i}"));
        Ok(self
            .0
            .prepare_cached(&sql)?
            .execute(rusqlite::params_from_iter(args))?
            == 1)
    }

    fn record_revelation(&self, r: &Revelation) -> Result<()> {
        self.0.execute(
            "INSERT INTO revelations (device_id, seq, employee_id, review_flags, revealed_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (device_id, seq) DO UPDATE SET
                review_flags = excluded.review_flags, revealed_at_ms = excluded.revealed_at_ms",
            params![
                r.device_id,
                sql(r.seq),
                r.employee_id,
                r.review_flags,
                r.revealed_at_ms
            ],
        )?;
        Ok(())
    }

    fn put_data_key(&self, device_id: &str, key_id: &str, key: &[u8], now_ms: i64) -> Result<()> {
        self.0.execute(
            "INSERT INTO device_data_keys (device_id, key_id, key, received_at_ms)
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (device_id, key_id) DO NOTHING",
            params![device_id, key_id, key, now_ms],
        )?;
        Ok(())
    }

    fn data_key(&self, device_id: &str, key_id: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .0
            .prepare_cached(
                "SELECT key FROM device_data_keys WHERE device_id = ?1 AND key_id = ?2",
            )?
            .query_row(params![device_id, key_id], |r| r.get(0))
            .optional()?)
    }

    fn purge(&self, kind: PurgeKind, before_ms: i64) -> Result<u64> {
        let sql = match kind {
            PurgeKind::RecordBytes => {
                "UPDATE punches SET record = X'' WHERE received_at_ms < ?1 AND length(record) > 0"
            }
            PurgeKind::RejectedBytes => {
                "UPDATE rejected SET record = X''
                 WHERE last_received_at_ms < ?1 AND length(record) > 0"
            }
            PurgeKind::Punches => {
                self.0.execute(
                    "INSERT INTO punch_hashes (device_id, seq, hash)
                     SELECT device_id, seq, hash FROM punches WHERE received_at_ms < ?1
                     ON CONFLICT (device_id, seq) DO NOTHING",
                    params![before_ms],
                )?;
                "DELETE FROM punches WHERE received_at_ms < ?1"
            }
            PurgeKind::HeadStatements => "DELETE FROM head_statements WHERE stated_at_ms < ?1",
            PurgeKind::Revelations => "DELETE FROM revelations WHERE revealed_at_ms < ?1",
        };
        Ok(self.0.execute(sql, params![before_ms])? as u64)
    }

    fn erase_employee(&self, employee_id: &str, now_ms: i64) -> Result<ErasureReport> {
        let run =
            |sql: &str| -> Result<u64> { Ok(self.0.execute(sql, params![employee_id])? as u64) };
        let mut report = ErasureReport {
            employee_id: employee_id.to_string(),
            record_bytes: run(
                "UPDATE punches SET record = X'' WHERE employee_id = ?1 AND length(record) > 0",
            )?,
            refused_records: run(
                "UPDATE rejected SET record = X'' WHERE (employee_id = ?1 OR claimed_employee_id = ?1) AND length(record) > 0",
            )?,
            requests: run(
                "UPDATE events SET body = '{}', record = X'', comment = NULL WHERE employee_id = ?1",
            )?,
            attachments: run("DELETE FROM attachments WHERE employee_id = ?1")?,
            revelations: run("DELETE FROM revelations WHERE employee_id = ?1")?,
            head_statements: run(
                "DELETE FROM head_statements WHERE device_id IN (SELECT device_id FROM devices WHERE employee_id = ?1)",
            )?,
            data_keys: run(
                "DELETE FROM device_data_keys WHERE device_id IN (SELECT device_id FROM devices WHERE employee_id = ?1)",
            )?,
            devices: 0,
        };
        report.devices = self.0.execute(
            "UPDATE devices SET platform = 'erased', attestation = NULL, channel_attestation = NULL,
                unbound_at_ms = COALESCE(unbound_at_ms, ?2) WHERE employee_id = ?1",
            params![employee_id, now_ms],
        )? as u64;
        self.0.execute(
            "UPDATE employees SET name = 'erased' WHERE employee_id = ?1",
            params![employee_id],
        )?;
        Ok(report)
    }

    fn chain_rows(&self, device_id: &str) -> Result<Vec<ChainRow>> {
        let mut stmt = self.0.prepare(
            "SELECT seq, record, signature, hash FROM punches WHERE device_id = ?1
             UNION ALL
             SELECT seq, record, signature, hash FROM events WHERE device_id = ?1
             UNION ALL
             SELECT seq, X'', X'', hash FROM punch_hashes WHERE device_id = ?1
             ORDER BY seq",
        )?;
        let rows = stmt.query_map([device_id], |r| {
            Ok(ChainRow {
                seq: int(r.get(0)?),
                record: r.get(1)?,
                signature: r.get(2)?,
                hash: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn revelations_of(&self, employee_id: &str) -> Result<Vec<Revelation>> {
        let mut stmt = self.0.prepare(
            "SELECT device_id, seq, employee_id, review_flags, revealed_at_ms
             FROM revelations WHERE employee_id = ?1 ORDER BY device_id, seq",
        )?;
        let rows = stmt.query_map([employee_id], |r| {
            Ok(Revelation {
                device_id: r.get(0)?,
                seq: int(r.get(1)?),
                employee_id: r.get(2)?,
                review_flags: r.get(3)?,
                revealed_at_ms: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn punches(&self) -> Result<Vec<StoredPunchInfo>> {
        let mut stmt = self.0.prepare(&format!(
            "SELECT {PUNCH_INFO_COLUMNS} FROM punches ORDER BY device_id, seq"
        ))?;
        let rows = stmt.query_map([], punch_info_row)?;
        self.counted(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn punches_of(&self, employee_id: &str) -> Result<Vec<StoredPunchInfo>> {
        let mut stmt = self.0.prepare_cached(&format!(
            "SELECT {PUNCH_INFO_COLUMNS} FROM punches WHERE employee_id = ?1
             ORDER BY device_id, seq"
        ))?;
        let rows = stmt.query_map([employee_id], punch_info_row)?;
        self.counted(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn punch_page(&self, query: &PunchQuery) -> Result<Vec<PunchListRow>> {
        let (text, params) = query.sql(PUNCH_INFO_COLUMNS, |i| format!("?{i}"));
        let values: Vec<rusqlite::types::Value> = params
            .into_iter()
            .map(|p| match p {
                Param::Text(t) => rusqlite::types::Value::Text(t),
                Param::Int(n) => rusqlite::types::Value::Integer(n),
            })
            .collect();
        let mut stmt = self.0.prepare_cached(&text)?;
        let columns = stmt.column_count() - punch_page::EXTRA_COLUMNS;
        let rows = stmt.query_map(rusqlite::params_from_iter(values), |r| {
            let punch = punch_info_row(r)?;
            let review = punch_page::review_of(
                &punch,
                r.get(columns + 1)?,
                r.get(columns + 2)?,
                r.get(columns + 3)?,
                r.get(columns + 4)?,
            );
            Ok(PunchListRow {
                team: r.get(columns)?,
                review,
                punch,
            })
        })?;
        self.counted(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn punch_info(&self, device_id: &str, seq: u64) -> Result<Option<StoredPunchInfo>> {
        let found = self
            .0
            .prepare_cached(&format!(
                "SELECT {PUNCH_INFO_COLUMNS} FROM punches WHERE device_id = ?1 AND seq = ?2"
            ))?
            .query_row(params![device_id, sql(seq)], punch_info_row)
            .optional()?;
        self.1
            .fetch_add(u64::from(found.is_some()), Ordering::Relaxed);
        Ok(found)
    }

    fn refused_devices(
        &self,
        after: Option<&str>,
        team: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT DISTINCT r.device_id FROM rejected r
             LEFT JOIN devices d ON d.device_id = r.device_id
             LEFT JOIN employee_teams t ON t.employee_id = d.employee_id
             WHERE r.device_id > ?1 AND (?2 IS NULL OR t.team = ?2)
             ORDER BY r.device_id LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![after.unwrap_or(""), team, limit as i64], |r| {
            r.get(0)
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn refused_of(&self, device_id: &str, limit: usize) -> Result<Vec<RefusedRow>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT seq, reason, detail, hash, attempts, first_received_at_ms FROM rejected
             WHERE device_id = ?1 ORDER BY seq, id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![device_id, limit as i64], |r| {
            Ok(RefusedRow {
                seq: int(r.get(0)?),
                reason: r.get(1)?,
                detail: r.get(2)?,
                hash: r.get(3)?,
                attempts: int(r.get(4)?),
                first_received_at_ms: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn rejected(&self) -> Result<Vec<RejectedInfo>> {
        let mut stmt = self.0.prepare(
            "SELECT id, device_id, seq, punch_id, employee_id, reason, detail, hash, record,
                    signature, attempts, first_received_at_ms, last_received_at_ms,
                    claimed_employee_id
             FROM rejected ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(RejectedInfo {
                id: r.get(0)?,
                device_id: r.get(1)?,
                seq: int(r.get(2)?),
                punch_id: r.get(3)?,
                employee_id: r.get(4)?,
                reason: r.get(5)?,
                detail: r.get(6)?,
                hash: r.get(7)?,
                record: r.get(8)?,
                signature: r.get(9)?,
                attempts: int(r.get(10)?),
                first_received_at_ms: r.get(11)?,
                last_received_at_ms: r.get(12)?,
                claimed_employee_id: r.get(13)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreExt;

    #[test]
    fn a_file_stored_before_step_13_stays_its_employees() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let conn = Connection::open(&path).unwrap();
        punch_sqlite::migrate(&conn, &MIGRATIONS[..12]).unwrap();
        conn.execute(
            "INSERT INTO attachments (sha256, employee_id, size_bytes, body, received_at_ms)
             VALUES ('ab', 'e-1', 3, x'010203', 5)",
            [],
        )
        .unwrap();
        drop(conn);
        let store = SqliteStore::open(&path).unwrap();
        let read = |e: &str| store.read(|tx| tx.attachment(e, "ab")).unwrap();
        assert_eq!(read("e-1").map(|a| a.body), Some(vec![1, 2, 3]));
        assert_eq!(read("e-2"), None);
        store
            .write(|tx| {
                tx.insert_attachment(&AttachmentRow {
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
            store.write(|tx| tx.set_meta("k", b"v")).unwrap();
        }
        // Reopening keeps data and does not re-run the migration.
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.read(|tx| tx.meta("k")).unwrap(), Some(b"v".to_vec()));
        assert_eq!(
            store.write(|tx| tx.meta_or_insert("k", b"other")).unwrap(),
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

    #[test]
    fn nonces_are_single_use_until_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("s.db")).unwrap();
        let now = crate::clock::now_ms();
        let old = now - 600_000;
        assert!(store.write(|tx| tx.insert_nonce("d1", "n-1", old)).unwrap());
        assert!(!store.write(|tx| tx.insert_nonce("d1", "n-1", old)).unwrap());
        assert!(store.write(|tx| tx.insert_nonce("d2", "n-1", now)).unwrap());
        // Older than a minute by the database's clock: only d1's.
        assert_eq!(store.write(|tx| tx.prune_nonces(60_000)).unwrap(), 1);
        assert!(store.write(|tx| tx.insert_nonce("d1", "n-1", old)).unwrap());
        assert!(
            !store
                .write(|tx| tx.insert_nonce("d2", "n-1", 5_000))
                .unwrap()
        );
    }

    #[test]
    fn failed_work_rolls_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("s.db")).unwrap();
        let out: Result<()> = store.write(|tx| {
            tx.set_meta("k", b"v")?;
            Err(ServerError::Invalid("boom".into()))
        });
        assert!(out.is_err());
        assert_eq!(store.read(|tx| tx.meta("k")).unwrap(), None);
    }
}
