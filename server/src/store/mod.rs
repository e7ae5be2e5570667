//! The storage contract. Business rules (enrollment, ingest, publishing) are
//! written against [`StoreTx`], one transaction, run by [`ServerStore`] as a
//! unit of work. `StoreTx` only hands out the repositories, one per aggregate
//! (`tx.punches()`, `tx.devices()`, `tx.privacy()`…), each a trait in its own
//! file beside the rows it reads and writes. Every operation is
//! written once ([`sql`], one module per aggregate) over a small statement
//! layer ([`db`]: SQL in one dialect, neutral values and rows); a backend
//! only runs statements and transactions. SQLite ([`sqlite::SqliteStore`])
//! is the embedded default; PostgreSQL ([`postgres::PostgresStore`]) serves
//! several stateless server processes over one database. [`open`] picks one
//! by URL; both migrate from files under one runner ([`migrations`]).

pub mod browser;
pub mod chain;
pub mod db;
pub mod devices;
pub mod employee_devices;
pub mod enrollment;
pub mod events;
pub mod evidence;
pub mod faults;
pub mod forgotten;
pub mod head_statements;
pub mod ingest_batch;
pub mod kiosk;
pub mod limits;
pub mod meta;
pub mod migrations;
pub mod people;
pub mod photos;
pub mod pin;
pub mod policies;
pub mod postgres;
pub mod privacy;
pub mod punch_page;
pub mod punches;
pub mod refusals;
pub mod request_page;
pub mod sealable;
pub mod sql;
pub mod sqlite;

pub use chain::ChainRow;
pub use devices::{BindDevice, DeviceInfo};
pub use enrollment::{ChallengeRow, CodeRow, EmployeeRow};
pub use events::{AttachmentRow, EventDecision, EventFilter, StoredEvent};
pub use pin::{PinCodeRow, PinProfile};
pub use policies::PolicyRow;
pub use privacy::{ErasureReport, PurgeKind, Revelation};
pub use punches::{NewPunch, StoredPunchInfo};
pub use refusals::{RefusedRow, RejectedInfo};

use std::sync::Arc;

use serde::Serialize;

use crate::error::{Result, ServerError};

fn b64<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&punch_model::wire::b64::encode(v))
}

fn b64_opt<S: serde::Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
    punch_model::wire::b64::opt::serialize(v, s)
}

/// One transaction: the repositories whose operations run inside it.
pub trait StoreTx {
    /// This transaction's staff, review and audit operations.
    fn people(&self) -> &dyn people::PeopleTx;
    /// The browser punch's passkeys and ceremonies (`store::browser`).
    fn browser(&self) -> &dyn browser::BrowserTx;
    /// This transaction's punch-photo operations.
    fn photos(&self) -> &dyn photos::PhotosTx;
    /// This transaction's forgotten clock-outs (`crate::forgotten`).
    fn forgotten(&self) -> &dyn forgotten::ForgottenTx;
    /// This transaction's operations over an employee's several devices.
    fn employee_devices(&self) -> &dyn employee_devices::EmployeeDevicesTx;
    /// This transaction's fault-report operations (last seen, silence).
    fn faults(&self) -> &dyn faults::FaultsTx;
    /// Server-wide values: settings and the server's own secrets (`store::meta`).
    fn meta(&self) -> &dyn meta::MetaTx;
    /// Employees, one-time enrollment codes and attestation challenges.
    fn enrollment(&self) -> &dyn enrollment::EnrollmentTx;
    /// Device rows: binding, chain heads, punch keys, request nonces.
    fn devices(&self) -> &dyn devices::DevicesTx;
    /// Sites and published policy versions.
    fn policies(&self) -> &dyn policies::PoliciesTx;
    /// Accepted punches: their rows, bytes and pages.
    fn punches(&self) -> &dyn punches::PunchesTx;
    /// Refused records, kept as evidence.
    fn refusals(&self) -> &dyn refusals::RefusalsTx;
    /// The heads devices stated (`crate::heads`).
    fn head_statements(&self) -> &dyn head_statements::HeadStatementsTx;
    /// Per device and day, evidence kept and junk dropped (`crate::evidence`).
    fn evidence(&self) -> &dyn evidence::EvidenceTx;
    /// PIN reset profiles and codes (`crate::pin`).
    fn pin(&self) -> &dyn pin::PinTx;
    /// Who punches on which site's kiosks, with what PIN verifier.
    fn kiosk(&self) -> &dyn kiosk::KioskTx;
    /// Rate counters every server on the database shares (`crate::limits`).
    fn limits(&self) -> &dyn limits::LimitsTx;
    /// Revelations, data keys, retention, erasure and the sealed columns as stored.
    fn privacy(&self) -> &dyn privacy::PrivacyTx;
    /// A device's chain as stored: bytes and kept hashes at a seq, every link.
    fn chain(&self) -> &dyn chain::ChainTx;
    /// Chain events, requests and their attachments.
    fn events(&self) -> &dyn events::EventsTx;
    /// An upload's reads about its device, one statement each.
    fn ingest_batch(&self) -> &dyn ingest_batch::IngestBatchTx;
}

