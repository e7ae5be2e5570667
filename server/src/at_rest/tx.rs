//! The sealing hook the shared store statements call (`store::sql::Sealer`):
//! the evidence columns are sealed on the way in and opened on the way out,
//! over any backend. Business rules see clear values and never know; only
//! the statements that touch a sealed column call the hook, so nothing
//! else passes through this layer. Those are the repositories `meta`
//! (the server's secrets), `punches` and `chain` (records' signed bytes),
//! `refusals` (refused bytes), `events` (bodies, records, attachments),
//! `privacy` (escrowed data keys, the stored values resealing walks) and
//! `people` (TOTP seeds); every other repository never sees it.

use crate::error::Result;
use crate::store::sql::Sealer;

use super::AtRestKeys;
use super::value::{self, Slot};

/// The configured keys as the store's sealer; without keys the same hook
/// frames the clear values that could pass for sealed ones
/// (`value::keep_clear`).
pub(super) struct KeySealer<'a>(pub(super) Option<&'a AtRestKeys>);

impl Sealer for KeySealer<'_> {
    fn seal(&self, slot: &Slot<'_>, plain: &[u8]) -> Result<Vec<u8>> {
        match self.0 {
            Some(keys) => Ok(value::seal(keys, slot, plain)?),
            None => Ok(value::keep_clear(plain)),
        }
    }

    fn open(&self, slot: &Slot<'_>, stored: Vec<u8>) -> Result<Vec<u8>> {
        match self.0 {
            Some(keys) => Ok(value::open(keys, slot, stored)?),
            None => Ok(value::open_clear(stored)),
        }
    }

    // Bodies are the server's JSON (they begin with `{`): clear, they are
    // never mistaken for sealed and stay as they are.
    fn seal_text(&self, slot: &Slot<'_>, plain: &str) -> Result<String> {
        match self.0 {
            Some(keys) => Ok(value::seal_text(keys, slot, plain)?),
            None => Ok(plain.to_string()),
        }
    }

    fn open_text(&self, slot: &Slot<'_>, stored: String) -> Result<String> {
        match self.0 {
            Some(keys) => Ok(value::open_text(keys, slot, stored)?),
            None => Ok(stored),
        }
    }
}
