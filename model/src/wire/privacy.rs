//! Privacy exchanges, device-authenticated like every other call: the data
//! key that seals payloads at rest, and the exact evidence behind a
//! minimised record revealed to settle a dispute (`ledger::minimise`).

use serde::{Deserialize, Serialize};

use super::b64;
use crate::ledger::review::ReviewFlag;

pub const PATH_EVIDENCE_REVEAL: &str = "/v1/privacy/reveal";
pub const PATH_DATA_KEY: &str = "/v1/privacy/data-key";
/// GET: everything the server holds about the device's employee (JSON).
pub const PATH_EXPORT: &str = "/v1/privacy/export";

/// The device's data key that seals record payloads at rest
/// (`ledger::sealed`): the server keeps it to read them, so a phone that
/// loses its platform key loses nothing it has not uploaded yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataKeyRequest {
    /// The first 16 hex digits of SHA-256(key).
    pub key_id: String,
    #[serde(with = "b64::bytes")]
    pub key: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataKeyResponse {
    pub key_id: String,
    pub server_time_ms: i64,
}

/// The opening the phone kept for the record at `seq` (its exact bytes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevealRequest {
    pub seq: u64,
    #[serde(with = "b64::bytes")]
    pub opening: Vec<u8>,
}

/// The opening matched the record's commitment; `review_flags` are what the
/// exact evidence shows (empty: it supports the device's verdict).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevealResponse {
    pub seq: u64,
    pub review_flags: Vec<ReviewFlag>,
    pub server_time_ms: i64,
}
