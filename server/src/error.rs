//! The server's error type: what the library API (Admin, ServerHandle) returns.
//! HTTP handlers map it to a small wire error (`wire::ErrorCode`). It names
//! no database crate: each backend converts its own errors (`store/`).

use std::net::SocketAddr;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The storage backend failed (SQLite or PostgreSQL): the text is for
    /// the log, never for a client. Backend-neutral so no caller depends on
    /// which database runs underneath.
    #[error("database ({backend}): {message}")]
    Storage {
        backend: &'static str,
        message: String,
        /// A serialisation failure or deadlock the database resolved by
        /// aborting us: the same work may simply be run again.
        retryable: bool,
    },
    /// The database URL or a configuration value cannot be used.
    #[error("configuration: {0}")]
    Config(String),
    #[error("database schema version {found} is newer than this server supports ({supported})")]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("server runtime: {0}")]
    Runtime(String),
    #[error("crypto: {0}")]
    Crypto(String),
    #[error("unknown employee {0:?}")]
    UnknownEmployee(String),
    #[error("unknown device {0:?}")]
    UnknownDevice(String),
    /// Unbound by an admin between a request's authentication and its ingest.
    #[error("device {0:?} is unbound")]
    DeviceUnbound(String),
    #[error("unknown site {0:?}")]
    UnknownSite(String),
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error("not found: {0}")]
    NotFound(String),
    /// The action does not fit the state (a request decided twice).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Evidence sealed at rest: a key missing, wrong, or a value altered.
    #[error(transparent)]
    AtRest(#[from] crate::at_rest::AtRestError),
    #[error("policy would not be accepted by devices: {0}")]
    InvalidPolicy(#[from] punch_model::rules::policy::PolicyError),
}

pub type Result<T, E = ServerError> = std::result::Result<T, E>;

impl ServerError {
    /// The database aborted the work and the same work may run again (a
    /// SQLite lock held past `busy_timeout`, a PostgreSQL serialisation
    /// failure or deadlock).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ServerError::Storage {
                retryable: true,
                ..
            }
        )
    }
}

/// Attempts at a unit of store work the database keeps aborting as
/// retryable, before the caller hears of it (HTTP: 503 with `Retry-After`).
pub const STORE_ATTEMPTS: u32 = 3;
/// What a client is told to wait after that (`Retry-After`, seconds).
pub const STORE_RETRY_AFTER_S: u64 = 1;

/// Runs `attempt` until it succeeds, fails for good, or fails retryably
/// [`STORE_ATTEMPTS`] times; waits a little more between each (the other
/// transaction is finishing).
pub fn retrying<T>(mut attempt: impl FnMut() -> Result<T>) -> Result<T> {
    let mut tries = 1;
    loop {
        match attempt() {
            Err(e) if e.is_retryable() && tries < STORE_ATTEMPTS => {
                tracing::warn!(error = %e, attempt = tries, "store work aborted; running it again");
                std::thread::sleep(std::time::Duration::from_millis(20 << tries));
                tries += 1;
            }
            done => return done,
        }
    }
}