/// Where the schema stands: `/readyz` is ready only when they match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SchemaStatus {
    pub found: i64,
    pub supported: i64,
}

/// Unit of work for [`ServerStore`]: runs once; an error rolls back.
pub type Work<'w> = dyn FnMut(&dyn StoreTx) -> Result<()> + 'w;

/// A backend: runs work in a read or a write transaction. Writers are
/// serialised by the backend; an `Err` from the work rolls everything back.
pub trait ServerStore: Send + Sync {
    /// Runs `work` in a transaction, the sealed columns passed through
    /// `sealer` when there is one (`crate::at_rest`).
    fn run_tx(
        &self,
        write: bool,
        sealer: Option<&dyn sql::Sealer>,
        work: &mut Work<'_>,
    ) -> Result<()>;
    fn read_tx(&self, work: &mut Work<'_>) -> Result<()> {
        self.run_tx(false, None, work)
    }
    fn write_tx(&self, work: &mut Work<'_>) -> Result<()> {
        self.run_tx(true, None, work)
    }
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;
    /// Asks the database (a real round trip) for its schema version.
    fn schema_status(&self) -> Result<SchemaStatus>;
    /// After personal data was removed or resealed: makes the files stop
    /// holding the old bytes where the backend can (SQLite: deleted content
    /// is already zeroed, this checkpoints and truncates the write-ahead
    /// log; PostgreSQL: nothing, see README's privacy section).
    fn scrub(&self) -> Result<()> {
        Ok(())
    }
    /// Punch, event and refusal rows this store has read since it was opened: what a
    /// request cost, whatever the tables hold (tests of bounded work).
    fn rows_read(&self) -> u64 {
        0
    }
}

/// Which database, parsed from `--db`: `postgres://…` (or `postgresql://…`),
/// `sqlite:PATH`, or a bare path (SQLite, the default).
#[derive(Clone, PartialEq, Eq)]
pub enum DbUrl {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl DbUrl {
    pub fn parse(text: &str) -> Result<DbUrl> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ServerError::Config("database location is empty".into()));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(DbUrl::Postgres(text.to_string()));
        }
        if let Some(path) = text
            .strip_prefix("sqlite://")
            .or(text.strip_prefix("sqlite:"))
        {
            return Ok(DbUrl::Sqlite(path.into()));
        }
        if text.contains("://") {
            return Err(ServerError::Config(format!(
                "unsupported database URL scheme in {:?}; use postgres://… or sqlite:PATH",
                redact_url(text)
            )));
        }
        Ok(DbUrl::Sqlite(text.into()))
    }
}

impl From<&std::path::Path> for DbUrl {
    fn from(path: &std::path::Path) -> DbUrl {
        DbUrl::Sqlite(path.to_path_buf())
    }
}

/// Never prints a password: URLs go to logs and error messages.
impl std::fmt::Display for DbUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbUrl::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            DbUrl::Postgres(url) => f.write_str(&redact_url(url)),
        }
    }
}

impl std::fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DbUrl({self})")
    }
}

