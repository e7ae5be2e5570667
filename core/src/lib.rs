//! punch-core: the phone's punch engine, offline first.
//!
//! An app holds one [`PunchEngine`] per database. The punch path:
//! platform evidence → validation and evaluation (`punch_model::rules`) →
//! a record signed outside every lock (`recorder`) → the SQLite chain
//! (`store`) → upload (`sync`) → HTTP (`net`). What the phone shares with
//! the server (record format, verification, rules, geofences, wire) is
//! `punch_model`, re-exported here for convenience.

pub mod clock;
mod clock_mask;
pub mod data_key;
mod device;
pub mod engine;
pub mod error;
pub mod exceptions;
pub mod export;
mod installed_policy;
pub mod keys;
pub mod net;
pub mod pin;
pub mod privacy;
mod recorder;
mod rotation;
pub mod standing;
pub mod store;
pub mod sync;

/// The PIN rules shared with the server (settings, lockout, reset token).
pub use punch_model::pin as pin_model;
pub use punch_model::{geofence, ledger, messages, rules, text, wire};

pub use clock::{Clock, ClockReading, ManualClock, SystemClock};
pub use data_key::{DataKeyStatus, KeyWrapError, KeyWrapper, SoftwareKeyWrapper};
pub use engine::{DeviceInfo, EngineOptions, PunchEngine};
pub use error::{EnrollError, PunchError, Result};
pub use exceptions::{FiledRequest, RefusedAttempt, RequestView};
pub use export::PersonalExport;
pub use keys::{KeyProvider, KeyRole, ProvidedKey, RotationReason};
pub use ledger::chain::{ChainBreak, ChainProblem, ChainReport};
pub use ledger::record::{PunchKind, PunchRecord, TimeAnchor};
pub use ledger::signing::{Signer, SignerError, SoftwareSigner};
pub use net::transport::{HttpRequest, HttpResponse, Transport, TransportError};
pub use pin::{PinError, PinStatus};
pub use privacy::PurgeReport;
pub use recorder::{EventReceipt, PunchReceipt};
pub use rules::evaluate::{Decision, Evaluation};
pub use rules::evidence::{Evidence, GpsFix, WifiObservation};
pub use rules::policy::Policy;
pub use standing::Standing;
pub use store::{StoredPunch, UploadState};
pub use sync::{
    BackgroundSync, RetryConfig, ServerConfig, SyncError, SyncListener, SyncReport, SyncStatus,
};
