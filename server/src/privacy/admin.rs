//! The employer's privacy tools on [`Admin`]: what is stored of a record,
//! and what employees revealed.

use crate::admin::Admin;
use crate::error::Result;
use crate::store::{Revelation, StoreExt};

impl Admin {
    /// The exact bytes stored for a device's record (what the phone signed).
    pub fn punch_record(&self, device_id: &str, seq: u64) -> Result<Option<Vec<u8>>> {
        self.store.read(|tx| tx.punch_bytes(device_id, seq))
    }

    /// Evidence the employee revealed to settle disputes, with its outcome.
    pub fn revelations(&self, employee_id: &str) -> Result<Vec<Revelation>> {
        self.store.read(|tx| tx.revelations_of(employee_id))
    }
}
