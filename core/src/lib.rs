//! punch-core: the offline-first punch (time-clock) core.
//!
//! Geofence evaluation on the device, a P-256 device key, and a signed,
//! hash-chained punch queue in SQLite. Start at [`PunchEngine`].

pub mod background;
pub mod backoff;
pub mod chain;
pub mod cidr;
pub mod clock;
pub mod engine;
pub mod error;
pub mod evaluate;
pub mod evidence;
pub mod geofence;
#[cfg(feature = "http-client")]
pub mod http_client;
pub mod policy;
pub mod protocol;
pub mod record;
pub mod review;
pub mod signer;
pub mod store;
pub mod sync;
pub mod transport;
pub mod trusted_time;

pub use chain::{ChainBreak, ChainProblem, ChainReport};
pub use clock::{Clock, ClockReading, ManualClock, SystemClock};
pub use engine::{DeviceInfo, EngineOptions, PunchEngine, PunchReceipt};
pub use error::{PunchError, Result};
pub use evaluate::{Decision, Evaluation};
pub use evidence::{Evidence, GpsFix, WifiObservation};
pub use policy::Policy;
pub use record::{PunchKind, PunchRecord, TimeAnchor};
pub use signer::{Signer, SignerError, SoftwareSigner};
pub use sync::{ServerConfig, SyncListener, SyncReport, SyncStatus};
pub use transport::{HttpRequest, HttpResponse, Transport, TransportError};
