//! The PostgreSQL backend, for several stateless server processes over one
//! database. tokio-postgres with a deadpool pool, driven by a small runtime
//! the store owns, so the synchronous [`StoreTx`] seam (the business rules
//! are plain functions) stays as it is: each statement is one `block_on`
//! from the blocking thread that runs the unit of work.
//!
//! Isolation is READ COMMITTED plus explicit locks where a rule needs one:
//! ingest locks the device row (`lock_device`, `SELECT … FOR UPDATE`), so a
//! batch and its retry on another server run one after the other and the
//! second sees the first one's head; enrollment locks the code row; nonces,
//! meta and rate counters are single atomic upserts.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

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
    StoredEvent, StoredPunchInfo, Work, redact_url,
};

const PUNCH_INFO_COLUMNS: &str = "device_id, seq, punch_id, employee_id, kind, wall_time_ms, \
    utc_offset_min, trusted_time_ms, skew_ms, time_status, policy_version, decision, site_id, \
    hash, received_at_ms, review_flags, assurance, attendance";

/// A `punches` row read with [`PUNCH_INFO_COLUMNS`].
fn punch_info_row(r: &Row) -> Result<StoredPunchInfo> {
    let flags: String = r.try_get(15)?;
    Ok(StoredPunchInfo {
        device_id: r.try_get(0)?,
        seq: int(r.try_get(1)?),
        punch_id: r.try_get(2)?,
        employee_id: r.try_get(3)?,
        kind: r.try_get(4)?,
        wall_time_ms: r.try_get(5)?,
        utc_offset_min: r.try_get(6)?,
        trusted_time_ms: r.try_get(7)?,
        skew_ms: r.try_get(8)?,
        time_status: r.try_get(9)?,
        policy_version: int(r.try_get(10)?),
        decision: r.try_get(11)?,
        site_id: r.try_get(12)?,
        hash: r.try_get(13)?,
        received_at_ms: r.try_get(14)?,
        // Unreadable flags are an error, never silently "nothing to review".
        review_flags: serde_json::from_str(&flags)
            .map_err(|e| ServerError::Corrupt(format!("review flags: {e}")))?,
        assurance: r.try_get(16)?,
        // An unreadable reading is shown as none, never guessed.
        attendance: r
            .try_get::<_, Option<String>>(17)?
            .and_then(|t| serde_json::from_str(&t).ok()),
    })
}

const EVENT_COLUMNS: &str = "device_id, seq, event_id, employee_id, event_type, body, \
    wall_time_ms, trusted_time_ms, record, signature, hash, received_at_ms, status, \
    status_detail, decided_by, decided_at_ms, comment";

fn event_from_row(r: &Row) -> Result<StoredEvent> {
    Ok(StoredEvent {
        device_id: r.try_get(0)?,
        seq: int(r.try_get(1)?),
        event_id: r.try_get(2)?,
        employee_id: r.try_get(3)?,
        event_type: r.try_get(4)?,
        body: r.try_get(5)?,
        wall_time_ms: r.try_get(6)?,
        trusted_time_ms: r.try_get(7)?,
        record: r.try_get(8)?,
        signature: r.try_get(9)?,
        hash: r.try_get(10)?,
        received_at_ms: r.try_get(11)?,
        status: r.try_get(12)?,
        status_detail: r.try_get(13)?,
        decided_by: r.try_get(14)?,
        decided_at_ms: r.try_get(15)?,
        comment: r.try_get(16)?,
    })
}

/// A page query's parameters, as the driver takes them.
fn boxed(params: Vec<Param>) -> Vec<Box<dyn ToSql + Sync>> {
    params
        .into_iter()
        .map(|p| -> Box<dyn ToSql + Sync> {
            match p {
                Param::Text(t) => Box::new(t),
                Param::Int(n) => Box::new(n),
            }
        })
        .collect()
}

/// The schema, one SQL file per version; append, never edit.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/postgres/0001_init.sql"),
    include_str!("migrations/postgres/0002_attestation.sql"),
    include_str!("migrations/postgres/0003_tamper_evidence.sql"),
    include_str!("migrations/postgres/0004_attendance.sql"),
    include_str!("migrations/postgres/0005_rate_limits.sql"),
    include_str!("migrations/postgres/0006_events.sql"),
    include_str!("migrations/postgres/0007_privacy.sql"),
    include_str!("migrations/postgres/0008_pin.sql"),
    include_str!("migrations/postgres/0009_people.sql"),
    include_str!("migrations/postgres/0010_rate_limits_window.sql"),
    include_str!("migrations/postgres/0011_pin_codes_superseded.sql"),
    include_str!("migrations/postgres/0012_device_keys.sql"),
    include_str!("migrations/postgres/0013_attachments_per_employee.sql"),
    include_str!("migrations/postgres/0014_punches_by_time.sql"),
    include_str!("migrations/postgres/0015_requests_by_time.sql"),
];

/// The schema version this server writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Any constant: servers starting together take turns migrating.
const MIGRATION_LOCK: i64 = 0x7075_6e63_685f_6d67; // "punch_mg"

/// Connections per server process: enough for the blocking pool's useful
/// parallelism on a small machine; several servers share the database's
/// `max_connections` (100 by default).
pub const DEFAULT_POOL_SIZE: usize = 16;

type Params<'p> = &'p [&'p (dyn ToSql + Sync)];

impl From<tokio_postgres::Error> for ServerError {
    fn from(e: tokio_postgres::Error) -> Self {
        use tokio_postgres::error::SqlState;
        let retryable = e.code().is_some_and(|c| {
            *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
        });
        // The Display of a db error omits its detail; keep code and message.
        let message = match e.as_db_error() {
            Some(db) => format!("{} ({}): {}", db.message(), db.code().code(), e),
            None => e.to_string(),
        };
        ServerError::Storage {
            backend: "postgres",
            message,
            retryable,
        }
    }
}

impl From<deadpool_postgres::PoolError> for ServerError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => e.into(),
            other => ServerError::Storage {
                backend: "postgres",
                message: format!("connection pool: {other}"),
                retryable: true,
            },
        }
    }
}

/// The PostgreSQL backend.
pub struct PostgresStore {
    pool: Pool,
    rows: AtomicU64,
    /// Drives the connections; shut down in the background on drop, since
    /// the store may be dropped on another runtime's worker.
    runtime: Option<tokio::runtime::Runtime>,
}

impl PostgresStore {
    /// Connects, checks and migrates (refusing a newer schema).
    pub fn connect(url: &str) -> Result<PostgresStore> {
        Self::connect_with(url, DEFAULT_POOL_SIZE)
    }

