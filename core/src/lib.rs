//! punch-core: the phone's punch engine, offline first.
//!
//! An app holds one [`PunchEngine`] per database. The punch path:
//! platform evidence → validation and evaluation (`punch_model::rules`) →
//! a record signed outside every lock (`recorder`) → the SQLite chain
//! (`store`) → upload (`sync`) → HTTP (`net`).
//!
//! # What an embedder sees
//!
//! Every module is private; this list is the whole surface, grouped as an
//! app meets it:
//! - the engine: [`PunchEngine`], how to open it ([`EngineOptions`]), who
//!   the device is ([`DeviceInfo`]), its errors ([`PunchError`] and the
//!   typed causes inside it);
//! - what the app implements or injects: the clock ([`Clock`]), the key
//!   holders ([`Signer`], [`KeyProvider`], [`KeyWrapper`]), HTTP
//!   ([`Transport`]), the status listener ([`SyncListener`]);
//! - what the engine's methods take and return: receipts, stored punches,
//!   the standing, sync reports, requests, the privacy views.
//!
//! The vocabulary shared with the server (records, rules, policy, PIN
//! rules, the wire contract) is the `punch_model` crate. The types of it
//! that the engine's methods take or return are re-exported below; for the
//! rest (the rule details inside an [`Evaluation`], the wire types) depend on
//! `punch_model` itself, of the same version.
//!
//! With the `test-support` feature, the `test_support` module adds what
//! tests drive the engine with (a clock moved by hand, the Retry-After
//! helpers); it is not for apps.

// Beyond the workspace's lints: every public item is documented, and no
// library code unwraps (tests may).
#![warn(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod clock;
mod clock_mask;
mod data_key;
mod device;
mod engine;
mod error;
mod exceptions;
mod export;
mod faults;
mod history;
mod installed_policy;
mod keys;
mod net;
mod photo;
mod pin;
mod privacy;
mod recorder;
mod rotation;
mod standing;
mod store;
mod sync;
#[cfg(feature = "test-support")]
pub mod test_support;

// The engine and how to open it.
pub use device::DeviceInfo;
pub use engine::{EngineOptions, PunchEngine};
pub use error::{EnrollError, PunchError, Result};

// What the platform supplies.
pub use clock::{Clock, ClockReading, SystemClock};
pub use data_key::{DataKeyStatus, KeyWrapError, KeyWrapper, SoftwareKeyWrapper};
pub use keys::{KeyProvider, KeyRole, ProvidedKey, RotationReason};
#[cfg(feature = "http-client")]
pub use net::http_client::ReqwestTransport;
pub use net::transport::{HttpRequest, HttpResponse, Transport, TransportError};
pub use net::url_policy::check_url_allowed;

// What the engine's methods return.
pub use exceptions::{
    FiledRequest, ForgottenNotice, RefusedAttempt, RequestView, make_up_for as forgotten_make_up,
};
pub use export::PersonalExport;
pub use faults::FaultEvent;
pub use photo::{PunchExtras, PunchPhoto};
pub use pin::{PinError, PinStatus};
pub use privacy::PurgeReport;
pub use recorder::{EventReceipt, PunchReceipt};
pub use standing::Standing;
pub use store::{StoredPunch, UploadState};
pub use sync::{
    BackgroundSync, RejectedPunch, RetryConfig, ServerConfig, SyncError, SyncListener, SyncReport,
    SyncStatus, fetch_enrollment_challenge,
};

// The shared model's types that the engine's methods name.
#[doc(no_inline)]
pub use punch_model::ledger::chain::{ChainBreak, ChainProblem, ChainReport};
#[doc(no_inline)]
pub use punch_model::ledger::fault::{FaultKind, FaultRefusal, FaultReport};
#[doc(no_inline)]
pub use punch_model::ledger::record::{PunchKind, PunchRecord};
#[doc(no_inline)]
pub use punch_model::ledger::signing::{Signer, SignerError, SoftwareSigner};
#[doc(no_inline)]
pub use punch_model::pin::wire::PinCodeSent;
#[doc(no_inline)]
pub use punch_model::pin::{PinEvent, ResetToken, SignedResetToken};
#[doc(no_inline)]
pub use punch_model::rules::evaluate::{Decision, Evaluation};
#[doc(no_inline)]
pub use punch_model::rules::evidence::{Evidence, GpsFix, WifiObservation};
#[doc(no_inline)]
pub use punch_model::rules::field_work::{FieldSite, FieldWorkRequest};
#[doc(no_inline)]
pub use punch_model::rules::makeup::{Attachment, FaultCitation, MakeUpRequest};
#[doc(no_inline)]
pub use punch_model::rules::photo::{PhotoError, PhotoReason, PhotoRef};
#[doc(no_inline)]
pub use punch_model::wire::privacy::RevealResponse;
