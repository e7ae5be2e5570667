//! Talking to the server: enrollment, device-signed requests, batched
//! idempotent upload, signed-policy refresh, time anchors, persisted backoff,
//! the status for a UI and a background thread.
//!
//! - `syncer`: one sync at a time, backoff, status, listener;
//! - `upload`, `policy_fetch`, `anchor`, `enroll`: what one sync does;
//! - `requests`: signing, sending, retrying and classifying one exchange;
//! - `backoff`, `state`: retry timing and its persisted state;
//! - `background`, `wakeup`: the thread for long-lived processes.

mod anchor;
pub(crate) mod background;
pub(crate) mod backoff;
mod config;
mod enroll;
mod error;
mod escrow;
mod head;
mod policy_fetch;
mod privacy;
mod report;
pub(crate) mod requests;
mod requests_fetch;
mod segment;
mod state;
pub(crate) mod syncer;
mod upload;
mod wakeup;

pub(crate) use anchor::estimated_server_time_ms;
pub use background::BackgroundSync;
pub use config::{RetryConfig, ServerConfig};
pub use enroll::fetch_enrollment_challenge;
pub use error::SyncError;
pub use report::{RejectedPunch, SyncListener, SyncReport, SyncStatus};
