//! The sealing hook the shared store statements call (`store::sql::Sealer`):
//! the evidence columns are sealed on the way in and opened on the way out,
//! over any backend. Business rules see clear values and never know; only
//! the statements that touch a sealed column call the hook, so nothing
//! else passes through this layer.

use crate::error::Result;
use crate::store::sql::Sealer;

use super::AtRestKeys;
use super::value::{self, Slot};

/// The configured keys as the store's sealer.
pub(super) struct KeySealer<'a>(pub(super) &'a AtRestKeys);

impl Sealer for KeySealer<'_> {
    fn seal(&self, slot: &Slot<'_>, plain: &[u8]) -> Result<Vec<u8>> {
        Ok(value::seal(self.0, slot, plain)?)
    }

    fn open(&self, slot: &Slot<'_>, stored: Vec<u8>) -> Result<Vec<u8>> {
        Ok(value::open(self.0, slot, stored)?)
    }

    fn seal_text(&self, slot: &Slot<'_>, plain: &str) -> Result<String> {
        Ok(value::seal_text(self.0, slot, plain)?)
    }

    fn open_text(&self, slot: &Slot<'_>, stored: String) -> Result<String> {
        Ok(value::open_text(self.0, slot, stored)?)
    }
}
