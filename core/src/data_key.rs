//! The data key that seals record payloads at rest (`ledger::sealed`),
//! wrapped by the platform: Android Keystore / iOS Keychain through
//! [`KeyWrapper`], or [`SoftwareKeyWrapper`] on a host. The wrapped key lives
//! in the database; the platform's wrapping key never leaves the platform.
//!
//! Losing the platform key loses nothing unacknowledged: signatures, the
//! chain and the copied columns need no key, so records are still listed,
//! verified and uploaded as they are, and the server reads their payload
//! with the data key escrowed to it at enrollment. New punches are refused
//! ([`PunchError::DataKeyUnavailable`]) until the app calls
//! `PunchEngine::rotate_data_key`:
//! never a silent fall back to clear text.

use std::sync::Arc;

use punch_model::ledger::sealed::{DataKey, key_id};

use crate::error::{PunchError, Result};
use crate::store::{Sealing, Store};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
/// Why the platform could not wrap or unwrap the data key.
pub enum KeyWrapError {
    /// The platform key is gone (app data cleared, biometrics re-enrolled,
    /// Keystore reset) or refuses: the data key cannot be unwrapped.
    #[error("the platform key is unavailable: {0}")]
    Unavailable(String),
    #[error("wrapping failed: {0}")]
    /// Anything else the platform reported.
    Failed(String),
}

/// Wraps the data key with a key the platform holds. A Kotlin/Swift
/// implementation uses an AES key in Android Keystore (GCM) or a Keychain item.
pub trait KeyWrapper: Send + Sync {
    /// Wraps (encrypts) the data key under the platform's key.
    fn wrap(&self, key: &[u8]) -> std::result::Result<Vec<u8>, KeyWrapError>;
    /// Unwraps what [`wrap`](Self::wrap) returned.
    fn unwrap(&self, wrapped: &[u8]) -> std::result::Result<Vec<u8>, KeyWrapError>;
}

/// For hosts and tests: the key is kept as it is, beside the data. It seals
/// payloads against casual reading of a copied file only; phones must use
/// the platform's wrapper.
#[derive(Debug, Default)]
pub struct SoftwareKeyWrapper;

impl KeyWrapper for SoftwareKeyWrapper {
    fn wrap(&self, key: &[u8]) -> std::result::Result<Vec<u8>, KeyWrapError> {
        Ok(key.to_vec())
    }
    fn unwrap(&self, wrapped: &[u8]) -> std::result::Result<Vec<u8>, KeyWrapError> {
        Ok(wrapped.to_vec())
    }
}

/// What the app can show about the data key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataKeyStatus {
    /// Records are stored in clear (no key wrapper configured).
    Off,
    /// Records are sealed and the data key is usable here.
    Ready {
        /// The data key in use.
        key_id: String,
    },
    /// The platform cannot unwrap the data key: see [`PunchError::DataKeyUnavailable`](crate::PunchError::DataKeyUnavailable).
    Unavailable {
        /// The data key that cannot be unwrapped.
        key_id: String,
        /// What the platform said.
        reason: String,
    },
}

/// Unwraps the stored key, or makes, wraps and stores a first one. Called
/// at open (no lock exists yet) and by rotate (with no lock held).
pub(crate) fn load(store: &Store, wrapper: &Arc<dyn KeyWrapper>) -> Result<Sealing> {
    match store.wrapped_data_key()? {
        Some((id, wrapped)) => Ok(match wrapper.unwrap(&wrapped) {
            Ok(raw) if key_id(&raw) == id => match DataKey::from_bytes(&raw) {
                Ok(key) => Sealing::Ready(key),
                Err(e) => unavailable(id, e.to_string()),
            },
            Ok(_) => unavailable(id, "the platform unwrapped another key".into()),
            Err(e) => unavailable(id, e.to_string()),
        }),
        None => {
            let key = fresh(wrapper, store)?;
            Ok(Sealing::Ready(key))
        }
    }
}

fn unavailable(key_id: String, reason: String) -> Sealing {
    Sealing::Unavailable { key_id, reason }
}

fn fresh(wrapper: &Arc<dyn KeyWrapper>, store: &Store) -> Result<DataKey> {
    let key = DataKey::generate().map_err(|e| PunchError::CorruptState(e.to_string()))?;
    let wrapped = wrapper
        .wrap(key.as_bytes())
        .map_err(|e| PunchError::DataKeyUnavailable {
            detail: e.to_string(),
        })?;
    store.save_wrapped_data_key(&key.id(), &wrapped)?;
    Ok(key)
}
