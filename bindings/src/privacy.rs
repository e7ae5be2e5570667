//! Privacy on the phone, for Kotlin and Swift: the data key's platform
//! wrapper (Android Keystore / iOS Keychain), the notice, revealing the
//! exact evidence behind a minimised record, retention and the employee's
//! export. See README.md, "Privacy".

use std::sync::Arc;
use std::time::Duration;

use punch_core::{DataKeyStatus as CoreStatus, KeyWrapError, KeyWrapper};

use crate::client::PunchClient;
use crate::error::{PlatformError, PunchError, guard};
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

/// Whether record payloads are sealed at rest.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum DataKeyState {
    /// No wrapper given: payloads are stored in clear.
    Off,
    Ready {
        key_id: String,
    },
    /// The platform cannot unwrap the key: stored records still upload;
    /// call `rotate_data_key` to punch again.
    Unavailable {
        key_id: String,
        reason: String,
    },
}

/// What the server found on revealed evidence (flags as JSON objects).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RevealOutcome {
    pub seq: u64,
    /// Each `ReviewFlag` as JSON; empty: the evidence supports the verdict.
    pub review_flags_json: Vec<String>,
}

/// The employee's export built on the phone.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PersonalExport {
    /// UTF-8 JSON.
    pub json: Vec<u8>,
    pub summary: String,
}

#[uniffi::export]
impl PunchClient {
    /// The notice version to show the employee, while not acknowledged.
    pub fn notice_required(&self) -> Result<Option<String>, PunchError> {
        guard(|| Ok(self.engine.notice_required()?))
    }

    /// The employee saw notice `version` (the app showed it).
    pub fn acknowledge_notice(&self, version: String) -> Result<(), PunchError> {
        guard(|| Ok(self.engine.acknowledge_notice(&version)?))
    }

    /// The exact evidence behind the record at `seq` (None: it keeps all).
    pub fn evidence_opening(&self, seq: u64) -> Result<Option<Vec<u8>>, PunchError> {
        guard(|| Ok(self.engine.evidence_opening(seq)?))
    }

    /// Reveals that evidence to the server to settle a dispute (the
    /// employee's choice). Blocking: call it off the main thread.
    pub fn reveal_evidence(&self, seq: u64) -> Result<RevealOutcome, PunchError> {
        guard(|| {
            let answer = self.engine.reveal_evidence(seq)?;
            Ok(RevealOutcome {
                seq: answer.seq,
                review_flags_json: answer
                    .review_flags
                    .iter()
                    .filter_map(|f| serde_json::to_string(f).ok())
                    .collect(),
            })
        })
    }

    pub fn data_key_state(&self) -> DataKeyState {
        match self.engine.data_key_status() {
            CoreStatus::Off => DataKeyState::Off,
            CoreStatus::Ready { key_id } => DataKeyState::Ready { key_id },
            CoreStatus::Unavailable { key_id, reason } => {
                DataKeyState::Unavailable { key_id, reason }
            }
        }
    }

    /// A new data key after the platform lost its key; answers its id.
    pub fn rotate_data_key(&self) -> Result<String, PunchError> {
        guard(|| Ok(self.engine.rotate_data_key()?))
    }

    /// Purges records the server acknowledged longer ago than the policy
    /// keeps them (also done after each good sync); answers how many.
    pub fn purge_expired(&self) -> Result<u64, PunchError> {
        guard(|| Ok(self.engine.purge_expired()?.records))
    }

    /// Everything this phone holds about the employee.
    pub fn export_personal_data(&self) -> Result<PersonalExport, PunchError> {
        guard(|| {
            let export = self.engine.export_personal_data()?;
            Ok(PersonalExport {
                json: export.json,
                summary: export.summary,
            })
        })
    }

    /// The server's export of everything it holds about the employee (JSON).
    pub fn fetch_server_export(&self) -> Result<Vec<u8>, PunchError> {
        guard(|| Ok(self.engine.fetch_server_export()?))
    }
}
