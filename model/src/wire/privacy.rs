//! The employee's privacy requests to the server, device-authenticated like
//! every other call: reveal the exact evidence behind a minimised record to
//! settle a dispute (`ledger::minimise`).

use serde::{Deserialize, Serialize};

use super::b64;
use crate::ledger::review::ReviewFlag;

pub const PATH_EVIDENCE_REVEAL: &str = "/v1/privacy/reveal";

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
