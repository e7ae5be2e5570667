//! Server-wide values by key: settings in the clear and the server's own
//! secrets (`sealable::SECRET_META`), sealed at rest. One trait apart from
//! [`crate::store::StoreTx`] (reached through `StoreTx::meta`).

use crate::error::Result;

/// This transaction's server-wide values.
pub trait MetaTx {
    /// The value stored under `key`, opened if it is a sealed secret.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>>;
    /// Stores `value` under `key`, replacing what was there.
    fn set(&self, key: &str, value: &[u8]) -> Result<()>;
    /// Stores `value` unless the key exists; returns the stored value.
    fn get_or_insert(&self, key: &str, value: &[u8]) -> Result<Vec<u8>>;
}
