//! The chain heads devices stated in their requests (`crate::heads`): the
//! first statement per seq is kept, so a device that later states another
//! hash at the same seq is caught forking. One trait apart from
//! [`crate::store::StoreTx`] (reached through `StoreTx::head_statements`).

use std::collections::HashMap;

use crate::error::Result;

/// This transaction's head statements.
pub trait HeadStatementsTx {
    /// The hash the device once stated for its head at `seq`, if it did.
    fn head_statement(&self, device_id: &str, seq: u64) -> Result<Option<String>>;
    /// The statements the device made at several seqs (absent: none).
    fn head_statements_many(&self, device_id: &str, seqs: &[u64]) -> Result<HashMap<u64, String>>;
    /// The highest head the device ever stated.
    fn highest_head_statement(&self, device_id: &str) -> Result<Option<(u64, String)>>;
    /// Remembers a statement (the first one per seq is kept).
    fn insert_head_statement(
        &self,
        device_id: &str,
        seq: u64,
        hash: &str,
        now_ms: i64,
    ) -> Result<()>;
}