    pub fn connect_with(url: &str, pool_size: usize) -> Result<PostgresStore> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| ServerError::Config(format!("database URL {}: {e}", redact_url(url))))?;
        if config.get_application_name().is_none() {
            config.application_name("punch-server");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("punch-pg")
            .enable_all()
            .build()?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(30)))
            .create_timeout(Some(Duration::from_secs(10)))
            .build()
            .map_err(|e| ServerError::Config(format!("connection pool: {e}")))?;
        let store = PostgresStore {
            pool,
            rows: AtomicU64::new(0),
            runtime: Some(runtime),
        };
        store.migrate()?;
        Ok(store)
    }

    /// Creates database `name` (letters, digits, `_`) on the server that
    /// `admin_url` reaches and returns `admin_url` pointing at it: scratch
    /// databases for tests and benchmarks, or a first install.
    pub fn create_database(admin_url: &str, name: &str) -> Result<String> {
        if name.is_empty()
            || name.len() > 63
            || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(ServerError::Invalid(format!("database name {name:?}")));
        }
        let config: tokio_postgres::Config = admin_url.parse().map_err(|e| {
            ServerError::Config(format!("database URL {}: {e}", redact_url(admin_url)))
        })?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(async {
            let (client, connection) = config.connect(NoTls).await?;
            let driver = tokio::spawn(connection);
            // Identifiers cannot be bound as parameters; the name is checked above.
            client
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .await?;
            drop(client);
            let _ = driver.await;
            Ok::<(), ServerError>(())
        })?;
        Ok(with_dbname(admin_url, name))
    }

    fn block_on<F: Future>(&self, f: F) -> Result<F::Output> {
        let rt = self
            .runtime
            .as_ref()
            .ok_or_else(|| ServerError::Runtime("postgres store is shut down".into()))?;
        Ok(rt.handle().block_on(f))
    }

    fn migrate(&self) -> Result<()> {
        self.block_on(async {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
                .await?;
            tx.batch_execute(
                "CREATE TABLE IF NOT EXISTS punch_schema (
                    version     BIGINT PRIMARY KEY,
                    applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
                 )",
            )
            .await?;
            let found: i64 = tx
                .query_one("SELECT COALESCE(MAX(version), 0) FROM punch_schema", &[])
                .await?
                .try_get(0)?;
            if found > SCHEMA_VERSION {
                return Err(ServerError::SchemaTooNew {
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
            for (i, step) in MIGRATIONS.iter().enumerate().skip(found as usize) {
                tx.batch_execute(step).await?;
                tx.execute(
                    "INSERT INTO punch_schema (version) VALUES ($1)",
                    &[&(i as i64 + 1)],
                )
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })?
    }

    fn run(&self, write: bool, work: &mut Work<'_>) -> Result<()> {
        let rt = self
            .runtime
            .as_ref()
            .ok_or_else(|| ServerError::Runtime("postgres store is shut down".into()))?
            .handle()
            .clone();
        let started = Instant::now();
        let mut client = rt.block_on(self.pool.get())?;
        let tx = rt.block_on(client.build_transaction().read_only(!write).start())?;
        metrics::db_time("postgres", started.elapsed());
        let pg = PgTx {
            tx: &tx,
            rt: &rt,
            write,
            rows: &self.rows,
        };
        // An error drops `tx`, which rolls back before the client is reused.
        work(&pg)?;
        let started = Instant::now();
        rt.block_on(tx.commit())?;
        metrics::db_time("postgres", started.elapsed());
        Ok(())
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl ServerStore for PostgresStore {
    fn read_tx(&self, work: &mut Work<'_>) -> Result<()> {
        self.run(false, work)
    }

    fn write_tx(&self, work: &mut Work<'_>) -> Result<()> {
        self.run(true, work)
    }

    fn rows_read(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn schema_status(&self) -> Result<SchemaStatus> {
        let found = self.block_on(async {
            let client = self.pool.get().await?;
            let row = client
                .query_one("SELECT COALESCE(MAX(version), 0) FROM punch_schema", &[])
                .await?;
            Ok::<i64, ServerError>(row.try_get(0)?)
        })??;
        Ok(SchemaStatus {
            found,
            supported: SCHEMA_VERSION,
        })
    }
}

/// `postgres://u@h:p/old?x` → `postgres://u@h:p/NAME?x`.
fn with_dbname(url: &str, name: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let (head, query) = match url.find('?') {
        Some(q) => (&url[..q], &url[q..]),
        None => (url, ""),
    };
    let authority_end = head[start..].find('/').map_or(head.len(), |i| start + i);
    format!("{}/{name}{query}", &head[..authority_end])
}

/// u64 values are stored bit for bit in BIGINT (see the SQLite backend).
fn sql(v: u64) -> i64 {
    v as i64
}

fn int(v: i64) -> u64 {
    v as u64
}

fn key_sql(part: &KeyPart) -> &(dyn ToSql + Sync) {
    match part {
        KeyPart::Text(t) => t,
        KeyPart::Int(n) => n,
    }
}

/// [`StoreTx`] over an open PostgreSQL transaction.
struct PgTx<'a, 'c> {
    tx: &'a deadpool_postgres::Transaction<'c>,
    rt: &'a tokio::runtime::Handle,
    /// Row locks (`FOR UPDATE`) only make sense, and are only allowed, here.
    write: bool,
    /// The store's count of punch and event rows read.
    rows: &'a AtomicU64,
}

impl PgTx<'_, '_> {
    fn wait<F: Future>(&self, f: F) -> F::Output {
        let started = Instant::now();
        let out = self.rt.block_on(f);
        metrics::db_time("postgres", started.elapsed());
        out
    }

    /// Counts punch and event rows read (`ServerStore::rows_read`).
    fn counted<T>(&self, rows: Vec<T>) -> Result<Vec<T>> {
        self.rows.fetch_add(rows.len() as u64, Ordering::Relaxed);
        Ok(rows)
    }

    fn query(&self, sql: &str, params: Params<'_>) -> Result<Vec<Row>> {
        Ok(self.wait(async {
            let stmt = self.tx.prepare_cached(sql).await?;
            self.tx.query(&stmt, params).await
        })?)
    }

    fn opt(&self, sql: &str, params: Params<'_>) -> Result<Option<Row>> {
        Ok(self.wait(async {
            let stmt = self.tx.prepare_cached(sql).await?;
            self.tx.query_opt(&stmt, params).await
        })?)
    }

    fn one(&self, sql: &str, params: Params<'_>) -> Result<Row> {
        Ok(self.wait(async {
            let stmt = self.tx.prepare_cached(sql).await?;
            self.tx.query_one(&stmt, params).await
        })?)
    }

    fn exec(&self, sql: &str, params: Params<'_>) -> Result<u64> {
        Ok(self.wait(async {
            let stmt = self.tx.prepare_cached(sql).await?;
            self.tx.execute(&stmt, params).await
        })?)
    }

    fn device_where(&self, condition: &str, lock: bool, key: &str) -> Result<Option<DeviceInfo>> {
        let lock = if lock && self.write {
            " FOR UPDATE"
        } else {
            ""
        };
        self.opt(
            &format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE {condition}{lock}"),
            &[&key],
        )?
        .map(|r| device_row(&r))
        .transpose()
    }
}

const DEVICE_COLUMNS: &str = "device_id, employee_id, public_key, key_storage, platform, \
     enrolled_at_ms, unbound_at_ms, head_seq, head_hash, assurance, attestation, channel_key, \
     channel_assurance, channel_attestation, punch_key";

fn device_row(r: &Row) -> Result<DeviceInfo> {
    Ok(DeviceInfo {
        device_id: r.try_get(0)?,
        employee_id: r.try_get(1)?,
        public_key: r.try_get(2)?,
        key_storage: r.try_get(3)?,
        platform: r.try_get(4)?,
        enrolled_at_ms: r.try_get(5)?,
        unbound_at_ms: r.try_get(6)?,
        head_seq: int(r.try_get(7)?),
        head_hash: r.try_get(8)?,
        assurance: r.try_get(9)?,
        attestation: r.try_get(10)?,
        channel_key: r.try_get(11)?,
        channel_assurance: r.try_get(12)?,
        channel_attestation: r.try_get(13)?,
        punch_key: r.try_get(14)?,
    })
}

const POLICY_COLUMNS: &str = "version, body, signature, issued_at_ms, expires_at_ms";

fn policy_row(r: &Row) -> Result<PolicyRow> {
    Ok(PolicyRow {
        version: int(r.try_get(0)?),
        body: r.try_get(1)?,
        signature: r.try_get(2)?,
        issued_at_ms: r.try_get(3)?,
        expires_at_ms: r.try_get(4)?,
    })
}

impl StoreTx for PgTx<'_, '_> {
    fn people(&self) -> &dyn crate::store::people::PeopleTx {
        self
    }

    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.opt("SELECT value FROM meta WHERE key = $1", &[&key])?
            .map(|r| Ok(r.try_get(0)?))
            .transpose()
    }

    fn set_meta(&self, key: &str, value: &[u8]) -> Result<()> {
        self.exec(
            "INSERT INTO meta (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&key, &value],
        )?;
        Ok(())
    }

    fn meta_or_insert(&self, key: &str, value: &[u8]) -> Result<Vec<u8>> {
        // A concurrent inserter makes us wait for its commit, then DO NOTHING;
        // the SELECT (a new snapshot under READ COMMITTED) sees its value.
        self.exec(
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            &[&key, &value],
        )?;
        self.meta(key)?
            .ok_or_else(|| ServerError::Corrupt(format!("meta {key:?} vanished")))
    }

    fn upsert_employee(&self, employee_id: &str, name: &str, now_ms: i64) -> Result<()> {
        self.exec(
            "INSERT INTO employees (employee_id, name, created_at_ms) VALUES ($1, $2, $3)
             ON CONFLICT (employee_id) DO UPDATE SET name = excluded.name",
            &[&employee_id, &name, &now_ms],
        )?;
        Ok(())
    }

    fn employee(&self, employee_id: &str) -> Result<Option<EmployeeRow>> {
        self.opt(
            "SELECT employee_id, name, rebind_approved_at_ms FROM employees
             WHERE employee_id = $1",
            &[&employee_id],
        )?
        .map(|r| {
            Ok(EmployeeRow {
                employee_id: r.try_get(0)?,
                name: r.try_get(1)?,
                rebind_approved_at_ms: r.try_get(2)?,
            })
        })
        .transpose()
    }

    fn set_rebind_approved(&self, employee_id: &str, at_ms: Option<i64>) -> Result<()> {
        self.exec(
            "UPDATE employees SET rebind_approved_at_ms = $2 WHERE employee_id = $1",
            &[&employee_id, &at_ms],
        )?;
        Ok(())
    }

    fn pin_profile(&self, employee_id: &str) -> Result<Option<PinProfile>> {
        let lock = if self.write { " FOR UPDATE" } else { "" };
        self.opt(
            &format!(
                "SELECT employee_id, channel, address, identity_verifier, admin_reset_at_ms
                 FROM pin_profiles WHERE employee_id = $1{lock}"
            ),
            &[&employee_id],
        )?
        .map(|r| {
            Ok(PinProfile {
                employee_id: r.try_get(0)?,
                channel: r.try_get(1)?,
                address: r.try_get(2)?,
                identity_verifier: r.try_get(3)?,
                admin_reset_at_ms: r.try_get(4)?,
            })
        })
        .transpose()
    }

    fn upsert_pin_profile(&self, p: &PinProfile) -> Result<()> {
        self.exec(
            "INSERT INTO pin_profiles
               (employee_id, channel, address, identity_verifier, admin_reset_at_ms)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (employee_id) DO UPDATE SET channel = excluded.channel,
               address = excluded.address, identity_verifier = excluded.identity_verifier,
               admin_reset_at_ms = excluded.admin_reset_at_ms",
            &[
                &p.employee_id,
                &p.channel,
                &p.address,
                &p.identity_verifier,
                &p.admin_reset_at_ms,
            ],
        )?;
        Ok(())
    }

    fn insert_pin_code(&self, c: &PinCodeRow) -> Result<()> {
        self.exec(
            "INSERT INTO pin_codes
               (code_hash, employee_id, device_id, created_at_ms, expires_at_ms, used_at_ms,
                superseded_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &c.code_hash,
                &c.employee_id,
                &c.device_id,
                &c.created_at_ms,
                &c.expires_at_ms,
                &c.used_at_ms,
                &c.superseded_at_ms,
            ],
        )?;
        Ok(())
    }

    fn prune_pin_codes(&self, before_ms: i64) -> Result<u64> {
        self.exec(
            "DELETE FROM pin_codes WHERE expires_at_ms < $1",
            &[&before_ms],
        )
    }

    fn supersede_pin_codes(&self, employee_id: &str, now_ms: i64) -> Result<u64> {
        self.exec(
            "UPDATE pin_codes SET superseded_at_ms = $2
             WHERE employee_id = $1 AND used_at_ms IS NULL AND superseded_at_ms IS NULL",
            &[&employee_id, &now_ms],
        )
    }

    fn pin_code(&self, code_hash: &str) -> Result<Option<PinCodeRow>> {
        let lock = if self.write { " FOR UPDATE" } else { "" };
        self.opt(
            &format!(
                "SELECT code_hash, employee_id, device_id, created_at_ms, expires_at_ms, used_at_ms,
                        superseded_at_ms
                 FROM pin_codes WHERE code_hash = $1{lock}"
            ),
            &[&code_hash],
        )?
        .map(|r| {
            Ok(PinCodeRow {
                code_hash: r.try_get(0)?,
                employee_id: r.try_get(1)?,
                device_id: r.try_get(2)?,
                created_at_ms: r.try_get(3)?,
                expires_at_ms: r.try_get(4)?,
                used_at_ms: r.try_get(5)?,
                superseded_at_ms: r.try_get(6)?,
            })
        })
        .transpose()
    }

    fn mark_pin_code_used(&self, code_hash: &str, now_ms: i64) -> Result<bool> {
        Ok(self.exec(
            "UPDATE pin_codes SET used_at_ms = $2 WHERE code_hash = $1 AND used_at_ms IS NULL",
            &[&code_hash, &now_ms],
        )? == 1)
    }

    fn upsert_kiosk_member(&self, site_id: &str, employee_id: &str, verifier: &str) -> Result<()> {
        self.exec(
            "INSERT INTO kiosk_members (employee_id, site_id, verifier) VALUES ($1, $2, $3)
             ON CONFLICT (employee_id) DO UPDATE SET site_id = excluded.site_id,
               verifier = excluded.verifier",
            &[&employee_id, &site_id, &verifier],
        )?;
        Ok(())
    }

    fn kiosk_members(&self) -> Result<Vec<(String, String, String)>> {
        self.query(
            "SELECT site_id, employee_id, verifier FROM kiosk_members ORDER BY site_id, employee_id",
            &[],
        )?
        .into_iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect()
    }

    fn kiosk_site_of(&self, employee_id: &str) -> Result<Option<String>> {
        self.opt(
            "SELECT site_id FROM kiosk_members WHERE employee_id = $1",
            &[&employee_id],
        )?
        .map(|r| Ok(r.try_get(0)?))
        .transpose()
    }

    fn insert_code(&self, code: &CodeRow) -> Result<()> {
        self.exec(
            "INSERT INTO enrollment_codes
               (code_hash, employee_id, created_at_ms, expires_at_ms, used_at_ms, used_by_device)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &code.code_hash,
                &code.employee_id,
                &code.created_at_ms,
                &code.expires_at_ms,
                &code.used_at_ms,
                &code.used_by_device,
            ],
        )?;
        Ok(())
    }

    fn code(&self, code_hash: &str) -> Result<Option<CodeRow>> {
        // Locked in a write transaction: two servers enrolling with one code
        // take turns, and the second sees it used.
        let lock = if self.write { " FOR UPDATE" } else { "" };
        self.opt(
            &format!(
                "SELECT code_hash, employee_id, created_at_ms, expires_at_ms, used_at_ms,
                        used_by_device
                 FROM enrollment_codes WHERE code_hash = $1{lock}"
            ),
            &[&code_hash],
        )?
        .map(|r| {
            Ok(CodeRow {
                code_hash: r.try_get(0)?,
                employee_id: r.try_get(1)?,
                created_at_ms: r.try_get(2)?,
                expires_at_ms: r.try_get(3)?,
                used_at_ms: r.try_get(4)?,
                used_by_device: r.try_get(5)?,
            })
        })
        .transpose()
    }

    fn mark_code_used(&self, code_hash: &str, device_id: &str, now_ms: i64) -> Result<()> {
        self.exec(
            "UPDATE enrollment_codes SET used_at_ms = $3, used_by_device = $2
             WHERE code_hash = $1 AND used_at_ms IS NULL",
            &[&code_hash, &device_id, &now_ms],
        )?;
        Ok(())
    }

    fn insert_challenge(&self, c: &ChallengeRow) -> Result<()> {
        self.exec(
            "INSERT INTO attestation_challenges
               (challenge_hash, code_hash, created_at_ms, expires_at_ms, used_at_ms)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &c.challenge_hash,
                &c.code_hash,
                &c.created_at_ms,
                &c.expires_at_ms,
                &c.used_at_ms,
            ],
        )?;
        // Expired challenges are useless: keep the table small.
        self.exec(
            "DELETE FROM attestation_challenges WHERE expires_at_ms < $1",
            &[&c.created_at_ms],
        )?;
        Ok(())
    }

    fn challenge(&self, challenge_hash: &str) -> Result<Option<ChallengeRow>> {
        // Locked in a write transaction: a challenge is used once, whichever
        // server sees it first.
        let lock = if self.write { " FOR UPDATE" } else { "" };
        self.opt(
            &format!(
                "SELECT challenge_hash, code_hash, created_at_ms, expires_at_ms, used_at_ms
                 FROM attestation_challenges WHERE challenge_hash = $1{lock}"
            ),
            &[&challenge_hash],
        )?
        .map(|r| {
            Ok(ChallengeRow {
                challenge_hash: r.try_get(0)?,
                code_hash: r.try_get(1)?,
                created_at_ms: r.try_get(2)?,
                expires_at_ms: r.try_get(3)?,
                used_at_ms: r.try_get(4)?,
            })
        })
        .transpose()
    }

    fn mark_challenge_used(&self, challenge_hash: &str, now_ms: i64) -> Result<()> {
        self.exec(
            "UPDATE attestation_challenges SET used_at_ms = $2 WHERE challenge_hash = $1",
            &[&challenge_hash, &now_ms],
        )?;
        Ok(())
    }

    fn device(&self, device_id: &str) -> Result<Option<DeviceInfo>> {
        self.device_where("device_id = $1", false, device_id)
    }

    fn bound_device_of(&self, employee_id: &str) -> Result<Option<DeviceInfo>> {
        self.device_where(
            "employee_id = $1 AND unbound_at_ms IS NULL",
            true,
            employee_id,
        )
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
        let team_at = own.len();
        self.query(
            &format!(
                "SELECT {}, t.team FROM devices d
                 LEFT JOIN employee_teams t ON t.employee_id = d.employee_id
                 WHERE d.device_id > $1 AND ($2::TEXT IS NULL OR t.team = $2)
                   AND ($3::TEXT IS NULL OR d.employee_id = $3)
                 ORDER BY d.device_id LIMIT $4",
                own.join(", ")
            ),
            &[&after.unwrap_or(""), &team, &employee, &(limit as i64)],
        )?
        .iter()
        .map(|r| Ok((device_row(r)?, r.try_get(team_at)?)))
        .collect()
    }

    fn devices(&self) -> Result<Vec<DeviceInfo>> {
        self.query(
            &format!(
                "SELECT {DEVICE_COLUMNS} FROM devices
                 ORDER BY employee_id, enrolled_at_ms, device_id"
            ),
            &[],
        )?
        .iter()
        .map(device_row)
        .collect()
    }

    fn bind_device(&self, d: &BindDevice<'_>) -> Result<()> {
        self.exec(
            "INSERT INTO devices (device_id, employee_id, public_key, key_storage, platform,
                                  enrolled_at_ms, unbound_at_ms, head_seq, head_hash,
                                  assurance, attestation, channel_key, channel_assurance,
                                  channel_attestation, punch_key)
             VALUES ($1, $2, $3, $4, $5, $6, NULL, 0, $7, $8, $9, $10, $11, $12, NULL)
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
            &[
                &d.device_id,
                &d.employee_id,
                &d.public_key,
                &d.key_storage,
                &d.platform,
                &d.now_ms,
                &punch_model::ledger::record::GENESIS_HASH,
                &d.assurance,
                &d.attestation,
                &d.channel_key,
                &d.channel_assurance,
                &d.channel_attestation,
            ],
        )?;
        Ok(())
    }

    fn mark_unbound(&self, device_id: &str, now_ms: i64) -> Result<bool> {
        Ok(self.exec(
            "UPDATE devices SET unbound_at_ms = $2
             WHERE device_id = $1 AND unbound_at_ms IS NULL",
            &[&device_id, &now_ms],
        )? > 0)
    }

    fn set_punch_key(&self, device_id: &str, punch_key: &[u8], assurance: &str) -> Result<()> {
        self.exec(
            "UPDATE devices SET punch_key = $2, assurance = $3 WHERE device_id = $1",
            &[&device_id, &punch_key, &assurance],
        )?;
        Ok(())
    }

    fn set_head(&self, device_id: &str, seq: u64, hash_hex: &str) -> Result<()> {
        self.exec(
            "UPDATE devices SET head_seq = $2, head_hash = $3 WHERE device_id = $1",
            &[&device_id, &sql(seq), &hash_hex],
        )?;
        Ok(())
    }

    fn lock_device(&self, device_id: &str) -> Result<Option<DeviceInfo>> {
        self.device_where("device_id = $1", true, device_id)
    }

    fn insert_nonce(&self, device_id: &str, nonce: &str, request_ts_ms: i64) -> Result<bool> {
        // The primary key decides: a concurrent insert of the same nonce on
        // another server waits for this one and then does nothing.
        Ok(self.exec(
            "INSERT INTO nonces (device_id, nonce, request_ts_ms) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
            &[&device_id, &nonce, &request_ts_ms],
        )? > 0)
    }

    fn prune_nonces(&self, max_age_ms: i64) -> Result<u64> {
        self.exec(
            "DELETE FROM nonces
             WHERE request_ts_ms < (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint - $1",
            &[&max_age_ms],
        )
    }

    fn upsert_site(&self, site_id: &str, json: &str, now_ms: i64) -> Result<()> {
        self.exec(
            "INSERT INTO sites (site_id, body, updated_at_ms) VALUES ($1, $2, $3)
             ON CONFLICT (site_id) DO UPDATE SET body = excluded.body,
                                                 updated_at_ms = excluded.updated_at_ms",
            &[&site_id, &json, &now_ms],
        )?;
        Ok(())
    }

    fn remove_site(&self, site_id: &str) -> Result<bool> {
        Ok(self.exec("DELETE FROM sites WHERE site_id = $1", &[&site_id])? > 0)
    }

    fn sites(&self) -> Result<Vec<String>> {
        self.query("SELECT body FROM sites ORDER BY site_id", &[])?
            .iter()
            .map(|r| Ok(r.try_get(0)?))
            .collect()
    }

    fn latest_policy(&self) -> Result<Option<PolicyRow>> {
        self.opt(
            &format!("SELECT {POLICY_COLUMNS} FROM policies ORDER BY version DESC LIMIT 1"),
            &[],
        )?
        .map(|r| policy_row(&r))
        .transpose()
    }

    fn latest_policy_version(&self) -> Result<u64> {
        let row = self.one("SELECT COALESCE(MAX(version), 0) FROM policies", &[])?;
        Ok(int(row.try_get(0)?))
    }

    fn policy(&self, version: u64) -> Result<Option<PolicyRow>> {
        self.opt(
            &format!("SELECT {POLICY_COLUMNS} FROM policies WHERE version = $1"),
            &[&sql(version)],
        )?
        .map(|r| policy_row(&r))
        .transpose()
    }

    fn insert_policy(&self, row: &PolicyRow) -> Result<()> {
        self.exec(
            "INSERT INTO policies (version, body, signature, issued_at_ms, expires_at_ms)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &sql(row.version),
                &row.body,
                &row.signature,
                &row.issued_at_ms,
                &row.expires_at_ms,
            ],
        )?;
        Ok(())
    }

    fn punch_bytes(&self, device_id: &str, seq: u64) -> Result<Option<Vec<u8>>> {
        self.opt(
            "SELECT record FROM punches WHERE device_id = $1 AND seq = $2
             UNION ALL SELECT record FROM events WHERE device_id = $1 AND seq = $2",
            &[&device_id, &sql(seq)],
        )?
        .map(|r| Ok(r.try_get(0)?))
        .transpose()
    }

    fn punch_bytes_many(&self, device_id: &str, seqs: &[u64]) -> Result<HashMap<u64, Vec<u8>>> {
        if seqs.is_empty() {
            return Ok(HashMap::new());
        }
        let seqs: Vec<i64> = seqs.iter().map(|&s| sql(s)).collect();
        self.query(
            "SELECT seq, record FROM punches WHERE device_id = $1 AND seq = ANY($2)
             UNION ALL SELECT seq, record FROM events WHERE device_id = $1 AND seq = ANY($2)",
            &[&device_id, &seqs],
        )?
        .iter()
        .map(|r| Ok((int(r.try_get(0)?), r.try_get(1)?)))
        .collect()
    }

    fn kept_hash(&self, device_id: &str, seq: u64) -> Result<Option<String>> {
        self.opt(
            "SELECT hash FROM punches WHERE device_id = $1 AND seq = $2
             UNION ALL SELECT hash FROM events WHERE device_id = $1 AND seq = $2
             UNION ALL SELECT hash FROM punch_hashes WHERE device_id = $1 AND seq = $2
             LIMIT 1",
            &[&device_id, &sql(seq)],
        )?
        .map(|r| Ok(r.try_get(0)?))
        .transpose()
    }

    fn punch_location(&self, punch_id: &str) -> Result<Option<(String, u64)>> {
        self.opt(
            "SELECT device_id, seq FROM punches WHERE punch_id = $1",
            &[&punch_id],
        )?
        .map(|r| Ok((r.try_get(0)?, int(r.try_get(1)?))))
        .transpose()
    }

    fn punch_locations(&self, punch_ids: &[String]) -> Result<HashMap<String, (String, u64)>> {
        if punch_ids.is_empty() {
            return Ok(HashMap::new());
        }
        self.query(
            "SELECT punch_id, device_id, seq FROM punches WHERE punch_id = ANY($1)",
            &[&punch_ids],
        )?
        .iter()
        .map(|r| Ok((r.try_get(0)?, (r.try_get(1)?, int(r.try_get(2)?)))))
        .collect()
    }

    fn insert_punch(&self, p: &NewPunch<'_>) -> Result<()> {
        self.insert_punches(std::slice::from_ref(p))
    }

    fn insert_punches(&self, punches: &[NewPunch<'_>]) -> Result<()> {
        if punches.is_empty() {
            return Ok(());
        }
        // One statement for the whole batch: a column array each, unnested.
        let col = |f: &dyn Fn(&StoredPunchInfo) -> String| -> Vec<String> {
            punches.iter().map(|p| f(p.info)).collect()
        };
        let device_id = col(&|i| i.device_id.clone());
        let punch_id = col(&|i| i.punch_id.clone());
        let employee_id = col(&|i| i.employee_id.clone());
        let kind = col(&|i| i.kind.clone());
        let time_status = col(&|i| i.time_status.clone());
        let decision = col(&|i| i.decision.clone());
        let hash = col(&|i| i.hash.clone());
        let assurance = col(&|i| i.assurance.clone());
        let attendance = punches
            .iter()
            .map(|p| {
                p.info
                    .attendance
                    .as_ref()
                    .map(serde_json::to_string)
                    .transpose()
            })
            .collect::<std::result::Result<Vec<Option<String>>, _>>()
            .map_err(|e| ServerError::Corrupt(format!("attendance: {e}")))?;
        let seq: Vec<i64> = punches.iter().map(|p| sql(p.info.seq)).collect();
        let wall: Vec<i64> = punches.iter().map(|p| p.info.wall_time_ms).collect();
        let offset: Vec<i32> = punches.iter().map(|p| p.info.utc_offset_min).collect();
        let trusted: Vec<Option<i64>> = punches.iter().map(|p| p.info.trusted_time_ms).collect();
        let skew: Vec<Option<i64>> = punches.iter().map(|p| p.info.skew_ms).collect();
        let policy: Vec<i64> = punches.iter().map(|p| sql(p.info.policy_version)).collect();
        let site: Vec<Option<String>> = punches.iter().map(|p| p.info.site_id.clone()).collect();
        let record: Vec<&[u8]> = punches.iter().map(|p| p.record).collect();
        let signature: Vec<&[u8]> = punches.iter().map(|p| p.signature).collect();
        let received: Vec<i64> = punches.iter().map(|p| p.info.received_at_ms).collect();
        let flags = punches
            .iter()
            .map(|p| serde_json::to_string(&p.info.review_flags))
            .collect::<std::result::Result<Vec<String>, _>>()
            .map_err(|e| ServerError::Corrupt(format!("review flags: {e}")))?;
        self.exec(
            "INSERT INTO punches (device_id, seq, punch_id, employee_id, kind, wall_time_ms,
                 utc_offset_min, trusted_time_ms, skew_ms, time_status, policy_version, decision,
                 site_id, record, signature, hash, received_at_ms, review_flags, assurance,
                 attendance)
             SELECT * FROM UNNEST($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[],
                 $6::int8[], $7::int4[], $8::int8[], $9::int8[], $10::text[], $11::int8[],
                 $12::text[], $13::text[], $14::bytea[], $15::bytea[], $16::text[], $17::int8[],
                 $18::text[], $19::text[], $20::text[])",
            &[
                &device_id,
                &seq,
                &punch_id,
                &employee_id,
                &kind,
                &wall,
                &offset,
                &trusted,
                &skew,
                &time_status,
                &policy,
                &decision,
                &site,
                &record,
                &signature,
                &hash,
                &received,
                &flags,
                &assurance,
                &attendance,
            ],
        )?;
        Ok(())
    }

    fn record_rejected(&self, r: &RejectedInfo) -> Result<()> {
        self.exec(
            "INSERT INTO rejected (device_id, seq, punch_id, employee_id, reason, detail, hash,
                                   record, signature, attempts, first_received_at_ms,
                                   last_received_at_ms, claimed_employee_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $10, $11)
             ON CONFLICT (device_id, seq, reason, hash, signature) DO UPDATE SET
                attempts = rejected.attempts + 1,
                detail = excluded.detail,
                last_received_at_ms = excluded.last_received_at_ms",
            &[
                &r.device_id,
                &sql(r.seq),
                &r.punch_id,
                &r.employee_id,
                &r.reason,
                &r.detail,
                &r.hash,
                &r.record,
                &r.signature,
                &r.last_received_at_ms,
                &r.claimed_employee_id,
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
        self.query(
            "SELECT reason, detail FROM rejected
             WHERE device_id = $1 AND seq = $2 AND hash = $3 ORDER BY id DESC",
            &[&device_id, &sql(seq), &hash_hex],
        )?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
    }

    fn punches(&self) -> Result<Vec<StoredPunchInfo>> {
        let rows = self
            .query(
                &format!("SELECT {PUNCH_INFO_COLUMNS} FROM punches ORDER BY device_id, seq"),
                &[],
            )?
            .iter()
            .map(punch_info_row)
            .collect::<Result<Vec<_>>>()?;
        self.counted(rows)
    }

    fn punches_of(&self, employee_id: &str) -> Result<Vec<StoredPunchInfo>> {
        let rows = self
            .query(
                &format!(
                    "SELECT {PUNCH_INFO_COLUMNS} FROM punches WHERE employee_id = $1
                     ORDER BY device_id, seq"
                ),
                &[&employee_id],
            )?
            .iter()
            .map(punch_info_row)
            .collect::<Result<Vec<_>>>()?;
        self.counted(rows)
    }

    fn request_page(&self, query: &RequestQuery) -> Result<Vec<RequestRow>> {
        let (text, params) = query.sql(EVENT_COLUMNS, |i| format!("${i}"));
        let values = boxed(params);
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|b| b.as_ref()).collect();
        let rows = self
            .query(&text, &refs)?
            .iter()
            .map(|r| {
                Ok(RequestRow {
                    event: event_from_row(r)?,
                    team: r.try_get(r.len() - 1)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        self.counted(rows)
    }

    fn punch_page(&self, query: &PunchQuery) -> Result<Vec<PunchListRow>> {
        let (text, params) = query.sql(PUNCH_INFO_COLUMNS, |i| format!("${i}"));
        let values = boxed(params);
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|b| b.as_ref()).collect();
        let rows = self
            .query(&text, &refs)?
            .iter()
            .map(|r| {
                let columns = r.len() - punch_page::EXTRA_COLUMNS;
                let punch = punch_info_row(r)?;
                let review = punch_page::review_of(
                    &punch,
                    r.try_get(columns + 1)?,
                    r.try_get(columns + 2)?,
                    r.try_get(columns + 3)?,
                    r.try_get(columns + 4)?,
                );
                Ok(PunchListRow {
                    team: r.try_get(columns)?,
                    review,
                    punch,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        self.counted(rows)
    }

    fn punch_info(&self, device_id: &str, seq: u64) -> Result<Option<StoredPunchInfo>> {
        self.opt(
            &format!("SELECT {PUNCH_INFO_COLUMNS} FROM punches WHERE device_id = $1 AND seq = $2"),
            &[&device_id, &sql(seq)],
        )?
        .as_ref()
        .map(punch_info_row)
        .transpose()
        .inspect(|found| {
            self.rows
                .fetch_add(u64::from(found.is_some()), Ordering::Relaxed);
        })
    }

    fn refused_devices(
        &self,
        after: Option<&str>,
        team: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>> {
        self.query(
            "SELECT DISTINCT r.device_id FROM rejected r
             LEFT JOIN devices d ON d.device_id = r.device_id
             LEFT JOIN employee_teams t ON t.employee_id = d.employee_id
             WHERE r.device_id > $1 AND ($2::TEXT IS NULL OR t.team = $2)
             ORDER BY r.device_id LIMIT $3",
            &[&after.unwrap_or(""), &team, &(limit as i64)],
        )?
        .iter()
        .map(|r| Ok(r.try_get(0)?))
        .collect()
    }

    fn refused_of(&self, device_id: &str, limit: usize) -> Result<Vec<RefusedRow>> {
        self.query(
            "SELECT seq, reason, detail, hash, attempts, first_received_at_ms FROM rejected
             WHERE device_id = $1 ORDER BY seq, id LIMIT $2",
            &[&device_id, &(limit as i64)],
        )?
        .iter()
        .map(|r| {
            Ok(RefusedRow {
                seq: int(r.try_get(0)?),
                reason: r.try_get(1)?,
                detail: r.try_get(2)?,
                hash: r.try_get(3)?,
                attempts: int(r.try_get(4)?),
                first_received_at_ms: r.try_get(5)?,
            })
        })
        .collect()
    }

    fn rejected(&self) -> Result<Vec<RejectedInfo>> {
        self.query(
            "SELECT id, device_id, seq, punch_id, employee_id, reason, detail, hash, record,
                    signature, attempts, first_received_at_ms, last_received_at_ms,
                    claimed_employee_id
             FROM rejected ORDER BY id",
            &[],
        )?
        .iter()
        .map(|r| {
            Ok(RejectedInfo {
                id: r.try_get(0)?,
                device_id: r.try_get(1)?,
                seq: int(r.try_get(2)?),
                punch_id: r.try_get(3)?,
                employee_id: r.try_get(4)?,
                reason: r.try_get(5)?,
                detail: r.try_get(6)?,
                hash: r.try_get(7)?,
                record: r.try_get(8)?,
                signature: r.try_get(9)?,
                attempts: int(r.try_get(10)?),
                first_received_at_ms: r.try_get(11)?,
                last_received_at_ms: r.try_get(12)?,
                claimed_employee_id: r.try_get(13)?,
            })
        })
        .collect()
    }

    fn open_shift(
        &self,
        device_id: &str,
        employee_id: &str,
    ) -> Result<Option<punch_model::rules::shift::OpenShift>> {
        let last = self.opt(
            "SELECT kind, attendance FROM punches
             WHERE device_id = $1 AND employee_id = $2 AND kind IN ('clock_in', 'clock_out')
             ORDER BY seq DESC LIMIT 1",
            &[&device_id, &employee_id],
        )?;
        let Some(row) = last else {
            return Ok(None);
        };
        let kind: String = row.try_get(0)?;
        let attendance: Option<String> = row.try_get(1)?;
        Ok(match attendance {
            Some(json) if kind == "clock_in" => {
                serde_json::from_str::<punch_model::rules::shift::Attendance>(&json)
                    .ok()
                    .and_then(|a| a.occurrence())
            }
            _ => None,
        })
    }

    fn head_statement(&self, device_id: &str, seq: u64) -> Result<Option<String>> {
        self.opt(
            "SELECT hash FROM head_statements WHERE device_id = $1 AND seq = $2",
            &[&device_id, &sql(seq)],
        )?
        .map(|r| Ok(r.try_get(0)?))
        .transpose()
    }

    fn head_statements_many(&self, device_id: &str, seqs: &[u64]) -> Result<HashMap<u64, String>> {
        if seqs.is_empty() {
            return Ok(HashMap::new());
        }
        let seqs: Vec<i64> = seqs.iter().map(|&s| sql(s)).collect();
        self.query(
            "SELECT seq, hash FROM head_statements WHERE device_id = $1 AND seq = ANY($2)",
            &[&device_id, &seqs],
        )?
        .iter()
        .map(|r| Ok((int(r.try_get(0)?), r.try_get(1)?)))
        .collect()
    }

    fn highest_head_statement(&self, device_id: &str) -> Result<Option<(u64, String)>> {
        self.opt(
            "SELECT seq, hash FROM head_statements WHERE device_id = $1
             ORDER BY seq DESC LIMIT 1",
            &[&device_id],
        )?
        .map(|r| Ok((int(r.try_get(0)?), r.try_get(1)?)))
        .transpose()
    }

    fn insert_head_statement(
        &self,
        device_id: &str,
        seq: u64,
        hash: &str,
        now_ms: i64,
    ) -> Result<()> {
        self.exec(
            "INSERT INTO head_statements (device_id, seq, hash, stated_at_ms)
             VALUES ($1, $2, $3, $4) ON CONFLICT (device_id, seq) DO NOTHING",
            &[&device_id, &sql(seq), &hash, &now_ms],
        )?;
        Ok(())
    }

    fn evidence_counter(&self, device_id: &str, day: i64) -> Result<(u64, u64)> {
        Ok(self
            .opt(
                "SELECT stored, dropped FROM evidence_counters WHERE device_id = $1 AND day = $2",
                &[&device_id, &day],
            )?
            .map(|r| Ok::<_, ServerError>((int(r.try_get(0)?), int(r.try_get(1)?))))
            .transpose()?
            .unwrap_or((0, 0)))
    }

    fn bump_evidence_counter(
        &self,
        device_id: &str,
        day: i64,
        stored: u64,
        dropped: u64,
    ) -> Result<()> {
        self.exec(
            "INSERT INTO evidence_counters (device_id, day, stored, dropped)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (device_id, day) DO UPDATE SET
                stored = evidence_counters.stored + excluded.stored,
                dropped = evidence_counters.dropped + excluded.dropped",
            &[&device_id, &day, &sql(stored), &sql(dropped)],
        )?;
        Ok(())
    }

    fn record_revelation(&self, r: &Revelation) -> Result<()> {
        self.exec(
            "INSERT INTO revelations (device_id, seq, employee_id, review_flags, revealed_at_ms)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (device_id, seq) DO UPDATE SET
                review_flags = excluded.review_flags, revealed_at_ms = excluded.revealed_at_ms",
            &[
                &r.device_id,
                &sql(r.seq),
                &r.employee_id,
                &r.review_flags,
                &r.revealed_at_ms,
            ],
        )?;
        Ok(())
    }

    fn put_data_key(&self, device_id: &str, key_id: &str, key: &[u8], now_ms: i64) -> Result<()> {
        self.exec(
            "INSERT INTO device_data_keys (device_id, key_id, key, received_at_ms)
             VALUES ($1, $2, $3, $4) ON CONFLICT (device_id, key_id) DO NOTHING",
            &[&device_id, &key_id, &key, &now_ms],
        )?;
        Ok(())
    }

    fn data_key(&self, device_id: &str, key_id: &str) -> Result<Option<Vec<u8>>> {
        self.opt(
            "SELECT key FROM device_data_keys WHERE device_id = $1 AND key_id = $2",
            &[&device_id, &key_id],
        )?
        .map(|r| Ok(r.try_get(0)?))
        .transpose()
    }

    fn purge(&self, kind: PurgeKind, before_ms: i64) -> Result<u64> {
        let sql = match kind {
            PurgeKind::RecordBytes => {
                "UPDATE punches SET record = ''::bytea
                 WHERE received_at_ms < $1 AND octet_length(record) > 0"
            }
            PurgeKind::RejectedBytes => {
                "UPDATE rejected SET record = ''::bytea
                 WHERE last_received_at_ms < $1 AND octet_length(record) > 0"
            }
            PurgeKind::Punches => {
                self.exec(
                    "INSERT INTO punch_hashes (device_id, seq, hash)
                     SELECT device_id, seq, hash FROM punches WHERE received_at_ms < $1
                     ON CONFLICT (device_id, seq) DO NOTHING",
                    &[&before_ms],
                )?;
                "DELETE FROM punches WHERE received_at_ms < $1"
            }
            PurgeKind::HeadStatements => "DELETE FROM head_statements WHERE stated_at_ms < $1",
            PurgeKind::Revelations => "DELETE FROM revelations WHERE revealed_at_ms < $1",
        };
        self.exec(sql, &[&before_ms])
    }

    fn erase_employee(&self, employee_id: &str, now_ms: i64) -> Result<ErasureReport> {
        let run = |sql: &str| -> Result<u64> { self.exec(sql, &[&employee_id]) };
        let mut report = ErasureReport {
            employee_id: employee_id.to_string(),
            record_bytes: run(
                "UPDATE punches SET record = ''::bytea WHERE employee_id = $1 AND octet_length(record) > 0",
            )?,
            refused_records: run(
                "UPDATE rejected SET record = ''::bytea WHERE (employee_id = $1 OR claimed_employee_id = $1) AND octet_length(record) > 0",
            )?,
            requests: run(
                "UPDATE events SET body = '{}', record = ''::bytea, comment = NULL WHERE employee_id = $1",
            )?,
            attachments: run("DELETE FROM attachments WHERE employee_id = $1")?,
            revelations: run("DELETE FROM revelations WHERE employee_id = $1")?,
            head_statements: run(
                "DELETE FROM head_statements WHERE device_id IN (SELECT device_id FROM devices WHERE employee_id = $1)",
            )?,
            data_keys: run(
                "DELETE FROM device_data_keys WHERE device_id IN (SELECT device_id FROM devices WHERE employee_id = $1)",
            )?,
            devices: 0,
        };
        report.devices = self.exec(
            "UPDATE devices SET platform = 'erased', attestation = NULL, channel_attestation = NULL,
                unbound_at_ms = COALESCE(unbound_at_ms, $2) WHERE employee_id = $1",
            &[&employee_id, &now_ms],
        )?;
        self.exec(
            "UPDATE employees SET name = 'erased' WHERE employee_id = $1",
            &[&employee_id],
        )?;
        Ok(report)
    }

    fn chain_rows(&self, device_id: &str) -> Result<Vec<ChainRow>> {
        self.query(
            "SELECT seq, record, signature, hash FROM punches WHERE device_id = $1
             UNION ALL
             SELECT seq, record, signature, hash FROM events WHERE device_id = $1
             UNION ALL
             SELECT seq, ''::bytea, ''::bytea, hash FROM punch_hashes WHERE device_id = $1
             ORDER BY seq",
            &[&device_id],
        )?
        .iter()
        .map(|r| {
            Ok(ChainRow {
                seq: int(r.try_get(0)?),
                record: r.try_get(1)?,
                signature: r.try_get(2)?,
                hash: r.try_get(3)?,
            })
        })
        .collect()
    }

    fn stored_values(
        &self,
        column: SealableColumn,
        after: Option<&RowKey>,
        limit: u32,
    ) -> Result<Vec<StoredValue>> {
        let sql = column.page_sql(after.is_some(), |i| format!("${i}"));
        let limit = i64::from(limit);
        let mut args: Vec<&(dyn ToSql + Sync)> = after
            .map(|k| k.0.iter().map(key_sql).collect())
            .unwrap_or_default();
        args.push(&limit);
        let keys = column.key_columns();
        self.query(&sql, &args)?
            .iter()
            .map(|r| {
                let mut row = Vec::with_capacity(keys.len());
                for (i, (_, kind)) in keys.iter().enumerate() {
                    row.push(match kind {
                        KeyType::Text => KeyPart::Text(r.try_get(i)?),
                        KeyType::Int => KeyPart::Int(r.try_get(i)?),
                    });
                }
                let value = if column.is_text() {
                    r.try_get::<_, String>(keys.len())?.into_bytes()
                } else {
                    r.try_get::<_, Vec<u8>>(keys.len())?
                };
                Ok(StoredValue {
                    row: RowKey(row),
                    value,
                })
            })
            .collect()
    }

    fn replace_value(
        &self,
        column: SealableColumn,
        row: &RowKey,
        old: &[u8],
        new: &[u8],
    ) -> Result<bool> {
        let sql = column.replace_sql(|i| format!("${i}"));
        let changed = if column.is_text() {
            let text = |bytes: &[u8]| {
                String::from_utf8(bytes.to_vec())
                    .map_err(|_| ServerError::Invalid(format!("{} is text", column.name())))
            };
            let (new, old) = (text(new)?, text(old)?);
            let mut args: Vec<&(dyn ToSql + Sync)> = vec![&new];
            args.extend(row.0.iter().map(key_sql));
            args.push(&old);
            self.exec(&sql, &args)?
        } else {
            let mut args: Vec<&(dyn ToSql + Sync)> = vec![&new];
            args.extend(row.0.iter().map(key_sql));
            args.push(&old);
            self.exec(&sql, &args)?
        };
        Ok(changed == 1)
    }

    fn revelations_of(&self, employee_id: &str) -> Result<Vec<Revelation>> {
        self.query(
            "SELECT device_id, seq, employee_id, review_flags, revealed_at_ms
             FROM revelations WHERE employee_id = $1 ORDER BY device_id, seq",
            &[&employee_id],
        )?
        .iter()
        .map(|r| {
            Ok(Revelation {
                device_id: r.try_get(0)?,
                seq: int(r.try_get(1)?),
                employee_id: r.try_get(2)?,
                review_flags: r.try_get(3)?,
                revealed_at_ms: r.try_get(4)?,
            })
        })
        .collect()
    }

    fn rate_hit(&self, key: &str, window_ms: i64, now_ms: i64) -> Result<(u64, i64)> {
        let row = self.one(
            "INSERT INTO rate_limits (key, window_start_ms, hits) VALUES ($1, $3, 1)
             ON CONFLICT (key) DO UPDATE SET
                hits = CASE WHEN rate_limits.window_start_ms <= $3::int8 - $2::int8 THEN 1
                            ELSE rate_limits.hits + 1 END,
                window_start_ms = CASE WHEN rate_limits.window_start_ms <= $3::int8 - $2::int8
                                       THEN $3::int8 ELSE rate_limits.window_start_ms END
             RETURNING hits, window_start_ms",
            &[&key, &window_ms, &now_ms],
        )?;
        Ok((int(row.try_get(0)?), row.try_get(1)?))
    }

    fn rate_clear(&self, key: &str) -> Result<()> {
        self.exec("DELETE FROM rate_limits WHERE key = $1", &[&key])?;
        Ok(())
    }

    fn rate_clear_prefix(&self, prefix: &str) -> Result<()> {
        self.exec(
            "DELETE FROM rate_limits WHERE starts_with(key, $1)",
            &[&prefix],
        )?;
        Ok(())
    }

    fn prune_rate_limits(&self, before_ms: i64) -> Result<u64> {
        self.exec(
            "DELETE FROM rate_limits WHERE window_start_ms < $1",
            &[&before_ms],
        )
    }

    fn insert_event(&self, e: &StoredEvent) -> Result<()> {
        self.exec(
            "INSERT INTO events (device_id, seq, event_id, employee_id, event_type, body,
                 wall_time_ms, trusted_time_ms, record, signature, hash, received_at_ms,
                 status, status_detail, decided_by, decided_at_ms, comment)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
            &[
                &e.device_id,
                &sql(e.seq),
                &e.event_id,
                &e.employee_id,
                &e.event_type,
                &e.body,
                &e.wall_time_ms,
                &e.trusted_time_ms,
                &e.record,
                &e.signature,
                &e.hash,
                &e.received_at_ms,
                &e.status,
                &e.status_detail,
                &e.decided_by,
                &e.decided_at_ms,
                &e.comment,
            ],
        )?;
        Ok(())
    }

    fn events(&self, f: &EventFilter<'_>) -> Result<Vec<StoredEvent>> {
        self.query(
            &format!(
                "SELECT {EVENT_COLUMNS} FROM events
                 WHERE ($1::TEXT IS NULL OR employee_id = $1)
                   AND ($2::TEXT IS NULL OR device_id = $2)
                   AND ($3::TEXT IS NULL OR event_type = $3)
                   AND ($4::TEXT IS NULL OR status = $4)
                 ORDER BY received_at_ms, device_id, seq"
            ),
            &[&f.employee_id, &f.device_id, &f.event_type, &f.status],
        )?
        .iter()
        .map(event_from_row)
        .collect::<Result<Vec<_>>>()
        .and_then(|rows| self.counted(rows))
    }

    fn events_by_id(&self, event_id: &str) -> Result<Vec<StoredEvent>> {
        self.query(
            &format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE event_id = $1 ORDER BY device_id, seq"
            ),
            &[&event_id],
        )?
        .iter()
        .map(event_from_row)
        .collect()
    }

    fn event_id_holder(&self, event_id: &str) -> Result<Option<(String, u64)>> {
        if self.write {
            // Two devices' ingests run side by side (each locks only its own
            // device row): the second to claim this id waits for the first
            // to commit, then sees its row (READ COMMITTED).
            self.exec(
                "SELECT pg_advisory_xact_lock(hashtextextended('event_id:' || $1, 0))",
                &[&event_id],
            )?;
        }
        self.opt(
            "SELECT device_id, seq FROM events WHERE event_id = $1 LIMIT 1",
            &[&event_id],
        )?
        .map(|r| -> Result<(String, u64)> { Ok((r.try_get(0)?, int(r.try_get(1)?))) })
        .transpose()
    }

    fn decide_event(&self, device_id: &str, seq: u64, d: &EventDecision<'_>) -> Result<bool> {
        let n = self.exec(
            "UPDATE events SET status = $3, decided_by = $4, comment = $5, decided_at_ms = $6
             WHERE device_id = $1 AND seq = $2 AND status = 'pending'",
            &[
                &device_id,
                &sql(seq),
                &d.status,
                &d.decided_by,
                &d.comment,
                &d.at_ms,
            ],
        )?;
        Ok(n > 0)
    }

    fn insert_attachment(&self, a: &AttachmentRow) -> Result<()> {
        self.exec(
            "INSERT INTO attachments (sha256, employee_id, size_bytes, body, received_at_ms)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (employee_id, sha256) DO NOTHING",
            &[
                &a.sha256,
                &a.employee_id,
                &(a.body.len() as i64),
                &a.body,
                &a.received_at_ms,
            ],
        )?;
        Ok(())
    }

    fn attachment(&self, employee_id: &str, sha256: &str) -> Result<Option<AttachmentRow>> {
        self.opt(
            "SELECT sha256, employee_id, body, received_at_ms FROM attachments
             WHERE employee_id = $1 AND sha256 = $2",
            &[&employee_id, &sha256],
        )?
        .map(|r| {
            Ok(AttachmentRow {
                sha256: r.try_get(0)?,
                employee_id: r.try_get(1)?,
                body: r.try_get(2)?,
                received_at_ms: r.try_get(3)?,
            })
        })
        .transpose()
    }
}
