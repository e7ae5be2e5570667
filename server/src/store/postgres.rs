//! The PostgreSQL backend, for several stateless server processes over one
//! database. tokio-postgres with a deadpool pool, driven by a small runtime
//! the store owns, so the synchronous [`StoreTx`](crate::store::StoreTx) seam (the business rules
//! are plain functions) stays as it is: each statement is one `block_on`
//! from the blocking thread that runs the unit of work.
//!
//! Isolation is READ COMMITTED plus explicit locks where a rule needs one:
//! ingest locks the device row (`lock_device`, `SELECT … FOR UPDATE`), so a
//! batch and its retry on another server run one after the other and the
//! second sees the first one's head; enrollment locks the code row; nonces,
//! meta and rate counters are single atomic upserts.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

use crate::error::{Result, ServerError};
use crate::metrics;
use crate::store::db::{Db, Dialect, Row, Value};
use crate::store::migrations::{self, Versioned};
use crate::store::sql::{Sealer, SqlTx};
use crate::store::{SchemaStatus, ServerStore, Work, redact_url, with_dbname};

/// The schema version this server writes.
pub const SCHEMA_VERSION: i64 = migrations::SCHEMA_VERSION;

/// Any constant: servers starting together take turns migrating.
const MIGRATION_LOCK: i64 = 0x7075_6e63_685f_6d67; // "punch_mg"

/// Connections per server process: enough for the blocking pool's useful
/// parallelism on a small machine; several servers share the database's
/// `max_connections` (100 by default).
pub const DEFAULT_POOL_SIZE: usize = 16;

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
        let named = with_dbname(admin_url, name)?;
        on_server(admin_url, name, &format!("CREATE DATABASE {name}"))?;
        Ok(named)
    }

    /// Drops database `name` from the server `admin_url` reaches, ending
    /// the sessions still on it: tests' scratch databases once done.
    pub fn drop_database(admin_url: &str, name: &str) -> Result<()> {
        on_server(
            admin_url,
            name,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        )
    }

    fn block_on<F: Future>(&self, f: F) -> Result<F::Output> {
        let rt = self
            .runtime
            .as_ref()
            .ok_or_else(|| ServerError::Runtime("postgres store is shut down".into()))?;
        Ok(rt.handle().block_on(f))
    }

    fn handle(&self) -> Result<tokio::runtime::Handle> {
        Ok(self
            .runtime
            .as_ref()
            .ok_or_else(|| ServerError::Runtime("postgres store is shut down".into()))?
            .handle()
            .clone())
    }

    fn migrate(&self) -> Result<()> {
        let rt = self.handle()?;
        let mut client = rt.block_on(self.pool.get())?;
        let tx = rt.block_on(client.transaction())?;
        rt.block_on(tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]))?;
        rt.block_on(tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS punch_schema (
                version     BIGINT PRIMARY KEY,
                applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
             )",
        ))?;
        migrations::migrate(&mut SchemaTable { tx: &tx, rt: &rt }, migrations::POSTGRES)?;
        rt.block_on(tx.commit())?;
        Ok(())
    }
}

/// Runs `sql` about database `name` (checked: letters, digits, `_`, since
/// identifiers cannot be bound as parameters) on the server `admin_url`
/// reaches.
fn on_server(admin_url: &str, name: &str, sql: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > 63
        || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(ServerError::Invalid(format!("database name {name:?}")));
    }
    let config: tokio_postgres::Config = admin_url
        .parse()
        .map_err(|e| ServerError::Config(format!("database URL {}: {e}", redact_url(admin_url))))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let (client, connection) = config.connect(NoTls).await?;
        let driver = tokio::spawn(connection);
        client.batch_execute(sql).await?;
        drop(client);
        let _ = driver.await;
        Ok::<(), ServerError>(())
    })
}

/// Version bookkeeping in `punch_schema`, every step in the one
/// transaction that holds the migration lock.
struct SchemaTable<'a, 'c> {
    tx: &'a deadpool_postgres::Transaction<'c>,
    rt: &'a tokio::runtime::Handle,
}

impl Versioned for SchemaTable<'_, '_> {
    fn found(&mut self) -> Result<i64> {
        Ok(self
            .rt
            .block_on(
                self.tx
                    .query_one("SELECT COALESCE(MAX(version), 0) FROM punch_schema", &[]),
            )?
            .try_get(0)?)
    }

