//! The platform's wrapper of the data key that seals record payloads at
//! rest (Android Keystore / iOS Keychain), and its adapter to the core.

use std::sync::Arc;
use std::time::Duration;

use punch_core::{KeyWrapError, KeyWrapper};

use crate::error::PlatformError;
use crate::platform::call_with_deadline;

/// How long the platform may take to wrap or unwrap the data key.
const WRAP_TIMEOUT: Duration = Duration::from_secs(30);

/// Wraps the 32-byte data key that seals record payloads at rest with a key
/// the platform holds: an AES-GCM key in Android Keystore, or a Keychain
/// item (`kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly`) on iOS. Throw
/// from `unwrap` when the platform key is gone: the library then keeps
/// every stored record (they still upload) and refuses new punches until
/// `rotate_data_key`.
#[uniffi::export(foreign)]
pub trait DataKeyWrapper: Send + Sync {
    fn wrap(&self, key: Vec<u8>) -> Result<Vec<u8>, PlatformError>;
    fn unwrap(&self, wrapped: Vec<u8>) -> Result<Vec<u8>, PlatformError>;
}

/// An app's `DataKeyWrapper` as the core's `KeyWrapper`.
pub(crate) struct ForeignKeyWrapper {
    pub inner: Arc<dyn DataKeyWrapper>,
}

impl KeyWrapper for ForeignKeyWrapper {
    fn wrap(&self, key: &[u8]) -> Result<Vec<u8>, KeyWrapError> {
        let (inner, key) = (self.inner.clone(), key.to_vec());
        call_with_deadline("key wrapper", WRAP_TIMEOUT, move || inner.wrap(key))
            .map_err(|e| KeyWrapError::Failed(e.to_string()))
    }

    fn unwrap(&self, wrapped: &[u8]) -> Result<Vec<u8>, KeyWrapError> {
        let (inner, wrapped) = (self.inner.clone(), wrapped.to_vec());
        call_with_deadline("key wrapper", WRAP_TIMEOUT, move || inner.unwrap(wrapped))
            .map_err(|e| KeyWrapError::Unavailable(e.to_string()))
    }
}
