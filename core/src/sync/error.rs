//! Why a sync did not finish; surfaced in the report and the status.

use serde::{Deserialize, Serialize};

use punch_model::wire::ErrorCode;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case", tag = "kind")]
// Exhaustive on purpose, like `PunchError`: the bindings map every variant.
pub enum SyncError {
    #[error("network: {message}")]
    Network { message: String },
    #[error("server error {status}: {message}")]
    Server { status: u16, message: String },
    #[error("rate limited by the server")]
    RateLimited,
    /// A 4xx the device cannot fix by retrying (unbound device, bad signature...).
    #[error("server refused the request ({code:?}): {message}")]
    Refused {
        code: Option<ErrorCode>,
        message: String,
    },
    #[error("server answered something unusable: {message}")]
    BadResponse { message: String },
    #[error("server policy refused: {message}")]
    Policy { message: String },
}

impl SyncError {
    /// Permanent errors stop automatic retries until something changes.
    pub fn is_permanent(&self) -> bool {
        matches!(self, SyncError::Refused { .. })
    }
}