    fn apply(&mut self, version: i64, step: &str) -> Result<()> {
        self.rt.block_on(self.tx.batch_execute(step))?;
        self.rt.block_on(self.tx.execute(
            "INSERT INTO punch_schema (version) VALUES ($1)",
            &[&version],
        ))?;
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
    fn run_tx(&self, write: bool, sealer: Option<&dyn Sealer>, work: &mut Work<'_>) -> Result<()> {
        let rt = self.handle()?;
        let started = Instant::now();
        let mut client = rt.block_on(self.pool.get())?;
        let tx = rt.block_on(client.build_transaction().read_only(!write).start())?;
        metrics::db_time("postgres", started.elapsed());
        let db = PgDb {
            tx: &tx,
            rt: &rt,
            write,
            rows: &self.rows,
        };
        // An error drops `tx`, which rolls back before the client is reused.
        work(&SqlTx::new(&db, sealer))?;
        let started = Instant::now();
        rt.block_on(tx.commit())?;
        metrics::db_time("postgres", started.elapsed());
        Ok(())
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

/// An open PostgreSQL transaction as the shared statements see it.
struct PgDb<'a, 'c> {
    tx: &'a deadpool_postgres::Transaction<'c>,
    rt: &'a tokio::runtime::Handle,
    write: bool,
    rows: &'a AtomicU64,
}

impl PgDb<'_, '_> {
    fn wait<F: Future>(&self, f: F) -> F::Output {
        let started = Instant::now();
        let out = self.rt.block_on(f);
        metrics::db_time("postgres", started.elapsed());
        out
    }
}

/// Bound by the prepared statement's parameter type, so one neutral
/// integer fills an INTEGER, BIGINT or BOOLEAN column alike.
impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(n) => match *ty {
                Type::INT8 => n.to_sql(ty, out),
                Type::INT4 => i32::try_from(*n)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*n)?.to_sql(ty, out),
                Type::BOOL => (*n != 0).to_sql(ty, out),
                _ => Err(format!("an integer bound to a {ty} parameter").into()),
            },
            Value::Text(t) if <&str as ToSql>::accepts(ty) => t.as_str().to_sql(ty, out),
            Value::Blob(b) if <&[u8] as ToSql>::accepts(ty) => b.as_slice().to_sql(ty, out),
            other => Err(format!("{other:?} bound to a {ty} parameter").into()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// Read by the column's type.
impl<'a> FromSql<'a> for Value {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Value, Box<dyn std::error::Error + Sync + Send>> {
        Ok(match *ty {
            Type::INT8 => Value::Int(i64::from_sql(ty, raw)?),
            Type::INT4 => Value::Int(i32::from_sql(ty, raw)?.into()),
            Type::INT2 => Value::Int(i16::from_sql(ty, raw)?.into()),
            Type::BOOL => Value::Int(bool::from_sql(ty, raw)?.into()),
            Type::BYTEA => Value::Blob(<Vec<u8>>::from_sql(ty, raw)?),
            _ if <String as FromSql>::accepts(ty) => Value::Text(String::from_sql(ty, raw)?),
            _ => return Err(format!("a {ty} column").into()),
        })
    }

    fn from_sql_null(
        _: &Type,
    ) -> std::result::Result<Value, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Value::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

impl Db for PgDb<'_, '_> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn write(&self) -> bool {
        self.write
    }

    fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let sql = Dialect::Postgres.translate(sql);
        let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
        let rows = self.wait(async {
            let stmt = self.tx.prepare_cached(&sql).await?;
            self.tx.query(&stmt, &params).await
        })?;
        rows.iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| Ok(r.try_get::<_, Value>(i)?))
                    .collect::<Result<Vec<_>>>()
                    .map(Row::new)
            })
            .collect()
    }

    fn execute(&self, sql: &str, params: &[Value]) -> Result<u64> {
        let sql = Dialect::Postgres.translate(sql);
        let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
        Ok(self.wait(async {
            let stmt = self.tx.prepare_cached(&sql).await?;
            self.tx.execute(&stmt, &params).await
        })?)
    }

    fn rows_read(&self) -> &AtomicU64 {
        self.rows
    }
}
