//! The punch PIN on the device: a salted slow hash (never the PIN), the
//! escalating lockout kept across restarts and judged on monotonic and
//! anchored time, the three reset paths ending in a server-signed token
//! checked offline, and the platform's "user verified" result.
//!
//! - `guard`: the rules (set, change, verify, reset) and the punch grant;
//! - `reset`: the device-signed requests of the reset paths;
//! - `api`: the engine's PIN methods;
//! - `kiosk`: punching on a shared tablet with employee number and PIN;
//! - `error`: what the app is told.
//!
//! What is stored is in `store::pin`; the shared rules in `punch_model::pin`.

mod api;
mod error;
mod guard;
mod kiosk;
mod reset;

pub use error::PinError;
pub(crate) use guard::PinGuard;
pub use guard::PinStatus;
