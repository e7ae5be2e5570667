//! Why a sync did not finish; surfaced in the report and the status.

use serde::{Deserialize, Serialize};

use punch_model::wire::ErrorCode;

use crate::net::transport::TransportError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case", tag = "kind")]
/// Why a sync did not finish.
// Exhaustive on purpose, like `PunchError`: the bindings map every variant.
pub enum SyncError {
    #[error("network: {message}")]
    /// No answer from the server (retried with backoff).
    Network {
        /// What failed.
        message: String,
    },
    #[error("server error {status}: {message}")]
    /// The server failed (5xx; retried with backoff).
    Server {
        /// The HTTP status.
        status: u16,
        /// What it said.
        message: String,
    },
    #[error("rate limited by the server")]
    /// The server asked the device to wait (429; its Retry-After is honoured).
    RateLimited,
    /// A 4xx the device cannot fix by retrying (unbound device, bad signature...).
    #[error("server refused the request ({code:?}): {message}")]
    Refused {
        /// The server's typed reason, when it gave one.
        code: Option<ErrorCode>,
        /// What the server said.
        message: String,
    },
    #[error("server answered something unusable: {message}")]
    /// The answer could not be used (retried with backoff).
    BadResponse {
        /// What was wrong with it.
        message: String,
    },
    /// The connection's TLS failed: the server's certificate is not trusted
    /// or the handshake failed (a misconfiguration or an interception).
    /// Backed off like a refusal, not retried at once like the network.
    #[error("TLS failed: {message}")]
    Tls {
        /// What the transport said.
        message: String,
    },
    #[error("server policy refused: {message}")]
    /// The policy the server sent was refused (signature, rollback, expiry).
    Policy {
        /// Why.
        message: String,
    },
}

impl SyncError {
    /// Permanent errors stop automatic retries until something changes.
    pub fn is_permanent(&self) -> bool {
        matches!(self, SyncError::Refused { .. } | SyncError::Tls { .. })
    }
}

impl From<TransportError> for SyncError {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::Tls(message) => SyncError::Tls { message },
            other => SyncError::Network {
                message: other.to_string(),
            },
        }
    }
}
