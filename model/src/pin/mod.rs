//! The punch PIN, as phone and server share it: the policy's PIN settings,
//! the trivial-PIN rules, the escalating lockout schedule (pure functions on
//! monotonic and anchored time), the server-signed reset token and the PIN
//! events a device records.
//!
//! - `settings`: what the employer configures (one optional field in `Settings`);
//! - `trivial`: PINs refused as too easy to guess;
//! - `kiosk`: the kiosk account and the verifiers a kiosk receives;
//! - `lockout`: how long a lock lasts and whether it still holds;
//! - `verifier`: the salted slow hash (PBKDF2-HMAC-SHA256), compared in constant time;
//! - `token`: the reset token's format, signing and offline verification;
//! - `event`: what a device records about its PIN.

pub mod event;
pub mod kiosk;
pub mod lockout;
pub mod settings;
pub mod token;
pub mod trivial;
pub mod verifier;
pub mod wire;

pub use event::{PinEvent, PinEventKind, PinVerified};
pub use kiosk::KioskMember;
pub use lockout::{LockState, LockVerdict, TimeNow};
pub use settings::PinSettings;
pub use token::{ResetPath, ResetToken, SignedResetToken, TokenError};
pub use trivial::{PinRejected, check_new_pin};
pub use verifier::{Verifier, VerifierError, commitment};
