//! Fixed-window rate counters shared by every server on the database
//! (`crate::limits::rate`). One trait apart from [`crate::store::StoreTx`]
//! (reached through `StoreTx::limits`).

use crate::error::Result;

/// This transaction's rate counters.
pub trait LimitsTx {
    /// Counts one hit on a fixed-window rate counter shared by every server
    /// on this database: returns (hits in the current window including this
    /// one, when the window started). A window older than `window_ms`
    /// starts again at `now_ms`.
    fn rate_hit(&self, key: &str, window_ms: i64, now_ms: i64) -> Result<(u64, i64)>;
    /// Deletes the rate counters whose window started before `before_ms`;
    /// returns how many.
    fn prune_rate_limits(&self, before_ms: i64) -> Result<u64>;
    /// Deletes one rate counter.
    fn rate_clear(&self, key: &str) -> Result<()>;
    /// Deletes every rate counter whose key starts with `prefix`.
    fn rate_clear_prefix(&self, prefix: &str) -> Result<()>;
}
