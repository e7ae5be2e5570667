//! Evidence encrypted at rest on the server, with keys from configuration
//! (issue 14): the columns that hold personal evidence — accepted and
//! refused records' signed bytes (locations, Wi-Fi, addresses), event
//! bodies (reasons, proposed places), make-up attachments and the data keys
//! devices escrowed — are sealed with AES-256-GCM before they reach the
//! database, on SQLite and PostgreSQL alike ([`SealedStore`] wraps either).
//!
//! The server's own secrets are sealed the same way (issue 21): the policy
//! signing key (whose public half every app pins), the time-token and
//! PIN-code MAC keys (`store::sealable::SECRET_META`) and the staff TOTP
//! seeds, so a backup reader can neither sign policies nor forge codes.
//!
//! What stays clear is what the database needs to do its work without a
//! key: ids, seqs, hashes, times, kinds, verdicts, sites, review flags. So
//! chain checks (`admin verify-chain`), retention and erasure run as
//! before; the hashes are over the clear record, as the device signed it.
//!
//! Once a database was opened with keys it is marked, and it will not open
//! without them (new rows would silently be clear). A configured key that
//! is not the one the database knows by that id refuses to start.

pub mod keys;
pub mod reseal;
pub mod tx;
pub mod value;

use std::sync::Arc;

pub use keys::AtRestKeys;

use crate::error::Result;
use crate::store::{DbUrl, SchemaStatus, ServerStore, StoreExt, Work};

/// Set once a database was opened with at-rest keys.
const META_ENABLED: &str = "at_rest.enabled";
/// `at_rest.key.<id>`: a value sealed under that key, to recognise it.
const META_KEY_PREFIX: &str = "at_rest.key.";
const CHECK_PLAIN: &[u8] = b"punch at-rest key check";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AtRestError {
    #[error("at-rest key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
    #[error(
        "this database keeps evidence sealed at rest: start with its keys \
         (--at-rest-keys FILE or PUNCH_AT_REST_KEYS)"
    )]
    KeysRequired,
    #[error("at-rest key {id:?} is not the key this database knows by that id")]
    WrongKey { id: String },
    #[error("{row} is sealed with at-rest key {id:?}, which is not configured")]
    MissingKey { id: String, row: String },
    #[error("{row} does not open: altered, copied from another row, or a wrong key")]
    Unopenable { row: String },
    #[error("at-rest crypto: {0}")]
    Crypto(String),
}

/// Opens the database `url` names; with `keys`, behind the sealing layer.
pub fn open(url: &DbUrl, keys: Option<&Arc<AtRestKeys>>) -> Result<Arc<dyn ServerStore>> {
    over(crate::store::open(url)?, keys)
}

/// Puts a store already open behind the sealing layer (`keys`), or checks
/// that it may be used without one and puts it behind the same layer
/// keyless (it frames clear values that could pass for sealed ones).
pub fn over(
    store: Arc<dyn ServerStore>,
    keys: Option<&Arc<AtRestKeys>>,
) -> Result<Arc<dyn ServerStore>> {
    let Some(keys) = keys else {
        if store.read(|tx| tx.meta().get(META_ENABLED))?.is_some() {
            return Err(AtRestError::KeysRequired.into());
        }
        return Ok(Arc::new(SealedStore {
            inner: store,
            keys: None,
        }));
    };
    store.write(|tx| {
        tx.meta().get_or_insert(META_ENABLED, b"1")?;
        for id in keys.ids() {
            let key = keys
                .get(id)
                .ok_or_else(|| AtRestError::WrongKey { id: id.into() })?;
            let context = check_context(id);
            let check = key
                .seal_bytes(&context, CHECK_PLAIN)
                .map_err(|e| AtRestError::Crypto(e.to_string()))?;
            let known = tx
                .meta()
                .get_or_insert(&format!("{META_KEY_PREFIX}{id}"), &check)?;
            if key.open_bytes(&context, &known).ok().as_deref() != Some(CHECK_PLAIN) {
                return Err(AtRestError::WrongKey { id: id.into() }.into());
            }
        }
        Ok(())
    })?;
    Ok(Arc::new(SealedStore {
        inner: store,
        keys: Some(keys.clone()),
    }))
}

fn check_context(id: &str) -> Vec<u8> {
    format!("punch-at-rest-v1|key_check|{id}").into_bytes()
}

/// A backend whose evidence columns are sealed (see the module docs), or
/// without keys framed where clear values could pass for sealed ones.
pub struct SealedStore {
    inner: Arc<dyn ServerStore>,
    keys: Option<Arc<AtRestKeys>>,
}

impl ServerStore for SealedStore {
    fn run_tx(
        &self,
        write: bool,
        _: Option<&dyn crate::store::sql::Sealer>,
        work: &mut Work<'_>,
    ) -> Result<()> {
        self.inner
            .run_tx(write, Some(&tx::KeySealer(self.keys.as_deref())), work)
    }

    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    fn schema_status(&self) -> Result<SchemaStatus> {
        self.inner.schema_status()
    }

    fn scrub(&self) -> Result<()> {
        self.inner.scrub()
    }

    fn rows_read(&self) -> u64 {
        self.inner.rows_read()
    }
}

impl SealedStore {
    pub fn keys(&self) -> Option<&AtRestKeys> {
        self.keys.as_deref()
    }
}
