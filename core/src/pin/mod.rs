//! The punch PIN on the device: a salted slow hash (never the PIN), the
//! escalating lockout kept across restarts and judged on monotonic and
//! anchored time, the three reset paths ending in a server-signed token
//! checked offline, and the platform's "user verified" result.
//!
//! - `guard`: the rules (set, change, verify, reset) and the punch grant;
//! - `reset`: the device-signed requests of the reset paths;
//! - `api`: the PIN service the engine delegates to;
//! - `kiosk`: punching on a shared tablet with employee number and PIN;
//! - `error`: what the app is told.
//!
//! What is stored is in `store::pin`; the shared rules in `punch_model::pin`.

mod api;
mod error;
mod guard;
mod kiosk;
mod reset;

pub(crate) use api::PinService;
pub use error::PinError;
pub use guard::PinStatus;