/// `scheme://user:secret@host/db?password=x` → `scheme://user:***@host/db?password=***`.
/// What the `url` crate cannot read as `scheme://authority…` (several hosts, a password with
/// a bare `/`, which tokio-postgres takes) shows as its scheme alone: the secret could be
/// anywhere in it.
pub fn redact_url(text: &str) -> String {
    let parsed = url::Url::parse(text)
        .ok()
        .filter(|url| !url.cannot_be_a_base());
    let Some(mut url) = parsed else {
        let scheme = text.split_once("://").map_or("", |(scheme, _)| scheme);
        let scheme = if scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            scheme
        } else {
            ""
        };
        return format!("{scheme}://…");
    };
    if url.password().is_some() {
        // Refused only for URLs that cannot have a password: nothing to hide there.
        let _ = url.set_password(Some("***"));
    }
    if url.query().is_some() {
        // Keys are compared decoded, as tokio-postgres reads them (`pass%77ord`).
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(key, value)| {
                let value = if key.eq_ignore_ascii_case("password") {
                    "***".to_string()
                } else {
                    value.into_owned()
                };
                (key.into_owned(), value)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.into()
}

/// `postgres://u@h:p/old?x` → `postgres://u@h:p/NAME?x`, the rest as written.
pub(crate) fn with_dbname(text: &str, name: &str) -> Result<String> {
    let mut url = url::Url::parse(text)
        .ok()
        .filter(|url| url.has_host())
        .ok_or_else(|| {
            ServerError::Config(format!(
                "database URL {} names no single host to create a database on",
                redact_url(text)
            ))
        })?;
    url.set_path(&format!("/{name}"));
    Ok(url.into())
}

/// Opens (creating and migrating if needed) the database `url` names.
pub fn open(url: &DbUrl) -> Result<Arc<dyn ServerStore>> {
    Ok(match url {
        DbUrl::Sqlite(path) => Arc::new(sqlite::SqliteStore::open(path)?),
        DbUrl::Postgres(url) => Arc::new(postgres::PostgresStore::connect(url)?),
    })
}

/// Typed helpers over the object-safe [`ServerStore`].
pub trait StoreExt: ServerStore {
    fn read<T>(&self, f: impl FnOnce(&dyn StoreTx) -> Result<T>) -> Result<T> {
        run_once(|w| self.read_tx(w), f)
    }

    /// A write transaction; run again (a bounded number of times) when the
    /// database aborted it as retryable (`ServerError::is_retryable`): it
    /// rolled back, so `f` must only write through `tx`.
    fn write<T>(&self, mut f: impl FnMut(&dyn StoreTx) -> Result<T>) -> Result<T> {
        crate::error::retrying(|| run_once(|w| self.write_tx(w), &mut f))
    }
}

impl<S: ServerStore + ?Sized> StoreExt for S {}

fn run_once<T>(
    run: impl FnOnce(&mut Work<'_>) -> Result<()>,
    f: impl FnOnce(&dyn StoreTx) -> Result<T>,
) -> Result<T> {
    let mut f = Some(f);
    let mut out = None;
    run(&mut |tx| {
        let f = f
            .take()
            .ok_or_else(|| ServerError::Corrupt("store ran a unit of work twice".into()))?;
        out = Some(f(tx)?);
        Ok(())
    })?;
    out.ok_or_else(|| ServerError::Corrupt("store did not run the unit of work".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_backend_and_never_show_secrets() {
        assert_eq!(
            DbUrl::parse("server.db").unwrap(),
            DbUrl::Sqlite("server.db".into())
        );
        assert_eq!(
            DbUrl::parse("sqlite:/tmp/a.db").unwrap(),
            DbUrl::Sqlite("/tmp/a.db".into())
        );
        let pg =
            DbUrl::parse("postgres://punch:s3cret@127.0.0.1:5432/punch?password=x&sslmode=disable")
                .unwrap();
        assert!(matches!(pg, DbUrl::Postgres(_)));
        let shown = format!("{pg} {pg:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("password=x"),
            "{shown}"
        );
        assert!(
            shown
                .contains("postgres://punch:***@127.0.0.1:5432/punch?password=***&sslmode=disable")
        );
        assert!(DbUrl::parse("mysql://x").is_err());
        assert!(DbUrl::parse(" ").is_err());
    }

    #[test]
    fn redaction_hides_what_tokio_postgres_would_read_as_a_password() {
        for (url, shown) in [
            (
                "postgres://punch:s3cret@db:5432/punch?PassWord=s3cret&application_name=a",
                "postgres://punch:***@db:5432/punch?PassWord=***&application_name=a",
            ),
            // tokio-postgres decodes keys: this one sets the password too.
            (
                "postgres://punch@db/punch?pass%77ord=s3cret",
                "postgres://punch@db/punch?password=***",
            ),
            ("postgres://punch@db/punch", "postgres://punch@db/punch"),
            // It takes everything up to the first `@` as credentials, `/` included.
            ("postgres://punch:s3/cret@db/punch", "postgres://…"),
            (
                "postgresql://punch:s3cret@h1:5432,h2:5432/punch",
                "postgresql://…",
            ),
            ("punch:s3cret@db://x", "://…"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    #[test]
    fn a_scratch_database_url_changes_only_the_name() {
        for (url, named) in [
            (
                "postgres://postgres@127.0.0.1:5433/postgres",
                "postgres://postgres@127.0.0.1:5433/scratch_1",
            ),
            (
                "postgres://u:p%2Fw@h/old?sslmode=disable&options=-c%20x",
                "postgres://u:p%2Fw@h/scratch_1?sslmode=disable&options=-c%20x",
            ),
            ("postgres://h", "postgres://h/scratch_1"),
            ("postgres://h1,h2:5432/x", "postgres://h1,h2:5432/scratch_1"),
        ] {
            assert_eq!(with_dbname(url, "scratch_1").unwrap(), named, "{url}");
        }
        // Ports on several hosts are more than `url` reads: refused, not guessed at.
        assert!(with_dbname("postgres://h1:5432,h2:5432/x", "scratch_1").is_err());
    }
}
