//! The engine's fault episodes (`crate::faults`), kept in the meta table so
//! a fault that goes on across restarts is still recorded once.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Db;
use super::meta::{get_json, set_json};
use crate::error::Result;

const FAULT_STATE: &str = "fault_state";

impl Db {
    /// The saved episodes (the default when none, or unreadable: at worst
    /// a fault is recorded once more).
    pub(crate) fn fault_state<T: DeserializeOwned + Default>(&self) -> Result<T> {
        Ok(get_json(&self.lock().conn, FAULT_STATE)?.unwrap_or_default())
    }

    pub(crate) fn save_fault_state<T: Serialize>(&self, state: &T) -> Result<()> {
        set_json(&self.lock().conn, FAULT_STATE, state)
    }
}
