//! The server's error type: what the library API (Admin, ServerHandle) returns.
//! HTTP handlers map it to a small wire error (`wire::ErrorCode`).

use std::net::SocketAddr;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    #[error("database: {0}")]
    Storage(#[from] rusqlite::Error),
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
    #[error("policy would not be accepted by devices: {0}")]
    InvalidPolicy(#[from] punch_model::rules::policy::PolicyError),
}

pub type Result<T, E = ServerError> = std::result::Result<T, E>;

impl From<punch_sqlite::MigrateError> for ServerError {
    fn from(e: punch_sqlite::MigrateError) -> Self {
        match e {
            punch_sqlite::MigrateError::SchemaTooNew { found, supported } => {
                ServerError::SchemaTooNew { found, supported }
            }
            punch_sqlite::MigrateError::Sqlite(e) => ServerError::Storage(e),
            other => ServerError::Corrupt(other.to_string()),
        }
    }
}
